"""The graders' web app in a real browser (Debian's Chromium, headless, via Playwright) against
real `qrelay serve` and `qrelay web` processes and a real Elasticsearch."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import grpc
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import qrelay_web, screenshot
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, qrelay_server


@pytest.fixture(scope="module")
def stack(es_url, es, module_prefix, tmp_path_factory):
    """A normal server and a server with 3-second leases over the same indices, each with its web app."""
    logs = tmp_path_factory.mktemp("grader-app")
    with qrelay_server(es_url, module_prefix, logs / "serve.log") as (addr, _), \
            qrelay_server(es_url, module_prefix, logs / "short.log", {"QRELAY_LEASE_SECONDS": "3"}) as (short, _), \
            qrelay_web(addr, logs / "web.log") as web, qrelay_web(short, logs / "web-short.log") as web_short, \
            grpc.insecure_channel(addr) as channel:
        yield {"web": web, "web_short": web_short, "channel": channel, "prefix": module_prefix}


def sign_in(page, url: str, credential: str) -> None:
    page.goto(url)
    page.fill("#credential", credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue:not([hidden])")


def test_grade_by_keyboard_skip_and_empty_queue(stack, es, browser):
    ev = "ev-e2e"
    items = (w.pointwise(ev, 1, locale="en-US", priority=90, query="trail running shoes")
             + w.side_by_side(ev, 1, locale="en-US", priority=80, query="budget laptop")
             + w.pointwise(ev, 1, locale="en-US", priority=70, query="broken page", tag="skip"))
    w.seed(es, stack["prefix"], ev, items)
    _, credential = w.create_grader(stack["channel"], locales=["en-US"], name="Erin")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, stack["web"], credential)

    # the pointwise task: query, locale, result, scale 0–3
    page.keyboard.press("Enter")
    page.wait_for_selector("#pointwise:not([hidden])")
    assert page.text_content("#query") == "trail running shoes 0"
    assert page.text_content("#locale") == "en-US"
    assert "Result p0" in page.text_content("#pw-result")
    assert [b.strip() for b in page.locator("#scale .name").all_text_contents()] == [
        "Irrelevant", "Related", "Highly relevant", "Perfect"]
    page.keyboard.press("g")
    assert page.is_visible("#guidelines") and "Perfect" in page.text_content("#guidelines-text")
    page.keyboard.press("g")
    page.keyboard.press("2")
    assert page.get_attribute("#scale button:nth-child(3)", "aria-checked") == "true"
    screenshot(page, "grader-pointwise")
    page.keyboard.press("Enter")

    # the side-by-side task: two lists, scale −3..+3 on keys 1–7
    page.wait_for_selector("#sxs:not([hidden])")
    assert page.text_content("#query") == "budget laptop 0"
    left_first = page.locator("#left li .title").first.text_content()
    assert page.locator("#left li").count() == 3 and page.locator("#right li").count() == 3
    page.keyboard.press("6")  # +2: right better
    screenshot(page, "grader-side-by-side")
    page.keyboard.press("Enter")

    # skip the third one: S, then the reason
    expect(page.locator("#query")).to_have_text("broken page 0")
    page.keyboard.press("s")
    assert page.is_visible("#skip-panel")
    page.keyboard.press("2")
    page.wait_for_selector("text=No tasks for you right now")
    expect(page.locator("#st-session")).to_have_text("2")

    js = {j["kind"]: j for j in w.judgements(es, stack["prefix"], evaluation_id=ev)}
    assert set(js) == {"pointwise", "side_by_side"}
    assert js["pointwise"]["grade"] == 2
    sxs = js["side_by_side"]
    flipped = left_first.startswith("Result b")  # ranker_b's list was shown on the left
    assert sxs["flipped"] is flipped and sxs["shown_preference"] == 2
    # stored against (ranker_a, ranker_b): positive means ranker_b better
    assert sxs["preference"] == (-2 if flipped else 2)
    es.indices.refresh(index=f"{stack['prefix']}assignments")  # the skip was acknowledged, not yet searchable
    slots = es.search(index=f"{stack['prefix']}assignments", query={"term": {"state": "SKIPPED"}})["hits"]["hits"]
    assert [s["_source"]["skip_reason"] for s in slots] == ["PAGE_BROKEN"]


# What a reader sees of an element: its computed direction, its box, and where its text sits.
LAYOUT = """(sel) => {
  const e = document.querySelector(sel), box = e.getBoundingClientRect();
  const range = document.createRange(); range.selectNodeContents(e);
  const text = range.getBoundingClientRect();
  return {direction: getComputedStyle(e).direction, visible: box.width > 0 && box.height > 0,
          box: [box.left, box.right], text: [text.left, text.right]};
}"""


def right_aligned(page, sel: str, within: str) -> bool:
    """The element is visible and reads right to left, and its text sits at the right edge of the
    block it is shown in (``within``: the task, a result card), far from the left edge."""
    m, outer = page.evaluate(LAYOUT, sel), page.evaluate(LAYOUT, within)["box"]
    gap_left, gap_right = m["text"][0] - outer[0], outer[1] - m["text"][1]
    return m["visible"] and m["direction"] == "rtl" and gap_right < 40 and gap_left > 2 * gap_right + 40


def left_of(page, a: str, b: str) -> bool:
    ra, rb = (page.evaluate(LAYOUT, s)["box"] for s in (a, b))
    return ra[1] <= rb[0]


def test_arabic_tasks_read_right_to_left_and_sxs_keeps_its_sides(stack, es, browser):
    ev = "ev-e2e-ar"
    w.seed(es, stack["prefix"], ev, w.pointwise(ev, 1, locale="ar-SA", priority=90, query="أحذية جري")
           + w.side_by_side(ev, 1, locale="ar-SA", priority=10, query="حاسوب محمول"))
    _, credential = w.create_grader(stack["channel"], locales=["ar-SA"], name="Amal")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, stack["web"], credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#pointwise:not([hidden])")
    # the query and the result read right to left, flush right
    assert right_aligned(page, "#query", "#task") and right_aligned(page, "#pw-result .title", "#pw-result")
    # the scale keeps 0 → 3 from left to right, like the keys that rate
    assert page.evaluate(LAYOUT, "#scale")["direction"] == "ltr"
    assert left_of(page, "#scale button:first-child", "#scale button:last-child")
    screenshot(page, "grader-pointwise-ar")
    page.keyboard.press("1")
    page.keyboard.press("Enter")

    page.wait_for_selector("#sxs:not([hidden])")
    assert right_aligned(page, "#query", "#task")
    # "left" and "right" keep their meaning in any script: the Left list is on the left …
    assert page.evaluate(LAYOUT, "#sxs")["direction"] == "ltr"
    assert left_of(page, "#left", "#right")
    assert left_of(page, "#scale button:first-child", "#scale button:last-child")
    # … while each list's results read right to left
    assert right_aligned(page, "#left li:first-child .title", "#left li:first-child")
    assert right_aligned(page, "#right li:first-child .title", "#right li:first-child")
    screenshot(page, "grader-side-by-side-ar")


def test_lease_expired_message(stack, es, browser):
    ev = "ev-e2e-lease"
    w.seed(es, stack["prefix"], ev, w.pointwise(ev, 2, locale="en-GB", query="hiking boots"))
    _, credential = w.create_grader(stack["channel"], locales=["en-GB"], name="Lee")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, stack["web_short"], credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#pointwise:not([hidden])")
    expect(page.locator("#notice")).to_contain_text("Time ran out on this task", timeout=10_000)
    page.keyboard.press("1")
    page.keyboard.press("Enter")  # after expiry, Enter moves on to the next task
    expect(page.locator("#notice")).to_be_hidden()
    assert w.judgements(es, stack["prefix"], evaluation_id=ev) == []


def post(url: str, body: bytes | str = b"{}", token: str | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method="POST",
                                 headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_gateway_forwards_with_the_callers_token_and_says_why_not(stack):
    """The web front decides nothing: the server's answer, code and sentence come back as they are."""
    web = stack["web"]
    _, credential = w.create_grader(stack["channel"], locales=["fr-FR"], name="Gaspard")
    assert post(f"{web}/api/GetMyStats")[0] == 401  # no token: nothing is forwarded
    assert post(f"{web}/api/GetMyStats", token="nope") == (401, {"code": "UNAUTHENTICATED", "message": "invalid bearer token"})
    status, body = post(f"{web}/api/GetMyStats", token=credential)
    assert status == 200 and body["done_today"] == "0"  # int64 as proto3 JSON writes it
    # roles are the server's: a grader is refused the dashboards' calls, an engineer the graders'
    status, body = post(f"{web}/api/ReportingService/ListAlerts", token=credential)
    assert (status, body["code"]) == (403, "PERMISSION_DENIED") and "role 'grader' may not call ListAlerts" in body["message"]
    assert post(f"{web}/api/NextAssignment", token=TOKENS["engineer"])[0] == 403
    status, body = post(f"{web}/api/EvaluationService/GetEvaluation", '{"name": "evaluations/nope"}', TOKENS["engineer"])
    assert (status, body["code"]) == (404, "NOT_FOUND")
    status, body = post(f"{web}/api/EvaluationService/ListEvaluations", '{"page_size": -1}', TOKENS["engineer"])
    assert (status, body["violations"]) == (400, [{"field": "page_size", "description": "must not be negative"}])
    # what the browser may not do at all: write through the dashboards, send junk or too much
    assert post(f"{web}/api/EvaluationService/CreateEvaluation", token=TOKENS["engineer"])[0] == 404
    assert post(f"{web}/api/EvaluationService/WatchEvaluation", token=TOKENS["engineer"])[0] == 404
    assert post(f"{web}/api/GetMyStats", "[1]", credential)[0] == 400
    assert post(f"{web}/api/EvaluationService/ListEvaluations", '{"bogus": 1}', TOKENS["engineer"])[0] == 400
    assert post(f"{web}/api/GetMyStats", b"{" + b" " * (70 * 1024) + b"}", credential)[0] == 413
    # pages: the graders' app and the dashboards' shell, with the same strict headers
    for path in ("/", "/evaluations", "/evaluations/anything", "/trends", "/workforce", "/static/vendor/uPlot.iife.min.js"):
        with urllib.request.urlopen(web + path, timeout=30) as r:
            assert r.status == 200
            assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert r.headers["Cache-Control"] == "no-store"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(web + "/nope", timeout=30)
    assert (missing.value.code, json.loads(missing.value.read())["code"]) == (404, "NOT_FOUND")


def test_web_help_names_the_pages():
    out = subprocess.run([sys.executable, "-m", "services.cli", "web", "--help"], capture_output=True, text=True, check=True).stdout
    assert all(s in out for s in ("--port", "--grpc", "/evaluations", "/trends", "/workforce"))
