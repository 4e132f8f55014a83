"""CompareRankers: candidate minus baseline per measure and segment, side-by-side verdicts, and
one sentence — as a plain dict in the contract's shape (``qrelay.v1.RankerComparison``).

Differences are over the queries both rankers are evaluated on (complete, and listed by both),
re-weighted to traffic like the report (:mod:`evaluators.reporting.paired`). Holm's correction
runs over the segments of each measure (the overall difference is the headline, tested on its
own); a segment is significant when its Holm-adjusted randomisation p is below 1 − confidence.
Randomisation tests are seeded from the label-set version, so the same labels give the same
p-values.

Beside each difference and verdict: the human-only, model-only and prediction-powered estimates
and the one to lead with (:mod:`services.reporting.estimates`); the sentence quotes the lead.
The headline difference (first measure, overall) is also watched as an anytime-valid confidence
sequence over the queries in the order they became complete, with the decision to stop grading
under the caller's stopping rule (:data:`RULES`; :mod:`evaluators.reporting.sequential`).
"""
from __future__ import annotations

import math

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.automation import audit_draw
from evaluators.reporting import (Line, SxSLine, arrival_order, headline_sequence, oriented, summary, sxs_verdict,
                                  weighted_difference)
from evaluators.stats import holm
from services.core import clock
from services.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, Violations
from services.evaluation.spec import DEFAULT_STOP_RULE, stop_rule_problem
from services.reporting import estimates, lineage, report, scope
from services.reporting.cache import LabelCache

N_PERMUTATIONS = 10_000
# Salt of the per-query draw that places queries the model settled whole in the sequence (any fixed
# number: the draw only has to be fixed before any label and independent of the query's values).
SEQUENCE_DRAW_SEED = 7_341

# The contract's stopping rules (StoppingRule) and the pure rule of evaluators.stats.stop_when each is.
RULES = {"SIGN_OR_EQUIVALENCE": "zero", "EXCLUDES_MIN_EFFECT": "excludes_min_effect"}


def verdict_sentence(verdict: str, min_effect: float, low: float, high: float) -> str:
    """A decided verdict in words, with the minimum effect it was decided against; ``low``/``high``:
    the interval it decided on, which also says whether a gain short of the bar is a loss.

    >>> verdict_sentence("candidate gains less than min_effect", 0.01, -0.03, -0.002)
    'candidate gains less than 0.01 (worse than the baseline)'
    """
    if verdict == "no effect as large as min_effect":
        return f"no difference of at least {min_effect:g}"
    if verdict == "candidate gains at least min_effect":
        return f"candidate gains at least {min_effect:g}"
    if verdict == "candidate gains less than min_effect":
        side = (" (worse than the baseline)" if high < 0 else
                " (though better than the baseline)" if low > 0 else "")
        return f"candidate gains less than {min_effect:g}{side}"
    return verdict


def _rankers(ev: scope.Evaluation, baseline: str, candidate: str) -> tuple[int, int]:
    v = Violations()
    known = ", ".join(ev.rankers)
    for field, r in (("baseline", baseline), ("candidate", candidate)):
        if not r:
            v.add(field, f"required: a ranker of {ev.name} ({known})")
        elif r not in ev.rankers:
            v.add(field, f"{r!r} is not a ranker of {ev.name}; its rankers are {known}")
    v.raise_if_any()
    if baseline == candidate:
        raise InvalidArgument(FieldViolation("candidate", f"must differ from the baseline ({baseline!r}): a ranker "
                                                          "compared with itself has no difference"))
    return ev.rankers.index(baseline), ev.rankers.index(candidate)


