"""GetEvaluationReport: metrics per ranker, overall and per segment, with intervals, coverage,
automation, agreement, grading work and cost — as a plain dict in the contract's shape (the
field names of ``qrelay.v1.EvaluationReport``); the servicer turns it into the message.

Metrics are over *complete* queries (every pooled item labelled, by humans, the model or a
tie), computed with the trec_eval kernels (:mod:`evaluators.reporting.pooled`), so
``unweighted_mean`` is what ``qrelay trec-eval`` prints on the exported qrels and run; ``mean``
is re-weighted to traffic with the strata weights the sampler stored
(:mod:`evaluators.reporting.strata`). Beside each mean: the human-only, model-only and
prediction-powered estimates and the one to lead with (:mod:`services.reporting.estimates`);
the label set names its lineage (:mod:`services.reporting.lineage`), and ``relabel_with``
re-scores the evaluation's runs with another evaluation's labels.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from elasticsearch import Elasticsearch

from evaluators.metrics.registry import Measure
from evaluators.reporting import alpha_from_votes, per_query_values, stratified, trec_mean
from evaluators.reporting.pooled import PooledMetrics
from evaluators.reporting.ppi import QueryValues
from evaluators.reporting.segments import Segmentation
from services.core import clock
from services.core.errors import FailedPrecondition
from services.core.errors import FieldViolation, InvalidArgument
from services.reporting import estimates, grading, lineage, scope
from services.reporting.cache import LabelCache
from services.reporting.labels import SOURCE, LabelSet


@dataclass
class Context:
    """What one report or comparison works on: the evaluation, its label set and version, the
    per-query values of the measures asked for, and the segments."""

    ev: scope.Evaluation
    labels: LabelSet
    version: str
    state: dict
    pm: PooledMetrics
    seg: Segmentation | None
    wanted: list[int] | None  # the segments asked for (None: all)
    level: float
    qv: QueryValues | None = None  # per-query model-only, prediction-powered and human-only values
    design_note: str = ""  # why there are none
    source: scope.Evaluation | None = None  # the evaluation whose labels these are (relabel_with), else ev

    @property
    def weights(self) -> np.ndarray:
        return np.asarray(self.ev.weights, dtype=np.float64)

    @property
    def traffic(self) -> np.ndarray | None:
        return self.labels.query_traffic if self.ev.unique_query else None

    def segments(self) -> list[tuple[str, dict, float, np.ndarray]]:
        """``(key, values, traffic share, query mask)``: overall first, then the segments in the strata's order."""
        known = self.labels.query_stratum >= 0
        out = [("", {}, float(self.weights.sum()), known)]
        if self.seg is not None:
            stratum = np.where(known, self.labels.query_stratum, 0)
            for i in self.wanted if self.wanted is not None else range(len(self.seg.keys)):
                out.append((self.seg.keys[i], self.seg.values[i], float(self.seg.traffic_share[i]),
                            known & self.seg.members(stratum, i)))
        return out

    def require_named_segments(self, has_data) -> None:
        """A segment the request names must have something to report (``has_data(mask)``):
        FAILED_PRECONDITION naming it, with its count, otherwise."""
        if self.wanted is None:
            return
        for key, _, _, mask in self.segments()[1:]:
            if not has_data(mask):
                raise FailedPrecondition(f"segment {key} of {self.ev.name} has no fully labelled query yet "
                                         f"(0 of {int(mask.sum()):,} sampled)")

    def estimate(self, values: np.ndarray, mask: np.ndarray):
        """Traffic-weighted estimate of per-query ``values`` over the queries in ``mask``."""
        return stratified(values[mask], self.labels.query_stratum[mask], self.weights, self.traffic_of(mask),
                          self.level)

    def traffic_of(self, mask: np.ndarray) -> np.ndarray | None:
        return None if self.traffic is None else self.traffic[mask]

    def estimates(self, y: np.ndarray, h: np.ndarray, f: np.ndarray, mask: np.ndarray, bounds,
                  difference: bool = False) -> dict:
        """Human-only, model-only and prediction-powered estimates of per-query values over ``mask``
        (differences of two rankers' values when ``difference``), and the lead."""
        if self.qv is None:
            return estimates.unavailable(self.design_note, "queries")
        units = mask & np.isfinite(y)
        fm = mask & np.isfinite(f)
        st = self.labels.query_stratum
        return estimates.summarise(y[units], h[units], self.qv.inclusion[units], self.qv.labelled[units], f[fm],
                                   st[units], self.weights, self.traffic_of(units), st[fm], self.traffic_of(fm),
                                   level=self.level, bounds=bounds, unit="queries", difference=difference,
                                   audits=int(self.qv.audits[units].sum()),
                                   settled_items=int(self.qv.settled[units].sum()))

    def estimator(self) -> str:
        within = ("queries were drawn uniformly, so each is weighted by its own traffic (ratio estimator)"
                  if self.ev.unique_query else "queries were drawn in proportion to traffic, so their plain mean")
        return (f"stratified mean re-weighted to traffic with the sampler's weights of {len(self.ev.strata)} strata "
                f"(Cochran 5.6; within a stratum {within}); strata with one query borrow the variance of all "
                f"queries (strata collapsed), strata without a complete query drop out; Student-t {self.level:.0%} "
                f"intervals clipped to the measure's range; over complete queries (every pooled item labelled). "
                + estimates.ESTIMATOR)


