"""The local Elasticsearch node is the genuine server and does what qrelay relies on."""
from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from elasticsearch import ConflictError, BadRequestError, helpers

from fixtures.elasticsearch.testing import running_cluster, running_elasticsearch

LOCALES = ["en-US", "es-MX", "pt-BR", "id-ID"]
RANKERS = ["A", "B", "C"]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _events(n: int):
    for i in range(n):
        yield {
            "n": i,
            "locale": LOCALES[i % len(LOCALES)],
            "ranker": RANKERS[i % len(RANKERS)],
            "ts": (T0 + timedelta(hours=6 * i)).isoformat(),
        }


def _load(es, index: str, n: int) -> None:
    es.indices.create(
        index=index,
        mappings={
            "dynamic": "strict",
            "properties": {
                "n": {"type": "integer"},
                "locale": {"type": "keyword"},
                "ranker": {"type": "keyword"},
                "ts": {"type": "date"},
            },
        },
    )
    ok, errors = helpers.bulk(es, ({"_index": index, "_id": str(e["n"]), **e} for e in _events(n)), refresh=True)
    assert ok == n and not errors


@pytest.mark.local_node
def test_root_is_elasticsearch_8_19(es, es_url):
    info = es.info()
    assert info["version"]["number"].startswith("8.19.")
    assert info["tagline"] == "You Know, for Search"
    assert es.ping()
    with urllib.request.urlopen(es_url + "/") as resp:
        assert resp.headers["X-elastic-product"] == "Elasticsearch"


def test_composable_index_template_applies_strict_mapping(es, index_prefix):
    es.indices.put_index_template(
        name=index_prefix + "events",
        index_patterns=[index_prefix + "events-*"],
        priority=500,
        template={
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"dynamic": "strict", "properties": {"query": {"type": "text"}, "locale": {"type": "keyword"}}},
        },
    )
    index = index_prefix + "events-1"
    es.index(index=index, id="1", document={"query": "red shoes", "locale": "en-US"}, refresh=True)
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["locale"] == {"type": "keyword"}
    with pytest.raises(BadRequestError) as err:
        es.index(index=index, document={"query": "x", "unexpected": 1})
    assert err.value.error == "strict_dynamic_mapping_exception"


def test_bulk_terms_composite_and_date_histogram(es, index_prefix):
    index = index_prefix + "logs"
    _load(es, index, 240)
    assert es.count(index=index)["count"] == 240

    res = es.search(
        index=index,
        size=0,
        aggs={
            "locales": {"terms": {"field": "locale", "size": 10}},
            "per_day": {"date_histogram": {"field": "ts", "calendar_interval": "day"}},
        },
    )
    assert {b["key"]: b["doc_count"] for b in res["aggregations"]["locales"]["buckets"]} == {loc: 60 for loc in LOCALES}
    days = res["aggregations"]["per_day"]["buckets"]
    assert len(days) == 60 and all(b["doc_count"] == 4 for b in days)
    assert days[0]["key_as_string"].startswith("2026-01-01")

    # composite: page through all (locale, ranker) pairs with after_key
    seen = {}
    after = None
    while True:
        composite = {"size": 5, "sources": [{"locale": {"terms": {"field": "locale"}}}, {"ranker": {"terms": {"field": "ranker"}}}]}
        if after:
            composite["after"] = after
        agg = es.search(index=index, size=0, aggs={"pairs": {"composite": composite}})["aggregations"]["pairs"]
        for b in agg["buckets"]:
            seen[(b["key"]["locale"], b["key"]["ranker"])] = b["doc_count"]
        if len(agg["buckets"]) < 5:
            break
        after = agg["after_key"]
    assert len(seen) == len(LOCALES) * len(RANKERS)
    assert sum(seen.values()) == 240


