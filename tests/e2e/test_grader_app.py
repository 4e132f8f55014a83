"""The graders' web app in a real browser (Debian's Chromium, headless, via Playwright) against
real `qrelay serve` and `qrelay web` processes and a real Elasticsearch.

CI installs the browser with: apt-get install -y chromium chromium-driver
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from playwright.sync_api import expect

from tests.integration import test_grading_support as w
from tests.integration.serving import qrelay_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("QRELAY_SCREENSHOTS", "/tmp"))

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is absent: apt-get install -y chromium chromium-driver")

_WEB = ("import argparse, sys; from services.cli import web; p = argparse.ArgumentParser(); "
        "web.register(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


@contextmanager
def qrelay_web(grpc_address: str, log_path: Path):
    """`qrelay web` as a process on a free port; yields its URL."""
    log = open(log_path, "w+")
    proc = subprocess.Popen([sys.executable, "-c", _WEB, "web", "--port", "0", "--grpc", grpc_address],
                            stdout=log, stderr=log)
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"qrelay web exited: {log.read()}")
        log.seek(0)
        m = re.search(r"qrelay web on (http://\S+)", log.read())
        url = m.group(1) if m else None
        time.sleep(0.1)
    try:
        assert url, "qrelay web did not start"
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture()
def stack(es_url, es, index_prefix, tmp_path):
    """A normal server and a server with 3-second leases over the same indices, each with its web app."""
    with qrelay_server(es_url, index_prefix, tmp_path / "serve.log") as (addr, _), \
            qrelay_server(es_url, index_prefix, tmp_path / "short.log", {"QRELAY_LEASE_SECONDS": "3"}) as (short, _), \
            qrelay_web(addr, tmp_path / "web.log") as web, qrelay_web(short, tmp_path / "web-short.log") as web_short, \
            grpc.insecure_channel(addr) as channel:
        yield {"web": web, "web_short": web_short, "channel": channel, "prefix": index_prefix}


@pytest.fixture()
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


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
    page.screenshot(path=str(SHOTS / "qrelay-pointwise.png"))
    page.keyboard.press("Enter")

    # the side-by-side task: two lists, scale −3..+3 on keys 1–7
    page.wait_for_selector("#sxs:not([hidden])")
    assert page.text_content("#query") == "budget laptop 0"
    left_first = page.locator("#left li .title").first.text_content()
    assert page.locator("#left li").count() == 3 and page.locator("#right li").count() == 3
    page.keyboard.press("6")  # +2: right better
    page.screenshot(path=str(SHOTS / "qrelay-side-by-side.png"))
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


def test_lease_expired_message_and_rtl_layout(stack, es, browser):
    ev = "ev-e2e-ar"
    w.seed(es, stack["prefix"], ev, w.pointwise(ev, 2, locale="ar-SA", query="أحذية جري")
           + w.side_by_side(ev, 1, locale="ar-SA", priority=10, query="حاسوب محمول"))
    _, credential = w.create_grader(stack["channel"], locales=["ar-SA"], name="Amal")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_in(page, stack["web_short"], credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#pointwise:not([hidden])")
    assert page.get_attribute("#task", "dir") == "rtl"
    assert page.get_attribute("#sxs", "dir") == "ltr"  # left stays left in any script
    page.screenshot(path=str(SHOTS / "qrelay-pointwise-ar.png"))
    expect(page.locator("#notice")).to_contain_text("Time ran out on this task", timeout=10_000)
    page.keyboard.press("1")
    page.keyboard.press("Enter")  # after expiry, Enter moves on to the next task
    expect(page.locator("#notice")).to_be_hidden()
    assert w.judgements(es, stack["prefix"], evaluation_id=ev) == []
