"""Grader and partner scorecards over a window: throughput, quality, cost, SLA — and a flag,
with the evidence, when a grader or partner is under a quality bar.

Where each number comes from:

* judgements, time on task, gold: the ``judgements`` index (submitted in the window);
* skips: the ``assignments`` slots (``services.store.assignments.skips_in_window``);
* agreement with consensus: the ``consensus`` index — the share of the subject's judgements
  equal to the consensus label of items with ≥ 2 human judgements (side by side: the same
  direction of preference). Where the consensus index lags (an item's document counts fewer
  judgements than the window holds, or there is none yet) the window's own judgements are
  aggregated instead (Dawid–Skene, gold clamped);
* reliability: the consensus worker's fitted reliability models on the evaluation (each
  grader's expected accuracy, the probability of giving the true label), averaged over the
  models' judgements — when they were fitted on at least the grader's judgements in the
  window (a model fitted early on a few judgements is mostly its prior); else Dawid–Skene's expected accuracy (``skills_``) fitted on the
  window's pointwise judgements, gold clamped; a partner's is its graders' judgement-weighted mean;
* cost: the partner's price per judgement, else the price of the grader's programme for the
  evaluation's owner team (and locale);
* SLA: a judgement meets its SLA when it was submitted before the evaluation's deadline and
  within the programme's ``sla_hours`` of the evaluation entering GRADING.

Flags need evidence, not a noisy point estimate: gold accuracy and agreement flag when their
Wilson interval lies wholly below the bar, the skip rate when its interval lies wholly above,
reliability when it is below the bar over at least ``min_judgements`` judgements, drift when
the second half of the window is worse than the first at ``drift_alpha``.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from evaluators.aggregation.dawid_skene import DawidSkene
from evaluators.scorecards import WorkforceStats, workforce_stats
from services.config import QualityConfig
from services.core import clock
from services.core.errors import FieldViolation, InvalidArgument
from services.store import assignments, consensus, evaluations, graders, judgements, partners, programmes

DEFAULT_DAYS = 7
MAX_DAYS = 366
GRADES = (0, 1, 2, 3)
_MGET = 1000
_EV_FIELDS = ["evaluation_id", "owner_team", "deadline", "create_time", "grading_start_time", "consensus.reliability",
              "consensus.seed_time", "automation.run.time"]


def window(start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime | None = None
           ) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)``, by default the last 7 days; INVALID_ARGUMENT when empty or over a year."""
    end = end or now or clock.now()
    start = start or end - dt.timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise InvalidArgument(FieldViolation("window", "end_time must be after start_time"))
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise InvalidArgument(FieldViolation("window", f"at most {MAX_DAYS} days"))
    return start, end


def _epoch(times: list[str]) -> np.ndarray:
    """Stored times as seconds since the epoch (vectorised for UTC times, the form qrelay writes)."""
    if all(t.endswith("+00:00") for t in times):
        return np.array([t[:-6] for t in times], dtype="datetime64[ms]").astype(np.int64) / 1000.0
    return np.array([clock.parse_time(t).timestamp() for t in times], dtype=float)


def grading_start(evaluation: dict[str, Any]) -> dt.datetime | None:
    """When the evaluation entered GRADING (the SLA clock's start): ``grading_start_time``, which
    the pre-judgement job writes as it moves the evaluation there; for evaluations older than
    that field, when the consensus worker seeded its labels (moments after), else the
    pre-judgement run, else the evaluation's creation."""
    for value in (evaluation.get("grading_start_time"), (evaluation.get("consensus") or {}).get("seed_time"),
                  ((evaluation.get("automation") or {}).get("run") or {}).get("time"), evaluation.get("create_time")):
        if value:
            return clock.parse_time(value)
    return None


