"""ExportEvaluation: an evaluation's labels, judgements or result lists as files, streamed in
chunks of about 256 KB.

* **TREC qrels** of the consensus: ``qid 0 docno grade`` for every pointwise item of the
  *complete* queries — exactly the labels the report's metrics are over, so ``qrelay trec-eval``
  on them reproduces the report's unweighted means (a partial evaluation's other labels are in
  the JSONL/CSV export). ``qid`` is the query id (a digest of the query and its stratum).
* **TREC runs**, one per ranker: ``qid Q0 docno rank score tag`` for every query, the ranker's
  documents in its order with descending scores (trec_eval orders by score), ``tag`` the ranker.
* **JSONL / CSV** of the consensus (every item with its provenance), of every human judgement
  (un-randomised), or of the rankers' lists (``query_id, ranker, rank, doc_id, ...``).

Both TREC files list queries in the same (qid) order, so they are read side by side in bounded
memory. Requests are checked before the first byte is sent.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.reporting.pooled import rankings
from services.core.errors import FailedPrecondition, FieldViolation, InvalidArgument
from services.reporting import scope
from services.reporting.cache import LabelCache
from services.store import consensus, evaluations, judgements

CHUNK = 256 * 1024
CONTENTS = ("CONSENSUS", "JUDGEMENTS", "RUNS")
FORMATS = ("TREC", "JSONL", "CSV")
TYPES = {"TREC": "text/plain", "JSONL": "application/x-ndjson", "CSV": "text/csv"}
EXT = {"JSONL": "jsonl", "CSV": "csv"}
CONSENSUS_COLUMNS = ["item_id", "kind", "query_id", "query_norm", "locale", "stratum", "query_traffic", "doc_id",
                     "ranker_a", "ranker_b", "label", "preference", "source", "judgements", "confidence",
                     "model_label", "model_version", "method", "gold", "audit", "update_time"]
JUDGEMENT_COLUMNS = ["judgement_id", "item_id", "evaluation_id", "kind", "grade", "preference", "grader", "partner",
                     "locale", "gold", "gold_correct", "flagged", "comment", "submit_time", "time_on_task_ms"]
RUN_COLUMNS = ["query_id", "query_norm", "stratum", "ranker", "rank", "doc_id"]
_SPACE = re.compile(r"\s")


@dataclass
class Export:
    """What the first chunk announces, and the chunks."""

    content_type: str
    file_name: str
    chunks: Iterator[bytes]


def _chunked(lines: Iterable[str], size: int = CHUNK) -> Iterator[bytes]:
    buf: list[str] = []
    n = 0
    for line in lines:
        buf.append(line)
        n += len(line)
        if n >= size:
            yield "".join(buf).encode()
            buf, n = [], 0
    if buf:
        yield "".join(buf).encode()


def _jsonl(rows: Iterable[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _csv(rows: Iterable[dict], columns: list[str]) -> Iterator[str]:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
        if out.tell() >= 8192:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def plan(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, content: str, fmt: str,
         ranker: str = "") -> Export:
    """Check the request and return the export; nothing is read from the label set before the
    request is known to be good."""
    content = content or "CONSENSUS"
    if fmt not in FORMATS:
        raise InvalidArgument(FieldViolation("format", "required: TREC, JSONL or CSV"))
    if content == "JUDGEMENTS":
        if fmt == "TREC":
            raise InvalidArgument(FieldViolation("format", "judgements cannot be TREC qrels (qrels hold one label per "
                                                           "query and document; an item has several judgements): "
                                                           "export JSONL or CSV, or the CONSENSUS as TREC"))
        evaluations.get(es, prefix, evaluation_id)  # NOT_FOUND; any state: judgements are kept after a cancel
        rows = judgements.of_evaluation(es, prefix, evaluation_id, None)
        text = _jsonl(rows) if fmt == "JSONL" else _csv(rows, JUDGEMENT_COLUMNS)
        return Export(TYPES[fmt], f"{evaluation_id}-judgements.{EXT[fmt]}", _chunked(text))
    ev = scope.evaluation(es, prefix, evaluation_id, "an export")
    if ranker and ranker not in ev.rankers:
        raise InvalidArgument(FieldViolation("ranker", f"{ranker!r} is not a ranker of {ev.name}; its rankers are "
                                                       f"{', '.join(ev.rankers)}"))
    if content == "CONSENSUS":
        if fmt == "TREC":
            ls = _labels(cache, ev)
            return Export(TYPES[fmt], f"{evaluation_id}-consensus.qrels", _chunked(_qrels(ls)))
        rows = ({k: v for k, v in d.items() if k != "evaluation_id"}
                for d in consensus.of_evaluation(es, prefix, evaluation_id))
        text = _jsonl(rows) if fmt == "JSONL" else _csv(rows, CONSENSUS_COLUMNS)
        return Export(TYPES[fmt], f"{evaluation_id}-consensus.{EXT[fmt]}", _chunked(text))
    if content != "RUNS":
        raise InvalidArgument(FieldViolation("content", f"must be one of {', '.join(CONTENTS)}"))
    if fmt == "TREC" and not ranker:
        raise InvalidArgument(FieldViolation("ranker", f"required for a TREC run (one run per ranker: "
                                                       f"{', '.join(ev.rankers)})"))
    ls = _labels(cache, ev)
    if not len(ls.pointwise):
        raise FailedPrecondition(f"{ev.name} has no pointwise items, so its rankers' lists are not stored as runs")
    if fmt == "TREC":
        return Export(TYPES[fmt], f"{evaluation_id}-{ranker}.run", _chunked(_run(ls, ls.rankers.index(ranker))))
    chosen = [ls.rankers.index(ranker)] if ranker else list(range(len(ls.rankers)))
    rows = _run_rows(ls, ev.strata_keys, chosen)
    text = _jsonl(rows) if fmt == "JSONL" else _csv(rows, RUN_COLUMNS)
    name = f"{evaluation_id}-{ranker or 'runs'}.{EXT[fmt]}"
    return Export(TYPES[fmt], name, _chunked(text))


def _labels(cache: LabelCache, ev: scope.Evaluation):
    ls, _, state = cache.label_set(ev)
    if state["items"] == 0:
        raise FailedPrecondition(f"{ev.name} has no labels yet: its consensus has not been seeded; try again shortly")
    pw = ls.pointwise
    bad = next((d for d in pw.doc_id if not d or _SPACE.search(d)), None)
    if bad is not None:
        raise FailedPrecondition(f"document id {bad!r} is empty or contains whitespace, which TREC files cannot hold; "
                                 f"export JSONL or CSV instead")
    if any(not q for q in ls.query_ids):
        raise FailedPrecondition(f"some consensus documents of {ev.name} carry no query id; TREC files need one")
    return ls


def _qrels(ls) -> Iterator[str]:
    pw = ls.pointwise
    keep = np.flatnonzero(ls.complete()[pw.query])
    order = keep[np.lexsort((np.array(pw.doc_id)[keep], pw.query[keep]))]
    for i in order:
        yield f"{ls.query_ids[pw.query[i]]} 0 {pw.doc_id[i]} {pw.label[i]}\n"


def _ordered(ls, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The items ranker ``r`` lists, by (query, position), with positions and list lengths."""
    pw = ls.pointwise
    position, length = rankings(pw.query, pw.ranks[r:r + 1], len(ls.query_ids))
    listed = np.flatnonzero(position[0] >= 0)
    order = listed[np.lexsort((position[0, listed], pw.query[listed]))]
    return order, position[0], length[0]


def _run(ls, r: int) -> Iterator[str]:
    pw = ls.pointwise
    tag = _SPACE.sub("_", ls.rankers[r])
    order, position, length = _ordered(ls, r)
    for i in order:
        q, p = pw.query[i], int(position[i])
        # scores fall with the rank, so trec_eval (which orders by score) keeps the ranker's order
        yield f"{ls.query_ids[q]} Q0 {pw.doc_id[i]} {p + 1} {int(length[q]) - p} {tag}\n"


def _run_rows(ls, strata_keys: list[str], chosen: list[int]) -> Iterator[dict]:
    pw = ls.pointwise
    for r in chosen:
        order, position, _ = _ordered(ls, r)
        for i in order:
            q = pw.query[i]
            s = ls.query_stratum[q]
            yield {"query_id": ls.query_ids[q], "query_norm": ls.query_norm[q],
                   "stratum": strata_keys[s] if s >= 0 else "", "ranker": ls.rankers[r], "rank": int(position[i]) + 1,
                   "doc_id": pw.doc_id[i]}

