"""Consensus kept current and GRADING → COMPLETE, against two real server replicas and a real
Elasticsearch: judgements go in through GradingService over gRPC, the servers' reporting workers
update the consensus documents incrementally, progress streams through WatchEvaluation, and the
evaluation completes (all judged, deadline passed, nothing to judge)."""
from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import uuid

import grpc
import pytest

from evaluators.consensus import Reliability
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services.reporting.consensus import recompute_all
from services.store import consensus, evaluations, judgements
from tests.integration import test_grading_support as w
from tests.integration.test_grading import _drop
from tests.integration.serving import TOKENS, auth, qrelay_server

# Passes every 0.3 s; a claim goes stale after 5 s; re-read 2 s of judgements before the newest.
ENV = {"QRELAY_REPORTING_SECONDS": "0.3", "QRELAY_REPORTING_CLAIM_SECONDS": "5",
       "QRELAY_CONSENSUS_SLACK_SECONDS": "2", "QRELAY_ADAPTIVE_AUDIT_SHARE": "0.3"}
SLACK_S = 2.0


@pytest.fixture(scope="module")
def replicas(es_url, es, tmp_path_factory):
    """Two `qrelay serve` processes on one index prefix: ``(address 1, address 2, prefix, pids)``."""
    prefix = f"qt-consensus-{uuid.uuid4().hex[:8]}-"
    logs = tmp_path_factory.mktemp("consensus")
    with qrelay_server(es_url, prefix, logs / "serve1.log", ENV) as (a1, p1), \
            qrelay_server(es_url, prefix, logs / "serve2.log", ENV) as (a2, p2):
        yield a1, a2, prefix, (p1.pid, p2.pid)
    _drop(es, prefix)