@dataclass
class Workforce:
    """The window's judgements as columns, and what each scorecard needs beside them."""

    start: dt.datetime
    end: dt.datetime
    rows: list[dict[str, Any]]
    skips: list[dict[str, Any]]
    graders: dict[str, dict[str, Any]]
    partners: dict[str, dict[str, Any]]
    agrees: np.ndarray = field(default=None)  # type: ignore[assignment]
    with_consensus: np.ndarray = field(default=None)  # type: ignore[assignment]
    reliability: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # grader -> (value, n, method)
    price: list[tuple[float, str] | None] = field(default_factory=list)
    sla: list[bool | None] = field(default_factory=list)


def load(es, prefix: str, start: dt.datetime, end: dt.datetime, evaluation_ids: list[str] | None = None) -> Workforce:
    """Read the window once: judgements (of these evaluations, if given), skips, and the
    graders, partners, programmes and evaluations they refer to."""
    s, e = clock.iso(start), clock.iso(end)
    rows = list(judgements.in_window(es, prefix, s, e, evaluation_ids))
    w = Workforce(start, end, rows, assignments.skips_in_window(es, prefix, s, e),
                  {g["grader_id"]: g for g in graders.every(es, prefix)},
                  {p["partner_id"]: p for p in partners.every(es, prefix)})
    evs = evaluations.get_many(es, prefix, {r["evaluation_id"] for r in rows}, _EV_FIELDS)
    _consensus(es, prefix, w, evs)
    _costs_and_slas(w, evs, programmes.every(es, prefix))
    return w


def _sign(x: float) -> int:
    return 0 if abs(x) < 0.5 else (1 if x > 0 else -1)


def _consensus(es, prefix: str, w: Workforce, evs: dict[str, dict[str, Any]]) -> None:
    """Agreement of each judgement with its item's consensus, and each grader's reliability."""
    rows = w.rows
    n = len(rows)
    w.agrees, w.with_consensus = np.zeros(n, bool), np.zeros(n, bool)
    live = [i for i, r in enumerate(rows) if not r.get("gold")]
    docs: dict[str, dict[str, Any]] = {}
    ids = sorted({rows[i]["item_id"] for i in live})
    for k in range(0, len(ids), _MGET):
        docs.update(consensus.get_many(es, prefix, ids[k:k + _MGET]))
    # The consensus index may lag the judgements by a worker pass (or have no document yet):
    # an item whose document has fewer judgements than the window shows is compared with the
    # window's own consensus instead.
    seen = Counter(rows[i]["item_id"] for i in live)
    current = {k for k, d in docs.items() if int(d.get("judgements") or 0) >= seen[k]}
    ds = _window_model(rows)
    fallback = _window_consensus(rows, [i for i in live if rows[i]["item_id"] not in current], ds)
    for i in live:
        r = rows[i]
        if r["item_id"] in current:
            d = docs[r["item_id"]]
            if d.get("source") != "human" or int(d.get("judgements") or 0) < 2:
                continue
            label = d.get("label") if r["kind"] == "pointwise" else d.get("preference")
        else:
            label = fallback.get(r["item_id"])
        if label is None:
            continue
        w.with_consensus[i] = True
        w.agrees[i] = (r.get("grade") == int(label)) if r["kind"] == "pointwise" else \
            _sign(float(r.get("preference") or 0)) == _sign(float(label))

    # reliability: the consensus worker's fitted models where they are up to date with the
    # grader's work in the window (a model fitted early on a few judgements is mostly its prior),
    # else Dawid–Skene on the window
    graded = Counter((r["grader"], r["evaluation_id"], r["kind"]) for r in rows)
    fitted: dict[str, list[tuple[float, int]]] = {}
    stale: set[str] = set()
    for ev_id in {e for _, e, _ in graded}:
        for kind, grader, skill, n in fitted_skills((evs.get(ev_id) or {}).get("consensus")):
            if (grader, ev_id, kind) in graded:
                fitted.setdefault(grader, []).append((skill, n))
                if n < graded[(grader, ev_id, kind)]:
                    stale.add(grader)
    for grader, parts in fitted.items():
        if grader in stale:
            continue
        total = sum(c for _, c in parts)
        w.reliability[grader] = (sum(v * c for v, c in parts) / total, total, "consensus model")
    if ds is not None:
        counts = Counter(r["grader"] for r in rows if r["kind"] == "pointwise" and r.get("grade") is not None)
        for grader, skill in zip(ds.workers_.tolist(), ds.skills_.tolist()):
            if grader not in w.reliability:
                w.reliability[grader] = (float(skill), counts[grader], "dawid-skene over the window")