def build(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, baseline: str, candidate: str,
          measures=(), segment_by=(), segments=(), confidence: float = 0.0, relabel_with: str = "",
          min_effect: float = 0.0, rule: str = DEFAULT_STOP_RULE) -> dict:
    """The comparison (see the module notes); ``rule``: a key of :data:`RULES`."""
    ms = scope.measures(measures, scope.COMPARE_MEASURES)
    if not (math.isfinite(min_effect) and 0.0 <= min_effect < 1.0):
        raise InvalidArgument(FieldViolation("min_effect", f"must lie in [0, 1) in the headline measure's units "
                                                           f"(e.g. 0.01 for NDCG@10), got {min_effect}"))
    if problem := stop_rule_problem(rule, min_effect):
        raise InvalidArgument(FieldViolation("min_effect", problem))
    ev = scope.evaluation(es, prefix, evaluation_id, "a comparison")
    a, b = _rankers(ev, baseline, candidate)
    ctx = report.context(cache, ev, ms, segment_by, segments, confidence,
                         report.relabel_source(es, prefix, ev, relabel_with))
    prefs = oriented(ctx.labels.sxs.label, _names(ctx, ctx.labels.sxs.ranker_a), _names(ctx, ctx.labels.sxs.ranker_b),
                     baseline, candidate)
    if not (ctx.pm.evaluated(a) & ctx.pm.evaluated(b)).any() and not np.isfinite(prefs).any():
        for r, name in ((a, baseline), (b, candidate)):
            if not ctx.pm.evaluated(r).any():
                raise FailedPrecondition(f"ranker {name!r} of {ev.name} has no fully labelled query yet, so there is "
                                         f"nothing to compare")
        raise FailedPrecondition(f"{ev.name} has no query fully labelled for both {baseline!r} and {candidate!r} yet")
    both = ctx.pm.evaluated(a) & ctx.pm.evaluated(b)
    sxs_query = ctx.labels.sxs.query[np.isfinite(prefs)]
    ctx.require_named_segments(lambda mask: (both & mask).any() or mask[sxs_query].any())
    key = ("compare", evaluation_id, ctx.version, a, b, tuple(map(str, ms)), tuple(segment_by), tuple(segments),
           ctx.level, min_effect, rule)
    body = cache.answer(key, lambda: _body(ctx, ms, a, b, prefs, baseline, candidate, min_effect, rule,
                                           lambda: lineage.label_set(es, prefix, ctx.labels, ctx.version, ctx.source)))
    is_partial, why = report.partial(ctx)
    return {**body, "name": ev.name, "baseline": baseline, "candidate": candidate, "partial": is_partial,
            "partial_reason": why, "report_time": clock.now_iso()}


def _names(ctx: report.Context, index: np.ndarray) -> np.ndarray:
    names = np.array(ctx.labels.rankers + [""], dtype=object)
    return names[np.where(index >= 0, index, len(ctx.labels.rankers))]


def _body(ctx: report.Context, ms, a: int, b: int, prefs: np.ndarray, baseline: str, candidate: str,
          min_effect: float, rule: str, label_set) -> dict:
    segs = ctx.segments()
    differences = []
    lines: dict[str, list[Line]] = {}
    for m in ms:
        values = ctx.pm.values[str(m)]
        both = ctx.pm.evaluated(a) & ctx.pm.evaluated(b)
        rows = []
        for key, _, _, mask in segs:
            sel = mask & both
            traffic = None if ctx.traffic is None else ctx.traffic[sel]
            r = weighted_difference(values[a][sel], values[b][sel], ctx.labels.query_stratum[sel], ctx.weights,
                                    traffic, ctx.level, N_PERMUTATIONS,
                                    report.seed_of(ctx.version, m, key, baseline, candidate))
            rows.append((key, r))
        holm_p = _holm([r.p_randomisation for _, r in rows[1:]])
        alpha = 1.0 - ctx.level
        qv = ctx.qv
        for i, (key, r) in enumerate(rows):
            p_holm = rows[0][1].p_randomisation if i == 0 else holm_p[i - 1]
            mask = segs[i][3]
            est = (ctx.estimates(values[b], values[b], values[b], mask, (-1.0, 1.0), True) if qv is None else
                   ctx.estimates(*(v[str(m)][b] - v[str(m)][a] for v in (qv.ppi, qv.human, qv.model)), mask,
                                 (-1.0, 1.0), True))
            differences.append({
                "measure": str(m), "segment": key, "difference": r.difference,
                "interval": report.interval(r.low, r.high, ctx.level, -1.0, 1.0), "p_value_t": r.p_t,
                "p_value_permutation": r.p_randomisation, "p_value_holm": p_holm, "queries": r.n,
                "baseline_mean": r.baseline_mean, "candidate_mean": r.candidate_mean,
                "unweighted_difference": r.unweighted_difference,
                "significant": bool(math.isfinite(p_holm) and p_holm < alpha), **est,
            })
        lines[str(m)] = [Line("overall" if i == 0 else _label(segs[i][1]), d["difference"], d["interval"]["low"],
                              d["interval"]["high"], d["p_value_holm"], d["queries"], d["significant"])
                         for i, d in enumerate(differences[-len(rows):])]
    verdicts = _verdicts(ctx, segs, prefs, baseline, candidate)
    head = lines[str(ms[0])]
    sxs = verdicts[0] if verdicts else None
    overall, note = _headline(differences[0], head[0], ctx.level)
    seq = sequential(ctx, str(ms[0]), a, b, min_effect, rule)
    sentence = summary(candidate, str(ms[0]), overall, head[1:],
                       SxSLine(sxs["wins"], sxs["ties"], sxs["losses"], sxs["p_value_sign"], sxs["items"])
                       if sxs else None, ctx.level, note)
    sentence = sentence[:-1] + f"; anytime-valid: {seq.pop('clause')}."
    return {"differences": differences, "verdicts": verdicts, "summary": sentence, "sequential": seq,
            "estimator": ctx.estimator()
            + "; paired over queries both rankers are evaluated on: t-test on the stratified standard error, "
              f"sign-flip randomisation test ({N_PERMUTATIONS:,} random sign patterns, exact when fewer), "
              "Holm across the segments of each measure",
            "confidence": ctx.level, "label_set": label_set()}


