"""Loading fixture logs into a real Elasticsearch: counts, idempotent re-load, aggregations."""
from __future__ import annotations

import itertools

import pytest

from fixtures.logs import loader, template
from fixtures.logs.documents import DocumentCorpus
from fixtures.logs.generator import GeneratorConfig, LogGenerator

N = 5_000


@pytest.fixture(scope="module")
def generator() -> LogGenerator:
    return LogGenerator(GeneratorConfig(seed=5))


def test_load_count_reload_and_aggregations(es, index_prefix, generator):
    index = f"{index_prefix}logs"
    report = loader.load_events(es, generator.events(N), index, chunk_size=500)
    assert report.ok, report.errors[:3]
    assert (report.total, report.created, report.updated) == (N, N, 0)
    assert es.count(index=index)["count"] == N
    # refresh_interval restored to the default after the load
    settings = es.indices.get_settings(index=index, name="index.refresh_interval").body.get(index, {}).get("settings", {})
    assert settings.get("index", {}).get("refresh_interval") in (None, "1s")

    again = loader.load_events(es, generator.events(N), index, threads=1)
    assert (again.total, again.created, again.updated, again.failed) == (N, 0, N, 0)
    assert es.count(index=index)["count"] == N

    # terms on query_norm: normalised variants ("Nike shoes", "nike  shoes ") group together
    expected: dict[str, int] = {}
    for e in generator.events(N):
        expected[e["query_norm"]] = expected.get(e["query_norm"], 0) + 1
    top = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    resp = es.search(index=index, size=0, aggs={"q": {"terms": {"field": "query_norm", "size": 5}}})
    got = [(b["key"], b["doc_count"]) for b in resp["aggregations"]["q"]["buckets"]]
    assert [c for _, c in got] == [c for _, c in top]

    # composite over (query_norm, bucket) pages through every pair exactly once
    pairs: dict[tuple[str, str], int] = {}
    after = None
    while True:
        comp = {"size": 1000, "sources": [{"q": {"terms": {"field": "query_norm"}}}, {"b": {"terms": {"field": "bucket"}}}]}
        if after:
            comp["after"] = after
        resp = es.search(index=index, size=0, aggs={"pairs": {"composite": comp}})
        agg = resp["aggregations"]["pairs"]
        for b in agg["buckets"]:
            pairs[(b["key"]["q"], b["key"]["b"])] = b["doc_count"]
        after = agg.get("after_key")
        if not agg["buckets"] or after is None:
            break
    want: dict[tuple[str, str], int] = {}
    for e in generator.events(N):
        key = (e["query_norm"], e["bucket"])  # "" (an empty query) is a keyword value too
        want[key] = want.get(key, 0) + 1
    assert pairs == want


def test_result_lists_come_back_whole_from_top_hits(es, index_prefix, generator):
    index = f"{index_prefix}logs"
    events = list(itertools.islice(generator.events(2000), 2000))
    assert loader.load_events(es, events, index).ok
    # the same text can be a query in several locales ("laptop"): a result list is per locale
    en = [e["query_norm"] for e in events if e["locale"] == "en-US"]
    head = max(set(en), key=en.count)
    query = {"bool": {"filter": [{"term": {"query_norm": head}}, {"term": {"locale": "en-US"}}]}}
    resp = es.search(index=index, size=0, query=query, aggs={
        "b": {"terms": {"field": "bucket"}, "aggs": {"one": {"top_hits": {"size": 1, "_source": ["results"]}}}}})
    for b in resp["aggregations"]["b"]["buckets"]:
        results = b["one"]["hits"]["hits"][0]["_source"]["results"]
        expected = next(e["results"] for e in events
                        if e["query_norm"] == head and e["locale"] == "en-US" and e["bucket"] == b["key"])
        assert results == expected
    # full-text on query works with the standard analyzer (Japanese and Arabic included)
    for locale in ("ja-JP", "ar-SA"):
        q = next(e["query"] for e in events if e["locale"] == locale and e["results"])
        assert es.count(index=index, query={"match": {"query": q}})["count"] >= 1


def test_bad_events_are_reported_per_item_not_raised(es, index_prefix, generator):
    index = f"{index_prefix}logs"
    good = list(generator.events(50))
    bad = [dict(good[0], event_id="bad-1", colour="red"), dict(good[1], event_id="bad-2", timestamp="not a date")]
    report = loader.load_events(es, good + bad, index)
    assert (report.total, report.created, report.failed) == (52, 50, 2)
    assert {e.id for e in report.errors} == {"bad-1", "bad-2"}
    assert {e.type for e in report.errors} == {"strict_dynamic_mapping_exception", "document_parsing_exception"}
    assert "bad-1" in report.summary() or "bad-2" in report.summary()


def test_templates_install_and_apply(es, index_prefix):
    name = f"{index_prefix}tpl"
    template.install_log_template(es, name=name, pattern=f"{index_prefix}rotated-*")
    template.install_docs_template(es, name=f"{index_prefix}docs-tpl", pattern=f"{index_prefix}docs-*")
    try:
        es.indices.create(index=f"{index_prefix}rotated-2024.06.03")
        mapping = es.indices.get_mapping(index=f"{index_prefix}rotated-2024.06.03").body
        props = next(iter(mapping.values()))["mappings"]
        assert props["dynamic"] == "strict" and props["properties"]["query_norm"]["type"] == "keyword"
        docs_index = f"{index_prefix}docs-fixture"
        report = loader.load_documents(es, itertools.islice(DocumentCorpus().documents(), 1000), docs_index, create=False)
        assert report.ok and es.count(index=docs_index)["count"] == 1000
        hit = es.search(index=docs_index, query={"match": {"title": "nike running shoes"}}, size=1)["hits"]["hits"][0]
        assert hit["_source"]["locale"] == "en-US"
    finally:
        for t in (name, f"{index_prefix}docs-tpl"):
            es.options(ignore_status=404).indices.delete_index_template(name=t)
            for part in ("settings", "mappings"):
                es.options(ignore_status=404).cluster.delete_component_template(name=f"{t}-{part}")
