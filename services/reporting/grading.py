"""The human work behind a report: judgements, graders, time on task, gold, and what it cost.

Counts come from one aggregation over the evaluation's judgements. Cost: each judgement at its
grader's partner's price per judgement, else at the price of the programme the evaluation's
team owns; judgements in another currency than the first one priced are left out of ``cost``
and said so (no silent exchange rates).
"""
from __future__ import annotations

import logging

import numpy as np
from elasticsearch import Elasticsearch

from services.store import judgements, partners, programmes

log = logging.getLogger("qrelay.reporting")


def prices(es: Elasticsearch, prefix: str, partner_ids: list[str], team: str) -> tuple[dict[str, tuple[float, str]], tuple[float, str]]:
    """``(partner -> (price, currency), the team programme's (price, currency))``; 0 where unset."""
    by_partner = {}
    for pid, doc in partners.get_many(es, prefix, partner_ids).items():
        by_partner[pid] = (float(doc.get("price_per_judgement") or 0.0), doc.get("currency") or "")
    fallback = (0.0, "")
    for p in programmes.of_team(es, prefix, team):
        if p.get("price_per_judgement"):
            fallback = (float(p["price_per_judgement"]), p.get("currency") or "")
            break
    return by_partner, fallback


def cost(by_partner_counts: dict[str, int], by_partner_price: dict[str, tuple[float, str]],
         fallback: tuple[float, str]) -> tuple[float, str, int]:
    """``(cost, currency, judgements left out for another currency)``.

    >>> cost({"p1": 10, "p2": 5, "": 2}, {"p1": (0.5, "USD"), "p2": (0.0, "")}, (0.2, "USD"))
    (6.4, 'USD', 0)
    """
    total, currency, other = 0.0, "", 0
    for pid, n in sorted(by_partner_counts.items()):
        price, cur = by_partner_price.get(pid, (0.0, ""))
        if not price:
            price, cur = fallback
        if not price:
            continue
        if currency and cur != currency:
            other += n
            continue
        currency = cur
        total += price * n
    return round(total, 6), currency, other


def summary(es: Elasticsearch, prefix: str, evaluation_id: str, team: str) -> dict:
    """The ``GradingSummary`` of an evaluation, as a dict in the contract's shape."""
    s = judgements.summary(es, prefix, evaluation_id)
    out = {
        "judgements": s["judgements"], "graders": s["graders"], "seconds_on_task": s["time_on_task_ms"] / 1000.0,
        "median_seconds_on_task": s["median_time_on_task_ms"] / 1000.0, "gold_judgements": s["gold"],
        "gold_correct": s["gold_correct"], "cost": 0.0, "currency": "",
    }
    if s["first"]:
        out["first_judgement_time"] = s["first"]
        out["last_judgement_time"] = s["last"]
    if s["by_partner"]:
        by_price, fallback = prices(es, prefix, list(s["by_partner"]), team)
        out["cost"], out["currency"], other = cost(s["by_partner"], by_price, fallback)
        if other:
            log.warning("judgements priced in another currency left out of the cost",
                        extra={"evaluation": evaluation_id, "judgements": other, "currency": out["currency"]})
    return out


def votes(es: Elasticsearch, prefix: str, evaluation_id: str, pointwise_ids: list[str], sxs_ids: list[str]) -> tuple:
    """Vote counts, columns ``(kind, item row, value, count)``, from the judgements themselves —
    for label sets whose consensus documents do not carry them (slow: reads every judgement)."""
    rows = {i: (0, r) for r, i in enumerate(pointwise_ids)} | {i: (1, r) for r, i in enumerate(sxs_ids)}
    counts: dict[tuple[int, int, float], int] = {}
    for j in judgements.of_evaluation(es, prefix, evaluation_id, ["item_id", "grade", "preference"]):
        where = rows.get(j.get("item_id"))
        value = j.get("grade") if j.get("grade") is not None else j.get("preference")
        if where is None or value is None:
            continue
        k = (*where, float(value))
        counts[k] = counts.get(k, 0) + 1
    keys = list(counts)
    return (np.array([k[0] for k in keys], dtype=np.int64), np.array([k[1] for k in keys], dtype=np.int64),
            np.array([k[2] for k in keys], dtype=np.float64), np.array(list(counts.values()), dtype=np.int64))