def fitted_skills(state: dict[str, Any] | None) -> Iterable[tuple[str, str, float, int]]:
    """(kind, grader, expected accuracy, judgements fitted on) of each grader in each kind's
    reliability model of an evaluation's consensus state (``reliability``: kind → the model's
    stored form, with aligned ``graders``, ``skill`` and ``judgements``)."""
    for kind, model in ((state or {}).get("reliability") or {}).items():
        if model:
            for grader, skill, n in zip(model["graders"], model["skill"], model["judgements"]):
                yield kind, grader, float(skill), int(n)


def _window_model(rows: list[dict[str, Any]]) -> DawidSkene | None:
    """Dawid–Skene fitted on the window's pointwise judgements, gold items clamped to their label
    (known from the judgements scored correct)."""
    pw = [r for r in rows if r["kind"] == "pointwise" and r.get("grade") is not None]
    if not pw:
        return None
    gold = {r["item_id"]: r["grade"] for r in pw if r.get("gold") and r.get("gold_correct")}
    return DawidSkene(classes=list(GRADES)).fit(([r["item_id"] for r in pw], [r["grader"] for r in pw],
                                                 [r["grade"] for r in pw]), gold=gold)


def _window_consensus(rows: list[dict[str, Any]], idx: list[int], ds: DawidSkene | None) -> dict[str, float]:
    """Consensus of the items in ``idx`` with ≥ 2 judgements in the window: the window model's
    label (pointwise), the mean preference (side by side)."""
    per_item = Counter(rows[i]["item_id"] for i in idx)
    multi = [i for i in idx if per_item[rows[i]["item_id"]] >= 2]
    out: dict[str, float] = {}
    if ds is not None:
        labels = dict(zip(ds.items_.tolist(), (float(x) for x in ds.labels_)))
        out.update({rows[i]["item_id"]: labels[rows[i]["item_id"]] for i in multi if rows[i]["kind"] == "pointwise"
                    and rows[i]["item_id"] in labels})
    sums: dict[str, list[float]] = {}
    for i in multi:
        if rows[i]["kind"] != "pointwise" and rows[i].get("preference") is not None:
            sums.setdefault(rows[i]["item_id"], []).append(float(rows[i]["preference"]))
    out.update({k: float(np.mean(v)) for k, v in sums.items()})
    return out


def _programme_for(grader: dict[str, Any], evaluation: dict[str, Any], locale: str,
                   progs: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The programme a judgement was made under: of the grader's programmes (all, if the grader
    has none) the first by id that covers the evaluation's owner team and the locale."""
    names = [p.partition("/")[2] or p for p in grader.get("programmes") or []]
    candidates = [progs[p] for p in sorted(names) if p in progs] if names else [progs[k] for k in sorted(progs)]
    team = evaluation.get("owner_team")
    for p in candidates:
        if team in (p.get("owner_teams") or []) and (not p.get("locales") or locale in p["locales"]):
            return p
    return None


