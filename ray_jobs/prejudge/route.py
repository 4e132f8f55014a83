"""Routing: which items the model settles, which go to people, and how well the model agrees.

* confidence >= threshold → auto-judged (no human needed) — except gold items, which exist to
  test graders and always go to them, and identical SxS lists, which are ties without anyone;
* of the auto-judged, a random ``audit_share`` still goes to humans. The draw is deterministic
  (sha256 of seed and item id), so a re-run routes every item the same way;
* everything else is queued for graders.

The evaluation records, per locale, the automation rate and — once graders have judged the audit
share — the model–human agreement on it (exact grade agreement for pointwise items, agreement of
the preference's sign for SxS items), so nobody automates blind.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def audit_draw(seed: int, item_id: str) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``item_id``.

    >>> audit_draw(1, "x") == audit_draw(1, "x")
    True
    """
    h = hashlib.sha256(f"{seed}\0{item_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0**64


@dataclass
class Routing:
    auto: np.ndarray  # bool: the model's answer stands (audit items included)
    audit: np.ndarray  # bool: auto-judged, yet drawn for a human check
    needs_humans: np.ndarray  # bool

    @property
    def for_humans(self) -> int:
        return int(self.needs_humans.sum())


def route(
    confidence: np.ndarray,
    item_ids: Sequence[str],
    threshold: float,
    audit_share: float,
    seed: int,
    gold: np.ndarray | None = None,
    identical: np.ndarray | None = None,
) -> Routing:
    """Route items by ``confidence`` (see the module docstring)."""
    if not 0.0 <= audit_share <= 1.0:
        raise ValueError("audit_share must be in [0, 1]")
    conf = np.asarray(confidence, dtype=float)
    n = len(conf)
    gold = np.zeros(n, bool) if gold is None else np.asarray(gold, bool)
    identical = np.zeros(n, bool) if identical is None else np.asarray(identical, bool)
    auto = ((conf >= threshold) & ~gold) | (identical & ~gold)
    draws = np.fromiter((audit_draw(seed, i) for i in item_ids), dtype=float, count=n)
    audit = auto & ~identical & (draws < audit_share)
    needs = ~auto | audit
    return Routing(auto=auto, audit=audit, needs_humans=needs)


def automation_by_locale(locales: Sequence[str], routing: Routing) -> dict[str, dict]:
    """Per locale: items, auto-judged, audit, for humans and the automation rate
    (auto-judged and not audited, over all items)."""
    loc = np.asarray(locales, dtype=object)
    out = {}
    for l in sorted(set(loc.tolist())):
        m = loc == l
        auto = int((routing.auto[m] & ~routing.audit[m]).sum())
        out[str(l)] = {
            "items": int(m.sum()), "auto_judged": int(routing.auto[m].sum()), "audit": int(routing.audit[m].sum()),
            "for_humans": int(routing.needs_humans[m].sum()), "automation_rate": auto / int(m.sum()),
        }
    return out


def audit_agreement(audit_items: list[dict], judgements: list[dict]) -> dict[str, dict]:
    """Model–human agreement on the audit share, per locale.

    ``audit_items``: ``{item_id, locale, kind, prejudgement: {grade|preference}}``; ``judgements``:
    human ``{item_id, grade|preference}``. Several judgements of one item: the median grade, the
    sign of the mean preference. Per locale: audit items, judged, agreement (``None`` until judged).

    >>> audit_agreement([{"item_id": "a", "locale": "en", "kind": "pointwise", "prejudgement": {"grade": 2}}],
    ...                 [{"item_id": "a", "grade": 2}])["en"]["agreement"]
    1.0
    """
    by_item: dict[str, list[float]] = {}
    for j in judgements:
        v = j.get("grade") if j.get("grade") is not None else j.get("preference")
        if v is not None:
            by_item.setdefault(j["item_id"], []).append(float(v))
    out: dict[str, dict] = {}
    for it in audit_items:
        loc = it.get("locale") or "und"
        row = out.setdefault(loc, {"audit": 0, "judged": 0, "agree": 0})
        row["audit"] += 1
        votes = by_item.get(it["item_id"])
        pj = it.get("prejudgement") or {}
        if not votes:
            continue
        row["judged"] += 1
        if it.get("kind") == "side_by_side":
            ok = np.sign(np.mean(votes)) == np.sign(pj.get("preference") or 0.0)
        else:
            ok = int(round(float(np.median(votes)))) == pj.get("grade")
        row["agree"] += int(bool(ok))
    for row in out.values():
        row["agreement"] = row["agree"] / row["judged"] if row["judged"] else None
        del row["agree"]
    return out


def refresh_agreement(es, prefix: str, evaluation_id: str) -> dict:
    """Recompute the audit agreement of an evaluation from its judgements and store it in
    ``automation.audit_agreement``; returns it. Safe to call any time after pre-judgement."""
    from services.store import evaluations
    from services.store import prejudgements as store

    agreement = audit_agreement(store.audit_items(es, prefix, evaluation_id),
                                store.evaluation_judgements(es, prefix, evaluation_id))
    ev = evaluations.get(es, prefix, evaluation_id)
    automation = dict(ev.get("automation") or {})
    automation["audit_agreement"] = agreement
    for loc, row in agreement.items():
        automation.setdefault("locales", {}).setdefault(loc, {})["agreement"] = row["agreement"]
    evaluations.update_counts(es, prefix, evaluation_id, ev.get("counts") or {}, automation=automation)
    return agreement
