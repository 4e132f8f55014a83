"""The dashboards in a real browser against a real `qrelay serve` whose numbers were made the way
users make them (tests/integration/graded.py): fixture search logs → a weekly evaluation →
`qrelay prejudge` → careful and careless graders over GradingService → COMPLETE → snapshots;
the series' next run is graded by a night shift that answers 0 to everything, so its metrics
fall and alerts fire, and the careless graders are flagged on the workforce page.

Every expectation is read from the gRPC API, so each check compares what the page shows with
what the server says. Screenshots go to /tmp/qrelay-shots (QRELAY_SCREENSHOTS).
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import uuid

import grpc
import pytest
from google.protobuf import json_format
from playwright.sync_api import expect

from fixtures.evaluations import labelled
from fixtures.logs import loader
from fixtures.logs.documents import DocumentCorpus
from fixtures.logs.generator import Bucket, generate_events
from fixtures.logs.queries import QueryUniverse
from fixtures.logs.truth import Oracle
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from tests.e2e.conftest import qrelay_web, screenshot
from tests.integration import graded as G
from tests.integration.serving import TOKENS, auth, qrelay_server
from tests.integration.test_grading import _drop

pytestmark = pytest.mark.slow

LOCALES = ["en-US", "es-MX", "ar-SA"]
EVERY_S = 60  # the series' period; the server's floor is lowered for the test below
VIEWPORT = {"width": 1440, "height": 900}


def spec(log_index: str, now: dt.datetime) -> ev.EvaluationSpec:
    s = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=log_index, filters=[ev.FieldFilter(field="locale", values=LOCALES)]),
        rankers=[ev.Ranker(id="control", log_bucket=ev.LogBucket(bucket="control")),
                 ev.Ranker(id="treatment", log_bucket=ev.LogBucket(bucket="treatment"))],
        kinds=[common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE], depth=5, overlap=2, gold_share=0.1,
        owner_team="search-quality",
        sample_plan=ev.SamplePlan(size=24, seed=7, stratify_by=["locale"]),
        alerting=ev.Alerting(measures=["ndcg_cut_10"], baseline_snapshots=1, alpha=0.05))
    s.log_source.window.start_time.FromDatetime(now - dt.timedelta(days=28))
    s.log_source.window.end_time.FromDatetime(now)
    s.deadline.FromDatetime(now + dt.timedelta(days=7))
    s.recurrence.every.FromSeconds(EVERY_S)
    s.recurrence.window.FromSeconds(28 * 86400)
    return s


def as_dict(msg) -> dict:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


@pytest.fixture(scope="module")
def world(es_url, es, module_prefix, tmp_path_factory):
    """The head run of a weekly series graded by careful graders (and one careless) to COMPLETE,
    and the next run half graded by the night shift (a partial report)."""
    logs = tmp_path_factory.mktemp("dashboards")
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    log_index = f"qt-logs-web-{uuid.uuid4().hex[:8]}"
    # treatment's lists are much closer to the hidden grades than control's, so the difference is
    # significant overall and in the large locales but not in the smallest one
    events = list(generate_events(10_000, seed=5, start=now - dt.timedelta(days=28), days=28,
                                  buckets=(Bucket("control", 0.5, 1.4), Bucket("treatment", 0.5, 0.3))))
    assert loader.load_events(es, events, log_index).ok
    oracle = Oracle(QueryUniverse(seed=5), DocumentCorpus())  # the hidden grades of that world
    # a fast reporting worker, a scheduler that ticks every second, and periods under an hour
    # and no routing within the evaluation: the next run must stay partial while the night shift
    # grades it (the routing would settle the rest and complete it under the test's feet)
    env = {"QRELAY_REPORTING_SECONDS": "1", "QRELAY_RECURRENCE_MIN_SECONDS": "1", "QRELAY_SCHEDULER_SECONDS": "1",
           "QRELAY_ROUTING_MIN_LABELS": "1000000"}
    try:
        with qrelay_server(es_url, module_prefix, logs / "serve.log", env) as (addr, _), \
                qrelay_web(addr, logs / "web.log") as web, grpc.insecure_channel(addr) as ch:
            acme = G.create_partner(ch, "Acme BPO", 0.40, "USD")
            globex = G.create_partner(ch, "Globex Rating", 0.25, "USD")
            careful = [G.create_grader(ch, n, LOCALES, acme, G.careful(oracle)) for n in ("Lucía", "Amal", "Kenji")]
            olu = G.create_grader(ch, "Olu", LOCALES, globex, G.careless)
            night = [G.create_grader(ch, n, LOCALES, globex, G.careless) for n in ("Night shift 1", "Night shift 2")]
            # gold: real (query, document) pairs of the logs whose hidden grade is 2 or 3
            gold = {}
            for e in events:
                for r in e["results"] if e["locale"] in LOCALES else ():
                    g = oracle.grade(e["query"], r["doc_id"])
                    if g is not None and g >= 2:
                        gold.setdefault((e["query"], e["locale"], r["doc_id"]), g)
            G.load_gold(ch, [(q, loc, d, g) for (q, loc, d), g in itertools.islice(gold.items(), 60)])

            head = G.create_evaluation(ch, spec(log_index, now), "Weekly en/es/ar: control vs treatment")
            G.wait_state(ch, head.name, ("PREJUDGING",))
            G.prejudge(head.name, es_url, module_prefix)
            G.wait_state(ch, head.name, ("GRADING",))
            G.grade_all(ch, careful + [olu])
            head = G.wait_state(ch, head.name, ("COMPLETE",))

            run1 = G.next_run(ch, head.name)  # the server created it from the head's spec
            # two runs are all the test needs: cancelling the head ends the series (and leaves it COMPLETE)
            evaluation_pb2_grpc.EvaluationServiceStub(ch).CancelEvaluation(
                ev.CancelEvaluationRequest(name=head.name, reason="two runs are enough"), metadata=auth("engineer"))
            run1 = G.wait_state(ch, run1.name, ("PREJUDGING",))
            G.prejudge(run1.name, es_url, module_prefix)
            G.wait_state(ch, run1.name, ("GRADING",))
            # a partial report: graded until one query has all its labels, far from all of them
            rs = reporting_pb2_grpc.ReportingServiceStub(ch)
            judged = 0
            while not G.queries_complete(rs, run1.name):
                judged += G.grade_all(ch, night, limit=10)
                assert judged < 2 * run1.counts.items, "the night shift ran out of tasks before a query was labelled"
            G.wait_judgements(ch, run1.name, judged)  # the progress the page shows no longer moves
            yield {"web": web, "channel": ch, "head": head, "run1": run1, "night": night, "olu": olu,
                   "careful": careful, "graders": careful + [olu] + night,
                   "reporting": rs,
                   "evaluations": evaluation_pb2_grpc.EvaluationServiceStub(ch)}
    finally:
        es.indices.delete(index=log_index, ignore_unavailable=True)


@pytest.fixture(scope="module")
def completed(world):
    """The night shift finishes the next run: it completes, its metrics fall, alerts fire."""
    ch = world["channel"]
    G.grade_all(ch, world["night"])
    world["run1"] = G.wait_state(ch, world["run1"].name, ("COMPLETE",))
    return world


@pytest.fixture(scope="module")
def session(browser):
    """One browser context signed in with an ops token (ops may see every dashboard)."""
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


def open_page(ctx, url: str, token: str = TOKENS["ops"]):
    page = ctx.new_page()
    page.goto(url)
    page.fill("#credential", token)
    page.keyboard.press("Enter")
    return page


def texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_text_contents()]


# the page's number formats (dash.js fmt) and the words for each estimate (services/cli/report.py's)
KIND = {"ppi": "prediction-powered", "human": "human-only", "model": "model-only", "labels": "label set"}


def num(x: float, digits: int = 3) -> str:
    return "–" if math.isnan(x) else f"{x:.{digits}f}"


def signed(x: float, digits: int = 3) -> str:
    return "–" if math.isnan(x) else ("+" if x > 0 else "−" if x < 0 else "±") + f"{abs(x):.{digits}f}"


def ci(i) -> str:
    return f"[{num(i.low)}, {num(i.high)}]"


def quoted(msg, value, interval, units):
    """``(value, interval, units, by)`` the report says to quote (``lead``), as the CLI picks it."""
    e = next((x for x in msg.estimates if x.kind == msg.lead), None)
    if e is not None and e.HasField("interval"):
        return e.value, e.interval, e.units, msg.lead
    return value, interval, units, "labels"


# --- while the next run is being graded ------------------------------------------------------

def test_partial_report_shows_grading_progress(world, browser):
    name = world["run1"].name
    e = world["evaluations"].GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=auth("ops"))
    assert e.state == ev.GRADING and 0 < e.grading.items_done < e.grading.items_for_humans
    ctx = browser.new_context(viewport=VIEWPORT)
    page = open_page(ctx, f"{world['web']}/{name}")
    page.wait_for_selector("#grading-progress")
    assert page.get_attribute("#grading-progress", "value") == str(e.grading.items_done)
    assert page.get_attribute("#grading-progress", "max") == str(e.grading.items_for_humans)
    assert f"{e.grading.items_done:,} of {e.grading.items_for_humans:,} items for humans done" in page.text_content("main")
    report = world["reporting"].GetEvaluationReport(rp.GetEvaluationReportRequest(name=name), metadata=auth("ops"))
    assert report.partial and 0 < report.coverage.queries_complete < report.coverage.queries
    expect(page.locator("#partial")).to_contain_text(report.partial_reason)
    screenshot(page, "dashboard-report-partial")
    ctx.close()


# --- who may see the dashboards ----------------------------------------------------------------

def test_a_grader_cannot_open_the_dashboards(world, browser):
    grader = world["careful"][0]
    ctx = browser.new_context(viewport=VIEWPORT)
    for path in ("/evaluations", f"/{world['head'].name}", "/workforce", "/trends"):
        page = open_page(ctx, world["web"] + path, grader.credential)
        expect(page.locator("#problem")).to_contain_text("This page is not for your role")
        expect(page.locator("#problem")).to_contain_text("role 'grader' may not call")
        assert page.locator("table, canvas").count() == 0 and page.is_hidden("#content")
        if path != "/trends":
            page.close()
    screenshot(page, "dashboard-refused-grader")
    # the server refuses the call itself, whatever a page would do
    status = page.evaluate("""async (token) => (await fetch("/api/ReportingService/ListAlerts", {method: "POST",
        headers: {Authorization: `Bearer ${token}`}, body: "{}"})).status""", grader.credential)
    assert status == 403
    ctx.close()


def test_engineers_read_reports_but_not_scorecards_and_leave_the_graders_app(world, browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(world["web"] + "/")
    page.fill("#credential", TOKENS["engineer"])
    page.keyboard.press("Enter")  # not a grader's credential: on to the dashboards
    page.wait_for_url("**/evaluations")
    expect(page.locator("#evaluations")).to_contain_text(world["head"].display_name)
    page.goto(world["web"] + "/workforce")
    expect(page.locator("#problem")).to_contain_text("role 'engineer' may not call ListScorecards")
    ctx.close()


# --- once the next run completed -----------------------------------------------------------------

def test_evaluations_list_leads_to_the_report(completed, session):
    page = open_page(session, completed["web"] + "/evaluations")
    head = completed["head"]
    link = page.get_by_role("link", name=head.display_name).first
    expect(link).to_be_visible()
    row = page.locator("#evaluations tbody tr", has=page.locator(f'a[href="/{head.name}"]'))
    expect(row).to_contain_text("complete")
    expect(row).to_contain_text(f"{head.counts.queries:,}")
    screenshot(page, "dashboard-evaluations")
    page.locator(f'a[href="/{head.name}"]').click()
    page.wait_for_url(f"**/{head.name}")
    page.wait_for_selector("#metrics")
    page.close()


def test_report_page_shows_the_report_and_the_comparison(completed, session):
    name = completed["head"].name
    rs = completed["reporting"]
    report = rs.GetEvaluationReport(rp.GetEvaluationReportRequest(name=name, segment_by=["locale"]), metadata=auth("ops"))
    cmp = rs.CompareRankers(rp.CompareRankersRequest(name=name, baseline="control", candidate="treatment",
                                                     segment_by=["locale"]), metadata=auth("ops"))
    page = open_page(session, f"{completed['web']}/{name}")
    page.wait_for_selector("#segments")

    # metrics per ranker: every mean quoted as the report leads with it, with its interval, count and source
    overall = report.segments[0]
    assert overall.key == ""
    rows = page.locator("#metrics tbody tr")
    assert texts(page, "#metrics tbody th") == [r.ranker for r in overall.rankers]
    for i, r in enumerate(overall.rankers):
        cells = rows.nth(i).locator("td")
        for j, m in enumerate(r.metrics):
            value, interval, units, by = quoted(m, m.mean, m.interval, m.queries)
            text = cells.nth(j).text_content()
            assert text.startswith(f"{num(value)} {ci(interval)} queries={units:,}") and f"by {KIND[by]}" in text
            assert m.lead_reason in page.text_content("#lead-reasons")

    # the difference, its sentence, and the side-by-side bars
    expect(page.locator("#summary")).to_have_text(cmp.summary)
    assert page.locator("#differences tbody tr").count() == len(cmp.differences)
    bars = page.locator("#sxs-bars .stack")
    assert bars.count() == len(cmp.verdicts) > 0
    v = cmp.verdicts[0]
    assert (f"treatment preferred on {v.wins}, no preference on {v.ties}, control preferred on {v.losses}"
            in bars.first.get_attribute("aria-label"))

    # segments: one row per locale, a ★ exactly where the Holm-corrected difference is significant
    segments = [s for s in report.segments if s.key]
    assert texts(page, "#segments tbody th") == [s.key.replace(",", ", ") for s in segments]
    headline = cmp.differences[0].measure
    significant = {d.segment: d.significant for d in cmp.differences if d.measure == headline}
    marks = [page.locator("#segments tbody tr").nth(i).locator(".sig").count() for i in range(len(segments))]
    assert marks == [int(significant[s.key]) for s in segments]
    flags = [d.significant for d in cmp.differences]
    assert any(flags) and not all(flags)  # the world has both, so the marks are tested both ways
    assert [page.locator("#differences tbody tr").nth(i).locator(".sig").count() for i in range(len(flags))] == \
        [int(f) for f in flags]

    # coverage, automation, label set
    c, a = report.coverage, report.automation
    main = page.text_content("main")
    assert f"{c.queries_complete:,} of {c.queries:,}" in main and f"{c.items_labelled:,} of {c.items:,}" in main
    assert f"{a.automation_rate * 100:.1f}% ({a.auto_judged:,} items settled by the model)" in main
    assert report.label_set.method and report.label_set.method in main
    screenshot(page, "dashboard-report")
    page.close()


MIN_EFFECT = 0.01


def check_estimates_decision_and_label_set(page, report, cmp):
    """The report page beside the API: the headline's three estimates and the label set's, the one
    the report leads with marked and why; the anytime-valid decision; the label set's lineage."""
    page.wait_for_selector("#label-counts")
    assert page.input_value("#min-effect") == str(MIN_EFFECT)

    # the headline difference every way, the lead marked once, and the reason in the API's words
    d = cmp.differences[0]
    assert d.segment == "" and len(d.estimates) == 3
    value, interval, units, by = quoted(d, d.difference, d.interval, d.queries)
    rows = page.locator("#headline-estimates tbody tr")
    shown = list(d.estimates) + [None]  # the label set's own difference last
    assert rows.count() == len(shown)
    for i, e in enumerate(shown):
        kind = e.kind if e else "labels"
        cells = texts(rows.nth(i), "th, td")
        assert cells[0].startswith(KIND[kind]) and ("leads" in cells[0]) == (kind == by)
        if e is None:
            assert cells[1:5] == [signed(d.difference), ci(d.interval), "–", f"{d.queries:,}"]
        elif not e.available:
            assert cells[1] == "n/a" and e.note in cells[6]
        else:
            p = ("<0.001" if e.p_value < 0.001 else f"{e.p_value:.3f}") if e.HasField("p_value") else "–"
            assert cells[1:5] == [signed(e.value), ci(e.interval) if e.HasField("interval") else "–", p, f"{e.units:,}"]
            assert e.note in cells[6]
    assert page.locator("#headline-estimates tbody tr.lead").count() == 1
    expect(page.locator("#headline-estimates-why")).to_have_text(f"Why: {d.lead_reason}")
    first = page.locator("#differences tbody tr").first.locator("td")
    assert first.nth(1).text_content().startswith(f"{signed(value)} {ci(interval)}")
    assert first.nth(2).text_content() == KIND[by]

    # the anytime-valid decision, asked for with the page's smallest difference that matters
    s = cmp.sequential
    assert s.min_effect == MIN_EFFECT and s.decision in ("decided", "keep grading")
    decision = (f"Decided: {s.verdict}, at query {s.decided_at_look:,} of {s.eligible:,}" if s.decision == "decided"
                else f"Keep grading: {s.looks:,} of {s.eligible:,} queries complete")
    expect(page.locator("#sequential-decision")).to_have_text(decision)
    now = ci(s.interval) if math.isfinite(s.interval.low) and math.isfinite(s.interval.high) else "unbounded"
    seq = page.text_content("#sequential")
    assert f"{now}" in seq and f"after {s.looks:,} of {s.eligible:,} queries" in seq
    assert f"±{MIN_EFFECT:g}" in seq and s.method in seq and f"{signed(s.estimate)} ({KIND[s.values]}" in seq

    # the label set: who made the labels, under which guidelines, with which model and calibration
    ls, c, g = report.label_set, report.coverage, report.grading
    # (the graded world routes nothing within the evaluation, so model labels may be 0 here; the
    # labelled world below is the one the model labels)
    assert ls.consensus and ls.models and ls.guidelines and c.items_human
    count_rows = page.locator("#label-counts tbody tr")
    counts = {r[0]: r[1:] for r in (texts(count_rows.nth(i), "th, td") for i in range(count_rows.count()))}
    assert {k: v[0] for k, v in counts.items()} == {
        "Human consensus": f"{c.items_human:,}", "Model": f"{c.items_model:,}", "Tie": f"{c.items_tie:,}",
        "Gold": f"{g.gold_judgements:,}"}
    assert f"{g.gold_correct:,} matched the gold label" in counts["Gold"][2]
    kind = lambda k: k.replace("_", " ")  # noqa: E731
    assert [texts(page.locator("#label-guidelines tbody tr").nth(i), "th, td") for i in range(len(ls.guidelines))] == \
        [[kind(x.kind), x.version, f"{x.judgements:,}"] for x in ls.guidelines]
    assert [texts(page.locator("#label-models tbody tr").nth(i), "th, td")[:3] for i in range(len(ls.models))] == \
        [[m.model, m.calibration_id or "unrecorded", f"{m.items:,}"] for m in ls.models]
    for i, x in enumerate(ls.consensus):
        row = page.locator("#label-consensus tbody tr").nth(i)
        cells = texts(row, "th, td")
        assert cells[:3] == [kind(x.kind), x.method, f"{x.labels:,}"]
        assert texts(row, "li") == [f"{k} = {v}" for k, v in sorted(x.parameters.items())]
        assert (x.fit_id in cells[4]) if x.fit_id else cells[4] == "not fitted yet"
    expect(page.locator("main")).to_contain_text(ls.version)