def _costs_and_slas(w: Workforce, evs: dict[str, dict[str, Any]], progs: list[dict[str, Any]]) -> None:
    by_id = {p["programme_id"]: p for p in progs}
    cache: dict[tuple[str, str, str], tuple[tuple[float, str] | None, float | None]] = {}
    for r in w.rows:
        key = (r["grader"], r["evaluation_id"], r.get("locale") or "")
        if key not in cache:
            grader = w.graders.get(r["grader"]) or {}
            ev = evs.get(r["evaluation_id"]) or {}
            prog = _programme_for(grader, ev, key[2], by_id)
            partner = w.partners.get(r.get("partner") or grader.get("partner") or "") or {}
            if partner.get("price_per_judgement"):
                price = (float(partner["price_per_judgement"]), partner.get("currency") or "")
            elif prog and prog.get("price_per_judgement"):
                price = (float(prog["price_per_judgement"]), prog.get("currency") or "")
            else:
                price = None
            sla_end = None
            start = grading_start(ev)
            if prog and prog.get("sla_hours") and start:
                sla_end = (start + dt.timedelta(hours=float(prog["sla_hours"]))).timestamp()
            cache[key] = (price, sla_end)
        price, sla_end = cache[key]
        w.price.append(price)
        deadline = (evs.get(r["evaluation_id"]) or {}).get("deadline")
        limits = [t for t in (sla_end, clock.parse_time(deadline).timestamp() if deadline else None) if t is not None]
        w.sla.append(all(clock.parse_time(r["submit_time"]).timestamp() <= t for t in limits) if limits else None)


def _stats(w: Workforce, subject_of: list[str], skip_subject: list[str], subjects: Iterable[str] | None,
           currency: dict[str, str], level: float) -> WorkforceStats:
    rows = w.rows
    price = np.array([p[0] if p and p[1] == currency.get(s, "") else np.nan for p, s in zip(w.price, subject_of)],
                     dtype=float)
    return workforce_stats(
        np.array(subject_of, dtype=object), _epoch([r["submit_time"] for r in rows]) if rows else np.zeros(0),
        np.array([(r.get("time_on_task_ms") or 0) / 1000.0 for r in rows], dtype=float),
        gold=np.array([bool(r.get("gold")) for r in rows], dtype=bool),
        gold_correct=np.array([bool(r.get("gold_correct")) for r in rows], dtype=bool),
        with_consensus=w.with_consensus, agrees=w.agrees, price=price,
        sla_known=np.array([s is not None for s in w.sla], dtype=bool),
        sla_met=np.array([bool(s) for s in w.sla], dtype=bool),
        skip_subject=np.array(skip_subject, dtype=object), subjects=None if subjects is None else list(subjects),
        start=w.start.timestamp(), end=w.end.timestamp(), level=level)


def _currencies(subject_of: list[str], prices: list[tuple[float, str] | None]) -> dict[str, str]:
    """Each subject's currency: the one most of its priced judgements are in (judgements priced in
    another currency are left out of its cost rather than added up with it)."""
    seen: dict[str, Counter] = {}
    for s, p in zip(subject_of, prices):
        if p:
            seen.setdefault(s, Counter())[p[1]] += 1
    return {s: c.most_common(1)[0][0] for s, c in seen.items()}


