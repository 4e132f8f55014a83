"""Consensus kept current: one ``consensus`` document per item, updated as judgements arrive.

* **Seeding** (:func:`seed`), once per evaluation when grading starts: a document per item with
  what a report needs of it and its first label — the gold label for gold items, a tie for
  identical side-by-side lists, the model's label for auto-judged items, none otherwise.
* **Streamed pre-judgement** (:func:`apply_scored`): the job scores the items a wave at a time
  while grading runs; each new wave's documents get the model's side (its label for
  auto-judged items, routing flags, lineage) — never replacing a human label.
* **Incremental update** (:func:`update`): read only the judgements submitted since the newest
  one seen (minus a slack for refresh lag and clock skew), recompute just the items they touch
  from all of those items' judgements with the current reliability model
  (:mod:`evaluators.consensus`), and write the documents that changed.
* **Refit**: after enough new judgements (and at completion) fit the reliability model again on
  every judgement of the evaluation, recompute every judged item and write what changed — which
  also repairs anything a lost claim or a crash left behind.

An item's consensus is a function of its own judgements and the model, so the incremental state
equals a recompute from scratch with the same model (:func:`recompute_all`), whatever order the
judgements came in and however often a pass is repeated.

The worker's state lives on the evaluation document (``consensus``, see :class:`State`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from elasticsearch import Elasticsearch

from evaluators import consensus as pure
from evaluators.lineage import digest
from services.core import clock
from services.reporting.config import ReportingConfig
from services.store import consensus as store
from services.store import items as items_store
from services.store import judgements

log = logging.getLogger("qrelay.consensus")

POINTWISE, SXS = "pointwise", "side_by_side"
#: The ``method`` of a human label, per kind.
METHODS = {POINTWISE: "dawid-skene", SXS: "reliability-weighted-mean"}
CLASSES = {POINTWISE: pure.POINTWISE_CLASSES, SXS: pure.SIGN_CLASSES}
#: The aggregation's parameters per kind, stored with each fit (label lineage).
PARAMETERS = {
    POINTWISE: {"classes": "0,1,2,3", "gold": "clamped", "n_iter": "100",
                "unseen_grader": "judgement-weighted mean confusion matrix"},
    SXS: {"classes": "-1,0,1 (sign)", "weight": "log-odds of the grader's sign accuracy", "n_iter": "100",
          "unseen_grader": "judgement-weighted mean confusion matrix"},
}
# Stored probabilities and preferences are rounded: equal inputs store equal documents, and a
# refit whose model moved a little rewrites only the items whose rounded values moved.
DIGITS = 3
MODEL_DIGITS = 6  # the stored reliability model

ITEM_FIELDS = ["item_id", "evaluation_id", "kind", "query_norm", "locale", "stratum", "query_traffic", "doc",
               "ranks", "ranker_a", "ranker_b", "gold", "gold_label", "needs_humans", "audit", "overlap",
               "identical", "prejudgement", "audit_probability", "calibration_sample"]
# What recomputing an item needs of its stored document, besides the fields it compares.
LABEL_FIELDS = ["label", "preference", "source", "judgements", "confidence", "posterior", "method", "human_done",
                "votes", "human_time"]
CONTEXT_FIELDS = ["kind", "gold", "overlap", "needs_humans", "audit"]


def query_id(query_norm: str, stratum: str) -> str:
    """One sampled query of an evaluation: the first 16 hex of sha256(query_norm, stratum).

    >>> query_id("running shoes", "head|en-US")
    '50fcee085aa826b1'
    """
    return hashlib.sha256(f"{query_norm}\x1f{stratum}".encode()).hexdigest()[:16]


def seed_doc(item: Mapping[str, Any], now: str) -> dict[str, Any]:
    """An item's first consensus document (see the module doc)."""
    kind = item.get("kind") or POINTWISE
    pj = item.get("prejudgement") or {}
    stratum = item.get("stratum") or ("gold" if item.get("gold") else "all")
    doc: dict[str, Any] = {
        "item_id": item["item_id"], "evaluation_id": item["evaluation_id"], "kind": kind,
        "query_id": query_id(item.get("query_norm") or "", stratum), "query_norm": item.get("query_norm") or "",
        "locale": item.get("locale") or "", "stratum": stratum, "gold": bool(item.get("gold")),
        "needs_humans": bool(item.get("needs_humans")), "audit": bool(item.get("audit")),
        "overlap": int(item.get("overlap") or 1), "human_done": False, "judgements": 0, "source": "none",
        "update_time": now,
    }
    if item.get("query_traffic") is not None:
        doc["query_traffic"] = int(item["query_traffic"])
    if item.get("audit_probability") is not None:
        doc["audit_probability"] = float(item["audit_probability"])
    if item.get("calibration_sample"):
        doc["calibration_sample"] = True
    if kind == POINTWISE:
        doc["doc_id"] = str((item.get("doc") or {}).get("doc_id") or "")
        doc["ranks"] = dict(item.get("ranks") or {})
    else:
        doc["ranker_a"], doc["ranker_b"] = item.get("ranker_a") or "", item.get("ranker_b") or ""
    model_value = pj.get("grade") if kind == POINTWISE else pj.get("preference")
    if model_value is not None:
        doc["model_label"] = float(model_value)
        doc["model_version"] = pj.get("model_version") or pj.get("model") or ""
        if pj.get("calibration_id"):
            doc["calibration_id"] = pj["calibration_id"]
    if doc["gold"] and item.get("gold_label") is not None:
        doc.update(source="gold", label=int(item["gold_label"]), confidence=1.0, method="gold")
    elif kind == SXS and item.get("identical"):
        doc.update(source="tie", preference=0.0, confidence=1.0, method="identical-lists")
    elif pj.get("auto") and model_value is not None:
        doc.update(source="model", confidence=round(float(pj.get("confidence") or 0.0), DIGITS), method="model")
        if kind == POINTWISE:
            doc["label"] = int(model_value)
        else:
            doc["preference"] = round(float(model_value), DIGITS)
    return doc