def test_report_page_quotes_the_estimates_the_decision_and_the_label_set(completed, session):
    name = completed["head"].name
    rs = completed["reporting"]
    report = rs.GetEvaluationReport(rp.GetEvaluationReportRequest(name=name), metadata=auth("engineer"))
    cmp = rs.CompareRankers(rp.CompareRankersRequest(name=name, baseline="control", candidate="treatment",
                                                     min_effect=MIN_EFFECT), metadata=auth("engineer"))
    page = open_page(session, f"{completed['web']}/{name}?segment_by=&min_effect={MIN_EFFECT}", TOKENS["engineer"])
    check_estimates_decision_and_label_set(page, report, cmp)
    assert report.grading.gold_judgements  # the gold row counts something here
    # counts only: no grader is named on the page, none of their ids or credentials is in it
    html, text = page.content(), page.text_content("body")
    for grader in completed["graders"]:
        assert grader.display_name not in text and grader.name not in html and grader.credential not in html
    screenshot(page, "dashboard-report-estimates")
    page.close()


@pytest.fixture(scope="module")
def labelled_web(es, es_url, tmp_path_factory):
    """An evaluation whose labels are mostly the model's, a share of them audited by humans
    (fixtures/evaluations/labelled.py, written as the consensus worker writes them), so the report
    leads with the prediction-powered estimates; a `qrelay serve` (no reporting pass) and `qrelay web`."""
    prefix = f"qt-{uuid.uuid4().hex[:12]}-"
    lab = labelled.build("evweb", 120, auto_share=0.6, audit_share=0.25, model_bias=0.4, sxs_auto_share=0.8)
    logs = tmp_path_factory.mktemp("labelled-web")
    try:
        with qrelay_server(es_url, prefix, logs / "serve.log", {"QRELAY_REPORTING_SECONDS": "3600"}) as (addr, _), \
                qrelay_web(addr, logs / "web.log") as web, grpc.insecure_channel(addr) as ch:
            labelled.write(es, prefix, lab)
            yield {"web": web, "lab": lab, "reporting": reporting_pb2_grpc.ReportingServiceStub(ch)}
    finally:
        _drop(es, prefix)