def test_point_in_time_search_after_and_slices(es, index_prefix):
    index = index_prefix + "pit"
    es.indices.create(index=index, settings={"number_of_shards": 2, "number_of_replicas": 0})
    helpers.bulk(es, ({"_index": index, "_id": str(i), "n": i} for i in range(300)), refresh=True)
    pit = es.open_point_in_time(index=index, keep_alive="1m")["id"]
    try:
        # writes after opening the PIT are not visible through it
        es.index(index=index, id="late", document={"n": 999}, refresh=True)

        got, after = [], None
        while True:
            kwargs = {"search_after": after} if after else {}
            res = es.search(pit={"id": pit, "keep_alive": "1m"}, size=70, sort=[{"n": "asc"}], **kwargs)
            hits = res["hits"]["hits"]
            if not hits:
                break
            got.extend(h["_source"]["n"] for h in hits)
            after = hits[-1]["sort"]
            pit = res["pit_id"]
        assert got == list(range(300))

        slices = []
        for slice_id in range(2):
            ids = set()
            after = None
            while True:
                kwargs = {"search_after": after} if after else {}
                res = es.search(
                    pit={"id": pit, "keep_alive": "1m"},
                    slice={"id": slice_id, "max": 2},
                    size=100,
                    sort=[{"n": "asc"}],
                    **kwargs,
                )
                hits = res["hits"]["hits"]
                if not hits:
                    break
                ids.update(h["_id"] for h in hits)
                after = hits[-1]["sort"]
            slices.append(ids)
        assert slices[0] and slices[1] and not (slices[0] & slices[1])
        assert slices[0] | slices[1] == {str(i) for i in range(300)}
    finally:
        assert es.close_point_in_time(id=pit)["succeeded"]


def test_dense_vector_knn_cosine(es, index_prefix):
    index = index_prefix + "vectors"
    es.indices.create(
        index=index,
        mappings={"properties": {"v": {"type": "dense_vector", "dims": 3, "index": True, "similarity": "cosine"}}},
    )
    docs = {"x": [1.0, 0.0, 0.0], "y": [0.0, 1.0, 0.0], "xy": [1.0, 1.0, 0.0], "z": [0.0, 0.0, 1.0]}
    helpers.bulk(es, ({"_index": index, "_id": k, "v": v} for k, v in docs.items()), refresh=True)
    res = es.search(index=index, knn={"field": "v", "query_vector": [0.9, 0.1, 0.0], "k": 2, "num_candidates": 10})
    ids = [h["_id"] for h in res["hits"]["hits"]]
    assert ids == ["x", "xy"]
    assert res["hits"]["hits"][0]["_score"] > res["hits"]["hits"][1]["_score"]


def test_op_type_create_and_optimistic_concurrency(es, index_prefix):
    index = index_prefix + "leases"
    first = es.index(index=index, id="item1:0", document={"holder": "a"}, op_type="create", refresh=True)
    with pytest.raises(ConflictError):
        es.index(index=index, id="item1:0", document={"holder": "b"}, op_type="create")

    seq_no, term = first["_seq_no"], first["_primary_term"]
    second = es.index(index=index, id="item1:0", document={"holder": "c"}, if_seq_no=seq_no, if_primary_term=term)
    assert second["_seq_no"] > seq_no
    with pytest.raises(ConflictError):  # stale seq_no: someone else won
        es.index(index=index, id="item1:0", document={"holder": "d"}, if_seq_no=seq_no, if_primary_term=term)
    assert es.get(index=index, id="item1:0")["_source"]["holder"] == "c"


@pytest.mark.parametrize(
    ("analyzer", "text", "tokens"),
    [
        ("standard", "The Running Cafés", ["the", "running", "cafés"]),
        ("english", "The running dogs", ["run", "dog"]),
        ("spanish", "Los gatos corriendo", ["gat", "corriend"]),
        ("portuguese", "Os gatos correndo", ["gato", "corrend"]),
        ("indonesian", "dan makanan", ["makan"]),
        ("arabic", "الكتاب", ["كتاب"]),
        ("cjk", "東京都", ["東京", "京都"]),
    ],
)
def test_analyzers(es, analyzer, text, tokens):
    res = es.indices.analyze(analyzer=analyzer, text=text)
    assert [t["token"] for t in res["tokens"]] == tokens


