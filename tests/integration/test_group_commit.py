"""Group commit against a real Elasticsearch: concurrent callers' single-document reads and writes
go out as one request, and each caller gets exactly its own answer — a lost condition only to
the caller whose write lost it, an all-or-nothing bulk still all or nothing."""
from __future__ import annotations

import threading

import pytest
from elasticsearch import ConflictError, NotFoundError

from services.store import atomic
from services.store.group_commit import GroupCommit


def _together(n: int, fn):
    """Run ``fn(i)`` in ``n`` threads at once; returns each result or exception, by i."""
    out: list = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        try:
            out[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - the caller's answer
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.fixture
def grouped(es):
    # one flusher that waits until all N callers are queued (or 30 s): one request, deterministically
    g = GroupCommit(es, max_wait=30.0, max_entries=12, flushers=1)
    yield g
    g.close()


def test_concurrent_creates_of_one_id_share_one_request_and_exactly_one_wins(es, index_prefix, grouped):
    index = f"{index_prefix}gc"
    es.indices.create(index=index)
    answers = _together(12, lambda i: grouped.create(index=index, id="slot", document={"by": i}))
    winners = [i for i, a in enumerate(answers) if isinstance(a, dict)]
    assert len(winners) == 1 and answers[winners[0]]["result"] == "created"
    assert all(isinstance(a, ConflictError) for i, a in enumerate(answers) if i not in winners)
    assert grouped.stats()["bulk_requests"] == 1 and grouped.stats()["bulk_items"] == 12
    assert es.get(index=index, id="slot")["_source"] == {"by": winners[0]}


def test_each_caller_gets_its_own_document_and_version(es, index_prefix, grouped):
    index = f"{index_prefix}gc"
    es.indices.create(index=index)
    for i in range(12):
        es.index(index=index, id=f"d{i}", document={"n": i})
    read = _together(12, lambda i: grouped.get(index=index, id=f"d{i}", realtime=True))
    assert [r["_source"]["n"] for r in read] == list(range(12))
    assert grouped.stats()["mget_requests"] == 1
    # replace each at the version read; a stale version loses for that caller only
    stale = {3, 7}
    wrote = _together(12, lambda i: grouped.index(
        index=index, id=f"d{i}", document={"n": i * 10},
        if_seq_no=read[i]["_seq_no"] + (5 if i in stale else 0), if_primary_term=read[i]["_primary_term"]))
    assert all(isinstance(wrote[i], ConflictError) for i in stale)
    assert all(wrote[i]["_seq_no"] > read[i]["_seq_no"] for i in range(12) if i not in stale)
    assert [es.get(index=index, id=f"d{i}")["_source"]["n"] for i in range(12)] == \
        [i if i in stale else i * 10 for i in range(12)]
    alone = GroupCommit(es, max_wait=0.0)  # a lone caller is not held back
    try:
        with pytest.raises(NotFoundError):
            alone.get(index=index, id="never")
        assert alone.get(index=index, id="d0")["_source"] == {"n": 0}
    finally:
        alone.close()


def test_an_all_or_nothing_bulk_stays_all_or_nothing_inside_a_group(es, index_prefix):
    """Two claims sharing one document (``shared``) in the same request: one takes all three of its
    documents, the other loses ``shared`` and puts its other two back."""
    index = f"{index_prefix}gc"
    es.indices.create(index=index)

    # max_entries=6: the flusher waits for both claims (one request)
    g = GroupCommit(es, max_wait=30.0, max_entries=6, flushers=1)
    try:
        results = _together(2, lambda i: atomic.write_all(g, [(atomic.Doc(index, f"own-{i}-a"), {"by": i}),
                                                              (atomic.Doc(index, "shared"), {"by": i}),
                                                              (atomic.Doc(index, f"own-{i}-b"), {"by": i})]))
        assert g.stats()["bulk_items"] >= 6
    finally:
        g.close()
    lost = [i for i, (_, lost) in enumerate(results) if lost]
    won = [i for i, (_, lost) in enumerate(results) if not lost]
    assert len(won) == 1 and len(lost) == 1 and results[lost[0]][1] == {1}
    es.indices.refresh(index=index)
    held = {h["_id"]: h["_source"]["by"] for h in es.search(index=index, size=10)["hits"]["hits"]}
    w = won[0]
    assert held == {f"own-{w}-a": w, "shared": w, f"own-{w}-b": w}
