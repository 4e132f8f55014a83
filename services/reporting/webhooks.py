"""Webhook delivery of regression alerts, in the background, with retries and backoff.

Alerts wait in the ``alerts`` index with ``delivery=pending`` and a ``next_attempt_time``; every
server runs a :class:`WebhookSender` that takes due alerts (optimistic concurrency: one replica
sends each attempt), POSTs them as JSON and records the outcome on the alert — ``delivered``,
or a later ``next_attempt_time`` (backoff doubling from ``webhook_backoff_seconds`` up to the
cap), or ``failed`` after ``webhook_attempts`` attempts or a refusal that retrying cannot fix
(a 4xx other than 408/429, a redirect). Nothing here runs on the path of grading or of
completing an evaluation: completion only writes the alert. Delivery is at least once (a
server that dies mid-POST leaves the alert due again); the ``Idempotency-Key`` header and the
alert's name let a receiver drop repeats. The body carries ``text`` too, so a chat webhook
(e.g. Slack's incoming webhooks) shows the sentence as it is.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

from services.config import TrendsConfig
from services.core import clock
from services.store import alerts

log = logging.getLogger("qrelay.webhooks")

# Wakes the senders of this process when an alert was just queued (other replicas find it on their tick).
_wake = threading.Event()


def wake() -> None:
    _wake.set()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # worth another attempt
    detail: str  # status line or error, one sentence


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        return None  # a POST must not turn into a GET elsewhere: the 3xx is reported as it is


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: dict[str, Any], key: str, timeout: float) -> Outcome:
    """POST ``body`` to ``url``; 2xx is delivered; 408, 429, 5xx and network errors are worth a retry."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "qrelay-alerts/1", "Idempotency-Key": key})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return Outcome(True, False, f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code in (408, 429) or exc.code >= 500, f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, True, f"cannot reach the webhook: {reason}")


def payload(alert: dict[str, Any]) -> dict[str, Any]:
    """What the webhook receives: the alert as the API shows it, and its sentence as ``text``."""
    return {
        "name": f"alerts/{alert['alert_id']}", "text": alert["message"], "message": alert["message"],
        "create_time": alert["create_time"], "evaluation": f"evaluations/{alert['evaluation_id']}",
        "series": f"evaluations/{alert['series']}" if alert.get("series") else "",
        "ranker": alert["ranker"], "segment": alert["segment"], "measure": alert["measure"],
        "value": alert["value"], "baseline": alert["baseline"], "drop": alert["drop"],
        "interval": {"low": alert["low"], "high": alert["high"], "level": alert["level"]},
        "p_value": alert["p_value"], "p_value_holm": alert["p_value_holm"],
        "baseline_snapshots": alert["baseline_snapshots"], "owner_team": alert.get("owner_team", ""),
    }


class WebhookSender:
    """Sends due alerts every ``cfg.scheduler_seconds`` (sooner when :func:`wake` is called)."""

    def __init__(self, es, prefix: str, cfg: TrendsConfig, post: Callable[..., Outcome] = post_json,
                 now: Callable[[], dt.datetime] = clock.now):
        self.es, self.prefix, self.cfg, self.post, self.now = es, prefix, cfg, post, now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        _wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except Exception as exc:  # noqa: BLE001 - Elasticsearch down: alerts stay pending, try next tick
                log.warning("cannot send webhooks", extra={"error": str(exc)})
            _wake.wait(self.cfg.scheduler_seconds)
            _wake.clear()

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``, after ``attempts`` failures.

        >>> WebhookSender(None, "", TrendsConfig(webhook_backoff_seconds=5, webhook_max_backoff_seconds=60)).backoff(4)
        40.0
        """
        return float(min(self.cfg.webhook_backoff_seconds * 2 ** (attempts - 1), self.cfg.webhook_max_backoff_seconds))

    def send_due(self) -> list[tuple[str, str]]:
        """One round: every alert due now gets one attempt. Returns (alert id, delivery state after)."""
        done = []
        for doc, seq_no, term in alerts.due(self.es, self.prefix, clock.iso(self.now())):
            attempts = int(doc.get("attempts") or 0) + 1
            # Taking the alert pushes its next attempt past this one's timeout, so no other replica
            # sends it meanwhile; if this process dies now, it is due again after that.
            hold = clock.iso(self.now() + dt.timedelta(seconds=2 * self.cfg.webhook_timeout_seconds + 5))
            if not alerts.take(self.es, self.prefix, doc["alert_id"], seq_no, term,
                               {"attempts": attempts, "next_attempt_time": hold}):
                continue
            outcome = self.post(doc["webhook_url"], payload(doc), doc["alert_id"], self.cfg.webhook_timeout_seconds)
            t = self.now()
            if outcome.ok:
                fields = {"delivery": "delivered", "delivered_time": clock.iso(t), "next_attempt_time": None,
                          "last_error": None}
            elif outcome.retry and attempts < self.cfg.webhook_attempts:
                fields = {"next_attempt_time": clock.iso(t + dt.timedelta(seconds=self.backoff(attempts))),
                          "last_error": f"attempt {attempts}: {outcome.detail}"}
            else:
                fields = {"delivery": "failed", "next_attempt_time": None,
                          "last_error": f"attempt {attempts} of {self.cfg.webhook_attempts}: {outcome.detail}"}
            alerts.update(self.es, self.prefix, doc["alert_id"], {**fields, "update_time": clock.iso(t)})
            state = fields.get("delivery", "pending")
            log.info("webhook attempt", extra={"alert": doc["alert_id"], "attempt": attempts, "result": outcome.detail,
                                               "delivery": state})
            done.append((doc["alert_id"], state))
        return done
