"""Trends, regression alerts with webhooks, and recurring evaluations, against a real
Elasticsearch and a real ``qrelay serve``.

The completion hook (``services.reporting.trends.on_complete``) runs in this process, as the
server's completion worker runs it, with report rows built here; the server lists snapshots
and alerts over gRPC and delivers the webhooks in its background sender to an HTTP server in
this test (which refuses each alert's first POST, so the retry is exercised).
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from services.config import TrendsConfig
from services.core import clock
from services.evaluation.recurrence import Scheduler, run_id
from services.evaluation.spec import to_json
from services.reporting import trends
from services.reporting.snapshots import REPORT_MEASURES
from services.reporting.webhooks import WebhookSender
from services.store import alerts as alert_store
from services.store import templates
from tests.integration.serving import auth, qrelay_server
from tests.integration.test_grading import _drop, bad_request_fields
from tests.integration.test_grading_support import code_of

NOW = clock.now().replace(microsecond=0)
WEEK = dt.timedelta(days=7)


@pytest.fixture(scope="module")
def server(es_url, es, tmp_path_factory):
    prefix = f"qt-trends-{uuid.uuid4().hex[:8]}-"
    env = {"QRELAY_SCHEDULER_SECONDS": "0.5", "QRELAY_WEBHOOK_BACKOFF_SECONDS": "0.5",
           "QRELAY_RECURRENCE_MIN_SECONDS": "1"}
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("trends") / "serve.log", env) as (address, _):
        yield address, prefix
    _drop(es, prefix)


@pytest.fixture()
def reporting(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield reporting_pb2_grpc.ReportingServiceStub(ch)


class Receiver:
    """A webhook endpoint that answers 503 to the first POST of each alert, then 200."""

    def __init__(self):
        self.requests: list[tuple[dict, dict]] = []
        seen: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                outer.requests.append((dict(self.headers), body))
                first = key not in seen
                seen.add(key)
                self.send_response(503 if first else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/qrelay"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def spec_json(webhook="", recurrence: ev.Recurrence | None = None, **alerting) -> dict:
    s = ev.EvaluationSpec(log_source=ev.LogSource(index_pattern="logs"), owner_team="search-mx",
                          sample_plan=ev.SamplePlan(size=100, stratify_by=["locale"]),
                          alerting=ev.Alerting(measures=["ndcg_cut_10"], baseline_snapshots=4, alpha=0.05,
                                               webhook_url=webhook, **alerting))
    s.log_source.window.start_time.FromDatetime(NOW - 2 * WEEK)
    s.log_source.window.end_time.FromDatetime(NOW - WEEK)
    if recurrence is not None:
        s.recurrence.CopyFrom(recurrence)
    return to_json(ev.Evaluation(spec=s))


def seed_evaluation(es, prefix, evaluation_id, spec, series="", run_index=0, completed: dt.datetime | None = None,
                    created: dt.datetime | None = None, state="COMPLETE", **extra) -> dict:
    created = created or completed or NOW
    doc = {"evaluation_id": evaluation_id, "display_name": evaluation_id, "owner_team": "search-mx", "state": state,
           "spec": spec, "series": series or None, "run_index": run_index, "creator": "eve", "kinds": ["pointwise"],
           "create_time": clock.iso(created), "update_time": clock.iso(created), **extra}
    if completed:
        doc.update(complete_time=clock.iso(completed), completion={"reason": "ALL_JUDGED", "coverage": 1.0})
    es.index(index=f"{prefix}evaluations", id=evaluation_id, document=doc, refresh="wait_for")
    return doc


def report(values: dict[tuple[str, str], float], se=0.01, queries=200):
    """A report as rows: ``values[(ranker, segment)]`` is NDCG@10; the other measures follow it."""
    def rows(es, prefix, evaluation, measures, fields):
        assert fields == ["locale"] and measures[:4] == list(REPORT_MEASURES)
        return [{"ranker": r, "segment": seg, "segment_fields": ["locale"] if seg else [], "measure": m,
                 "mean": v - 0.1 * i, "low": v - 0.1 * i - 1.96 * se, "high": v - 0.1 * i + 1.96 * se, "level": 0.95,
                 "std_error": se, "unweighted_mean": v - 0.1 * i + 0.002, "queries": queries, "judged_share": 0.98,
                 "traffic_share": {"": 1.0, "locale=es-MX": 0.3, "locale=en-US": 0.7}[seg], "estimator": "test rows"}
                for (r, seg), v in values.items() for i, m in enumerate(measures)]
    return rows


STEADY = [0.0, 0.004, -0.003, 0.002, -0.001]


def weekly_values(k: int) -> dict[tuple[str, str], float]:
    """Both rankers steady for runs 0..4; run 5: treatment falls overall and in es-MX, not in en-US."""
    j = STEADY[k] if k < len(STEADY) else 0.0
    fall = k == 5
    return {("control", ""): 0.60 + j, ("control", "locale=es-MX"): 0.58 - j, ("control", "locale=en-US"): 0.61 + j,
            ("treatment", ""): 0.52 if fall else 0.62 + j, ("treatment", "locale=es-MX"): 0.50 if fall else 0.63 - j,
            ("treatment", "locale=en-US"): 0.615 if fall else 0.62 + j}


def test_a_regression_raises_one_alert_per_drop_whose_webhook_is_retried_until_delivered(es, server, reporting):
    prefix = server[1]
    receiver = Receiver()
    try:
        every = ev.Recurrence()
        every.every.FromTimedelta(WEEK)
        head = uuid.uuid4().hex[:20]
        start = NOW - 6 * WEEK
        ids = [head] + [run_id(head, k) for k in range(1, 6)]
        for k, eid in enumerate(ids):
            spec = spec_json(receiver.url, every if k == 0 else None)
            seed_evaluation(es, prefix, eid, spec, series=head, run_index=k, completed=start + k * WEEK)
            out = trends.on_complete(es, prefix, eid, rows=report(weekly_values(k)), now=start + k * WEEK)
            assert out == {"snapshots": 6 * 4, "alerts": 2 if k == 5 else 0}, k
        # checking the regressed evaluation again raises nothing twice
        assert trends.on_complete(es, prefix, ids[5], rows=report(weekly_values(5))) == {"snapshots": 24, "alerts": 0}

        # the alerts, over gRPC, newest first, with the evidence
        got = reporting.ListAlerts(rp.ListAlertsRequest(series=f"evaluations/{head}"), metadata=auth("engineer")).alerts
        assert sorted((a.ranker, a.segment, a.measure) for a in got) == [
            ("treatment", "", "ndcg_cut_10"), ("treatment", "locale=es-MX", "ndcg_cut_10")]
        overall = next(a for a in got if a.segment == "")
        assert overall.evaluation == f"evaluations/{ids[5]}" and overall.series == f"evaluations/{head}"
        assert overall.value == pytest.approx(0.52) and overall.baseline == pytest.approx(0.6205, abs=0.003)
        assert overall.drop == pytest.approx(overall.value - overall.baseline)
        assert overall.interval.high < 0 and overall.interval.level == pytest.approx(0.9)
        assert overall.p_value < overall.p_value_holm < 0.05 and overall.baseline_snapshots == 4
        assert list(overall.baseline_evaluations) == [f"evaluations/{e}" for e in ids[1:5]]
        assert "ndcg_cut_10 of treatment in all queries fell 0.10" in overall.message and "n=200 queries" in overall.message

        # the server's sender retries the refused first POST and records the delivery
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = reporting.ListAlerts(rp.ListAlertsRequest(series=f"evaluations/{head}"), metadata=auth("ops")).alerts
            if all(a.delivery == "delivered" for a in got):
                break
            time.sleep(0.3)
        assert [(a.delivery, a.delivery_attempts) for a in got] == [("delivered", 2)] * 2, got
        assert all(a.delivered_time.seconds >= NOW.timestamp() for a in got)
        keys = [h["Idempotency-Key"] for h, _ in receiver.requests]
        assert sorted(keys) == sorted(a.name.split("/")[1] for a in got for _ in range(2))
        headers, body = receiver.requests[-1]
        assert headers["Content-Type"] == "application/json"
        named = {a.name: a for a in got}[body["name"]]
        assert body["text"] == named.message and body["evaluation"] == f"evaluations/{ids[5]}"
        assert body["drop"] == pytest.approx(named.drop) and body["interval"]["high"] < 0

        # trends over gRPC: one snapshot per completion, oldest first, pages
        req = rp.ListMetricSnapshotsRequest(measure="ndcg_cut.10", ranker="treatment", series=f"evaluations/{head}")
        snaps = reporting.ListMetricSnapshots(req, metadata=auth("engineer")).snapshots
        assert [s.evaluation for s in snaps] == [f"evaluations/{e}" for e in ids]
        assert [s.snapshot_time.seconds for s in snaps] == sorted(s.snapshot_time.seconds for s in snaps)
        assert snaps[5].value.mean == pytest.approx(0.52) and snaps[5].value.queries == 200
        assert snaps[5].run_index == 5 and snaps[5].segment == "" and snaps[5].value.std_error == pytest.approx(0.01)
        assert snaps[5].window_end.ToDatetime(dt.timezone.utc) == NOW - WEEK
        req.all_segments, req.page_size = True, 5
        pages, token = [], ""
        while True:
            req.page_token = token
            page = reporting.ListMetricSnapshots(req, metadata=auth("engineer"))
            pages.append(len(page.snapshots))
            token = page.next_page_token
            if not token:
                break
        assert sum(pages) == 18 and max(pages) == 5
        es_mx = rp.ListMetricSnapshotsRequest(measure="ndcg_cut_10", segment="locale=es-MX", owner_team="search-mx",
                                              series=f"evaluations/{head}")
        assert len(reporting.ListMetricSnapshots(es_mx, metadata=auth("ops")).snapshots) == 12  # both rankers
        old = rp.ListMetricSnapshotsRequest(measure="ndcg_cut_10", series=f"evaluations/{head}")
        old.window.end_time.FromDatetime(start - WEEK)
        assert len(reporting.ListMetricSnapshots(old, metadata=auth("ops")).snapshots) == 0  # no snapshots: empty
    finally:
        receiver.close()


def test_trend_and_alert_listings_refuse_bad_input(reporting):
    def fields(call, req, role="engineer"):
        with pytest.raises(grpc.RpcError) as e:
            call(req, metadata=auth(role))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value
        return bad_request_fields(e.value), e.value.details()

    assert fields(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest())[0] == ["measure"]
    f, msg = fields(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest(measure="ndcg@10"))
    assert f == ["measure"] and "unknown measure 'ndcg@10'" in msg
    assert "names 9 measures" in fields(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest(measure="P"))[1]
    inverted = rp.ListMetricSnapshotsRequest(measure="map")
    inverted.window.start_time.FromDatetime(NOW)
    inverted.window.end_time.FromDatetime(NOW - WEEK)
    assert fields(reporting.ListMetricSnapshots, inverted)[0] == ["window"]
    assert fields(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest(measure="map", series="x"))[0] == ["series"]
    assert fields(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest(measure="map", page_size=-1))[0] == ["page_size"]
    assert fields(reporting.ListAlerts, rp.ListAlertsRequest(page_token="%%"))[0] == ["page_token"]
    assert code_of(reporting.ListAlerts, rp.ListAlertsRequest(), metadata=auth("grader")) == grpc.StatusCode.PERMISSION_DENIED
    assert code_of(reporting.ListMetricSnapshots, rp.ListMetricSnapshotsRequest(measure="map"),
                   metadata=auth("grader")) == grpc.StatusCode.PERMISSION_DENIED


def test_a_webhook_that_never_answers_ends_failed_after_its_attempts(es, index_prefix):
    templates.install(es, index_prefix)
    t = NOW
    alert = {"alert_id": "a-unreachable", "create_time": clock.iso(t), "evaluation_id": "e1", "series": "", "ranker": "r",
             "segment": "", "measure": "map", "value": 0.1, "baseline": 0.2, "drop": -0.1, "low": -0.15, "high": -0.05,
             "level": 0.9, "p_value": 0.001, "p_value_holm": 0.001, "baseline_snapshots": 2, "message": "m",
             "webhook_url": "http://127.0.0.1:9/unreachable", "delivery": "pending", "attempts": 0,
             "next_attempt_time": clock.iso(t)}
    assert alert_store.create(es, index_prefix, [alert]) == ["a-unreachable"]
    assert alert_store.create(es, index_prefix, [alert]) == []  # raised once
    clock_now = [t]
    cfg = TrendsConfig(webhook_attempts=3, webhook_backoff_seconds=60, webhook_timeout_seconds=2)
    sender = WebhookSender(es, index_prefix, cfg, now=lambda: clock_now[0])
    other = WebhookSender(es, index_prefix, cfg, now=lambda: clock_now[0])  # a second replica
    assert sender.send_due() == [("a-unreachable", "pending")]
    assert other.send_due() == []  # not due again until the backoff has passed
    doc = alert_store.get(es, index_prefix, "a-unreachable")
    assert doc["attempts"] == 1 and doc["next_attempt_time"] == clock.iso(t + dt.timedelta(seconds=60))
    assert doc["last_error"].startswith("attempt 1: cannot reach the webhook")
    clock_now[0] = t + dt.timedelta(seconds=61)
    assert other.send_due() == [("a-unreachable", "pending")]
    clock_now[0] = t + dt.timedelta(seconds=61 + 121)
    assert sender.send_due() == [("a-unreachable", "failed")]
    doc = alert_store.get(es, index_prefix, "a-unreachable")
    assert (doc["delivery"], doc["attempts"]) == ("failed", 3) and "attempt 3 of 3" in doc["last_error"]


def test_replicas_create_each_due_run_once_over_the_sliding_window(es, index_prefix):
    templates.install(es, index_prefix)
    t0 = NOW - dt.timedelta(days=1)
    every = ev.Recurrence()
    every.every.FromTimedelta(dt.timedelta(hours=1))
    every.window.FromTimedelta(dt.timedelta(hours=2))
    spec = spec_json(recurrence=every)
    spec["deadline"] = clock.iso(t0 + dt.timedelta(hours=3)).replace("+00:00", "Z")
    head = uuid.uuid4().hex[:20]
    seed_evaluation(es, index_prefix, head, spec, series=head, created=t0, state="GRADING",
                    next_run_time=clock.iso(t0 + dt.timedelta(hours=1)))
    submitted: list[str] = []
    replicas = [Scheduler(es, index_prefix, submitted.append) for _ in range(2)]
    assert [s.tick(t0 + dt.timedelta(minutes=59)) for s in replicas] == [[], []]

    created: list[list[str]] = []
    at = t0 + dt.timedelta(hours=1, seconds=1)
    threads = [threading.Thread(target=lambda s=s: created.append(s.tick(at))) for s in replicas]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(map(len, created)) == [0, 1] and submitted == [run_id(head, 1)]
    run1 = es.get(index=f"{index_prefix}evaluations", id=run_id(head, 1))["_source"]
    assert (run1["series"], run1["run_index"], run1["state"]) == (head, 1, "PENDING")
    assert "recurrence" not in run1["spec"] and run1["spec"]["alerting"]["measures"] == ["ndcg_cut_10"]
    window = run1["spec"]["log_source"]["window"]
    assert clock.parse_time(window["end_time"]) == t0 + dt.timedelta(hours=1)
    assert clock.parse_time(window["start_time"]) == t0 - dt.timedelta(hours=1)
    assert clock.parse_time(run1["deadline"]) == t0 + dt.timedelta(hours=4)  # as far after its due time as the head's
    head_doc = es.get(index=f"{index_prefix}evaluations", id=head)["_source"]
    assert clock.parse_time(head_doc["next_run_time"]) == t0 + dt.timedelta(hours=2)

    # a server down for three hours creates the latest due run only
    assert replicas[1].tick(t0 + dt.timedelta(hours=4, minutes=5)) == [run_id(head, 4)]
    assert es.count(index=f"{index_prefix}evaluations", query={"term": {"series": head}})["count"] == 3
    # cancelling the series' first evaluation ends the series
    es.update(index=f"{index_prefix}evaluations", id=head, doc={"state": "CANCELLED"}, refresh="wait_for")
    assert replicas[0].tick(t0 + dt.timedelta(hours=9)) == []
    assert "next_run_time" not in es.get(index=f"{index_prefix}evaluations", id=head)["_source"] or \
        es.get(index=f"{index_prefix}evaluations", id=head)["_source"]["next_run_time"] is None


@pytest.fixture(scope="module")
def recent_logs(es):
    """3,000 fixture search-log events over the last three days (recurring windows end now)."""
    from fixtures.logs import loader
    from fixtures.logs.generator import generate_events

    index = f"qt-recent-logs-{uuid.uuid4().hex[:8]}"
    assert loader.load_events(es, generate_events(3000, seed=3, start=NOW - dt.timedelta(days=3), days=3), index).ok
    yield index
    es.indices.delete(index=index, ignore_unavailable=True)


def test_the_server_re_creates_a_recurring_evaluation_over_a_sliding_window(server, recent_logs):
    every = ev.Recurrence()
    every.every.FromSeconds(2)  # the test server accepts 1 s; users get at least an hour
    every.window.FromTimedelta(dt.timedelta(days=2))
    team = f"team-{uuid.uuid4().hex[:6]}"
    spec = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=recent_logs), kinds=[common_pb2.POINTWISE], owner_team=team,
        rankers=[ev.Ranker(id=b, log_bucket=ev.LogBucket(bucket=b)) for b in ("control", "treatment")],
        sample_plan=ev.SamplePlan(size=20, seed=1, stratify_by=["locale"]), recurrence=every,
        alerting=ev.Alerting(webhook_url="hooks.example.com/qrelay"))
    spec.log_source.window.start_time.FromDatetime(NOW - dt.timedelta(days=3))
    spec.log_source.window.end_time.FromDatetime(NOW)
    with grpc.insecure_channel(server[0]) as ch:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(ch)

        def create():
            return stub.CreateEvaluation(ev.CreateEvaluationRequest(evaluation=ev.Evaluation(
                display_name="weekly es-MX", spec=spec)), metadata=auth("engineer"), timeout=60)

        with pytest.raises(grpc.RpcError) as e:
            create()
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert bad_request_fields(e.value) == ["evaluation.spec.alerting.webhook_url"]
        spec.alerting.webhook_url = ""
        head = create()
        assert head.series == head.name and head.spec.recurrence.every.seconds == 2
        assert head.spec.alerting.measures == ["ndcg_cut_10"] and head.spec.alerting.baseline_snapshots == 4
        assert head.next_run_time.ToDatetime() == head.create_time.ToDatetime() + dt.timedelta(seconds=2)

        def series():
            page = stub.ListEvaluations(ev.ListEvaluationsRequest(owner_team=team), metadata=auth("engineer"))
            return [x for x in page.evaluations if x.name != head.name and x.series == head.name]

        deadline = time.monotonic() + 60
        while not (runs := series()) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert runs, "the scheduler created no run within 60 s"
        stub.CancelEvaluation(ev.CancelEvaluationRequest(name=head.name), metadata=auth("engineer"))
        run = runs[-1]
        k = int(run.display_name.rsplit(" ", 1)[1])
        assert run.display_name == f"weekly es-MX · run {k}" and k >= 1 and not run.spec.HasField("recurrence")
        window = run.spec.log_source.window
        due = head.create_time.ToDatetime() + dt.timedelta(seconds=2 * k)
        assert window.end_time.ToDatetime() == due
        assert window.start_time.ToDatetime() == due - dt.timedelta(days=2)
        # handed to production at once (not left for the sweep)
        deadline = time.monotonic() + 60
        while ev.EvaluationState.Name(run.state) == "PENDING" and time.monotonic() < deadline:
            time.sleep(0.3)
            run = stub.GetEvaluation(ev.GetEvaluationRequest(name=run.name), metadata=auth("engineer"))
        assert ev.EvaluationState.Name(run.state) in ("PRODUCING", "PREJUDGING"), run.state_reason
        assert not stub.GetEvaluation(ev.GetEvaluationRequest(name=head.name), metadata=auth("engineer")).HasField(
            "next_run_time")  # the series ended with the cancel
        time.sleep(1.5)  # a cancelled series stays as it is
        settled = len(series())
        time.sleep(2.5)
        assert len(series()) == settled
        for x in series():
            if ev.EvaluationState.Name(x.state) not in ("COMPLETE", "FAILED", "CANCELLED"):
                stub.CancelEvaluation(ev.CancelEvaluationRequest(name=x.name), metadata=auth("engineer"))


def test_the_completion_hook_snapshots_the_reports_numbers(es, server, reporting):
    """The real report (services.reporting.report, on a labelled fixture evaluation) → snapshots
    per ranker × (all queries, each band, each locale) × measure, equal to the report's numbers.
    (Skipped until the report code is on this branch.)"""
    report = pytest.importorskip("services.reporting.report")
    labelled = pytest.importorskip("fixtures.evaluations.labelled")
    from services.reporting.cache import LabelCache

    prefix = server[1]
    ev_id = f"lab{uuid.uuid4().hex[:8]}"
    lab = labelled.build(ev_id, 120, state="COMPLETE", events=200_000)
    lab.evaluation.update(complete_time=clock.iso(NOW - dt.timedelta(days=1)))
    labelled.write(es, prefix, lab)
    out = trends.on_complete(es, prefix, ev_id)
    r = report.build(es, prefix, LabelCache(es, prefix), ev_id, list(REPORT_MEASURES), ["locale"])
    locales = [s["key"] for s in r["segments"] if s["key"]]
    assert out == {"snapshots": 2 * (1 + 3 + len(locales)) * len(REPORT_MEASURES), "alerts": 0}
    req = rp.ListMetricSnapshotsRequest(measure="ndcg_cut_10", all_segments=True, series=f"evaluations/{ev_id}")
    snaps = {(s.ranker, s.segment): s for s in reporting.ListMetricSnapshots(req, metadata=auth("engineer")).snapshots}
    assert {seg for _, seg in snaps} == {"", "band=head", "band=torso", "band=tail", *locales}
    for seg in r["segments"]:
        for rk in seg["rankers"]:
            m = rk["metrics"][0]
            s = snaps[(rk["ranker"], seg["key"])]
            assert (s.value.mean, s.value.std_error, s.value.queries) == (m["mean"], m["std_error"], m["queries"])
            assert s.value.interval.low == m["interval"]["low"] and s.traffic_share == seg["traffic_share"]
    assert snaps[("control", "")].snapshot_time.ToDatetime(dt.timezone.utc) == NOW - dt.timedelta(days=1)


def test_cancelling_a_finished_series_head_ends_the_series(es, server):
    every = ev.Recurrence()
    every.every.FromTimedelta(WEEK)
    head = uuid.uuid4().hex[:20]
    seed_evaluation(es, server[1], head, spec_json(recurrence=every), series=head, completed=NOW - WEEK,
                    next_run_time=clock.iso(NOW + WEEK))
    with grpc.insecure_channel(server[0]) as ch:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(ch)
        cancel = ev.CancelEvaluationRequest(name=f"evaluations/{head}")
        e = stub.CancelEvaluation(cancel, metadata=auth("engineer"))
        assert e.state == ev.COMPLETE and not e.HasField("next_run_time") and e.series == f"evaluations/{head}"
        # now an ordinary finished evaluation
        assert code_of(stub.CancelEvaluation, cancel, metadata=auth("engineer")) == grpc.StatusCode.FAILED_PRECONDITION
