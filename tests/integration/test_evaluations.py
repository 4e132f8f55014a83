"""EvaluationService end to end: a real `qrelay serve` process, a real Elasticsearch, fixture logs."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services.core.querynorm import normalize_query
from services.evaluation import hygiene
from services.store import gold as gold_store
from tests.integration.serving import TOKENS, auth, qrelay_server

START, END = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 7, 15, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def server(es_url, es, fixture_logs, tmp_path_factory):
    prefix = "qt-evals-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("serve") / "serve.log") as (address, proc):
        yield address, prefix
    for index in es.indices.get(index=f"{prefix}*").body:
        es.indices.delete(index=index)


@pytest.fixture(scope="module")
def stub(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield evaluation_pb2_grpc.EvaluationServiceStub(ch)


def make_spec(log_index, size=40, kinds=(common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE), **kw) -> ev.EvaluationSpec:
    spec = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=log_index),
        rankers=[ev.Ranker(id="control", log_bucket=ev.LogBucket(bucket="control")),
                 ev.Ranker(id="treatment", log_bucket=ev.LogBucket(bucket="treatment"))],
        kinds=list(kinds), depth=kw.pop("depth", 10), overlap=kw.pop("overlap", 3), gold_share=kw.pop("gold_share", 0.0),
        sample_plan=kw.pop("plan", ev.SamplePlan(size=size, unit=ev.TRAFFIC_WEIGHTED, seed=7,
                                                  bands=ev.FrequencyBands(traffic_share=ev.CutPoints(points=[0.5, 0.8])),
                                                  stratify_by=["locale"])),
        owner_team=kw.pop("owner_team", "search-quality"),
    )
    spec.log_source.window.start_time.FromDatetime(kw.pop("start", START))
    spec.log_source.window.end_time.FromDatetime(kw.pop("end", END))
    for k, v in kw.items():
        setattr(spec, k, v)
    return spec


def create(stub, spec, request_id="", name="test", role="engineer"):
    return stub.CreateEvaluation(ev.CreateEvaluationRequest(evaluation=ev.Evaluation(display_name=name, spec=spec),
                                                            request_id=request_id), metadata=auth(role), timeout=60)


def wait_state(stub, name, states=("PREJUDGING", "FAILED", "CANCELLED"), timeout=240) -> ev.Evaluation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("engineer"), timeout=30)
        if ev.EvaluationState.Name(e.state) in states:
            return e
        time.sleep(0.5)
    raise AssertionError(f"{name} did not reach {states}: {e}")


def items_of(es, prefix, evaluation_id) -> list[dict]:
    es.indices.refresh(index=f"{prefix}items")
    r = es.search(index=f"{prefix}items", query={"term": {"evaluation_id": evaluation_id}}, size=10_000)
    return [h["_source"] | {"_id": h["_id"]} for h in r["hits"]["hits"]]


@pytest.fixture(scope="module")
def produced(stub, fixture_logs):
    """One pointwise + side-by-side evaluation, produced to PREJUDGING, shared by the read-only checks."""
    e = create(stub, make_spec(fixture_logs[0], size=60), request_id="shared-1")
    return wait_state(stub, e.name)


def test_create_returns_at_once_pending_then_produces(produced):
    assert produced.state == ev.PREJUDGING, produced.state_reason
    assert produced.counts.queries == 60
    assert produced.counts.items > 60
    assert produced.creator == "engineer-user"


def test_strata_match_the_plan_and_carry_traffic_weights(produced):
    strata = produced.strata
    assert sum(s.sampled for s in strata) == 60
    assert abs(sum(s.weight for s in strata) - 1) < 1e-9
    assert {s.key.split("|")[0] for s in strata} == {"head", "torso", "tail"}
    assert {s.key.split("|")[1] for s in strata} >= {"en-US", "es-MX", "ja-JP", "ar-SA"}
    for s in strata:
        assert s.sampled <= s.population_queries


def test_items_pool_pairs_once_and_reveal_no_ranker(es, server, produced):
    items = items_of(es, server[1], produced.name.split("/")[1])
    assert len(items) == produced.counts.items
    point = [i for i in items if i["kind"] == "pointwise"]
    sxs = [i for i in items if i["kind"] == "side_by_side"]
    assert len(sxs) == 60  # one per query and ranker pair
    pairs = [(i["query_norm"], i["locale"], i["doc"]["doc_id"]) for i in point]
    assert len(pairs) == len(set(pairs))  # judged once, shared by both rankers
    assert all(set(i["doc"]) == {"doc_id", "title", "snippet", "url", "position"} for i in point)
    assert all(i["doc"]["title"] and i["doc"]["url"] for i in point)
    shared = [i for i in point if set(i["rankers"]) == {"control", "treatment"}]
    assert shared, "the two buckets overlap, so some docs serve both rankers"
    for i in sxs:
        assert len(i["left"]) == 10 and len(i["right"]) == 10
        assert i["identical"] == ([d["doc_id"] for d in i["left"]] == [d["doc_id"] for d in i["right"]])
        assert i["needs_humans"] == (not i["identical"])
    assert produced.counts.identical_pairs == sum(i["identical"] for i in sxs)
    # issue 12: one order key per query (all its items, both kinds), a different one for every query
    keys = {}
    for i in items:
        keys.setdefault((i["query_norm"], i["locale"]), set()).add(i["order_key"])
    assert all(len(k) == 1 for k in keys.values())
    assert len({k for ks in keys.values() for k in ks}) == len(keys) == 60
    doc = es.get(index=f"{server[1]}evaluations", id=produced.name.split("/")[1])["_source"]
    assert doc["grading_order"]["kind"] == "query_complete" and doc["grading_order"]["seed"] > 0


def test_no_pii_reaches_items(es, server, produced):
    items = items_of(es, server[1], produced.name.split("/")[1])
    assert all(hygiene.rejection(normalize_query(i["query"])) is None for i in items)
    assert produced.counts.pii_dropped > 0


def test_request_id_makes_create_idempotent(stub, fixture_logs, produced):
    again = create(stub, make_spec(fixture_logs[0], size=60), request_id="shared-1")
    assert again.name == produced.name


def test_same_seed_same_sample(stub, es, server, fixture_logs, produced):
    other = wait_state(stub, create(stub, make_spec(fixture_logs[0], size=60), request_id="shared-2").name)
    assert other.name != produced.name
    def queries(e):
        return {(i["query_norm"], i["locale"]) for i in items_of(es, server[1], e.name.split("/")[1])}
    assert queries(other) == queries(produced)
    assert [(s.key, s.sampled) for s in other.strata] == [(s.key, s.sampled) for s in produced.strata]


def test_fixed_allocation_unique_queries_and_floor(stub, es, server, fixture_logs):
    plan = ev.SamplePlan(unit=ev.UNIQUE_QUERY, allocation=ev.FIXED, stratify_by=["locale"], min_frequency=2, seed=3,
                         fixed_counts={"es-MX": 7, "ja-JP": 5})
    e = wait_state(stub, create(stub, make_spec(fixture_logs[0], kinds=[common_pb2.POINTWISE], plan=plan)).name)
    assert e.state == ev.PREJUDGING, e.state_reason
    assert {s.key: s.sampled for s in e.strata if s.sampled} == {"es-MX": 7, "ja-JP": 5}
    items = items_of(es, server[1], e.name.split("/")[1])
    assert {i["locale"] for i in items} == {"es-MX", "ja-JP"}
    assert len({(i["query_norm"], i["locale"]) for i in items}) == 12


def test_filters_restrict_the_logs(stub, es, server, fixture_logs):
    spec = make_spec(fixture_logs[0], size=10, kinds=[common_pb2.POINTWISE])
    spec.log_source.filters.add(field="locale", values=["pt-BR"])
    spec.log_source.filters.add(field="device", values=["mobile"])
    e = wait_state(stub, create(stub, spec).name)
    assert {i["locale"] for i in items_of(es, server[1], e.name.split("/")[1])} == {"pt-BR"}


def test_gold_items_are_mixed_in(stub, es, server, fixture_logs):
    prefix = server[1]
    gold_store.load(es, prefix, [
        {"gold_id": f"g{i}", "query": f"zapatos {i}", "query_norm": f"zapatos {i}", "locale": "es-MX", "grade": i % 4,
         "doc": {"doc_id": f"gd{i}", "title": "Zapatos", "snippet": "…", "url": f"https://ex.mx/{i}", "position": 1}}
        for i in range(50)
    ])
    e = wait_state(stub, create(stub, make_spec(fixture_logs[0], size=20, kinds=[common_pb2.POINTWISE], gold_share=0.1)).name)
    live = e.counts.items - e.counts.gold_items
    assert e.counts.gold_items == round(live * 0.1 / 0.9)
    gold = [i for i in items_of(es, prefix, e.name.split("/")[1]) if i["gold"]]
    assert len(gold) == e.counts.gold_items and all(i["kind"] == "pointwise" and "gold_label" in i for i in gold)
    assert all(0 <= i["order_key"] < 1 for i in gold)  # a gold query takes its place in the order like a live one


def test_live_search_template_ranker(stub, es, server, fixture_logs):
    spec = make_spec(fixture_logs[0], size=15)
    spec.rankers.add(id="bm25-live", search_template=ev.SearchTemplate(
        index=fixture_logs[1],
        source='{"query": {"bool": {"must": {"match": {"title": "{{query}}"}}, "filter": {"term": {"locale": "{{locale}}"}}}}}',
        title_field="title", snippet_field="snippet", url_field="url"))
    e = wait_state(stub, create(stub, spec).name)
    assert e.state == ev.PREJUDGING, e.state_reason
    items = items_of(es, server[1], e.name.split("/")[1])
    assert any("bm25-live" in i["rankers"] for i in items if i["kind"] == "pointwise")
    assert sum(1 for i in items if i["kind"] == "side_by_side") == 15 * 3  # three ranker pairs


def test_list_pages_and_filters(stub, produced):
    seen, token = [], ""
    while True:
        r = stub.ListEvaluations(ev.ListEvaluationsRequest(page_size=2, page_token=token), metadata=auth("ops"), timeout=30)
        seen += [e.name for e in r.evaluations]
        token = r.next_page_token
        if not token:
            break
    assert produced.name in seen and len(seen) == len(set(seen))
    only = stub.ListEvaluations(ev.ListEvaluationsRequest(owner_team="nobody"), metadata=auth("engineer"), timeout=30)
    assert not only.evaluations


def test_watch_streams_progress_to_the_end_of_production(stub, fixture_logs):
    e = create(stub, make_spec(fixture_logs[0], size=30))
    states = []
    for p in stub.WatchEvaluation(ev.WatchEvaluationRequest(name=e.name), metadata=auth("engineer"), timeout=240):
        states.append(ev.EvaluationState.Name(p.state))
        if p.state == ev.PREJUDGING:
            assert p.counts.items > 0
            break
    assert states[-1] == "PREJUDGING"
    assert set(states) <= {"PENDING", "PRODUCING", "PREJUDGING"}


def test_cancel_stops_production_and_leaves_consistent_counts(stub, es, server, fixture_logs):
    e = create(stub, make_spec(fixture_logs[0], size=1500))
    cancelled = stub.CancelEvaluation(ev.CancelEvaluationRequest(name=e.name, reason="wrong window"),
                                      metadata=auth("engineer"), timeout=30)
    assert cancelled.state == ev.CANCELLED and cancelled.state_reason == "wrong window"
    # the producer notices at its next chunk, writes the final counts and releases its claim
    evaluation_id = e.name.split("/")[1]
    for _ in range(240):
        if not es.get(index=f"{server[1]}evaluations", id=evaluation_id)["_source"].get("producer"):
            break
        time.sleep(0.5)
    final = stub.GetEvaluation(ev.GetEvaluationRequest(name=e.name), metadata=auth("engineer"), timeout=30)
    assert final.state == ev.CANCELLED
    assert len(items_of(es, server[1], evaluation_id)) == final.counts.items
    with pytest.raises(grpc.RpcError) as info:
        stub.CancelEvaluation(ev.CancelEvaluationRequest(name=e.name), metadata=auth("engineer"), timeout=30)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "CANCELLED" in info.value.details()


# -- bad input -------------------------------------------------------------------------------------

def violations(err: grpc.RpcError) -> dict[str, str]:
    out = {}
    for d in rpc_status.from_call(err).details:
        bad = error_details_pb2.BadRequest()
        if d.Unpack(bad):
            out.update({v.field: v.description for v in bad.field_violations})
    return out


def _bad(stub, spec, code=grpc.StatusCode.INVALID_ARGUMENT):
    with pytest.raises(grpc.RpcError) as info:
        create(stub, spec)
    assert info.value.code() == code, info.value.details()
    return info.value


def _with(spec, fn):
    fn(spec)
    return spec


@pytest.mark.parametrize("mutate, field, needle", [
    (lambda s: setattr(s.log_source, "index_pattern", "no-such-logs-*"), "evaluation.spec.log_source.index_pattern", "no index matches"),
    (lambda s: s.log_source.filters.add(field="colour", values=["red"]), "evaluation.spec.log_source.filters[0].field", "unknown"),
    (lambda s: s.sample_plan.stratify_by.append("colour"), "evaluation.spec.sample_plan.stratify_by[1]", "unknown"),
    (lambda s: s.log_source.window.end_time.CopyFrom(s.log_source.window.start_time), "evaluation.spec.log_source.window", "empty"),
    (lambda s: s.log_source.window.start_time.FromDatetime(dt.datetime(2020, 1, 1)) or
     s.log_source.window.end_time.FromDatetime(dt.datetime(2020, 2, 1)), "evaluation.spec.log_source.window", "no events"),
    (lambda s: setattr(s, "depth", 0), "evaluation.spec.depth", "1..100"),
    (lambda s: setattr(s, "depth", 101), "evaluation.spec.depth", "1..100"),
    (lambda s: setattr(s, "overlap", 0), "evaluation.spec.overlap", "at least 1"),
    (lambda s: s.rankers[1].log_bucket.__setattr__("bucket", "canary"), "evaluation.spec.rankers[1].log_bucket.bucket", "unknown bucket 'canary'"),
    (lambda s: s.rankers.add(id="t", search_template=ev.SearchTemplate(index="x", source='{"query": {{query}}')),
     "evaluation.spec.rankers[2].search_template.source", "invalid search template"),
    (lambda s: s.rankers.add(id="t", search_template=ev.SearchTemplate(index="no-such-docs", source='{"query": {"match_all": {}}}')),
     "evaluation.spec.rankers[2].search_template.source", "rejects"),
])
def test_bad_requests_name_the_field_and_write_nothing(stub, es, server, fixture_logs, mutate, field, needle):
    before = es.count(index=f"{server[1]}evaluations")["count"]
    err = _bad(stub, _with(make_spec(fixture_logs[0]), mutate))
    v = violations(err)
    assert field in v and needle in v[field], v
    es.indices.refresh(index=f"{server[1]}evaluations")
    assert es.count(index=f"{server[1]}evaluations")["count"] == before


def test_invalid_query_dsl_in_template(stub, fixture_logs):
    spec = make_spec(fixture_logs[1] and fixture_logs[0])
    spec.rankers.add(id="t", search_template=ev.SearchTemplate(index=fixture_logs[1], source='{"query": {"no_such_query": {}}}'))
    v = violations(_bad(stub, spec))
    assert "rejects" in v["evaluation.spec.rankers[2].search_template.source"]


def test_several_violations_reported_at_once(stub, fixture_logs):
    v = violations(_bad(stub, _with(make_spec(fixture_logs[0]), lambda s: (setattr(s, "depth", -1), setattr(s, "overlap", 0)))))
    assert {"evaluation.spec.depth", "evaluation.spec.overlap"} <= set(v)


def test_sample_larger_than_the_logs_is_failed_precondition(stub, fixture_logs):
    err = _bad(stub, make_spec(fixture_logs[0], size=90_000), grpc.StatusCode.FAILED_PRECONDITION)
    assert "distinct queries" in err.details()


def test_stratum_shortfall_fails_the_evaluation_with_the_reason(stub, fixture_logs):
    plan = ev.SamplePlan(unit=ev.UNIQUE_QUERY, allocation=ev.FIXED, stratify_by=["locale"], fixed_counts={"ar-SA": 2_000})
    e = create(stub, make_spec(fixture_logs[0], plan=plan))
    final = wait_state(stub, e.name)
    assert final.state == ev.FAILED and "ar-SA has" in final.state_reason and "FAILED_PRECONDITION" in final.state_reason


def test_roles_and_names(stub, fixture_logs):
    with pytest.raises(grpc.RpcError) as info:
        create(stub, make_spec(fixture_logs[0]), role="grader")
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    for name, code in (("evaluations/nope", grpc.StatusCode.NOT_FOUND), ("projects/x", grpc.StatusCode.INVALID_ARGUMENT)):
        with pytest.raises(grpc.RpcError) as info:
            stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("engineer"), timeout=30)
        assert info.value.code() == code


def test_cli_session(server, fixture_logs, produced):
    env_args = ["--server", server[0], "--token", TOKENS["engineer"]]
    def qrelay(*args):
        return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True, text=True, timeout=300)
    r = qrelay("eval", "create", *env_args, "--index", fixture_logs[0], "--from", "2024-06-01", "--to", "2024-07-15",
               "--ranker", "control=bucket:control", "--ranker", "treatment=bucket:treatment", "--kind", "both",
               "--size", "25", "--bands", "traffic:0.5,0.8", "--stratify-by", "locale", "--seed", "9",
               "--team", "cli-team", "--name", "from the CLI", "--watch")
    assert r.returncode == 0, r.stderr
    assert "PREJUDGING" in r.stdout and "queries 25" in r.stdout
    name = r.stdout.split()[0]
    r = qrelay("eval", "list", *env_args, "--team", "cli-team")
    assert r.returncode == 0 and name in r.stdout
    r = qrelay("eval", "get", *env_args, name, "--json")
    assert json.loads(r.stdout)["display_name"] == "from the CLI"
    r = qrelay("eval", "create", *env_args, "--index", fixture_logs[0], "--from", "2024-06-01", "--to", "2024-07-15",
               "--ranker", "control=bucket:control", "--kind", "pointwise", "--size", "5", "--depth", "0")
    assert r.returncode == 1 and "INVALID_ARGUMENT" in r.stderr and "evaluation.spec.depth" in r.stderr


@pytest.mark.local_node
def test_elasticsearch_outage_mid_production_resumes_without_duplicates(tmp_path):
    """Stop the node while an evaluation is being produced, start it again: production resumes."""
    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch import launcher
    from fixtures.logs import loader
    from fixtures.logs.generator import generate_events

    data = tmp_path / "es"
    port = launcher.free_port()
    url = launcher.start(port=port, data_dir=data)
    try:
        es = Elasticsearch(url, request_timeout=60)
        assert loader.load_events(es, generate_events(6000, seed=2), "outage-logs").ok
        with qrelay_server(url, "qt-outage-", tmp_path / "serve.log", {"QRELAY_OUTAGE_SECONDS": "180"}) as (address, _):
            with grpc.insecure_channel(address) as ch:
                stub = evaluation_pb2_grpc.EvaluationServiceStub(ch)
                e = create(stub, make_spec("outage-logs", size=300))
                launcher.stop(data)  # Elasticsearch goes away mid-production
                with pytest.raises(grpc.RpcError) as info:
                    stub.GetEvaluation(ev.GetEvaluationRequest(name=e.name), metadata=auth("engineer"), timeout=30)
                assert info.value.code() == grpc.StatusCode.UNAVAILABLE
                time.sleep(2)
                launcher.start(port=port, data_dir=data)
                final = wait_state(stub, e.name, timeout=300)
        assert final.state == ev.PREJUDGING, final.state_reason
        items = items_of(es, "qt-outage-", e.name.split("/")[1])
        assert len(items) == final.counts.items
        point = [(i["query_norm"], i["locale"], i["doc"]["doc_id"]) for i in items if i["kind"] == "pointwise"]
        assert len(point) == len(set(point))
        assert sum(i["kind"] == "side_by_side" for i in items) == final.counts.queries == 300
    finally:
        launcher.stop(data)
