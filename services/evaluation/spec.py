"""The evaluation request as the domain sees it, and its static validation.

``from_proto`` translates the API message (field paths in violations use the API's names,
e.g. ``evaluation.spec.depth``); everything after works on these dataclasses. Checks that
need the data (does the index, field, bucket exist?) live in ``services.evaluation.checks``.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from google.protobuf import json_format

from evaluators.metrics.registry import parse_measure
from services._proto.qrelay.v1 import common_pb2, evaluation_pb2
from services.aip import MAX_KEYWORD, time_of
from services.core.errors import InvalidArgument, Violations

MAX_DEPTH = 100
DEFAULT_DEPTH = 10
MAX_SAMPLE = 100_000
DEFAULT_BANDS = ("head", "torso", "tail")
P = "evaluation.spec"
MAX_RECURRENCE_S = 366 * 86400
DEFAULT_ALERT_MEASURES = ("ndcg_cut_10",)
DEFAULT_BASELINE_SNAPSHOTS = 4
MAX_BASELINE_SNAPSHOTS = 52
DEFAULT_ALERT_ALPHA = 0.05
MAX_URL = 2048
DEFAULT_STOP_RULE = "SIGN_OR_EQUIVALENCE"  # the StoppingRule an unset rule means


@dataclass(frozen=True)
class TemplateRanker:
    index: str
    source: str
    params: dict[str, str] = field(default_factory=dict)
    title_field: str = "title"
    snippet_field: str = "snippet"
    url_field: str = "url"


@dataclass(frozen=True)
class Ranker:
    id: str
    bucket: str | None = None
    template: TemplateRanker | None = None


@dataclass(frozen=True)
class Plan:
    size: int
    traffic_weighted: bool
    band_mode: str | None  # "traffic_share" | "count_quantiles" | None
    cut_points: tuple[float, ...]
    band_names: tuple[str, ...]
    stratify_by: tuple[str, ...]
    fixed_counts: dict[str, int] | None
    min_frequency: int
    seed: int


@dataclass(frozen=True)
class Recurrence:
    """Re-create every ``every_s`` seconds over the ``window_s`` seconds of logs ending at each run."""

    every_s: float
    window_s: float


@dataclass(frozen=True)
class Alerting:
    """Watch ``measures`` against the last ``baseline_snapshots`` snapshots of the series."""

    measures: tuple[str, ...]
    baseline_snapshots: int
    min_drop: float
    webhook_url: str
    alpha: float


@dataclass(frozen=True)
class Spec:
    display_name: str
    index_pattern: str
    start: dt.datetime
    end: dt.datetime
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    rankers: tuple[Ranker, ...]
    pointwise: bool
    side_by_side: bool
    depth: int
    overlap: int
    gold_share: float
    plan: Plan
    priority: int
    deadline: dt.datetime | None
    owner_team: str
    recurrence: Recurrence | None = None
    alerting: Alerting | None = None
    # issue 12: graders get whole queries in a seeded random order within strata (else: items at random)
    query_complete: bool = True
    # issue 12: stop grading once the headline decision is clear (see EvaluationSpec.stopping)
    early_stop: bool = True
    min_effect: float = 0.0
    stop_rule: str = DEFAULT_STOP_RULE  # a StoppingRule name; which question the early stop answers

    @property
    def kinds(self) -> list[str]:
        return [k for k, on in (("pointwise", self.pointwise), ("side_by_side", self.side_by_side)) if on]


def to_json(evaluation: evaluation_pb2.Evaluation) -> dict:
    """The stored form of what was asked (proto JSON of display name + spec)."""
    return json_format.MessageToDict(evaluation.spec, preserving_proto_field_name=True)


def proto_from_json(stored: dict) -> evaluation_pb2.EvaluationSpec:
    return json_format.ParseDict(stored, evaluation_pb2.EvaluationSpec(), ignore_unknown_fields=True)


def from_proto(display_name: str, s: evaluation_pb2.EvaluationSpec, min_recurrence_s: float = 0.0) -> Spec:
    """Validate and translate; raises ``InvalidArgument`` listing every bad field at once.

    ``min_recurrence_s``: the shortest ``recurrence.every`` accepted (CreateEvaluation passes the
    configured hour; re-reading a stored spec passes nothing)."""
    v = Violations()
    src = s.log_source
    v.check(bool(src.index_pattern.strip()), f"{P}.log_source.index_pattern", "required (an index name or pattern)")
    start = end = None
    if v.check(src.window.HasField("start_time") and src.window.HasField("end_time"),
               f"{P}.log_source.window", "start_time and end_time are required"):
        try:
            start = time_of(src.window.start_time, f"{P}.log_source.window.start_time")
            end = time_of(src.window.end_time, f"{P}.log_source.window.end_time")
        except InvalidArgument as exc:
            v.items.extend(exc.violations)
            start = end = dt.datetime.now(dt.timezone.utc)
        v.check(start < end, f"{P}.log_source.window", "the time window is empty: end_time must be after start_time")
    filters = []
    for i, f in enumerate(src.filters):
        v.check(bool(f.field.strip()), f"{P}.log_source.filters[{i}].field", "required")
        v.check(len(f.values) > 0, f"{P}.log_source.filters[{i}].values", "at least one value")
        filters.append((f.field, tuple(f.values)))

    rankers = []
    seen = set()
    v.check(len(s.rankers) > 0, f"{P}.rankers", "at least one ranker")
    for i, r in enumerate(s.rankers):
        path = f"{P}.rankers[{i}]"
        ok = v.check(bool(r.id.strip()), f"{path}.id", "required")
        if ok and not v.check(r.id not in seen, f"{path}.id", f"duplicate ranker id {r.id!r}"):
            continue
        seen.add(r.id)
        which = r.WhichOneof("source")
        if which == "log_bucket":
            v.check(bool(r.log_bucket.bucket), f"{path}.log_bucket.bucket", "required")
            rankers.append(Ranker(r.id, bucket=r.log_bucket.bucket))
        elif which == "search_template":
            t = r.search_template
            v.check(bool(t.index), f"{path}.search_template.index", "required")
            v.check(bool(t.source.strip()), f"{path}.search_template.source", "required")
            rankers.append(Ranker(r.id, template=TemplateRanker(
                t.index, t.source, dict(t.params), t.title_field or "title", t.snippet_field or "snippet", t.url_field or "url")))
        else:
            v.add(f"{path}.source", "set log_bucket or search_template")

    kinds = set(s.kinds)
    v.check(bool(kinds), f"{P}.kinds", "at least one of POINTWISE, SIDE_BY_SIDE")
    v.check(kinds <= set(common_pb2.JudgementKind.values()), f"{P}.kinds", "only POINTWISE and SIDE_BY_SIDE")
    v.check(common_pb2.JUDGEMENT_KIND_UNSPECIFIED not in kinds, f"{P}.kinds", "JUDGEMENT_KIND_UNSPECIFIED is not a kind")
    side_by_side = common_pb2.SIDE_BY_SIDE in kinds
    if side_by_side:
        v.check(len(s.rankers) >= 2, f"{P}.rankers", "side by side needs at least two rankers")
    depth = s.depth if s.HasField("depth") else DEFAULT_DEPTH
    overlap = s.overlap if s.HasField("overlap") else 1
    v.check(1 <= depth <= MAX_DEPTH, f"{P}.depth", f"must be in 1..{MAX_DEPTH}, got {depth}")
    v.check(overlap >= 1, f"{P}.overlap", f"must be at least 1, got {overlap}")
    v.check(math.isfinite(s.gold_share) and 0 <= s.gold_share <= 0.5, f"{P}.gold_share", "must be in [0, 0.5]")
    v.check(0 <= s.priority <= 100, f"{P}.priority", "must be in 0..100")
    v.check(len(s.owner_team) <= MAX_KEYWORD, f"{P}.owner_team", f"at most {MAX_KEYWORD} characters")

    deadline = None
    if s.HasField("deadline"):
        try:
            deadline = time_of(s.deadline, f"{P}.deadline")
        except InvalidArgument as exc:
            v.items.extend(exc.violations)
    plan = _plan(s.sample_plan, v)
    recurrence = _recurrence(s.recurrence, v, min_recurrence_s) if s.HasField("recurrence") else None
    alerting = _alerting(s.alerting, v) if s.HasField("alerting") else None
    min_effect = s.stopping.min_effect
    stop_rule = _stop_rule(s.stopping.rule, v)
    if v.check(math.isfinite(min_effect) and 0 <= min_effect < 1, f"{P}.stopping.min_effect",
               f"must be finite and in [0, 1) in the headline measure's units (e.g. 0.01 of NDCG@10), "
               f"got {min_effect}"):
        if problem := stop_rule_problem(stop_rule, min_effect):
            v.add(f"{P}.stopping.min_effect", problem)
    v.check(s.grading_order in evaluation_pb2.GradingOrder.values(), f"{P}.grading_order",
            f"unknown grading order {s.grading_order}")
    v.raise_if_any()
    return Spec(
        display_name=display_name, index_pattern=src.index_pattern.strip(), start=start, end=end,
        filters=tuple(filters), rankers=tuple(rankers),
        pointwise=common_pb2.POINTWISE in kinds, side_by_side=side_by_side,
        depth=depth, overlap=overlap, gold_share=s.gold_share, plan=plan,
        priority=s.priority or 50,
        deadline=deadline,
        owner_team=s.owner_team, recurrence=recurrence, alerting=alerting,
        query_complete=s.grading_order != evaluation_pb2.ITEM_RANDOM,
        early_stop=not s.stopping.grade_everything, min_effect=float(min_effect), stop_rule=stop_rule,
    )


def stop_rule_problem(rule: str, min_effect: float) -> str | None:
    """What is wrong with ``min_effect`` under the StoppingRule ``rule`` (None: nothing), one
    sentence; its range is checked beside it.

    >>> stop_rule_problem("EXCLUDES_MIN_EFFECT", 0.0)
    'must be above 0 with the EXCLUDES_MIN_EFFECT rule: the gain the candidate must show (e.g. 0.01 of NDCG@10)'
    """
    if rule == "EXCLUDES_MIN_EFFECT" and not min_effect > 0:
        return ("must be above 0 with the EXCLUDES_MIN_EFFECT rule: the gain the candidate must show "
                "(e.g. 0.01 of NDCG@10)")
    return None


def _stop_rule(value: int, v: Violations) -> str:
    """The stopping rule's name (unset: the default), or a violation for a number the contract lacks."""
    if value not in evaluation_pb2.StoppingRule.values():
        v.add(f"{P}.stopping.rule", f"unknown stopping rule {value}; one of "
                                    f"{', '.join(evaluation_pb2.StoppingRule.keys()[1:])}")
        return DEFAULT_STOP_RULE
    name = evaluation_pb2.StoppingRule.Name(value)
    return DEFAULT_STOP_RULE if name == "STOPPING_RULE_UNSPECIFIED" else name