def relabel_source(es: Elasticsearch, prefix: str, ev: scope.Evaluation, relabel_with: str) -> scope.Evaluation | None:
    """The evaluation whose labels re-score ``ev`` (None: its own)."""
    if not relabel_with:
        return None
    if relabel_with == ev.evaluation_id:
        raise InvalidArgument(FieldViolation("relabel_with", f"names {ev.name} itself; leave it empty for its own "
                                                             "labels, or name a newer evaluation of the same queries"))
    return scope.evaluation(es, prefix, relabel_with, f"re-scoring {ev.name}")


def context(cache: LabelCache, ev: scope.Evaluation, measures: list[Measure], segment_by, segments,
            confidence: float, source: scope.Evaluation | None = None) -> Context:
    seg, wanted = scope.segmentation(ev, segment_by, segments)
    level = scope.confidence(confidence)
    ls, version, state = cache.relabelled(ev, source) if source else cache.label_set(ev)
    if state["items"] == 0:
        raise FailedPrecondition(f"{(source or ev).name} has no labels yet: its consensus has not been seeded "
                                 f"(grading started moments ago); try again shortly")
    if source and not len(ls.pointwise):
        raise FailedPrecondition(f"{ev.name} has no pointwise items, so {source.name}'s labels have nothing to "
                                 f"re-score (side-by-side items judge two particular lists)")
    names = tuple(str(m) for m in measures)
    key = ("pooled", ev.evaluation_id, version, names)
    pm = cache.answer(key, lambda: per_query_values(ls.pointwise.query, ls.pointwise.label, ls.pointwise.ranks,
                                                    len(ls.query_ids), measures))
    note = estimates.design_note(ls)
    qv = None
    if not note and len(ls.pointwise):
        (qv,) = cache.answer(("ppi", ev.evaluation_id, version, names),
                             lambda: (estimates.pointwise_values(ls, measures, pm.max_grade),))
    return Context(ev, ls, version, state, pm, seg, wanted, level, qv, note, source or ev)


def partial(ctx: Context) -> tuple[bool, str]:
    """Is the report partial, and why (one sentence)."""
    doc = ctx.ev.doc
    items = len(ctx.labels.pointwise) + len(ctx.labels.sxs)
    labelled = int((ctx.labels.pointwise.source != SOURCE["none"]).sum() + (ctx.labels.sxs.source != SOURCE["none"]).sum())
    queries, complete = len(ctx.labels.query_ids), int(ctx.pm.complete.sum())
    counts = f"{labelled:,} of {items:,} items labelled, {complete:,} of {queries:,} queries complete"
    if doc["state"] == "GRADING":
        return True, f"grading goes on: {counts}"
    if labelled < items:
        message = (doc.get("completion") or {}).get("message")
        return True, message or f"completed short of full coverage: {counts}"
    return False, ""


