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