def test_report_page_leads_with_prediction_powered_where_the_model_labelled(labelled_web, browser):
    name = f"evaluations/{labelled_web['lab'].evaluation_id}"
    rs = labelled_web["reporting"]
    report = rs.GetEvaluationReport(rp.GetEvaluationReportRequest(name=name), metadata=auth("engineer"), timeout=60)
    cmp = rs.CompareRankers(rp.CompareRankersRequest(name=name, baseline="control", candidate="treatment",
                                                     min_effect=MIN_EFFECT), metadata=auth("engineer"), timeout=60)
    assert cmp.differences[0].lead == "ppi"  # what this world is for: the lead is not the label set's
    ctx = browser.new_context(viewport=VIEWPORT)
    page = open_page(ctx, f"{labelled_web['web']}/{name}?segment_by=&min_effect={MIN_EFFECT}", TOKENS["engineer"])
    check_estimates_decision_and_label_set(page, report, cmp)
    assert "prediction-powered" in page.text_content("#headline-estimates tbody tr.lead th")
    text = page.text_content("body")
    assert not {j["grader"] for j in labelled_web["lab"].judgements} & set(re.findall(r"\bg\d{3}\b", text))
    screenshot(page, "dashboard-report-ppi")
    ctx.close()


def test_report_page_decides_under_the_stopping_rule_it_names(labelled_web, browser):
    """The launch-bar rule chosen on the page is the one the server decides under: the decision
    line is CompareRankers' under that rule, and the page names the rule and what the bar means."""
    name = f"evaluations/{labelled_web['lab'].evaluation_id}"
    cmp = labelled_web["reporting"].CompareRankers(rp.CompareRankersRequest(
        name=name, baseline="control", candidate="treatment", min_effect=MIN_EFFECT,
        stopping_rule=ev.EXCLUDES_MIN_EFFECT), metadata=auth("engineer"), timeout=60)
    s = cmp.sequential
    assert s.rule == ev.EXCLUDES_MIN_EFFECT
    ctx = browser.new_context(viewport=VIEWPORT)
    page = open_page(ctx, f"{labelled_web['web']}/{name}?segment_by=&min_effect={MIN_EFFECT}"
                          "&stopping_rule=EXCLUDES_MIN_EFFECT", TOKENS["engineer"])
    decision = (f"Decided: {s.verdict}, at query {s.decided_at_look:,} of {s.eligible:,}" if s.decision == "decided"
                else f"Keep grading: {s.looks:,} of {s.eligible:,} queries complete")
    expect(page.locator("#sequential-decision")).to_have_text(decision)
    assert page.input_value("#stopping-rule") == "EXCLUDES_MIN_EFFECT"
    seq = page.text_content("#sequential")
    assert "launch bar" in seq and f"+{MIN_EFFECT}: decides once the sequence lies wholly above it" in seq
    assert "shown to be smaller" not in seq  # the other rule's words
    # back to the default rule from the page's own control: the parameter leaves the URL
    page.select_option("#stopping-rule", "SIGN_OR_EQUIVALENCE")
    expect(page.locator("#sequential")).to_contain_text("sign or equivalence")
    assert "stopping_rule" not in page.url
    ctx.close()


