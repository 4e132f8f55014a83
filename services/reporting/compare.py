"""CompareRankers: candidate minus baseline per measure and segment, side-by-side verdicts, and
one sentence — as a plain dict in the contract's shape (``qrelay.v1.RankerComparison``).

Differences are over the queries both rankers are evaluated on (complete, and listed by both),
re-weighted to traffic like the report (:mod:`evaluators.reporting.paired`). Holm's correction
runs over the segments of each measure (the overall difference is the headline, tested on its
own); a segment is significant when its Holm-adjusted randomisation p is below 1 − confidence.
Randomisation tests are seeded from the label-set version, so the same labels give the same
p-values.
"""
from __future__ import annotations

import math

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.reporting import Line, SxSLine, oriented, summary, sxs_verdict, weighted_difference
from evaluators.stats import holm
from services.core import clock
from services.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, Violations
from services.reporting import report, scope
from services.reporting.cache import LabelCache

N_PERMUTATIONS = 10_000


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
          measures=(), segment_by=(), segments=(), confidence: float = 0.0) -> dict:
    """The comparison (see the module notes)."""
    ms = scope.measures(measures, scope.COMPARE_MEASURES)
    ev = scope.evaluation(es, prefix, evaluation_id, "a comparison")
    a, b = _rankers(ev, baseline, candidate)
    ctx = report.context(cache, ev, ms, segment_by, segments, confidence)
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
           ctx.level)
    body = cache.answer(key, lambda: _body(ctx, ms, a, b, prefs, baseline, candidate))
    is_partial, why = report.partial(ctx)
    return {**body, "name": ev.name, "baseline": baseline, "candidate": candidate, "partial": is_partial,
            "partial_reason": why, "report_time": clock.now_iso()}


def _names(ctx: report.Context, index: np.ndarray) -> np.ndarray:
    names = np.array(ctx.labels.rankers + [""], dtype=object)
    return names[np.where(index >= 0, index, len(ctx.labels.rankers))]


def _body(ctx: report.Context, ms, a: int, b: int, prefs: np.ndarray, baseline: str, candidate: str) -> dict:
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
        for i, (key, r) in enumerate(rows):
            p_holm = rows[0][1].p_randomisation if i == 0 else holm_p[i - 1]
            differences.append({
                "measure": str(m), "segment": key, "difference": r.difference,
                "interval": report.interval(r.low, r.high, ctx.level, -1.0, 1.0), "p_value_t": r.p_t,
                "p_value_permutation": r.p_randomisation, "p_value_holm": p_holm, "queries": r.n,
                "baseline_mean": r.baseline_mean, "candidate_mean": r.candidate_mean,
                "unweighted_difference": r.unweighted_difference,
                "significant": bool(math.isfinite(p_holm) and p_holm < alpha),
            })
        lines[str(m)] = [Line("overall" if i == 0 else _label(segs[i][1]), d["difference"], d["interval"]["low"],
                              d["interval"]["high"], d["p_value_holm"], d["queries"], d["significant"])
                         for i, d in enumerate(differences[-len(rows):])]
    verdicts = _verdicts(ctx, segs, prefs, baseline, candidate)
    head = lines[str(ms[0])]
    sxs = verdicts[0] if verdicts else None
    sentence = summary(candidate, str(ms[0]), head[0], head[1:],
                       SxSLine(sxs["wins"], sxs["ties"], sxs["losses"], sxs["p_value_sign"], sxs["items"])
                       if sxs else None, ctx.level)
    return {"differences": differences, "verdicts": verdicts, "summary": sentence, "estimator": ctx.estimator()
            + "; paired over queries both rankers are evaluated on: t-test on the stratified standard error, "
              f"sign-flip randomisation test ({N_PERMUTATIONS:,} random sign patterns, exact when fewer), "
              "Holm across the segments of each measure",
            "confidence": ctx.level, "label_set": report.label_set(ctx)}


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
                    "items_human": int((sx.source[sel] == report.SOURCE["human"]).sum())})
    return out