def interval(low: float, high: float, level: float, lo: float, hi: float) -> dict:
    """An interval clipped to the range its quantity lives in (every measure lies in [0, 1])."""
    return {"low": float(np.clip(low, lo, hi)), "high": float(np.clip(high, lo, hi)), "level": level}


def _metric(ctx: Context, m: Measure, r: int, mask: np.ndarray) -> dict:
    name = str(m)
    values = ctx.pm.values[name][r]
    evaluated = mask & ctx.pm.evaluated(r)
    listed = int(ctx.pm.listed[r][mask].sum())
    judged = float(ctx.pm.labelled[r][mask].sum() / listed) if listed else 0.0
    e = ctx.estimate(values, evaluated)
    # a weighted mean of values in [0, 1] can leave it by a rounding error of the weights
    out = {"measure": name, "mean": float(np.clip(e.mean, 0.0, 1.0)), "std_error": e.std_error, "queries": e.n,
           "interval": interval(e.low, e.high, ctx.level, 0.0, 1.0),
           "judged_share": judged, "unweighted_mean": trec_mean(values[evaluated])}
    if ctx.qv is None:
        return {**out, **ctx.estimates(values, values, values, mask, (0.0, 1.0))}
    qv = ctx.qv
    return {**out, **ctx.estimates(qv.ppi[name][r], qv.human[name][r], qv.model[name][r], mask, (0.0, 1.0))}


def build(es: Elasticsearch, prefix: str, cache: LabelCache, evaluation_id: str, measures, segment_by=(),
          segments=(), confidence: float = 0.0, relabel_with: str = "") -> dict:
    """The report (see the module notes)."""
    ms = scope.measures(measures, scope.REPORT_MEASURES)
    ev = scope.evaluation(es, prefix, evaluation_id, "a report")
    ctx = context(cache, ev, ms, segment_by, segments, confidence, relabel_source(es, prefix, ev, relabel_with))
    ls = ctx.labels
    if not ctx.pm.complete.any() and not np.isfinite(ls.sxs.label).any():
        raise FailedPrecondition(f"{ctx.ev.name} has no fully labelled query yet (0 of {len(ls.query_ids):,}); "
                                 f"a report needs at least one")
    if len(ls.pointwise):  # a report's metrics are pointwise: a named segment needs a complete query
        ctx.require_named_segments(lambda mask: (ctx.pm.complete & mask).any())
    key = ("report", evaluation_id, ctx.version, tuple(map(str, ms)), tuple(segment_by), tuple(segments), ctx.level)
    body = cache.answer(key, lambda: _body(ctx, ms, lambda: votes(es, prefix, ctx.labels),
                                           lambda: lineage.label_set(es, prefix, ctx.labels, ctx.version, ctx.source)))
    is_partial, why = partial(ctx)
    work = grading.summary(es, prefix, ctx.source.evaluation_id, ctx.source.owner_team)
    agreement = body["agreement"]
    return {
        **body, "name": ctx.ev.name, "state": ctx.ev.doc["state"], "partial": is_partial, "partial_reason": why,
        "report_time": clock.now_iso(), "grading": work,
        "krippendorff_alpha": agreement.get("krippendorff_alpha", 0.0),
    }


def votes(es: Elasticsearch, prefix: str, ls: LabelSet) -> tuple:
    """The label set's vote counts; from the judgements when a human label lacks them."""
    if not ls.missing_votes:
        return ls.votes
    return grading.votes(es, prefix, ls.evaluation_id, ls.pointwise.item_id, ls.sxs.item_id)