def _headline(d: dict, line: Line, level: float) -> tuple[Line, str]:
    """The overall line the sentence quotes: the lead estimate's when it is not the label set's."""
    lead = next((e for e in d["estimates"] if e["kind"] == d["lead"]), None)
    model_made = any(e["kind"] == "ppi" and e["human_checks"] for e in d["estimates"])
    if lead is None or "interval" not in lead or (d["lead"] == "human" and not model_made):
        return line, ""  # the label set's own difference (all human: the same number, its randomisation p)
    p = lead.get("p_value", float("nan"))
    note = "prediction-powered" if d["lead"] == "ppi" else "human labels only"
    return Line(line.label, lead["value"], lead["interval"]["low"], lead["interval"]["high"], p, lead["units"],
                bool(math.isfinite(p) and p < 1.0 - level)), note


def eligible_queries(ctx: report.Context, a: int, b: int) -> np.ndarray:
    """The queries the headline sequence can ever take: in a known stratum, both rankers listed something."""
    return (ctx.labels.query_stratum >= 0) & ctx.pm.retrieved[a] & ctx.pm.retrieved[b]


def sequential(ctx: report.Context, measure: str, a: int, b: int, min_effect: float,
               rule: str = DEFAULT_STOP_RULE) -> dict:
    """The headline difference as an anytime-valid confidence sequence (``SequentialDecision``) plus
    ``clause``, the sentence's words for it; ``rule`` (a key of :data:`RULES`) decides when it stops.

    Per-query values: prediction-powered with λ fixed at 1 (fixed before any look, as the
    time-uniform guarantee needs) when the routing is known, which are the human values when
    nothing is model-made; else the label set's. Order (:func:`evaluators.reporting.arrival_order`):
    the time each query became complete — when the last of its items sent to humans got its first
    human judgement, ties in query-id order — with the queries the model settled whole spread among
    them by a fixed draw per query, not put first.
    """
    ls, qv = ctx.labels, ctx.qv
    eligible = eligible_queries(ctx, a, b)
    if qv is not None:
        d = qv.ppi[measure][b] - qv.ppi[measure][a]
        kind = "ppi" if int(qv.settled[eligible].sum()) else "human"
    else:
        values = ctx.pm.values[measure]
        d, kind = values[b] - values[a], "labels"
    pw = ls.pointwise
    when = np.full(len(ls.query_ids), -np.inf)
    stamp = np.where(pw.needs_humans, np.nan_to_num(pw.human_time, nan=-np.inf), -np.inf)
    np.maximum.at(when, pw.query, stamp)
    # an item stopped early (unlabelled, no longer for humans) still counts: the queries with human
    # work, M, must not shrink when grading stops, or every query the model settled whole would
    # enter at once
    human_work = np.bincount(pw.query[pw.needs_humans | (pw.label < 0)], minlength=len(ls.query_ids)) > 0
    idx = np.flatnonzero(eligible)
    draw = np.array([audit_draw(SEQUENCE_DRAW_SEED, f"{ls.evaluation_id}\0{ls.query_ids[q]}") for q in idx])
    # (a human time not recorded — older consensus documents — is -inf above: it counts as the earliest)
    order = arrival_order(np.isfinite(d[idx]), human_work[idx], when[idx], draw)
    s = headline_sequence(d[idx], ls.query_stratum[idx], ctx.weights, ctx.traffic_of(eligible), order=order,
                          level=ctx.level, min_effect=min_effect, rule=RULES[rule])
    dec = s.decision
    out = {"measure": measure, "decision": "decided" if dec.stop else "keep grading",
           "verdict": dec.verdict if dec.stop else "", "estimate": s.estimate, "looks": s.looks,
           "eligible": s.eligible, "decided_at_look": dec.look or 0, "min_effect": min_effect, "rule": rule,
           "values": kind,
           "interval": {"low": s.low, "high": s.high, "level": s.level},
           "decided_interval": {"low": dec.low, "high": dec.high, "level": s.level},
           "method": (f"asymptotic confidence sequence (Waudby-Smith et al. 2024) over per-query {kind} differences "
                      f"re-weighted to traffic, one look per query in the order queries became complete, tightest at "
                      f"{s.eligible:,} looks, silent for the first {s.burn_in - 1}; stop rule: "
                      f"{_rule_words(rule, min_effect)}. Valid over every look if queries complete in random order "
                      "within strata — the grading order decides that; the per-query values stay unbiased either "
                      "way")}
    if dec.stop:
        out["clause"] = (f"decided ({verdict_sentence(dec.verdict, min_effect, dec.low, dec.high)}) at {dec.look:,} "
                         f"of {s.eligible:,} queries")
    elif s.looks < s.burn_in:
        out["clause"] = (f"keep grading (the sequence opens after {s.burn_in} complete queries; {s.looks:,} of "
                         f"{s.eligible:,} so far)")
    else:
        out["clause"] = (f"keep grading ({s.level:.0%} sequence [{s.low:+.3f}, {s.high:+.3f}] after {s.looks:,} of "
                         f"{s.eligible:,} queries)")
    return out


