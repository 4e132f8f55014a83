"""Browser tests: real `qrelay serve` and `qrelay web` processes over a real Elasticsearch (the
integration fixtures), driven in Debian's Chromium (headless, via Playwright; never a downloaded
browser). CI installs the browser with: apt-get install -y chromium chromium-driver
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import es, es_config, es_data_dir, es_url, index_prefix  # noqa: F401
from tests.integration.test_grading import _drop

CHROMIUM = "/usr/bin/chromium"
# screenshots for people to look at; never inside the repository
SHOTS = Path(os.environ.get("QRELAY_SCREENSHOTS", "/tmp/qrelay-shots"))


def pytest_collection_modifyitems(items):
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent: apt-get install -y chromium chromium-driver")
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if not Path(CHROMIUM).exists():
                item.add_marker(skip)


@contextmanager
def qrelay_web(grpc_address: str, log_path: Path):
    """`qrelay web` as a process on a free port; yields its URL (no trailing slash)."""
    log = open(log_path, "w+")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "web", "--port", "0", "--grpc", grpc_address],
                            stdout=log, stderr=log)
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"qrelay web exited: {log.read()}")
        log.seek(0)
        m = re.search(r"qrelay web on (http://\S+?)/? ", log.read())
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


def launch_chromium(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


@pytest.fixture(scope="module")
def module_prefix(es):
    """An index prefix for one test module, for modules whose tests share one stack of processes
    (each test keeps to its own evaluation, graders and locales)."""
    prefix = f"qt-{uuid.uuid4().hex[:12]}-"
    yield prefix
    _drop(es, prefix)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