def _body(ctx: Context, ms: list[Measure], vote_counts, label_set) -> dict:
    """What depends only on the label set and the request (kept under its version)."""
    ls = ctx.labels
    segments = []
    for key, values, share, mask in ctx.segments():
        segments.append({
            "key": key, "values": values, "traffic_share": share, "queries_sampled": int(mask.sum()),
            "rankers": [{"ranker": r, "metrics": [_metric(ctx, m, i, mask) for m in ms]}
                        for i, r in enumerate(ls.rankers)],
        })
    return {"segments": segments, "rankers": ls.rankers, "estimator": ctx.estimator(), "confidence": ctx.level,
            "coverage": coverage(ctx), "automation": automation(ls), "agreement": agreement(vote_counts()),
            "label_set": label_set()}


def coverage(ctx: Context) -> dict:
    ls = ctx.labels
    src = np.concatenate([ls.pointwise.source, ls.sxs.source])
    complete = ctx.pm.complete & (ls.query_stratum >= 0)
    covered = np.unique(ls.query_stratum[complete])
    return {
        "queries": len(ls.query_ids), "queries_complete": int(ctx.pm.complete.sum()), "items": int(src.size),
        "items_labelled": int((src != SOURCE["none"]).sum()), "items_human": int((src == SOURCE["human"]).sum()),
        "items_model": int((src == SOURCE["model"]).sum()), "items_tie": int((src == SOURCE["tie"]).sum()),
        "traffic_covered": float(ctx.weights[covered].sum()),
    }


def automation(ls: LabelSet) -> dict:
    """Automation rate and model–human agreement on the audit share, overall and per locale.

    An item was settled by the model if it carries the model's label and was not audited;
    audited items are the model's too, checked by humans: agreement is the share of the judged
    ones whose human consensus equals the model's label (the sign of the preference for SxS).
    """
    rows = []
    for kind in (ls.pointwise, ls.sxs):
        if not len(kind):
            continue
        human = kind.source == SOURCE["human"]
        model = kind.source == SOURCE["model"]
        if kind is ls.pointwise:
            agree = np.rint(kind.model_label) == kind.label
        else:
            agree = np.sign(np.nan_to_num(kind.model_label)) == np.sign(np.nan_to_num(kind.label))
        rows.append((kind.locale, model & ~kind.audit, kind.audit, kind.audit & human, kind.audit & human & agree))
    loc = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, int)
    cols = [np.concatenate([r[i] for r in rows]) if rows else np.zeros(0, bool) for i in range(1, 5)]

    def summary(mask) -> dict:
        settled, audit, judged, agree = (int(c[mask].sum()) for c in cols)
        out = {"auto_judged": settled + audit, "audit": audit, "audit_judged": judged,
               "automation_rate": settled / int(mask.sum()) if mask.any() else 0.0}
        if judged:
            out["agreement"] = agree / judged
        return out

    top = summary(np.ones(loc.size, bool))
    top["locales"] = []
    for i, name in enumerate(ls.locales):
        mask = loc == i
        if mask.any():
            top["locales"].append({"locale": name, "items": int(mask.sum()), **summary(mask)})
    return top


def agreement(vote_counts: tuple) -> dict:
    """Krippendorff's alpha over the items' vote counts, columns ``(kind, row, value, count)``:
    ordinal for grades, interval for preferences."""
    kind, row, value, count = vote_counts
    out: dict = {}
    for k, level, suffix in ((0, "ordinal", ""), (1, "interval", "_sxs")):
        sel = kind == k
        r = alpha_from_votes(row[sel], value[sel], count[sel], level)
        out[f"units{suffix}"] = r.units
        if suffix == "":
            out["judgements"] = r.judgements
        if r.alpha is not None:
            out[f"krippendorff_alpha{suffix}"] = r.alpha
    return out


def seed_of(*parts) -> int:
    """A seed from the request and the label-set version: the same labels give the same p-values."""
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")