def test_language_analyzer_in_mapping_and_keyword_normalizer(es, index_prefix):
    index = index_prefix + "docs"
    es.indices.create(
        index=index,
        settings={
            "analysis": {
                "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
                "analyzer": {"es_custom": {"type": "spanish", "stopwords": ["de"]}},
            }
        },
        mappings={
            "properties": {
                "title": {"type": "text", "analyzer": "english"},
                "titulo": {"type": "text", "analyzer": "es_custom"},
                "brand": {"type": "keyword", "normalizer": "folded"},
            }
        },
    )
    es.index(index=index, id="1", document={"title": "Running shoes", "titulo": "Zapatos de correr", "brand": "Café ÁRBOL"}, refresh=True)
    assert es.count(index=index, query={"match": {"title": "run shoe"}})["count"] == 1
    assert es.count(index=index, query={"match": {"titulo": "zapato"}})["count"] == 1
    assert es.count(index=index, query={"term": {"brand": "CAFE arbol"}})["count"] == 1
    buckets = es.search(index=index, size=0, aggs={"b": {"terms": {"field": "brand"}}})["aggregations"]["b"]["buckets"]
    assert [b["key"] for b in buckets] == ["cafe arbol"]


@pytest.mark.local_node
def test_data_survives_stop_and_start(tmp_path):
    from elasticsearch import Elasticsearch

    data_dir = tmp_path / "es"
    with running_elasticsearch(data_dir) as url:
        with Elasticsearch(url) as es:
            es.index(index="persist", id="1", document={"v": 42}, refresh=True)
    with running_elasticsearch(data_dir) as url:
        with Elasticsearch(url) as es:
            es.cluster.health(index="persist", wait_for_status="yellow", timeout="30s")
            assert es.get(index="persist", id="1")["_source"] == {"v": 42}
    assert (data_dir / "data").is_dir() and (data_dir / "logs" / "qrelay-local.log").is_file()


@pytest.mark.local_node
@pytest.mark.slow
def test_three_node_cluster_keeps_serving_when_a_node_is_lost_and_heals(tmp_path):
    """One node killed (-9), later one stopped cleanly: the index with one replica stays readable
    and writable (yellow), and is green again once the node is back."""
    from elasticsearch import Elasticsearch

    index = "faults"
    with running_cluster(tmp_path / "cluster", nodes=3, heap="256m") as cluster:
        clients = {n: Elasticsearch(cluster.url(n), request_timeout=60) for n in (1, 2, 3)}
        nodes = clients[1].nodes.info()["nodes"].values()
        assert sorted(n["name"] for n in nodes) == ["qrelay-local-1", "qrelay-local-2", "qrelay-local-3"]
        assert len({n["transport_address"] for n in nodes}) == 3
        clients[1].indices.create(
            index=index,
            settings={
                "number_of_shards": 2,
                "number_of_replicas": 1,
                # keep the lost copies unassigned until the node is back (instead of re-replicating
                # after the default minute), so the cluster stays yellow while it is gone
                "index.unassigned.node_left.delayed_timeout": "1h",
            },
        )
        assert clients[2].cluster.health(index=index, wait_for_status="green", timeout="60s")["status"] == "green"
        ok, _ = helpers.bulk(clients[3], ({"_index": index, "_id": str(i), "n": i} for i in range(100)), refresh=True)
        assert ok == 100

        def lose_and_bring_back(lost: int, kill: bool) -> None:
            survivor = clients[1 if lost != 1 else 2]
            cluster.stop_node(lost, kill=kill)
            health = survivor.cluster.health(wait_for_nodes="2", timeout="60s")
            assert health["number_of_nodes"] == 2 and health["status"] == "yellow"
            before = survivor.count(index=index)["count"]
            ok, _ = helpers.bulk(survivor, ({"_index": index, "_id": f"{lost}-{i}", "n": i} for i in range(50)), refresh=True)
            assert ok == 50
            assert survivor.count(index=index)["count"] == before + 50
            assert survivor.get(index=index, id=f"{lost}-7")["_source"] == {"n": 7}
            assert cluster.status()["nodes"][lost - 1]["pid"] is None

            assert cluster.start_node(lost) == cluster.url(lost)
            health = clients[lost].cluster.health(index=index, wait_for_status="green", timeout="120s")
            assert health["status"] == "green" and health["number_of_nodes"] == 3
            assert clients[lost].count(index=index)["count"] == before + 50

        lose_and_bring_back(2, kill=True)
        master = clients[1].cat.master(format="json")[0]["node"]
        lose_and_bring_back(int(master.rsplit("-", 1)[1]), kill=False)  # the elected master, cleanly
        for client in clients.values():
            client.close()
    assert cluster.status() is None  # every node stopped