def seed(es: Elasticsearch, prefix: str, evaluation_id: str) -> int:
    """Write the first consensus document of every item that has none; returns how many were
    created. Create-only, so running it again never resets a label."""
    now = clock.now_iso()
    written, errors = store.write(es, prefix, (seed_doc(it, now) for it in
                                               items_store.of_evaluation(es, prefix, evaluation_id, ITEM_FIELDS)),
                                  create_only=True)
    if errors:
        raise RuntimeError(f"{len(errors)} consensus documents were not written (first: {errors[0]})")
    return written


# What a new wave's pre-judgement changes on a document that already has a human (or gold) label.
MODEL_SIDE = ("needs_humans", "audit", "audit_probability", "calibration_sample", "model_label", "model_version",
              "calibration_id")


def apply_scored(es: Elasticsearch, prefix: str, evaluation_id: str, state: "State", prejudged: int) -> int:
    """Bring the documents of the items scored since the last call up to date with their
    pre-judgement (streamed pre-judgement); returns how many changed. A document still without a
    human label becomes the item's seed document; one with a label gets only the model's side
    (:data:`MODEL_SIDE`). Re-reading from ``state.scored_through`` inclusive makes a wave seen
    half-refreshed complete on the next call; applying twice changes nothing."""
    through = items_store.last_scored(es, prefix, evaluation_id)
    rows = list(items_store.of_evaluation(es, prefix, evaluation_id, ITEM_FIELDS, scored_since=state.scored_through))
    stored = store.get_many(es, prefix, [r["item_id"] for r in rows], ["judgements", "source"])
    now = clock.now_iso()
    fresh, changes = [], []
    for it in rows:
        doc, old = seed_doc(it, now), stored.get(it["item_id"])
        if old is None:
            fresh.append(doc)
        elif not (old.get("judgements") or 0) and old.get("source") in (None, "none"):
            changes.append((it["item_id"], doc))
        else:
            changes.append((it["item_id"], {**{k: doc[k] for k in MODEL_SIDE if k in doc}, "update_time": now}))
    written, errors = store.write(es, prefix, fresh, create_only=True)
    updated, more = store.update(es, prefix, changes)
    if errors or more:
        raise RuntimeError(f"{len(errors) + len(more)} consensus documents were not updated "
                           f"(first: {(errors or more)[0]})")
    state.scored, state.scored_through = prejudged, through or state.scored_through
    return written + updated


# --- the worker's state ---------------------------------------------------------------------


