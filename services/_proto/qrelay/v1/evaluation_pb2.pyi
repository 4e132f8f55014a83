import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services._proto.qrelay.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EvaluationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVALUATION_STATE_UNSPECIFIED: _ClassVar[EvaluationState]
    PENDING: _ClassVar[EvaluationState]
    PRODUCING: _ClassVar[EvaluationState]
    PREJUDGING: _ClassVar[EvaluationState]
    GRADING: _ClassVar[EvaluationState]
    COMPLETE: _ClassVar[EvaluationState]
    CANCELLED: _ClassVar[EvaluationState]
    FAILED: _ClassVar[EvaluationState]

class CompletionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPLETION_REASON_UNSPECIFIED: _ClassVar[CompletionReason]
    ALL_JUDGED: _ClassVar[CompletionReason]
    DEADLINE_PASSED: _ClassVar[CompletionReason]
    NOTHING_TO_JUDGE: _ClassVar[CompletionReason]
    DECISION_REACHED: _ClassVar[CompletionReason]

class CalibrationSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALIBRATION_SOURCE_UNSPECIFIED: _ClassVar[CalibrationSource]
    PRIOR: _ClassVar[CalibrationSource]
    EARLIER_EVALUATIONS: _ClassVar[CalibrationSource]
    WITHIN_EVALUATION: _ClassVar[CalibrationSource]

class StoppingRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOPPING_RULE_UNSPECIFIED: _ClassVar[StoppingRule]
    SIGN_OR_EQUIVALENCE: _ClassVar[StoppingRule]
    EXCLUDES_MIN_EFFECT: _ClassVar[StoppingRule]

class GradingOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADING_ORDER_UNSPECIFIED: _ClassVar[GradingOrder]
    QUERY_COMPLETE: _ClassVar[GradingOrder]
    ITEM_RANDOM: _ClassVar[GradingOrder]

class SamplingUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAMPLING_UNIT_UNSPECIFIED: _ClassVar[SamplingUnit]
    TRAFFIC_WEIGHTED: _ClassVar[SamplingUnit]
    UNIQUE_QUERY: _ClassVar[SamplingUnit]

class Allocation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALLOCATION_UNSPECIFIED: _ClassVar[Allocation]
    PROPORTIONAL: _ClassVar[Allocation]
    FIXED: _ClassVar[Allocation]
EVALUATION_STATE_UNSPECIFIED: EvaluationState
PENDING: EvaluationState
PRODUCING: EvaluationState
PREJUDGING: EvaluationState
GRADING: EvaluationState
COMPLETE: EvaluationState
CANCELLED: EvaluationState
FAILED: EvaluationState
COMPLETION_REASON_UNSPECIFIED: CompletionReason
ALL_JUDGED: CompletionReason
DEADLINE_PASSED: CompletionReason
NOTHING_TO_JUDGE: CompletionReason
DECISION_REACHED: CompletionReason
CALIBRATION_SOURCE_UNSPECIFIED: CalibrationSource
PRIOR: CalibrationSource
EARLIER_EVALUATIONS: CalibrationSource
WITHIN_EVALUATION: CalibrationSource
STOPPING_RULE_UNSPECIFIED: StoppingRule
SIGN_OR_EQUIVALENCE: StoppingRule
EXCLUDES_MIN_EFFECT: StoppingRule
GRADING_ORDER_UNSPECIFIED: GradingOrder
QUERY_COMPLETE: GradingOrder
ITEM_RANDOM: GradingOrder
SAMPLING_UNIT_UNSPECIFIED: SamplingUnit
TRAFFIC_WEIGHTED: SamplingUnit
UNIQUE_QUERY: SamplingUnit
ALLOCATION_UNSPECIFIED: Allocation
PROPORTIONAL: Allocation
FIXED: Allocation