def cards(w: Workforce, by: str, q: QualityConfig, subjects: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Scorecards per grader (``by="grader"``) or partner (``by="partner"``), as dicts named like
    the API's ``Scorecard`` (plus ``flags``); for ``subjects`` if given, else everyone active."""
    partner_of = {g: d.get("partner") or "" for g, d in w.graders.items()}
    if by == "grader":
        subject_of = [r["grader"] for r in w.rows]
        skip_subject = [s["grader"] for s in w.skips]
    else:
        subject_of = [r.get("partner") or partner_of.get(r["grader"], "") for r in w.rows]
        skip_subject = [partner_of.get(s["grader"], "") for s in w.skips]
    currency = _currencies(subject_of, w.price)
    st = _stats(w, subject_of, skip_subject, subjects, currency, q.confidence)
    reliability = w.reliability if by == "grader" else _subject_reliability(w, subject_of)
    out = []
    for i, sid in enumerate(st.subjects.tolist()):
        if by == "partner" and not sid:
            continue  # graders without a partner have no partner scorecard
        rel = reliability.get(sid)
        card = _card(st, i, rel, currency.get(sid, ""), q)
        if by == "grader":
            g = w.graders.get(sid) or {}
            card.update(subject=f"graders/{sid}", display_name=g.get("display_name", ""),
                        partner=f"partners/{g['partner']}" if g.get("partner") else "")
        else:
            card.update(subject=f"partners/{sid}", display_name=(w.partners.get(sid) or {}).get("display_name", ""),
                        partner="")
        card["window"] = (w.start, w.end)
        out.append(card)
    return out


def _subject_reliability(w: Workforce, subject_of: list[str]) -> dict[str, tuple[float, int, str]]:
    """A partner's reliability: its graders' reliabilities weighted by their judgements in the window."""
    acc: dict[str, list[tuple[float, int, str]]] = {}
    counted = Counter(zip(subject_of, (r["grader"] for r in w.rows)))
    for (subject, grader), n in counted.items():
        if grader in w.reliability:
            value, _, method = w.reliability[grader]
            acc.setdefault(subject, []).append((value, n, method))
    out = {}
    for subject, parts in acc.items():
        total = sum(n for _, n, _ in parts)
        out[subject] = (sum(v * n for v, n, _ in parts) / total, total, parts[0][2])
    return out


def _num(x) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def _card(st: WorkforceStats, i: int, rel: tuple[float, int, str] | None, currency: str, q: QualityConfig) -> dict:
    n = int(st.judgements[i])
    priced = int(st.priced[i])
    cost = float(st.cost[i])
    per = cost / priced if priced else 0.0
    card: dict[str, Any] = {
        "judgements": n, "active_hours": float(st.active_hours[i]), "throughput_per_hour": _num(st.throughput[i]) or 0.0,
        "median_seconds_on_task": _num(st.median_seconds[i]) or 0.0,
        "gold_judgements": int(st.gold_n[i]), "gold_accuracy": _num(st.gold_accuracy[i]) or 0.0,
        "gold_accuracy_interval": (_num(st.gold_low[i]), _num(st.gold_high[i]), st.level),
        "consensus_judgements": int(st.consensus_n[i]), "consensus_agreement": _num(st.agreement[i]) or 0.0,
        "skips": int(st.skips[i]), "skip_rate": _num(st.skip_rate[i]) or 0.0,
        "reliability": rel[0] if rel else None,
        "drift_p_value": _num(st.drift_p[i]), "drifting": bool(st.drift_p[i] < q.drift_alpha),
        "cost": cost, "currency": currency if priced else "", "cost_per_judgement": per,
        "cost_per_reliable_judgement": per / rel[0] if priced and rel and rel[0] > 0 else None,
        "sla_judgements": int(st.sla_n[i]), "sla_met_share": float(st.sla_met[i] / st.sla_n[i]) if st.sla_n[i] else 0.0,
    }
    card["flags"] = _flags(st, i, rel, q)
    card["flagged"] = bool(card["flags"])
    return card


def _flags(st: WorkforceStats, i: int, rel: tuple[float, int, str] | None, q: QualityConfig) -> list[dict[str, Any]]:
    flags = []
    pct = f"{st.level:.0%}"
    if st.gold_n[i] and st.gold_high[i] < q.gold_accuracy:
        flags.append({"kind": "gold_accuracy", "value": float(st.gold_accuracy[i]), "threshold": q.gold_accuracy,
                      "n": int(st.gold_n[i]), "message": (
                          f"gold accuracy {st.gold_accuracy[i]:.2f} [{st.gold_low[i]:.2f}, {st.gold_high[i]:.2f}] "
                          f"({pct} Wilson) on {st.gold_n[i]} gold items, bar {q.gold_accuracy:.2f}")})
    if st.consensus_n[i] and st.agreement_high[i] < q.consensus_agreement:
        flags.append({"kind": "consensus_agreement", "value": float(st.agreement[i]), "threshold": q.consensus_agreement,
                      "n": int(st.consensus_n[i]), "message": (
                          f"agreement with consensus {st.agreement[i]:.2f} [{st.agreement_low[i]:.2f}, "
                          f"{st.agreement_high[i]:.2f}] ({pct} Wilson) on {st.consensus_n[i]} judgements, "
                          f"bar {q.consensus_agreement:.2f}")})
    if rel and rel[1] >= q.min_judgements and rel[0] < q.reliability:
        flags.append({"kind": "reliability", "value": rel[0], "threshold": q.reliability, "n": rel[1],
                      "message": f"estimated reliability {rel[0]:.2f} ({rel[2]}, {rel[1]} judgements), "
                                 f"bar {q.reliability:.2f}"})
    tasks = int(st.skips[i] + st.judgements[i])
    if st.skips[i] and st.skip_low[i] > q.skip_rate:
        flags.append({"kind": "skip_rate", "value": float(st.skip_rate[i]), "threshold": q.skip_rate, "n": tasks,
                      "message": f"skip rate {st.skip_rate[i]:.2f} [{st.skip_low[i]:.2f}, {st.skip_high[i]:.2f}]: "
                                 f"{st.skips[i]} skips of {tasks} tasks, bar {q.skip_rate:.2f}"})
    if st.drift_p[i] < q.drift_alpha:
        what = "gold accuracy" if st.drift_on[i] == "gold" else "agreement with consensus"
        n1, n2 = (int(x) for x in st.drift_n[i])
        flags.append({"kind": "drift", "value": float(st.drift_second[i] - st.drift_first[i]),
                      "threshold": q.drift_alpha, "n": n1 + n2, "message": (
                          f"{what} fell from {st.drift_first[i]:.2f} (n={n1}) in the window's first half to "
                          f"{st.drift_second[i]:.2f} (n={n2}) in its second half, p={st.drift_p[i]:.2g}")})
    return flags


def order(cs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flagged first, then most judgements first (then by subject, for a stable page)."""
    return sorted(cs, key=lambda c: (not c["flagged"], -c["judgements"], c["subject"]))


def grader_scorecard(es, prefix: str, q: QualityConfig, grader_id: str, start: dt.datetime, end: dt.datetime
                     ) -> dict[str, Any]:
    """One grader's scorecard (NOT_FOUND for an unknown grader; zeros for an idle one). The
    consensus and reliability it is compared with come from every judgement of the evaluations
    it worked on in the window."""
    graders.get(es, prefix, grader_id)
    evs = judgements.evaluations_in_window(es, prefix, clock.iso(start), clock.iso(end), grader=grader_id)
    return cards(load(es, prefix, start, end, evs), "grader", q, [grader_id])[0]


def partner_scorecard(es, prefix: str, q: QualityConfig, partner_id: str, start: dt.datetime, end: dt.datetime
                      ) -> dict[str, Any]:
    """One partner's scorecard over its graders' judgements (NOT_FOUND for an unknown partner)."""
    partners.get(es, prefix, partner_id)
    evs = judgements.evaluations_in_window(es, prefix, clock.iso(start), clock.iso(end), partner=partner_id)
    return cards(load(es, prefix, start, end, evs), "partner", q, [partner_id])[0]


def list_scorecards(es, prefix: str, q: QualityConfig, by: str, start: dt.datetime, end: dt.datetime,
                    partner_id: str = "") -> list[dict[str, Any]]:
    """Scorecards of every grader (of ``partner_id``, if given) or every partner active in the
    window, flagged first."""
    w = load(es, prefix, start, end)
    subjects = None
    if partner_id:
        partners.get(es, prefix, partner_id)
        active = {r["grader"] for r in w.rows} | {s["grader"] for s in w.skips}
        subjects = sorted(g for g in active if (w.graders.get(g) or {}).get("partner") == partner_id)
    return order(cards(w, by, q, subjects))