def _seconds(d) -> float:
    return d.seconds + d.nanos / 1e9


def _recurrence(r: evaluation_pb2.Recurrence, v: Violations, min_every_s: float) -> Recurrence:
    path = f"{P}.recurrence"
    every = _seconds(r.every)
    window = _seconds(r.window) if r.HasField("window") else every
    floor = max(min_every_s, 1.0)
    v.check(floor <= every <= MAX_RECURRENCE_S, f"{path}.every",
            f"must be between {_duration(floor)} and 366 days, got {every:g} s")
    v.check(0 < window <= MAX_RECURRENCE_S, f"{path}.window", f"must be positive and at most 366 days, got {window:g} s")
    return Recurrence(every, window)


def _duration(s: float) -> str:
    """A duration as a person writes it.

    >>> _duration(3600), _duration(90), _duration(2)
    ('1 h', '90 s', '2 s')
    """
    return f"{s / 3600:g} h" if s >= 3600 and s % 3600 == 0 else f"{s:g} s"


def _alerting(a: evaluation_pb2.Alerting, v: Violations) -> Alerting:
    path = f"{P}.alerting"
    measures = []
    for i, name in enumerate(a.measures or DEFAULT_ALERT_MEASURES):
        try:
            parsed = parse_measure(name)
        except ValueError as exc:
            v.add(f"{path}.measures[{i}]", str(exc))
            continue
        if v.check(len(parsed) == 1, f"{path}.measures[{i}]", f"{name!r} names {len(parsed)} measures; give one cutoff, "
                   f"e.g. {parsed[0]}"):
            measures.append(str(parsed[0]))
    n = a.baseline_snapshots or DEFAULT_BASELINE_SNAPSHOTS
    v.check(1 <= n <= MAX_BASELINE_SNAPSHOTS, f"{path}.baseline_snapshots", f"must be in 1..{MAX_BASELINE_SNAPSHOTS}")
    v.check(math.isfinite(a.min_drop) and a.min_drop >= 0, f"{path}.min_drop", "must be a non-negative number")
    alpha = a.alpha or DEFAULT_ALERT_ALPHA
    v.check(0 < alpha < 0.5, f"{path}.alpha", "must lie strictly between 0 and 0.5")
    url = a.webhook_url.strip()
    why = webhook_url_problem(url) if url else None
    v.check(why is None, f"{path}.webhook_url", why or "")
    return Alerting(tuple(dict.fromkeys(measures)), n, a.min_drop, url, alpha)


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook (None when it can): an absolute http(s) URL with a host.

    >>> webhook_url_problem("https://hooks.example.com/qrelay?team=mx") is None
    True
    >>> webhook_url_problem("hooks.example.com/x")
    "is not an absolute http(s) URL: 'hooks.example.com/x'"
    """
    if len(url) > MAX_URL:
        return f"at most {MAX_URL} characters"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"is not an absolute http(s) URL: {url!r}"
    return None


def _plan(p: evaluation_pb2.SamplePlan, v: Violations) -> Plan | None:
    path = f"{P}.sample_plan"
    v.check(p.allocation in evaluation_pb2.Allocation.values(), f"{path}.allocation", "PROPORTIONAL or FIXED")
    v.check(p.unit in evaluation_pb2.SamplingUnit.values(), f"{path}.unit", "TRAFFIC_WEIGHTED or UNIQUE_QUERY")
    fixed = p.allocation == evaluation_pb2.FIXED or (
        p.allocation == evaluation_pb2.ALLOCATION_UNSPECIFIED and len(p.fixed_counts) > 0)
    if fixed:
        v.check(len(p.fixed_counts) > 0, f"{path}.fixed_counts", "FIXED allocation needs counts per stratum")
        v.check(all(c >= 0 for c in p.fixed_counts.values()), f"{path}.fixed_counts", "counts must be non-negative")
        size = sum(p.fixed_counts.values())
        v.check(p.size in (0, size), f"{path}.size", f"is {p.size} but fixed_counts add up to {size}")
    else:
        size = p.size
        v.check(p.size > 0, f"{path}.size", "must be positive")
    v.check(size <= MAX_SAMPLE, f"{path}.size", f"at most {MAX_SAMPLE} queries per evaluation")
    v.check(p.min_frequency >= 0, f"{path}.min_frequency", "must be non-negative")
    mode = p.bands.WhichOneof("cuts") if p.HasField("bands") else None
    cuts: tuple[float, ...] = ()
    names: tuple[str, ...] = ()
    if mode:
        cuts = tuple(getattr(p.bands, mode).points)
        if v.check(len(cuts) > 0 and all(0 < c < 1 for c in cuts), f"{path}.bands.{mode}.points",
                   "at least one cut point, each strictly between 0 and 1"):
            inc = all(a < b for a, b in zip(cuts, cuts[1:]))
            dec = all(a > b for a, b in zip(cuts, cuts[1:]))
            v.check(inc if mode == "traffic_share" else dec, f"{path}.bands.{mode}.points",
                    "must increase" if mode == "traffic_share" else "must decrease (head first), e.g. [0.99, 0.9]")
        names = tuple(p.bands.names) or (DEFAULT_BANDS if len(cuts) == 2 else tuple(f"band{i}" for i in range(len(cuts) + 1)))
        v.check(len(names) == len(cuts) + 1, f"{path}.bands.names", f"needs {len(cuts) + 1} names for {len(cuts)} cut points")
        v.check(len(set(names)) == len(names), f"{path}.bands.names", "names must be distinct")
    stratify = tuple(p.stratify_by)
    v.check(len(set(stratify)) == len(stratify), f"{path}.stratify_by", "fields must be distinct")
    v.check(all(f.strip() for f in stratify), f"{path}.stratify_by", "field names must not be empty")
    return Plan(
        size=size, traffic_weighted=p.unit != evaluation_pb2.UNIQUE_QUERY, band_mode=mode, cut_points=cuts,
        band_names=names, stratify_by=stratify, fixed_counts=dict(p.fixed_counts) if fixed else None,
        min_frequency=p.min_frequency, seed=p.seed,
    )