CHART = """async () => {
  const c = window.qrelay.charts.trends, u = c.plot;
  const rgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  const pixels = (h) => {  // opaque pixels of exactly this colour: what a line or marker itself painted
    const px = u.ctx.getImageData(0, 0, u.ctx.canvas.width, u.ctx.canvas.height).data;
    const [r, g, b] = rgb(h); let n = 0;
    for (let i = 0; i < px.length; i += 4)
      if (px[i + 3] > 250 && Math.abs(px[i] - r) < 6 && Math.abs(px[i + 1] - g) < 6 && Math.abs(px[i + 2] - b) < 6) n++;
    return n;
  };
  const index = (label) => u.series.findIndex((s) => s.label === label);
  const points = (i) => u.data[i].filter((v) => v !== null).length;
  const lines = c.lines.map((l) => index(l.name)), alerts = u.series.flatMap((s, i) => (s.label === "alerts" ? [i] : []));
  const only = async (shown) => {  // draw just these series (lines that coincide hide each other otherwise)
    for (const i of [...lines, ...alerts]) u.setSeries(i, { show: shown.includes(i) });
    await new Promise((r) => setTimeout(r, 50));
  };
  const out = { lines: [], alerts: alerts.reduce((n, i) => n + points(i), 0) };
  for (const [k, l] of c.lines.entries()) {
    await only([lines[k]]);
    out.lines.push({ name: l.name, points: points(lines[k]), pixels: pixels(l.color) });
  }
  await only(alerts);
  out.alertPixels = pixels(c.alertColor);
  await only([...lines, ...alerts]);
  return out;
}"""