def _holm(pvalues: list[float]) -> list[float]:
    """Holm-adjusted p-values over the finite ones (a segment without queries has none)."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.size, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = holm(p[finite]).adjusted
    return out.tolist()


def _label(values: dict) -> str:
    """A segment as people say it: "es-MX tail"."""
    return " ".join(values.values())


def _verdicts(ctx: report.Context, segs, prefs: np.ndarray, baseline: str, candidate: str) -> list[dict]:
    sx = ctx.labels.sxs
    labelled = np.isfinite(prefs)
    if not labelled.any():
        return []
    a_names, b_names = _names(ctx, sx.ranker_a), _names(ctx, sx.ranker_b)
    pair = np.isfinite(oriented(np.zeros(len(sx)), a_names, b_names, baseline, candidate))
    model = oriented(sx.model_label, a_names, b_names, baseline, candidate)
    note = estimates.design_note(ctx.labels)
    if not note:
        ppi, human, inclusion, judged = estimates.sxs_design(ctx.labels, prefs, model)
        settled = estimates.settled(sx)
    out = []
    for key, _, _, mask in segs:
        sel = labelled & mask[sx.query]
        q = sx.query[sel]
        traffic = None if ctx.traffic is None else ctx.traffic[q]
        v = sxs_verdict(prefs[sel], ctx.labels.query_stratum[q], ctx.weights, traffic, ctx.level)
        out.append({"segment": key, "wins": v.wins, "ties": v.ties, "losses": v.losses,
                    "mean_preference": v.mean_preference,
                    "interval": report.interval(v.low, v.high, ctx.level, -3.0, 3.0),
                    "p_value_sign": v.p_sign, "p_value_wilcoxon": v.p_wilcoxon, "items": v.n,
                    "items_human": int((sx.source[sel] == report.SOURCE["human"]).sum()),
                    **(estimates.unavailable(note, "items") if note else
                       _sxs_estimates(ctx, pair & mask[sx.query], ppi, human, inclusion, judged, model, settled))})
    return out


def _sxs_estimates(ctx: report.Context, sel, ppi, human, inclusion, judged, model, settled) -> dict:
    """Human-only, model-only and prediction-powered mean preference over the pair's items in a segment."""
    sx, st = ctx.labels.sxs, ctx.labels.query_stratum
    units = sel & np.isfinite(ppi)
    fm = sel & np.isfinite(model)
    traffic = None if ctx.traffic is None else ctx.traffic[sx.query]
    return estimates.summarise(ppi[units], human[units], inclusion[units], judged[units], model[fm],
                               st[sx.query[units]], ctx.weights, None if traffic is None else traffic[units], st[sx.query[fm]],
                               None if traffic is None else traffic[fm], level=ctx.level, bounds=(-3.0, 3.0),
                               unit="items", difference=True, audits=int((units & settled & sx.needs_humans).sum()),
                               settled_items=int((units & settled).sum()))


def _rule_words(rule: str, min_effect: float) -> str:
    if rule == "EXCLUDES_MIN_EFFECT":
        return (f"the sequence excludes the minimum effect {min_effect:+g} — wholly above it (the candidate gains "
                f"at least {min_effect:g}) or wholly below it (it gains less)")
    return "the sequence excludes 0" + (f" or lies within ±{min_effect:g}" if min_effect else "")