class Grading:
    """One evaluation in GRADING with its own locale, graders and a channel per replica."""

    def __init__(self, es, replicas, items_of, fields=None, **seed):
        self.es, self.prefix = es, replicas[2]
        self.channels = [grpc.insecure_channel(a) for a in replicas[:2]]
        self.eval_id = f"ev{uuid.uuid4().hex[:10]}"
        self.locale = f"en-C{uuid.uuid4().hex[:6]}"
        self.items = items_of(self.eval_id, self.locale)
        # items first, then GRADING (as pre-judgement does): the workers seed consensus from complete items
        w.seed(es, self.prefix, self.eval_id, self.items, state="PREJUDGING", **seed)
        es.update(index=evaluations.index(self.prefix), id=self.eval_id, doc={"state": "GRADING", **(fields or {})},
                  refresh=True)
        # Not for the grading cache (a grader is served at once now): without this pause, under load,
        # the launch-bar test's decided interval came out [0, 0] (1 run in 4) — a race between the
        # first judgements and the workers' first passes, not yet found; kept until it is.
        time.sleep(2.2)
        self.stub = evaluation_pb2_grpc.EvaluationServiceStub(self.channels[0])

    def grader(self, replica: int = 0) -> w.GraderClient:
        _, cred = w.create_grader(self.channels[replica], locales=[self.locale], skills=[])
        return w.GraderClient(self.channels[replica], cred)

    def get(self) -> ev.Evaluation:
        return self.stub.GetEvaluation(ev.GetEvaluationRequest(name=f"evaluations/{self.eval_id}"),
                                       metadata=auth("engineer"), timeout=30)

    def wait(self, what, condition, timeout=90.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            e = self.get()
            if condition(e):
                return e
            time.sleep(0.2)
        raise AssertionError(f"{what}: not reached in {timeout:.0f} s; last: {self.get()}")

    def docs(self) -> dict[str, dict]:
        self.es.indices.refresh(index=consensus.index(self.prefix))
        return {d["item_id"]: d for d in consensus.of_evaluation(self.es, self.prefix, self.eval_id)}

    def state(self) -> dict:
        return evaluations.get(self.es, self.prefix, self.eval_id)["consensus"]

    def close(self):
        for ch in self.channels:
            ch.close()


def grade_of(a) -> dict:
    """What a careful grader answers: grade = the document's number mod 4 (``dp7``, ``dg3``); side by
    side, ranker_b is better on odd queries (``da5-1`` is ranker_a's first result for query 5)."""
    if a.task.WhichOneof("body") == "pointwise":
        return {"grade": int(re.fullmatch(r"d[pg](\d+)", a.task.pointwise.result.doc_id).group(1)) % 4}
    side, query = re.fullmatch(r"d([ab])(\d+)-\d+", a.task.side_by_side.left[0].doc_id).groups()
    canonical = 2 if int(query) % 2 else -1
    return {"preference": canonical if side == "a" else -canonical}  # as shown: ranker_a may be on the right


def judge(grader, n=None, answer=grade_of, kind=common_pb2.JUDGEMENT_KIND_UNSPECIFIED) -> list:
    """Lease and submit up to ``n`` tasks (all there are when None), of one kind if given."""
    done = []
    while n is None or len(done) < n:
        try:
            a = grader.next(kind)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND, e
            break
        grader.submit(a.name, **answer(a))
        done.append(a)
    return done


def labels(docs: dict[str, dict]) -> dict[str, tuple]:
    keys = ("label", "preference", "source", "judgements", "confidence", "posterior", "human_done", "method")
    return {i: tuple(str(d.get(k)) for k in keys) for i, d in docs.items() if d.get("judgements")}


def mixed(eval_id, locale):
    return (w.pointwise(eval_id, 16, locale=locale, overlap=2) + w.side_by_side(eval_id, 4, locale=locale, overlap=2)
            + w.gold(eval_id, 4, label=2, locale=locale))


def test_judgements_over_grpc_update_consensus_incrementally_until_complete(es, replicas):
    g = Grading(es, replicas, mixed)
    watched: list[ev.EvaluationProgress] = []

    def watch():
        for p in g.stub.WatchEvaluation(ev.WatchEvaluationRequest(name=f"evaluations/{g.eval_id}"),
                                        metadata=auth("engineer"), timeout=180):
            watched.append(p)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    e = g.wait("seeded", lambda e: e.grading.items == 24)
    assert (e.grading.items_for_humans, e.grading.judgements_wanted, e.grading.items_labelled) == (24, 44, 4)  # gold

    careful, other, spammer = g.grader(0), g.grader(1), g.grader(0)
    # both kinds in the first batch, so both reliability models exist before the second one
    judge(careful, 6, kind=common_pb2.POINTWISE)
    judge(careful, 2, kind=common_pb2.SIDE_BY_SIDE)
    g.wait("first batch applied", lambda e: e.grading.judgements == 8)
    before, state1 = g.docs(), g.state()
    first_items = {i for i, d in before.items() if d["judgements"]}
    assert len(first_items) == 8 and all(before[i]["source"] in ("human", "gold") for i in first_items)

    time.sleep(SLACK_S + 0.5)  # the first batch falls out of the re-read window
    second = judge(careful, 6)
    e = g.wait("second batch applied", lambda e: e.grading.judgements == 14)
    after, state2 = g.docs(), g.state()
    # incremental: no refit, the last pass applied only new judgements, earlier items were not rewritten
    assert state2["refits"] == state1["refits"] and state2["last_pass"]["refit"] is False
    assert state2["last_pass"]["new"] <= len(second) and state2["last_pass"]["recomputed"] <= len(second)
    assert {i: after[i]["update_time"] for i in first_items} == {i: before[i]["update_time"] for i in first_items}
    assert sum(d["judgements"] for d in after.values()) == 14
    # ... and it is exactly what a recompute of everything with the same model gives
    models = {k: Reliability.from_dict(v) for k, v in state2["reliability"].items()}
    assert labels(after) == labels({i: {**after[i], **v} for i, v in recompute_all(es, g.prefix, g.eval_id, models).items()})
    assert e.grading.judgements_per_minute > 0 and e.grading.HasField("eta")

    judge(spammer, 5, answer=lambda a: {"grade": 0} if a.task.WhichOneof("body") == "pointwise" else {"preference": 3})
    judge(careful)
    judge(other)
    e = g.wait("complete", lambda e: e.state == ev.COMPLETE)
    assert e.completion.reason == ev.ALL_JUDGED and e.completion.coverage == 1.0 and e.completion.human_coverage == 1.0
    assert e.completion.message == "all 24 items for humans judged (44 judgements); 24 of 24 items labelled (100%)"
    assert (e.grading.items_done, e.grading.judgements, e.counts.judgements) == (24, 44, 44)
    final = g.docs()
    assert all(d["human_done"] and d["source"] in ("human", "gold") for d in final.values())
    assert {d["label"] for d in final.values() if d["gold"]} == {2}
    # the final state equals a recompute from scratch (every judgement, a freshly fitted model)
    assert labels(final) == labels({i: {**final[i], **v} for i, v in recompute_all(es, g.prefix, g.eval_id).items()})
    deadline = time.monotonic() + 30
    while evaluations.get(es, g.prefix, g.eval_id)["completion"]["hooks"] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)  # the hooks run right after the transition
    assert evaluations.get(es, g.prefix, g.eval_id)["completion"]["hooks"] == "done"

    watcher.join(timeout=30)
    grading = [p for p in watched if p.state == ev.GRADING and p.HasField("grading")]
    assert [p.grading.judgements for p in grading] == sorted(p.grading.judgements for p in grading)
    assert grading[-1].grading.judgements > 0 and any(0 < p.stage_progress < 1 for p in grading)
    assert watched[-1].state == ev.COMPLETE and watched[-1].completion.message == e.completion.message

    r = subprocess.run([sys.executable, "-m", "services.cli", "eval", "get", "--server", replicas[0],
                        "--token", TOKENS["engineer"], g.eval_id], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "grading: 24 of 24 (100%) items for humans judged, 44 of 44 (100%) judgements" in r.stdout
    assert "(ALL_JUDGED): all 24 items for humans judged" in r.stdout
    g.close()


def test_a_past_deadline_completes_with_the_coverage_reached_and_nothing_to_judge_completes_at_once(es, replicas):
    late = Grading(es, replicas, lambda e, loc: w.pointwise(e, 6, locale=loc))
    auto = Grading(es, replicas, lambda e, loc: [
        {**it, "needs_humans": False, "prejudgement": {"grade": 1, "auto": True, "confidence": 0.95, "model": "m"}}
        for it in w.pointwise(e, 3, locale=loc)])
    judge(late.grader(), 2)
    late.wait("judged", lambda e: e.grading.judgements == 2)
    assert late.get().state == ev.GRADING
    es.update(index=evaluations.index(late.prefix), id=late.eval_id, doc={"deadline": w.now_iso(-1)}, refresh=True)
    e = late.wait("complete", lambda e: e.state == ev.COMPLETE)
    assert e.completion.reason == ev.DEADLINE_PASSED
    assert e.completion.message == ("deadline passed: 2 of 6 items labelled (33%); "
                                    "2 of 6 items for humans fully judged (33%)")
    assert (e.completion.items_labelled, e.completion.items) == (2, 6)
    assert e.completion.coverage == pytest.approx(2 / 6, abs=1e-6)
    # the graders' queue no longer offers it (once the servers' 2 s cache of evaluations in GRADING expired)
    time.sleep(2.2)
    with pytest.raises(grpc.RpcError) as info:
        late.grader().next()
    assert info.value.code() == grpc.StatusCode.NOT_FOUND

    e = auto.wait("complete", lambda e: e.state == ev.COMPLETE)
    assert e.completion.reason == ev.NOTHING_TO_JUDGE and e.completion.coverage == 1.0
    assert {(d["source"], d["label"]) for d in auto.docs().values()} == {("model", 1)}
    late.close()
    auto.close()


def test_two_replicas_share_the_work_and_take_over_a_dead_ones_claim(es, replicas):
    g = Grading(es, replicas, lambda e, loc: w.pointwise(e, 12, locale=loc, overlap=2))
    # a replica that died holding the claim: nobody touches the evaluation until its heartbeat is stale
    es.update(index=evaluations.index(g.prefix), id=g.eval_id, refresh=True,
              doc={"consensus": {"owner": "ghost:1:reporting", "heartbeat": w.now_iso()}})
    a, b = g.grader(0), g.grader(1)
    threads = [threading.Thread(target=judge, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    e = g.wait("complete", lambda e: e.state == ev.COMPLETE)
    assert e.completion.reason == ev.ALL_JUDGED and e.grading.judgements == 24
    owner = g.state()["owner"]
    assert owner.rsplit(":", 2)[1] in {str(p) for p in replicas[3]}  # one of the live replicas took over
    final = g.docs()
    assert sum(d["judgements"] for d in final.values()) == 24 == judgements.count(es, g.prefix, g.eval_id)
    assert labels(final) == labels({i: {**final[i], **v} for i, v in recompute_all(es, g.prefix, g.eval_id).items()})
    g.close()


def _headline_spec(min_effect: float = 0.0, grade_everything: bool = False, rule: int = 0,
                   stored: bool = True) -> dict | ev.EvaluationSpec:
    """A spec with a headline comparison (control vs treatment, pointwise), as stored (or the message)."""
    import datetime as dt

    from google.protobuf import json_format

    s = ev.EvaluationSpec(log_source=ev.LogSource(index_pattern="logs"), kinds=[common_pb2.POINTWISE],
                          rankers=[ev.Ranker(id=r, log_bucket=ev.LogBucket(bucket=r)) for r in ("control", "treatment")],
                          sample_plan=ev.SamplePlan(size=40),
                          stopping=ev.Stopping(min_effect=min_effect, grade_everything=grade_everything, rule=rule))
    s.log_source.window.start_time.FromDatetime(dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc))
    s.log_source.window.end_time.FromDatetime(dt.datetime(2024, 6, 8, tzinfo=dt.timezone.utc))
    return json_format.MessageToDict(s, preserving_proto_field_name=True) if stored else s


def headline_queries(eval_id, locale, n=40):
    """``n`` queries of two items each, in order-key order: treatment ranks a Perfect document
    first where control ranks an Irrelevant one, except on every third query, where both rank the
    same two (grades from the doc number, as :func:`grade_of` answers)."""
    from services.evaluation import pooling

    out = []
    for i in range(n):
        good, bad = w.doc(8 * i + 3, "p"), w.doc(8 * i + 4, "p")
        lists = {"control": [bad, good] if i % 3 else [good, bad], "treatment": [good, bad]}
        made = pooling.pointwise_items(eval_id, w._query("q", i, locale, lists), ["control", "treatment"],
                                       w._common(eval_id, 1, 50, None))
        out += [{**it, "order_key": (i + 0.5) / n} for it in made]
    return out


def test_grading_stops_early_once_the_headline_decision_is_clear(es, replicas):
    """Issue 12: the anytime-valid sequence of the headline decides after 30 complete queries
    (its burn-in); the worker stops the queries nobody started and completes the evaluation with
    DECISION_REACHED; the report says it stopped early."""
    from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc

    g = Grading(es, replicas, headline_queries, fields={
        "spec": _headline_spec(), "kinds": ["pointwise"], "strata": [{"key": "head", "weight": 1.0}]})
    g.wait("seeded", lambda e: e.grading.items == 80)
    done = judge(g.grader(0), 66)  # 33 queries; the decision may stop the queue sooner
    e = g.wait("complete", lambda e: e.state == ev.COMPLETE)
    c = e.completion
    assert c.reason == ev.DECISION_REACHED and c.decision == "candidate better", c
    assert 30 <= c.decided_queries <= 33 and c.decided_interval.low > 0
    assert c.human_coverage == 1.0 and c.coverage == len(done) / 80 < 1
    assert c.message.startswith("stopped early, the decision was clear: candidate better on ndcg_cut_10")
    # whole queries: every query is judged in full or not at all, the untouched ones off the queue
    docs = g.docs()
    by_query: dict[str, set] = {}
    for d in docs.values():
        by_query.setdefault(d["query_norm"], set()).add(bool(d.get("judgements")))
        assert bool(d.get("needs_humans")) == bool(d.get("judgements"))
    assert all(len(v) == 1 for v in by_query.values())
    cmp = reporting_pb2_grpc.ReportingServiceStub(g.channels[0]).CompareRankers(rp.CompareRankersRequest(
        name=f"evaluations/{g.eval_id}", baseline="control", candidate="treatment"), metadata=auth("engineer"),
        timeout=60)
    assert cmp.partial and cmp.partial_reason == c.message
    g.close()


def test_queries_whose_only_human_work_was_audits_leave_the_report_when_grading_stops(es, replicas):
    """An early stop takes the audits of unstarted queries off the queue. Those queries' other items
    are the model's, and the audit items carried the model's label while they waited: left so, the
    queries looked complete and settled with no audit drawn, and all of them entered the report and
    the anytime-valid sequence at once (model-only values, the audit draws ignored). They must
    leave the report like every other query nobody started."""
    from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc

    def world(eval_id, locale):
        late = []
        for it in settled_queries(eval_id, locale, n=48, name="settled"):
            if it["stratum"] == "head":
                late.append({**it, "order_key": 0.99})  # served after every headline query
        by_query: dict[str, list] = {}
        for it in late:
            by_query.setdefault(it["query_norm"], []).append(it)
        audited = [q for q in by_query.values() if any(i["audit"] for i in q)]
        return headline_queries(eval_id, locale) + [i for q in audited for i in q]

    g = Grading(es, replicas, world, fields={
        "spec": _headline_spec(), "kinds": ["pointwise"], "strata": [{"key": "head", "weight": 1.0}],
        "automation": {"audit_share": AUDIT, "seed": AUDIT_SEED, "threshold": 0.8}})
    late_queries = {it["query_norm"] for it in g.items if it.get("order_key") == 0.99}
    assert len(late_queries) >= 10
    g.wait("seeded", lambda e: e.grading.items == len(g.items))
    done = judge(g.grader(0), 66)
    e = g.wait("complete", lambda e: e.state == ev.COMPLETE)
    assert e.completion.reason == ev.DECISION_REACHED, e.completion
    judged_queries = {a.task.query for a in done}
    assert not judged_queries & late_queries  # nobody started them: their audits were stopped
    docs = g.docs()
    for d in docs.values():
        if d["query_norm"] in late_queries and d.get("audit"):
            assert not d["needs_humans"] and d["source"] == "none" and d.get("label") is None, d
    cmp = reporting_pb2_grpc.ReportingServiceStub(g.channels[0]).CompareRankers(rp.CompareRankersRequest(
        name=f"evaluations/{g.eval_id}", baseline="control", candidate="treatment"), metadata=auth("engineer"),
        timeout=60)
    # the sequence and the report hold the judged queries only (the headline world has no query the
    # model settled whole)
    assert cmp.sequential.looks == len(judged_queries), (cmp.sequential.looks, len(judged_queries))
    assert cmp.differences[0].queries == len(judged_queries)  # the label set's comparison too
    g.close()


def test_the_launch_bar_rule_stops_once_the_gain_is_shown_to_fall_short_of_it(es, replicas):
    """Issue 12, stopping.rule = EXCLUDES_MIN_EFFECT with a bar of 0.4: the headline's true gain is
    about 0.25, so the sequence ([+0.15, +0.34] at its first look, the 30th query) is wholly below
    the bar — a verdict today's rule would give as "candidate better". The evaluation completes
    DECISION_REACHED saying so, `qrelay eval get` and CompareRankers (asked with the same rule) too;
    the rule without a minimum effect is refused at the edge."""
    from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
    from tests.integration.test_grading import bad_request_fields

    g = Grading(es, replicas, headline_queries, fields={
        "spec": _headline_spec(0.4, rule=ev.EXCLUDES_MIN_EFFECT), "kinds": ["pointwise"],
        "strata": [{"key": "head", "weight": 1.0}]})
    g.wait("seeded", lambda e: e.grading.items == 80)
    judge(g.grader(0), 66)
    c = g.wait("complete", lambda e: e.state == ev.COMPLETE).completion
    verdict = "candidate gains less than 0.4 (though better than the baseline)"
    assert c.reason == ev.DECISION_REACHED and c.decision == verdict, c
    assert 30 <= c.decided_queries <= 33 and 0 < c.decided_interval.low and c.decided_interval.high < 0.4
    assert c.message.startswith(f"stopped early, the decision was clear: {verdict} on ndcg_cut_10")
    r = subprocess.run([sys.executable, "-m", "services.cli", "eval", "get", "--server", replicas[0],
                        "--token", TOKENS["engineer"], g.eval_id], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and f"(DECISION_REACHED): stopped early, the decision was clear: {verdict}" in r.stdout
    reporting = reporting_pb2_grpc.ReportingServiceStub(g.channels[1])

    def compare(min_effect=0.4, rule=ev.EXCLUDES_MIN_EFFECT):
        return reporting.CompareRankers(rp.CompareRankersRequest(
            name=f"evaluations/{g.eval_id}", baseline="control", candidate="treatment", min_effect=min_effect,
            stopping_rule=rule), metadata=auth("engineer"), timeout=60)

    cmp = compare()
    s = cmp.sequential
    assert (s.rule, s.decision, s.verdict) == (ev.EXCLUDES_MIN_EFFECT, "decided",
                                               "candidate gains less than min_effect")
    assert s.decided_at_look == c.decided_queries and s.decided_interval.high == pytest.approx(c.decided_interval.high)
    assert f"anytime-valid: decided ({verdict}) at {s.decided_at_look}" in cmp.summary
    assert cmp.partial_reason == c.message and "wholly above it" in s.method
    for bad, field in (({"min_effect": 0.0}, "min_effect"), ({"rule": 9}, "stopping_rule")):
        with pytest.raises(grpc.RpcError) as err:
            compare(**bad)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(err.value) == [field]
    with pytest.raises(grpc.RpcError) as err:
        g.stub.CreateEvaluation(ev.CreateEvaluationRequest(evaluation=ev.Evaluation(
            display_name="launch bar", spec=_headline_spec(rule=ev.EXCLUDES_MIN_EFFECT, stored=False))),
            metadata=auth("engineer"), timeout=60)
    assert bad_request_fields(err.value) == ["evaluation.spec.stopping.min_effect"]
    g.close()


AUDIT, AUDIT_SEED = 0.3, 7


def settled_queries(eval_id, locale, n=48, name="q", docs_per_query=4, audit=None):
    """``n`` queries of ``docs_per_query`` items, all settled by the model with a random audit share
    (``audit``, default :data:`AUDIT`): right in the head stratum, over-rating everything in the
    tail (a Perfect for every document); strata alternate in the queries' grading order."""
    from evaluators.automation import audit_draw
    from services.evaluation import pooling

    share = AUDIT if audit is None else audit
    out = []
    for i in range(n):
        stratum = "head" if i % 2 == 0 else "tail"
        docs = [w.doc(8 * i + k, "p") for k in range(docs_per_query)]  # grades by number mod 4 (grade_of)
        lists = {"control": docs, "treatment": docs[::-1]}
        q = w._query(name, i, locale, lists)
        q.stratum = stratum
        for it in pooling.pointwise_items(eval_id, q, ["control", "treatment"], w._common(eval_id, 1, 50, None)):
            truth = int(it["doc"]["doc_id"][2:]) % 4
            drawn = audit_draw(AUDIT_SEED, it["item_id"]) < share
            out.append({**it, "needs_humans": drawn, "audit": drawn, "audit_probability": share,
                        "order_key": (i + 0.5) / n,
                        "prejudgement": {"grade": truth if stratum == "head" else 3, "auto": True,
                                         "confidence": 0.9, "model": "m", "model_version": "m1"}})
    return out


def _allocation_after_the_random_audit(es, servers, world=settled_queries, audit=AUDIT, spec=None, judged=None):
    """The settled world above in GRADING with a headline comparison; ``judged`` random audits judged
    (default: all but one, so the evaluation stays in GRADING); ``(grading, the stored
    adaptive_audit, drawn)`` as the allocation that stays: made by a pass that began after every
    judgement was applied."""
    g = Grading(es, servers, world, fields={
        "spec": spec or _headline_spec(grade_everything=True), "kinds": ["pointwise"],
        "strata": [{"key": "head", "weight": 0.5}, {"key": "tail", "weight": 0.5}],
        "automation": {"audit_share": audit, "seed": AUDIT_SEED, "threshold": 0.8}})
    drawn = [it for it in g.items if it["audit"]]
    g.wait("seeded", lambda e: e.grading.items == len(g.items))
    done = judge(g.grader(0), len(drawn) - 1 if judged is None else judged)
    # The worker re-allocates as its passes apply these judgements (whenever the labels grew by a
    # tenth); later passes see the same labels and change nothing until humans judge more.
    def stored():
        return evaluations.get(es, g.prefix, g.eval_id)

    deadline = time.monotonic() + 120
    while (stored().get("grading") or {}).get("judgements") != len(done):
        assert time.monotonic() < deadline, f"the {len(done)} judgements were never applied: {stored().get('grading')}"
        time.sleep(0.3)
    applied = stored()["grading"]["update_time"]  # the end of a pass that had them all
    while (last := stored())["grading"]["update_time"] == applied:
        assert time.monotonic() < deadline, "no pass of the worker after the judgements were applied"
        time.sleep(0.3)
    return g, (last.get("automation") or {}).get("adaptive_audit") or {}, drawn


def _probabilities_are_recorded_and_drawn_by_them(es, g, doc, drawn) -> None:
    """Every item of a stratum has its stratum's newest probability, on items and consensus
    documents alike, and is an audit exactly when its fixed draw falls below it."""
    from evaluators.automation import audit_draw

    head, tail = doc["strata"]["head"], doc["strata"]["tail"]
    docs = g.docs()
    (p_head,) = {d["audit_probability"] for d in docs.values() if d["stratum"] == "head"}
    (p_tail,) = {d["audit_probability"] for d in docs.values() if d["stratum"] == "tail"}
    assert p_head >= head["inclusion"] and p_tail >= tail["inclusion"] and p_tail > p_head
    es.indices.refresh(index=f"{g.prefix}items")
    items = {h["_id"]: h["_source"] for h in es.search(index=f"{g.prefix}items", size=1000, query={
        "term": {"evaluation_id": g.eval_id}})["hits"]["hits"]}
    for item_id, d in docs.items():
        p = d["audit_probability"]
        assert items[item_id]["audit_probability"] == p == (p_tail if d["stratum"] == "tail" else p_head)
        assert d["audit"] == (audit_draw(AUDIT_SEED, item_id) < p) == d["needs_humans"]
    assert doc["audits_added"] == sum(d["audit"] for d in docs.values()) - len(drawn) > 0


def test_adaptive_audit_sends_more_of_the_stratum_where_the_model_errs_and_records_each_probability(es, replicas):
    """Issue 12: with an extra audit share (QRELAY_ADAPTIVE_AUDIT_SHARE=0.3 on these servers), once
    the random audit has shown the model wrong in the tail and right in the head, the tail's
    settled items get a higher probability of a human check (Neyman's rule), recorded on items and
    consensus documents; the newly drawn ones go to humans, and the comparison stays estimable."""
    from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc

    g, doc, drawn = _allocation_after_the_random_audit(es, replicas)
    assert doc.get("strata", {}).get("tail", {}).get("inclusion", 0) > AUDIT, doc
    head, tail = doc["strata"]["head"], doc["strata"]["tail"]
    assert AUDIT <= head["inclusion"] < tail["inclusion"] and tail["residual_sd"] > head["residual_sd"], doc
    assert (doc["mode"], doc["extra_share"]) == ("share", 0.3)
    # the budget: the random share plus the extra one, of the settled items
    assert (head["inclusion"] * head["settled"] + tail["inclusion"] * tail["settled"]) == pytest.approx(
        (AUDIT + 0.3) * (head["settled"] + tail["settled"]), rel=1e-3)
    _probabilities_are_recorded_and_drawn_by_them(es, g, doc, drawn)
    judge(g.grader(1))
    cmp = reporting_pb2_grpc.ReportingServiceStub(g.channels[0]).CompareRankers(rp.CompareRankersRequest(
        name=f"evaluations/{g.eval_id}", baseline="control", candidate="treatment"), metadata=auth("engineer"),
        timeout=60)
    assert any(x.kind == "ppi" for x in cmp.differences[0].estimates)
    g.close()


def test_adaptive_audit_for_the_verdict_checks_every_item_where_the_model_errs_this_much(es_url, es, tmp_path):
    """QRELAY_ADAPTIVE_AUDIT=verdict: no budget — for an evaluation that stops early, each stratum
    gets the share of checks that reaches the anytime-valid decision after the fewest human
    judgements. A model that rates everything in the tail Perfect makes each unchecked tail item
    cost the sequence more than judging it does, so every tail item goes to humans; the head, where
    the audit found no error, keeps the random share. (Queries of eight items, 60 % audited, 80
    judged: the allocation's 30 audits come long before the sequence's 30-query burn-in.)"""
    prefix = f"qt-consensus-verdict-{uuid.uuid4().hex[:8]}-"
    env = {**ENV, "QRELAY_ADAPTIVE_AUDIT": "verdict"}
    try:
        with qrelay_server(es_url, prefix, tmp_path / "serve.log", env) as (address, proc):
            g, doc, drawn = _allocation_after_the_random_audit(
                es, (address, address, prefix, (proc.pid,)), audit=0.6, spec=_headline_spec(), judged=80,
                world=lambda e, loc: settled_queries(e, loc, docs_per_query=8, audit=0.6))
            assert doc.get("mode") == "verdict" and doc.get("extra_share") is None, doc
            assert not (evaluations.get(es, g.prefix, g.eval_id).get("stopping") or {}).get("decided")
            head, tail = doc["strata"]["head"], doc["strata"]["tail"]
            assert head["inclusion"] == 0.6 and tail["inclusion"] == 1.0, doc
            assert tail["residual_sd"] > head["residual_sd"] == 0.0
            _probabilities_are_recorded_and_drawn_by_them(es, g, doc, drawn)
            g.close()
            # an evaluation graded to the end keeps its random share: nothing re-opens it late
            g, doc, _ = _allocation_after_the_random_audit(es, (address, address, prefix, (proc.pid,)))
            assert doc == {} and {d["audit_probability"] for d in g.docs().values()} == {AUDIT}
            g.close()
    finally:
        _drop(es, prefix)