class Evaluation(_message.Message):
    __slots__ = ("name", "display_name", "spec", "state", "state_reason", "counts", "strata", "creator", "create_time", "update_time", "automation", "grading", "completion", "series", "next_run_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    STRATA_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    GRADING_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    spec: EvaluationSpec
    state: EvaluationState
    state_reason: str
    counts: EvaluationCounts
    strata: _containers.RepeatedCompositeFieldContainer[Stratum]
    creator: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    automation: Automation
    grading: GradingProgress
    completion: Completion
    series: str
    next_run_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., spec: _Optional[_Union[EvaluationSpec, _Mapping]] = ..., state: _Optional[_Union[EvaluationState, str]] = ..., state_reason: _Optional[str] = ..., counts: _Optional[_Union[EvaluationCounts, _Mapping]] = ..., strata: _Optional[_Iterable[_Union[Stratum, _Mapping]]] = ..., creator: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., automation: _Optional[_Union[Automation, _Mapping]] = ..., grading: _Optional[_Union[GradingProgress, _Mapping]] = ..., completion: _Optional[_Union[Completion, _Mapping]] = ..., series: _Optional[str] = ..., next_run_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GradingProgress(_message.Message):
    __slots__ = ("items_for_humans", "items_done", "judgements_wanted", "judgements", "judgements_per_minute", "eta", "labelled_share", "items", "items_labelled")
    ITEMS_FOR_HUMANS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_WANTED_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    LABELLED_SHARE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_LABELLED_FIELD_NUMBER: _ClassVar[int]
    items_for_humans: int
    items_done: int
    judgements_wanted: int
    judgements: int
    judgements_per_minute: float
    eta: _timestamp_pb2.Timestamp
    labelled_share: float
    items: int
    items_labelled: int
    def __init__(self, items_for_humans: _Optional[int] = ..., items_done: _Optional[int] = ..., judgements_wanted: _Optional[int] = ..., judgements: _Optional[int] = ..., judgements_per_minute: _Optional[float] = ..., eta: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labelled_share: _Optional[float] = ..., items: _Optional[int] = ..., items_labelled: _Optional[int] = ...) -> None: ...

class Completion(_message.Message):
    __slots__ = ("reason", "coverage", "human_coverage", "message", "complete_time", "items", "items_labelled", "items_for_humans", "items_done", "decision", "decided_queries", "decided_interval")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    HUMAN_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_LABELLED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FOR_HUMANS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    DECIDED_QUERIES_FIELD_NUMBER: _ClassVar[int]
    DECIDED_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    reason: CompletionReason
    coverage: float
    human_coverage: float
    message: str
    complete_time: _timestamp_pb2.Timestamp
    items: int
    items_labelled: int
    items_for_humans: int
    items_done: int
    decision: str
    decided_queries: int
    decided_interval: _common_pb2.Interval
    def __init__(self, reason: _Optional[_Union[CompletionReason, str]] = ..., coverage: _Optional[float] = ..., human_coverage: _Optional[float] = ..., message: _Optional[str] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., items: _Optional[int] = ..., items_labelled: _Optional[int] = ..., items_for_humans: _Optional[int] = ..., items_done: _Optional[int] = ..., decision: _Optional[str] = ..., decided_queries: _Optional[int] = ..., decided_interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ...) -> None: ...

class Recurrence(_message.Message):
    __slots__ = ("every", "window")
    EVERY_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    every: _duration_pb2.Duration
    window: _duration_pb2.Duration
    def __init__(self, every: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Alerting(_message.Message):
    __slots__ = ("measures", "baseline_snapshots", "min_drop", "webhook_url", "alpha")
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    BASELINE_SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    MIN_DROP_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_URL_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    measures: _containers.RepeatedScalarFieldContainer[str]
    baseline_snapshots: int
    min_drop: float
    webhook_url: str
    alpha: float
    def __init__(self, measures: _Optional[_Iterable[str]] = ..., baseline_snapshots: _Optional[int] = ..., min_drop: _Optional[float] = ..., webhook_url: _Optional[str] = ..., alpha: _Optional[float] = ...) -> None: ...

class Automation(_message.Message):
    __slots__ = ("model", "model_version", "threshold", "automation_rate", "auto_judged", "audit", "locales", "calibration", "calibration_sample", "audit_share", "scored", "streaming")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_RATE_FIELD_NUMBER: _ClassVar[int]
    AUTO_JUDGED_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SHARE_FIELD_NUMBER: _ClassVar[int]
    SCORED_FIELD_NUMBER: _ClassVar[int]
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    model: str
    model_version: str
    threshold: float
    automation_rate: float
    auto_judged: int
    audit: int
    locales: _containers.RepeatedCompositeFieldContainer[LocaleAutomation]
    calibration: Calibration
    calibration_sample: CalibrationSample
    audit_share: float
    scored: int
    streaming: bool
    def __init__(self, model: _Optional[str] = ..., model_version: _Optional[str] = ..., threshold: _Optional[float] = ..., automation_rate: _Optional[float] = ..., auto_judged: _Optional[int] = ..., audit: _Optional[int] = ..., locales: _Optional[_Iterable[_Union[LocaleAutomation, _Mapping]]] = ..., calibration: _Optional[_Union[Calibration, _Mapping]] = ..., calibration_sample: _Optional[_Union[CalibrationSample, _Mapping]] = ..., audit_share: _Optional[float] = ..., scored: _Optional[int] = ..., streaming: _Optional[bool] = ...) -> None: ...

class Calibration(_message.Message):
    __slots__ = ("source", "labels", "heldout_labels", "heldout_agreement", "heldout_alpha", "heldout_ece", "learner", "features", "fit_time", "fits")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    HELDOUT_LABELS_FIELD_NUMBER: _ClassVar[int]
    HELDOUT_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    HELDOUT_ALPHA_FIELD_NUMBER: _ClassVar[int]
    HELDOUT_ECE_FIELD_NUMBER: _ClassVar[int]
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FIT_TIME_FIELD_NUMBER: _ClassVar[int]
    FITS_FIELD_NUMBER: _ClassVar[int]
    source: CalibrationSource
    labels: int
    heldout_labels: int
    heldout_agreement: float
    heldout_alpha: float
    heldout_ece: float
    learner: str
    features: _containers.RepeatedScalarFieldContainer[str]
    fit_time: _timestamp_pb2.Timestamp
    fits: int
    def __init__(self, source: _Optional[_Union[CalibrationSource, str]] = ..., labels: _Optional[int] = ..., heldout_labels: _Optional[int] = ..., heldout_agreement: _Optional[float] = ..., heldout_alpha: _Optional[float] = ..., heldout_ece: _Optional[float] = ..., learner: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., fit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fits: _Optional[int] = ...) -> None: ...

class CalibrationSample(_message.Message):
    __slots__ = ("items", "labelled", "complete")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    LABELLED_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    items: int
    labelled: int
    complete: bool
    def __init__(self, items: _Optional[int] = ..., labelled: _Optional[int] = ..., complete: _Optional[bool] = ...) -> None: ...

class LocaleAutomation(_message.Message):
    __slots__ = ("locale", "items", "auto_judged", "audit", "automation_rate", "audit_judged", "agreement", "calibration_source", "calibration_labels", "heldout_agreement")
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    AUTO_JUDGED_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_RATE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_JUDGED_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_LABELS_FIELD_NUMBER: _ClassVar[int]
    HELDOUT_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    locale: str
    items: int
    auto_judged: int
    audit: int
    automation_rate: float
    audit_judged: int
    agreement: float
    calibration_source: CalibrationSource
    calibration_labels: int
    heldout_agreement: float
    def __init__(self, locale: _Optional[str] = ..., items: _Optional[int] = ..., auto_judged: _Optional[int] = ..., audit: _Optional[int] = ..., automation_rate: _Optional[float] = ..., audit_judged: _Optional[int] = ..., agreement: _Optional[float] = ..., calibration_source: _Optional[_Union[CalibrationSource, str]] = ..., calibration_labels: _Optional[int] = ..., heldout_agreement: _Optional[float] = ...) -> None: ...

class EvaluationSpec(_message.Message):
    __slots__ = ("log_source", "rankers", "kinds", "depth", "overlap", "gold_share", "sample_plan", "priority", "deadline", "owner_team", "recurrence", "alerting", "stopping", "grading_order")
    LOG_SOURCE_FIELD_NUMBER: _ClassVar[int]
    RANKERS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_FIELD_NUMBER: _ClassVar[int]
    GOLD_SHARE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_PLAN_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OWNER_TEAM_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    ALERTING_FIELD_NUMBER: _ClassVar[int]
    STOPPING_FIELD_NUMBER: _ClassVar[int]
    GRADING_ORDER_FIELD_NUMBER: _ClassVar[int]
    log_source: LogSource
    rankers: _containers.RepeatedCompositeFieldContainer[Ranker]
    kinds: _containers.RepeatedScalarFieldContainer[_common_pb2.JudgementKind]
    depth: int
    overlap: int
    gold_share: float
    sample_plan: SamplePlan
    priority: int
    deadline: _timestamp_pb2.Timestamp
    owner_team: str
    recurrence: Recurrence
    alerting: Alerting
    stopping: Stopping
    grading_order: GradingOrder
    def __init__(self, log_source: _Optional[_Union[LogSource, _Mapping]] = ..., rankers: _Optional[_Iterable[_Union[Ranker, _Mapping]]] = ..., kinds: _Optional[_Iterable[_Union[_common_pb2.JudgementKind, str]]] = ..., depth: _Optional[int] = ..., overlap: _Optional[int] = ..., gold_share: _Optional[float] = ..., sample_plan: _Optional[_Union[SamplePlan, _Mapping]] = ..., priority: _Optional[int] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_team: _Optional[str] = ..., recurrence: _Optional[_Union[Recurrence, _Mapping]] = ..., alerting: _Optional[_Union[Alerting, _Mapping]] = ..., stopping: _Optional[_Union[Stopping, _Mapping]] = ..., grading_order: _Optional[_Union[GradingOrder, str]] = ...) -> None: ...

class Stopping(_message.Message):
    __slots__ = ("min_effect", "grade_everything", "rule")
    MIN_EFFECT_FIELD_NUMBER: _ClassVar[int]
    GRADE_EVERYTHING_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    min_effect: float
    grade_everything: bool
    rule: StoppingRule
    def __init__(self, min_effect: _Optional[float] = ..., grade_everything: _Optional[bool] = ..., rule: _Optional[_Union[StoppingRule, str]] = ...) -> None: ...

class LogSource(_message.Message):
    __slots__ = ("index_pattern", "window", "filters")
    INDEX_PATTERN_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    index_pattern: str
    window: _common_pb2.TimeWindow
    filters: _containers.RepeatedCompositeFieldContainer[FieldFilter]
    def __init__(self, index_pattern: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., filters: _Optional[_Iterable[_Union[FieldFilter, _Mapping]]] = ...) -> None: ...

class FieldFilter(_message.Message):
    __slots__ = ("field", "values")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    field: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class Ranker(_message.Message):
    __slots__ = ("id", "log_bucket", "search_template")
    ID_FIELD_NUMBER: _ClassVar[int]
    LOG_BUCKET_FIELD_NUMBER: _ClassVar[int]
    SEARCH_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    log_bucket: LogBucket
    search_template: SearchTemplate
    def __init__(self, id: _Optional[str] = ..., log_bucket: _Optional[_Union[LogBucket, _Mapping]] = ..., search_template: _Optional[_Union[SearchTemplate, _Mapping]] = ...) -> None: ...

class LogBucket(_message.Message):
    __slots__ = ("bucket",)
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    def __init__(self, bucket: _Optional[str] = ...) -> None: ...

class SearchTemplate(_message.Message):
    __slots__ = ("index", "source", "params", "title_field", "snippet_field", "url_field")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_FIELD_NUMBER: _ClassVar[int]
    index: str
    source: str
    params: _containers.ScalarMap[str, str]
    title_field: str
    snippet_field: str
    url_field: str
    def __init__(self, index: _Optional[str] = ..., source: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., title_field: _Optional[str] = ..., snippet_field: _Optional[str] = ..., url_field: _Optional[str] = ...) -> None: ...

class SamplePlan(_message.Message):
    __slots__ = ("size", "unit", "bands", "stratify_by", "allocation", "fixed_counts", "min_frequency", "seed")
    class FixedCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SIZE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    STRATIFY_BY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    FIXED_COUNTS_FIELD_NUMBER: _ClassVar[int]
    MIN_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    size: int
    unit: SamplingUnit
    bands: FrequencyBands
    stratify_by: _containers.RepeatedScalarFieldContainer[str]
    allocation: Allocation
    fixed_counts: _containers.ScalarMap[str, int]
    min_frequency: int
    seed: int
    def __init__(self, size: _Optional[int] = ..., unit: _Optional[_Union[SamplingUnit, str]] = ..., bands: _Optional[_Union[FrequencyBands, _Mapping]] = ..., stratify_by: _Optional[_Iterable[str]] = ..., allocation: _Optional[_Union[Allocation, str]] = ..., fixed_counts: _Optional[_Mapping[str, int]] = ..., min_frequency: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class FrequencyBands(_message.Message):
    __slots__ = ("traffic_share", "count_quantiles", "names")
    TRAFFIC_SHARE_FIELD_NUMBER: _ClassVar[int]
    COUNT_QUANTILES_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    traffic_share: CutPoints
    count_quantiles: CutPoints
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, traffic_share: _Optional[_Union[CutPoints, _Mapping]] = ..., count_quantiles: _Optional[_Union[CutPoints, _Mapping]] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class CutPoints(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, points: _Optional[_Iterable[float]] = ...) -> None: ...

class Stratum(_message.Message):
    __slots__ = ("key", "population_queries", "population_traffic", "weight", "sampled")
    KEY_FIELD_NUMBER: _ClassVar[int]
    POPULATION_QUERIES_FIELD_NUMBER: _ClassVar[int]
    POPULATION_TRAFFIC_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_FIELD_NUMBER: _ClassVar[int]
    key: str
    population_queries: int
    population_traffic: int
    weight: float
    sampled: int
    def __init__(self, key: _Optional[str] = ..., population_queries: _Optional[int] = ..., population_traffic: _Optional[int] = ..., weight: _Optional[float] = ..., sampled: _Optional[int] = ...) -> None: ...

class EvaluationCounts(_message.Message):
    __slots__ = ("queries", "items", "gold_items", "identical_pairs", "pii_dropped", "garbage_dropped", "prejudged", "auto_judged", "for_humans", "judgements", "items_done", "uncovered_dropped", "below_floor_dropped")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    GOLD_ITEMS_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_PAIRS_FIELD_NUMBER: _ClassVar[int]
    PII_DROPPED_FIELD_NUMBER: _ClassVar[int]
    GARBAGE_DROPPED_FIELD_NUMBER: _ClassVar[int]
    PREJUDGED_FIELD_NUMBER: _ClassVar[int]
    AUTO_JUDGED_FIELD_NUMBER: _ClassVar[int]
    FOR_HUMANS_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    UNCOVERED_DROPPED_FIELD_NUMBER: _ClassVar[int]
    BELOW_FLOOR_DROPPED_FIELD_NUMBER: _ClassVar[int]
    queries: int
    items: int
    gold_items: int
    identical_pairs: int
    pii_dropped: int
    garbage_dropped: int
    prejudged: int
    auto_judged: int
    for_humans: int
    judgements: int
    items_done: int
    uncovered_dropped: int
    below_floor_dropped: int
    def __init__(self, queries: _Optional[int] = ..., items: _Optional[int] = ..., gold_items: _Optional[int] = ..., identical_pairs: _Optional[int] = ..., pii_dropped: _Optional[int] = ..., garbage_dropped: _Optional[int] = ..., prejudged: _Optional[int] = ..., auto_judged: _Optional[int] = ..., for_humans: _Optional[int] = ..., judgements: _Optional[int] = ..., items_done: _Optional[int] = ..., uncovered_dropped: _Optional[int] = ..., below_floor_dropped: _Optional[int] = ...) -> None: ...

class CreateEvaluationRequest(_message.Message):
    __slots__ = ("evaluation", "request_id")
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    evaluation: Evaluation
    request_id: str
    def __init__(self, evaluation: _Optional[_Union[Evaluation, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetEvaluationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListEvaluationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner_team", "states")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_TEAM_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner_team: str
    states: _containers.RepeatedScalarFieldContainer[EvaluationState]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_team: _Optional[str] = ..., states: _Optional[_Iterable[_Union[EvaluationState, str]]] = ...) -> None: ...

class ListEvaluationsResponse(_message.Message):
    __slots__ = ("evaluations", "next_page_token")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[Evaluation]
    next_page_token: str
    def __init__(self, evaluations: _Optional[_Iterable[_Union[Evaluation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelEvaluationRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchEvaluationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class EvaluationProgress(_message.Message):
    __slots__ = ("name", "state", "state_reason", "counts", "stage_progress", "eta", "report_time", "grading", "completion")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    STAGE_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    GRADING_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: EvaluationState
    state_reason: str
    counts: EvaluationCounts
    stage_progress: float
    eta: _timestamp_pb2.Timestamp
    report_time: _timestamp_pb2.Timestamp
    grading: GradingProgress
    completion: Completion
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[EvaluationState, str]] = ..., state_reason: _Optional[str] = ..., counts: _Optional[_Union[EvaluationCounts, _Mapping]] = ..., stage_progress: _Optional[float] = ..., eta: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., grading: _Optional[_Union[GradingProgress, _Mapping]] = ..., completion: _Optional[_Union[Completion, _Mapping]] = ...) -> None: ...
