"""A grader's own stats: done today and in total, gold accuracy, streak of working days."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from elasticsearch import Elasticsearch

from services.store import judgements

STREAK_HORIZON_DAYS = 366


def streak(days: set[str], today: date) -> int:
    """Consecutive days with a judgement ending today (or yesterday, if none yet today).

    >>> streak({"2025-01-03", "2025-01-02", "2024-12-31"}, date(2025, 1, 3))
    2
    >>> streak({"2025-01-02"}, date(2025, 1, 3)), streak(set(), date(2025, 1, 3))
    (1, 0)
    """
    day = today if today.isoformat() in days else today - timedelta(days=1)
    n = 0
    while day.isoformat() in days:
        n += 1
        day -= timedelta(days=1)
    return n


def my_stats(es: Elasticsearch, prefix: str, grader_id: str, at: datetime | None = None) -> dict:
    at = at or datetime.now(timezone.utc)
    today = at.date()
    raw = judgements.grader_stats(es, prefix, grader_id, today=today.isoformat(),
                                  since=(today - timedelta(days=STREAK_HORIZON_DAYS)).isoformat())
    return {
        "done_today": raw["today"], "done_total": raw["total"], "gold_judged": raw["gold"],
        "gold_accuracy": raw["gold_correct"] / raw["gold"] if raw["gold"] else 0.0,
        "streak_days": streak(set(raw["days"]), today),
    }