def test_trends_draw_a_line_per_locale_with_alert_markers(completed, session):
    rs = completed["reporting"]
    snaps = rs.ListMetricSnapshots(rp.ListMetricSnapshotsRequest(measure="ndcg_cut_10", ranker="treatment",
                                                                 all_segments=True, page_size=1000),
                                   metadata=auth("ops")).snapshots
    per_locale = {}
    for s in snaps:
        if s.segment.startswith("locale=") and "," not in s.segment:
            per_locale[s.segment.split("=", 1)[1]] = per_locale.get(s.segment.split("=", 1)[1], 0) + 1
    alerts = [a for a in rs.ListAlerts(rp.ListAlertsRequest(page_size=1000), metadata=auth("ops")).alerts
              if a.measure == "ndcg_cut_10" and a.ranker == "treatment" and a.segment.startswith("locale=")]
    # the night shift's zeros: every locale line has two points and at least one alert
    assert set(per_locale) == set(LOCALES) and set(per_locale.values()) == {2} and alerts

    page = open_page(session, completed["web"] + "/trends")
    page.wait_for_selector("#trend-chart canvas")
    drawn = page.evaluate(CHART)
    assert {l["name"]: l["points"] for l in drawn["lines"]} == per_locale
    assert all(l["pixels"] > 50 for l in drawn["lines"]), drawn  # each line really painted the canvas
    assert drawn["alerts"] == len(alerts) and drawn["alertPixels"] > 20
    assert page.locator("#snapshots tbody tr").count() == sum(per_locale.values())
    assert page.locator("#alerts tbody tr").count() == len(
        [a for a in rs.ListAlerts(rp.ListAlertsRequest(page_size=1000), metadata=auth("ops")).alerts
         if a.measure == "ndcg_cut_10" and a.ranker == "treatment"])
    expect(page.locator("#alerts")).to_contain_text(alerts[0].message)
    screenshot(page, "dashboard-trends")
    page.close()