@dataclass
class State:
    """The reporting worker's state of one evaluation (the evaluation document's ``consensus``)."""

    seeded: bool = False
    seed_time: str | None = None
    items: int = 0  # items seeded (a consensus document each)
    watermark: str | None = None  # newest submit_time applied
    judgements: int = 0  # judgements of the evaluation at the last pass
    first_judgement: str | None = None  # when the first judgement was submitted
    fitted_on: int = 0  # judgements the reliability models were fitted on
    fit_time: str | None = None
    refits: int = 0
    passes: int = 0  # passes that applied new judgements or refitted
    recomputed: int = 0  # items recomputed over all passes
    written: int = 0  # consensus documents rewritten over all passes
    last_pass: dict[str, Any] = field(default_factory=dict)  # what the last such pass did, and how long it took
    # kind -> evaluators.consensus.Reliability.to_dict(), or None before that kind's first judgement
    reliability: dict[str, Any] = field(default_factory=dict)
    # kind -> the fit's lineage: fit_id (digest of the model), method, parameters, judgements, time
    fits: dict[str, Any] = field(default_factory=dict)
    # streamed pre-judgement: items scored (counts.prejudged) whose documents carry it, and the
    # newest pre-judgement time among them (the next wave's are read from there on)
    scored: int = 0
    scored_through: str | None = None

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> "State":
        doc = doc or {}
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if doc.get(k) is not None})

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    def models(self) -> dict[str, pure.Reliability]:
        return {k: pure.Reliability.from_dict(v) for k, v in (self.reliability or {}).items() if v}


@dataclass
class PassResult:
    """What one :func:`update` did."""

    read: int = 0  # judgements read past the watermark (slack included)
    new: int = 0  # of those, not applied before
    touched: int = 0  # items the new ones belong to
    recomputed: int = 0  # items recomputed
    written: int = 0  # consensus documents that changed
    refit: bool = False
    audit_changed: bool = False  # an audit item's label changed (the model–human agreement moves)
    seconds: dict[str, float] = field(default_factory=dict)


def refit_due(state: State, total: int, cfg: ReportingConfig) -> bool:
    """Whether enough judgements arrived since the last fit (see :class:`ReportingConfig`).

    >>> fitted = {"pointwise": {"graders": []}}
    >>> refit_due(State(fitted_on=10_000, reliability=fitted), 12_000, ReportingConfig())
    False
    >>> refit_due(State(fitted_on=10_000, reliability=fitted), 12_500, ReportingConfig())
    True
    """
    if total == 0:
        return False
    if not state.reliability:
        return True
    return total - state.fitted_on >= max(cfg.refit_every, cfg.refit_growth * state.fitted_on)


def _key(j: Mapping[str, Any]) -> str:
    return j.get("judgement_id") or f"{j['item_id']}\x1f{j.get('grader')}\x1f{j.get('submit_time')}"


def update(es: Elasticsearch, prefix: str, evaluation_id: str, state: State, cfg: ReportingConfig,
           force_refit: bool = False, seen: dict[str, str] | None = None) -> PassResult:
    """Bring the consensus of a seeded evaluation up to date; advances ``state`` in place (the
    caller stores it).

    ``seen`` (judgement key → submit time) remembers the judgements of the slack window that
    were applied, so a pass that finds nothing new recomputes nothing; the caller keeps it
    between passes (in memory: another replica starts without it and re-applies the window once).
    """
    out = PassResult()
    seen = {} if seen is None else seen
    t = time.perf_counter()
    since = None
    if state.watermark:
        since = clock.iso(clock.parse_time(state.watermark) - dt.timedelta(seconds=cfg.slack_seconds))
    fresh = list(judgements.submitted_since(es, prefix, evaluation_id, since,
                                            fields=("judgement_id", "item_id", "grader", "submit_time")))
    new = [j for j in fresh if _key(j) not in seen]
    touched = {j["item_id"] for j in new}
    out.read, out.new, out.touched = len(fresh), len(new), len(touched)
    total = judgements.count(es, prefix, evaluation_id)
    out.seconds["read_new"] = time.perf_counter() - t

    rows: list[dict[str, Any]] = []
    refit = force_refit and total > 0 or refit_due(state, total, cfg)
    if not refit and touched:
        t = time.perf_counter()
        rows = list(judgements.of_evaluation_items(es, prefix, evaluation_id, sorted(touched)))
        out.seconds["read_touched"] = time.perf_counter() - t
        # A kind judged for the first time has no model yet.
        refit = any(not (state.reliability or {}).get(_kind(r)) for r in rows)
    if refit:
        t = time.perf_counter()
        rows = list(judgements.of_evaluation(es, prefix, evaluation_id))
        out.seconds["read_all"] = time.perf_counter() - t
        t = time.perf_counter()
        state.reliability = fit(rows, _gold_labels(es, prefix, rows))
        state.fitted_on, state.fit_time, state.refits = len(rows), clock.now_iso(), state.refits + 1
        state.fits = fits(state.reliability, rows, state.fit_time)
        out.refit = True
        out.seconds["fit"] = time.perf_counter() - t
    if rows:
        t = time.perf_counter()
        stored = store.get_many(es, prefix, sorted({r["item_id"] for r in rows}), LABEL_FIELDS + CONTEXT_FIELDS)
        out.seconds["read_stored"] = time.perf_counter() - t
        t = time.perf_counter()
        labels = recompute(state.models(), rows, stored)
        # a doc written now names the fit it was computed with; one a refit leaves as it was keeps its own
        ids = {k: f.get("fit_id") for k, f in (state.fits or {}).items()}
        changes = {i: {**d, **({"fit_id": ids[stored[i].get("kind")]} if ids.get(stored[i].get("kind")) else {})}
                   for i, d in changed(labels, stored).items()}
        out.seconds["compute"] = time.perf_counter() - t
        t = time.perf_counter()
        now = clock.now_iso()
        written, errors = store.update(es, prefix, ((i, {**d, "update_time": now}) for i, d in changes.items()))
        if errors:
            raise RuntimeError(f"{len(errors)} consensus updates failed (first: {errors[0]})")
        out.seconds["write"] = time.perf_counter() - t
        out.recomputed, out.written = len(labels), written
        out.audit_changed = any(stored[i].get("audit") for i in changes)

    # Everything read is applied now; forget what fell out of the next pass's window.
    stamps = [clock.parse_time(j["submit_time"]) for j in fresh if j.get("submit_time")]
    if stamps and (not state.watermark or max(stamps) > clock.parse_time(state.watermark)):
        state.watermark = clock.iso(max(stamps))
    seen.update((_key(j), j.get("submit_time") or "") for j in fresh)
    if state.watermark:
        horizon = clock.parse_time(state.watermark) - dt.timedelta(seconds=cfg.slack_seconds)
        for k in [k for k, v in seen.items() if v and clock.parse_time(v) < horizon]:
            del seen[k]
    if new and state.first_judgement is None:
        state.first_judgement = judgements.first_submit_time(es, prefix, evaluation_id)
    state.judgements = total
    if new or out.refit:
        state.passes += 1
        state.recomputed += out.recomputed
        state.written += out.written
        state.last_pass = {"read": out.read, "new": out.new, "touched": out.touched, "recomputed": out.recomputed,
                           "written": out.written, "refit": out.refit, "time": clock.now_iso(),
                           "seconds": {k: round(v, 3) for k, v in out.seconds.items()}}
    return out


