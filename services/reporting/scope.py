"""What a report, comparison or export request is about, checked once: the evaluation (it exists,
and is in a state that has labels), the measures, the segment fields and segments, the
confidence level. Every bad input is one sentence with the right code."""
from __future__ import annotations

import math
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from evaluators.metrics.registry import REGISTRY, Measure, parse_measure
from evaluators.reporting import parse_segment_key, parse_stratum, segment, stratum_fields
from evaluators.reporting.segments import Segmentation
from services.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, Violations
from services.evaluation.spec import from_proto, proto_from_json
from services.store import evaluations

REPORT_MEASURES = ("ndcg_cut_10", "P_10", "recip_rank", "map")
COMPARE_MEASURES = ("ndcg_cut_10",)
DEFAULT_CONFIDENCE = 0.95
LABELLED_STATES = ("GRADING", "COMPLETE")
EXAMPLES = "ndcg_cut_10, P_10, recip_rank, map, err_cut_10, ndcg_exp_cut_10, recall_10, Rprec, judged_10"


@dataclass
class Evaluation:
    """The stored evaluation as a report sees it."""

    evaluation_id: str
    doc: dict
    rankers: list[str]
    strata: list[dict]  # key, weight, population_queries, population_traffic, sampled
    fields: list[str]  # what a stratum key names: band (with bands), then each stratify-by field
    unique_query: bool  # queries drawn uniformly within strata (weight each by its traffic)
    owner_team: str

    @property
    def name(self) -> str:
        return f"evaluations/{self.evaluation_id}"

    @property
    def strata_keys(self) -> list[str]:
        return [s["key"] for s in self.strata]

    @property
    def weights(self) -> list[float]:
        return [float(s.get("weight") or 0.0) for s in self.strata]

    def stratum_values(self) -> list[dict[str, str]]:
        return [parse_stratum(k, self.fields) for k in self.strata_keys]


def evaluation(es: Elasticsearch, prefix: str, evaluation_id: str, what: str = "a report") -> Evaluation:
    """The evaluation, if it has labels to report: NOT_FOUND, or FAILED_PRECONDITION naming its state."""
    doc = evaluations.get(es, prefix, evaluation_id)
    state = doc["state"]
    name = f"evaluations/{evaluation_id}"
    if state in ("CANCELLED", "FAILED"):
        why = f" ({doc['state_reason']})" if doc.get("state_reason") else ""
        raise FailedPrecondition(f"{name} is {state}{why}, so it has no labels for {what}")
    if state not in LABELLED_STATES:
        raise FailedPrecondition(f"{name} is {state}; {what} is available once grading starts (GRADING or COMPLETE)")
    spec = from_proto(doc.get("display_name", ""), proto_from_json(doc.get("spec") or {}))
    strata = [s for s in doc.get("strata") or [] if s.get("key")]
    fields = stratum_fields(spec.plan.band_mode is not None, spec.plan.stratify_by) if strata else []
    if not strata:  # produced without strata: every query in one stratum of all traffic
        strata = [{"key": "all", "weight": 1.0}]
    return Evaluation(evaluation_id, doc, [r.id for r in spec.rankers], strata, fields,
                      not spec.plan.traffic_weighted, spec.owner_team)


def measures(texts, default, field: str = "measures") -> list[Measure]:
    """Measures in the order asked (cutoff families expand), duplicates merged; INVALID_ARGUMENT
    listing every unknown one and the valid names."""
    v = Violations()
    out: list[Measure] = []
    for i, text in enumerate(list(texts) or list(default)):
        try:
            ms = parse_measure(text)
        except ValueError as exc:
            msg = str(exc).split(" (known:")[0]
            v.add(f"{field}[{i}]", f"{msg}; valid measures: {', '.join(REGISTRY)} (a cutoff as name_k or name.k, "
                                   f"e.g. {EXAMPLES})")
            continue
        out += [m for m in ms if m not in out]
    v.raise_if_any()
    return out


def confidence(value: float) -> float:
    if value == 0:
        return DEFAULT_CONFIDENCE
    if not (math.isfinite(value) and 0 < value < 1):
        raise InvalidArgument(FieldViolation("confidence", f"must lie strictly between 0 and 1 (e.g. 0.95), got {value}"))
    return float(value)


def segmentation(ev: Evaluation, segment_by, segments) -> tuple[Segmentation | None, list[int] | None]:
    """The segmentation asked for (None: overall only) and, when ``segments`` names some, their
    indices. Without ``segment_by``, the fields of the named segments are used."""
    segment_by, segments = list(segment_by), list(segments)
    v = Violations()
    parsed = []
    for i, key in enumerate(segments):
        try:
            parsed.append(parse_segment_key(key))
        except ValueError as exc:
            v.add(f"segments[{i}]", str(exc))
    v.raise_if_any()
    if not segment_by and parsed:
        segment_by = [f for f, _ in parsed[0]]
    can = ", ".join(ev.fields)
    for i, f in enumerate(segment_by):
        if f not in ev.fields:
            why = (f"it can be segmented by {can}" if ev.fields else
                   "it was sampled without bands or stratify-by fields, so it is reported overall only")
            v.add(f"segment_by[{i}]", f"{f!r} is not a field {ev.name} was stratified by; {why}")
        elif f in segment_by[:i]:
            v.add(f"segment_by[{i}]", f"{f!r} is named twice")
    v.raise_if_any()
    if not segment_by:
        return None, None
    seg = segment(ev.stratum_values(), ev.weights, segment_by)
    if not segments:
        return seg, None
    wanted = []
    for i, fields in enumerate(parsed):
        key = ",".join(f"{f}={x}" for f, x in fields)
        if [f for f, _ in fields] != segment_by:
            v.add(f"segments[{i}]", f"{key!r} must name the fields {', '.join(segment_by)} in that order")
        elif key not in seg.keys:
            v.add(f"segments[{i}]", f"{key!r} is not a segment of {ev.name}; its segments by {', '.join(segment_by)} "
                                    f"are {', '.join(seg.keys)}")
        else:
            wanted.append(seg.keys.index(key))
    v.raise_if_any()
    return seg, wanted