def test_workforce_sorts_any_column_and_marks_flagged_graders(completed, session):
    rs = completed["reporting"]
    cards = rs.ListScorecards(rp.ListScorecardsRequest(subject=rp.GRADERS), metadata=auth("ops")).scorecards
    flagged = {c.display_name: c for c in cards if c.flagged}
    # the careless graders are below the bar, the careful ones are not
    assert {"Olu", "Night shift 1", "Night shift 2"} <= set(flagged) and not {"Lucía", "Amal", "Kenji"} & set(flagged)

    page = open_page(session, completed["web"] + "/workforce")
    page.wait_for_selector("#graders")
    names = lambda: [re.sub(r"\s*⚑.*", "", t) for t in texts(page, "#graders tbody tr:not(.detail) th")]  # noqa: E731
    assert names() == [c.display_name for c in cards]  # the server's order: flagged first
    for name, card in flagged.items():
        row = page.locator("#graders tbody tr:not(.detail)", has=page.locator("th", has_text=name))
        assert "flagged" in row.get_attribute("class") and row.locator(".flag-mark").count() == 1
        evidence = page.locator("#graders tbody tr.detail", has_text=f"{name} is below the quality bar")
        for f in card.flags:
            expect(evidence).to_contain_text(f.message)

    # sort by judgements: largest first, then smallest first; by keyboard as well as by mouse
    header = page.locator("#graders thead th", has_text="Judgements")
    header.locator("button").click()
    by_count = sorted(cards, key=lambda c: -c.judgements)
    assert header.get_attribute("aria-sort") == "descending"
    assert [int(t.replace(",", "")) for t in texts(page, "#graders tbody tr:not(.detail) td:nth-child(3)")] == \
        [c.judgements for c in by_count]
    header.locator("button").focus()
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    assert [int(t.replace(",", "")) for t in texts(page, "#graders tbody tr:not(.detail) td:nth-child(3)")] == \
        sorted(c.judgements for c in cards)
    # and by name
    page.locator("#graders thead th", has_text="Grader").locator("button").click()
    assert names() == sorted(c.display_name for c in cards)
    partners = rs.ListScorecards(rp.ListScorecardsRequest(subject=rp.PARTNERS), metadata=auth("ops")).scorecards
    assert page.locator("#partners tbody tr:not(.detail)").count() == len(partners)
    screenshot(page, "dashboard-workforce")
    page.close()
