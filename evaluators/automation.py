"""Routing and automation, pure: which items the model settles, which go to people, the first
human sample that calibrates a new evaluation, and how well the model agrees with humans.

Routing (:func:`route`):

* confidence >= threshold → auto-judged (no human needed) — except gold items, which exist to
  test graders and always go to them, and identical SxS lists, which are ties without anyone;
* of the auto-judged, a random ``audit_share`` still goes to humans. The draw is deterministic
  (sha256 of seed and item id), so a re-run routes every item the same way;
* everything else is queued for graders.

The evaluation records, per locale, the automation rate and — once graders have judged the audit
share — the model–human agreement on it (exact grade agreement for pointwise items, agreement of
the preference's sign for SxS items), so nobody automates blind.

The calibration sample (:func:`calibration_sample`): before any human has labelled an
evaluation like it, nothing can be automated; a stratified random sample of its items goes to
graders first, and the model is fitted on it. Its draw is deterministic too, and every item of a
sampled stratum carries its inclusion probability, so estimates from the sample stay unbiased.

Model–human agreement on the audit share (:func:`audit_agreement`): does the model's
pre-judgement of an item agree with the humans' consensus label of it?
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


def sample_size(items: int, share: float, minimum: int, maximum: int) -> int:
    """How many items the calibration sample takes: ``share`` of them, at least ``minimum``
    (a model needs a few dozen labels whatever the size) and at most ``maximum`` (past a few
    hundred, refitting on what graders label anyway does the rest); never more than there are.

    >>> sample_size(278, 0.15, 60, 400), sample_size(5000, 0.15, 60, 400), sample_size(40, 0.15, 60, 400)
    (60, 400, 40)
    """
    return int(min(items, max(minimum, min(maximum, round(share * items)))))


def calibration_sample(item_ids: Sequence[str], strata: Sequence[str], eligible: np.ndarray, size: int,
                       seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified random sample of ``size`` of the ``eligible`` items.

    Strata get a share of ``size`` proportional to their eligible items (largest remainder),
    at least one each while there are fewer strata than ``size``; within a stratum the items
    with the smallest draws (sha256 of seed and item id, as :func:`audit_draw`) are taken, so a
    re-run draws the same sample. Returns ``(chosen, probability)``: ``probability`` is each
    eligible item's chance of being chosen (its stratum's ``n_h / N_h``), NaN for the others.

    >>> ids = [f"i{k}" for k in range(8)]
    >>> chosen, p = calibration_sample(ids, ["a"] * 6 + ["b"] * 2, np.ones(8, bool), 4, seed=1)
    >>> int(chosen[:6].sum()), int(chosen[6:].sum()), p.tolist()
    (3, 1, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """
    n = len(item_ids)
    eligible = np.asarray(eligible, dtype=bool)
    strata_arr = np.asarray(list(strata), dtype=object)
    chosen = np.zeros(n, dtype=bool)
    prob = np.full(n, np.nan)
    names = sorted({str(x) for x in strata_arr[eligible]})
    sizes = np.array([int((eligible & (strata_arr == h)).sum()) for h in names], dtype=np.int64)
    total = int(min(size, sizes.sum()))
    if total <= 0 or not len(names):
        return chosen, prob
    alloc = np.zeros(len(names), dtype=np.int64)
    if total >= len(names):
        alloc[:] = 1
    quota = sizes / sizes.sum() * (total - alloc.sum())
    alloc += np.floor(quota).astype(np.int64)
    rest = total - alloc.sum()
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    alloc[order[:rest]] += 1
    # a stratum cannot give more than it has: move the excess to the others, largest first
    excess = int(np.maximum(alloc - sizes, 0).sum())
    alloc = np.minimum(alloc, sizes)
    for k in np.argsort(-sizes, kind="stable"):
        take = int(min(sizes[k] - alloc[k], excess))
        alloc[k] += take
        excess -= take
    draws = np.array([audit_draw(seed, f"calibration\0{i}") for i in item_ids])
    for h, n_h, size_h in zip(names, alloc.tolist(), sizes.tolist()):
        members = np.flatnonzero(eligible & (strata_arr == h))
        picked = members[np.argsort(draws[members], kind="stable")[:n_h]]
        chosen[picked] = True
        prob[members] = n_h / size_h
    return chosen, prob


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

def audit_agreement(audit_items: list[dict]) -> dict[str, dict]:
    """Model–human agreement on the audit share, per locale.

    ``audit_items``: ``{locale, kind, model_label, source, label | preference}`` — the model's
    grade or preference beside the consensus. An item counts as judged once its ``source`` is
    ``human``; pointwise items agree when the grades are equal, side-by-side items when the
    preferences have the same sign (both "same" counts). Per locale: audit items, judged,
    agreement (``None`` until one is judged).

    >>> audit_agreement([{"locale": "en", "kind": "pointwise", "model_label": 2.0, "source": "human", "label": 2},
    ...                  {"locale": "en", "kind": "pointwise", "model_label": 1.0, "source": "model", "label": 1}])["en"]
    {'audit': 2, 'judged': 1, 'agreement': 1.0}
    """
    out: dict[str, dict] = {}
    for it in audit_items:
        row = out.setdefault(it.get("locale") or "und", {"audit": 0, "judged": 0, "agree": 0})
        row["audit"] += 1
        model = it.get("model_label")
        if it.get("source") != "human" or model is None:
            continue
        row["judged"] += 1
        if it.get("kind") == "side_by_side":
            ok = np.sign(float(it.get("preference") or 0.0)) == np.sign(float(model))
        else:
            ok = it.get("label") is not None and int(it["label"]) == int(round(float(model)))
        row["agree"] += int(bool(ok))
    for row in out.values():
        row["agreement"] = row["agree"] / row["judged"] if row["judged"] else None
        del row["agree"]
    return out


def agreement_threshold(confidence: np.ndarray, target: float) -> float | None:
    """The lowest confidence threshold at which the items it auto-judges have a mean confidence of
    at least ``target`` (``None`` when no item reaches it).

    A calibrated confidence is the chance that a grader gives the model's grade; with ``target``
    the graders' exact agreement with each other (measured on doubly graded items, e.g. the
    calibration sample), a grader is then expected to agree with the model on the auto-judged
    items at least as often as with another grader. It reads only the model's predictions and
    the target, never the labels of the items it routes. (A per-item threshold at ``target``
    would be too strict: the graders' own noise caps a calibrated confidence near their accuracy.)

    >>> agreement_threshold(np.array([0.9, 0.8, 0.7, 0.5]), 0.8)
    0.7
    >>> agreement_threshold(np.array([0.6, 0.5]), 0.8) is None
    True
    """
    c = np.sort(np.asarray(confidence, dtype=float))[::-1]
    if not len(c):
        return None
    ok = np.flatnonzero(np.cumsum(c) / np.arange(1, len(c) + 1) >= target)
    return float(c[ok.max()]) if len(ok) else None
