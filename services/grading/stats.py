"""A grader's own stats: done today and in total, gold accuracy, streak of working days.

Gold feedback is released in blocks of ``gold_every`` judgements (as crowd platforms do): the
gold figures cover the grader's earliest ``total - total % gold_every`` judgements, so a change
in them follows a whole block and never points at one task (issue 11: stats refreshed after every
submit showed whether the last task was gold, and whether it was answered right).
"""
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


def my_stats(es: Elasticsearch, prefix: str, grader_id: str, at: datetime | None = None, gold_every: int = 20) -> dict:
    at = at or datetime.now(timezone.utc)
    today = at.date()
    raw = judgements.grader_stats(es, prefix, grader_id, today=today.isoformat(),
                                  since=(today - timedelta(days=STREAK_HORIZON_DAYS)).isoformat(),
                                  recent=gold_every - 1)
    held_back = raw["recent"][:raw["total"] % gold_every]  # the newest, not yet a whole block
    gold = raw["gold"] - sum(r["gold"] for r in held_back)
    correct = raw["gold_correct"] - sum(r["gold"] and r["gold_correct"] for r in held_back)
    return {
        "done_today": raw["today"], "done_total": raw["total"], "gold_judged": gold,
        "gold_accuracy": correct / gold if gold else 0.0,
        "streak_days": streak(set(raw["days"]), today),
        "gold_feedback_judgements": raw["total"] - len(held_back),
    }