def _kind(row: Mapping[str, Any]) -> str:
    if row.get("kind") in (POINTWISE, SXS):
        return row["kind"]
    return SXS if row.get("preference") is not None and row.get("grade") is None else POINTWISE


def _gold_labels(es: Elasticsearch, prefix: str, rows: list[dict[str, Any]]) -> dict[str, int]:
    ids = sorted({r["item_id"] for r in rows if r.get("gold")})
    docs = store.get_many(es, prefix, ids, ["gold", "label"])
    return {i: int(d["label"]) for i, d in docs.items() if d.get("gold") and d.get("label") is not None}


def _columns(rows: Iterable[Mapping[str, Any]], kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    value = "grade" if kind == POINTWISE else "preference"
    picked = [r for r in rows if _kind(r) == kind and r.get(value) is not None]
    item = np.array([r["item_id"] for r in picked], dtype=object)
    grader = np.array([r.get("grader") or "" for r in picked], dtype=object)
    label = np.array([r[value] for r in picked], dtype=float)
    return item, grader, label


def fit(rows: list[dict[str, Any]], gold: Mapping[str, int]) -> dict[str, Any]:
    """The reliability models (as stored) from every judgement of an evaluation: pointwise on
    grades with gold clamped, side by side on the preferences' signs."""
    out: dict[str, Any] = {}
    for kind in (POINTWISE, SXS):
        item, grader, label = _columns(rows, kind)
        if item.size == 0:
            continue
        if kind == POINTWISE:
            model = pure.fit_reliability(item, grader, label.astype(int), CLASSES[kind],
                                         gold=dict(gold))
        else:
            model = pure.fit_reliability(item, grader, np.sign(label).astype(int), CLASSES[kind])
        out[kind] = model.to_dict(MODEL_DIGITS)
    return out


def fits(reliability: Mapping[str, Any], rows: list[dict[str, Any]], time: str) -> dict[str, Any]:
    """The lineage of each kind's fitted reliability model (what a report names its labels by)."""
    out = {}
    for kind, model in reliability.items():
        if model:
            out[kind] = {"fit_id": digest(model), "method": model.get("method") or METHODS[kind],
                         "parameters": PARAMETERS[kind], "judgements": sum(_kind(r) == kind for r in rows),
                         "time": time}
    return out


def recompute(models: Mapping[str, pure.Reliability], rows: list[dict[str, Any]],
              stored: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``item_id -> label fields`` of every item with judgements in ``rows`` (all of each item's
    judgements) and a stored document; ``stored`` gives gold labels, overlap and whether it
    needs humans."""
    out: dict[str, dict[str, Any]] = {}
    for kind in (POINTWISE, SXS):
        item, grader, label = _columns((r for r in rows if r["item_id"] in stored), kind)
        if item.size == 0 or kind not in models:
            continue
        model = models[kind]
        if kind == POINTWISE:
            gold = {i: int(d["label"]) for i, d in stored.items() if d.get("gold") and d.get("label") is not None}
            c = pure.pointwise(model, item, grader, label.astype(int), gold=gold)
            values = [{"label": int(v)} for v in c.label]
        else:
            c = pure.side_by_side(model, item, grader, label)
            values = [{"preference": round(float(v), DIGITS)} for v in c.preference]
        votes = vote_counts(item, label)
        first = first_times(rows, kind)
        post = np.round(c.posterior, DIGITS).tolist()
        conf = np.round(c.confidence, DIGITS).tolist()
        for k, item_id in enumerate(c.items.tolist()):
            doc = stored[item_id]
            n = int(c.judgements[k])
            gold = bool(doc.get("gold")) and doc.get("label") is not None
            out[item_id] = {**values[k], "confidence": conf[k], "posterior": post[k], "judgements": n,
                            "source": "gold" if gold else "human", "method": "gold" if gold else METHODS[kind],
                            "votes": votes[item_id], **({"human_time": first[item_id]} if item_id in first else {}),
                            "human_done": bool(doc.get("needs_humans")) and n >= int(doc.get("overlap") or 1)}
            if not gold and not doc.get("needs_humans") and not doc.get("audit"):
                # humans judged an item the model had settled (a grader leased it as the routing or
                # an early stop took it off the queue): it is a human item now, done with what it
                # got — nobody will be served it again, so it must not hold completion up
                out[item_id].update(needs_humans=True, overlap=n, human_done=True)
    return out


def first_times(rows: Iterable[Mapping[str, Any]], kind: str) -> dict[str, str]:
    """``item_id -> the earliest submit_time`` of its judgements of ``kind`` (in the stored format).

    >>> first_times([{"item_id": "a", "grade": 1, "submit_time": "2024-06-02T00:00:00.000+00:00"},
    ...              {"item_id": "a", "grade": 2, "submit_time": "2024-06-01T00:00:00.000+00:00"}], POINTWISE)
    {'a': '2024-06-01T00:00:00.000+00:00'}
    """
    value = "grade" if kind == POINTWISE else "preference"
    out: dict[str, tuple] = {}
    for r in rows:
        if _kind(r) != kind or r.get(value) is None or not r.get("submit_time"):
            continue
        t = clock.parse_time(r["submit_time"])
        if r["item_id"] not in out or t < out[r["item_id"]][0]:
            out[r["item_id"]] = (t, clock.iso(t))
    return {i: s for i, (_, s) in out.items()}


def vote_counts(item: np.ndarray, label: np.ndarray) -> dict[str, dict[str, int]]:
    """``item_id -> {value: judgements}`` (values as integer strings): what inter-rater agreement
    needs of an item, so reports never read the judgements.

    >>> vote_counts(np.array(["a", "a", "b"], dtype=object), np.array([2.0, 2.0, -1.0]))
    {'a': {'2': 2}, 'b': {'-1': 1}}
    """
    out: dict[str, dict[str, int]] = {}
    for i, v in zip(item.tolist(), label.tolist()):
        key = str(int(v))
        counts = out.setdefault(i, {})
        counts[key] = counts.get(key, 0) + 1
    return out


def changed(labels: Mapping[str, dict[str, Any]], stored: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The recomputed items whose stored label fields differ."""
    return {i: d for i, d in labels.items() if any(stored[i].get(k) != v for k, v in d.items())}


def recompute_all(es: Elasticsearch, prefix: str, evaluation_id: str,
                  models: Mapping[str, pure.Reliability] | None = None) -> dict[str, dict[str, Any]]:
    """The label fields of every judged item from scratch: every judgement, and a freshly fitted
    model unless ``models`` is given. Writes nothing (tests and the benchmark compare it with the
    stored documents)."""
    rows = list(judgements.of_evaluation(es, prefix, evaluation_id))
    if models is None:
        models = {k: pure.Reliability.from_dict(v) for k, v in fit(rows, _gold_labels(es, prefix, rows)).items()}
    stored = store.get_many(es, prefix, sorted({r["item_id"] for r in rows}), LABEL_FIELDS + CONTEXT_FIELDS)
    return recompute(models, rows, stored)
