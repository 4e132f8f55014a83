import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services._proto.qrelay.v1 import common_pb2 as _common_pb2
from services._proto.qrelay.v1 import evaluation_pb2 as _evaluation_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExportContent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_CONTENT_UNSPECIFIED: _ClassVar[ExportContent]
    CONSENSUS: _ClassVar[ExportContent]
    JUDGEMENTS: _ClassVar[ExportContent]
    RUNS: _ClassVar[ExportContent]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    TREC: _ClassVar[ExportFormat]
    JSONL: _ClassVar[ExportFormat]
    CSV: _ClassVar[ExportFormat]

class ScorecardSubject(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORECARD_SUBJECT_UNSPECIFIED: _ClassVar[ScorecardSubject]
    GRADERS: _ClassVar[ScorecardSubject]
    PARTNERS: _ClassVar[ScorecardSubject]
EXPORT_CONTENT_UNSPECIFIED: ExportContent
CONSENSUS: ExportContent
JUDGEMENTS: ExportContent
RUNS: ExportContent
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
TREC: ExportFormat
JSONL: ExportFormat
CSV: ExportFormat
SCORECARD_SUBJECT_UNSPECIFIED: ScorecardSubject
GRADERS: ScorecardSubject
PARTNERS: ScorecardSubject

class MetricValue(_message.Message):
    __slots__ = ("measure", "mean", "interval", "queries", "judged_share", "std_error", "unweighted_mean", "estimates", "lead", "lead_reason")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    JUDGED_SHARE_FIELD_NUMBER: _ClassVar[int]
    STD_ERROR_FIELD_NUMBER: _ClassVar[int]
    UNWEIGHTED_MEAN_FIELD_NUMBER: _ClassVar[int]
    ESTIMATES_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    LEAD_REASON_FIELD_NUMBER: _ClassVar[int]
    measure: str
    mean: float
    interval: _common_pb2.Interval
    queries: int
    judged_share: float
    std_error: float
    unweighted_mean: float
    estimates: _containers.RepeatedCompositeFieldContainer[Estimate]
    lead: str
    lead_reason: str
    def __init__(self, measure: _Optional[str] = ..., mean: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., queries: _Optional[int] = ..., judged_share: _Optional[float] = ..., std_error: _Optional[float] = ..., unweighted_mean: _Optional[float] = ..., estimates: _Optional[_Iterable[_Union[Estimate, _Mapping]]] = ..., lead: _Optional[str] = ..., lead_reason: _Optional[str] = ...) -> None: ...

class Estimate(_message.Message):
    __slots__ = ("kind", "value", "interval", "std_error", "units", "human_checks", "lam", "available", "note", "p_value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    STD_ERROR_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    HUMAN_CHECKS_FIELD_NUMBER: _ClassVar[int]
    LAM_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: float
    interval: _common_pb2.Interval
    std_error: float
    units: int
    human_checks: int
    lam: float
    available: bool
    note: str
    p_value: float
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., std_error: _Optional[float] = ..., units: _Optional[int] = ..., human_checks: _Optional[int] = ..., lam: _Optional[float] = ..., available: _Optional[bool] = ..., note: _Optional[str] = ..., p_value: _Optional[float] = ...) -> None: ...

class RankerMetrics(_message.Message):
    __slots__ = ("ranker", "metrics")
    RANKER_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ranker: str
    metrics: _containers.RepeatedCompositeFieldContainer[MetricValue]
    def __init__(self, ranker: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[MetricValue, _Mapping]]] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("key", "rankers", "values", "traffic_share", "queries_sampled")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_FIELD_NUMBER: _ClassVar[int]
    RANKERS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_SHARE_FIELD_NUMBER: _ClassVar[int]
    QUERIES_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    key: str
    rankers: _containers.RepeatedCompositeFieldContainer[RankerMetrics]
    values: _containers.ScalarMap[str, str]
    traffic_share: float
    queries_sampled: int
    def __init__(self, key: _Optional[str] = ..., rankers: _Optional[_Iterable[_Union[RankerMetrics, _Mapping]]] = ..., values: _Optional[_Mapping[str, str]] = ..., traffic_share: _Optional[float] = ..., queries_sampled: _Optional[int] = ...) -> None: ...

class Coverage(_message.Message):
    __slots__ = ("queries", "queries_complete", "items", "items_labelled", "items_human", "items_model", "items_tie", "traffic_covered")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    QUERIES_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_LABELLED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_HUMAN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_MODEL_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TIE_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_COVERED_FIELD_NUMBER: _ClassVar[int]
    queries: int
    queries_complete: int
    items: int
    items_labelled: int
    items_human: int
    items_model: int
    items_tie: int
    traffic_covered: float
    def __init__(self, queries: _Optional[int] = ..., queries_complete: _Optional[int] = ..., items: _Optional[int] = ..., items_labelled: _Optional[int] = ..., items_human: _Optional[int] = ..., items_model: _Optional[int] = ..., items_tie: _Optional[int] = ..., traffic_covered: _Optional[float] = ...) -> None: ...

class AutomationSummary(_message.Message):
    __slots__ = ("automation_rate", "auto_judged", "audit", "audit_judged", "agreement", "locales")
    AUTOMATION_RATE_FIELD_NUMBER: _ClassVar[int]
    AUTO_JUDGED_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_JUDGED_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    automation_rate: float
    auto_judged: int
    audit: int
    audit_judged: int
    agreement: float
    locales: _containers.RepeatedCompositeFieldContainer[_evaluation_pb2.LocaleAutomation]
    def __init__(self, automation_rate: _Optional[float] = ..., auto_judged: _Optional[int] = ..., audit: _Optional[int] = ..., audit_judged: _Optional[int] = ..., agreement: _Optional[float] = ..., locales: _Optional[_Iterable[_Union[_evaluation_pb2.LocaleAutomation, _Mapping]]] = ...) -> None: ...

class RaterAgreement(_message.Message):
    __slots__ = ("krippendorff_alpha", "units", "judgements", "krippendorff_alpha_sxs", "units_sxs")
    KRIPPENDORFF_ALPHA_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    KRIPPENDORFF_ALPHA_SXS_FIELD_NUMBER: _ClassVar[int]
    UNITS_SXS_FIELD_NUMBER: _ClassVar[int]
    krippendorff_alpha: float
    units: int
    judgements: int
    krippendorff_alpha_sxs: float
    units_sxs: int
    def __init__(self, krippendorff_alpha: _Optional[float] = ..., units: _Optional[int] = ..., judgements: _Optional[int] = ..., krippendorff_alpha_sxs: _Optional[float] = ..., units_sxs: _Optional[int] = ...) -> None: ...

class GradingSummary(_message.Message):
    __slots__ = ("judgements", "graders", "seconds_on_task", "median_seconds_on_task", "first_judgement_time", "last_judgement_time", "cost", "currency", "gold_judgements", "gold_correct")
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    GRADERS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_ON_TASK_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SECONDS_ON_TASK_FIELD_NUMBER: _ClassVar[int]
    FIRST_JUDGEMENT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_JUDGEMENT_TIME_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GOLD_JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    GOLD_CORRECT_FIELD_NUMBER: _ClassVar[int]
    judgements: int
    graders: int
    seconds_on_task: float
    median_seconds_on_task: float
    first_judgement_time: _timestamp_pb2.Timestamp
    last_judgement_time: _timestamp_pb2.Timestamp
    cost: float
    currency: str
    gold_judgements: int
    gold_correct: int
    def __init__(self, judgements: _Optional[int] = ..., graders: _Optional[int] = ..., seconds_on_task: _Optional[float] = ..., median_seconds_on_task: _Optional[float] = ..., first_judgement_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_judgement_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cost: _Optional[float] = ..., currency: _Optional[str] = ..., gold_judgements: _Optional[int] = ..., gold_correct: _Optional[int] = ...) -> None: ...

class LabelSet(_message.Message):
    __slots__ = ("method", "model", "update_time", "version", "source", "relabelled_items", "unmatched_items", "consensus", "models", "guidelines")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    RELABELLED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    GUIDELINES_FIELD_NUMBER: _ClassVar[int]
    method: str
    model: str
    update_time: _timestamp_pb2.Timestamp
    version: str
    source: str
    relabelled_items: int
    unmatched_items: int
    consensus: _containers.RepeatedCompositeFieldContainer[ConsensusLineage]
    models: _containers.RepeatedCompositeFieldContainer[ModelLineage]
    guidelines: _containers.RepeatedCompositeFieldContainer[GuidelineLineage]
    def __init__(self, method: _Optional[str] = ..., model: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[str] = ..., source: _Optional[str] = ..., relabelled_items: _Optional[int] = ..., unmatched_items: _Optional[int] = ..., consensus: _Optional[_Iterable[_Union[ConsensusLineage, _Mapping]]] = ..., models: _Optional[_Iterable[_Union[ModelLineage, _Mapping]]] = ..., guidelines: _Optional[_Iterable[_Union[GuidelineLineage, _Mapping]]] = ...) -> None: ...

class ConsensusLineage(_message.Message):
    __slots__ = ("kind", "method", "parameters", "fit_id", "fitted_on", "fit_time", "labels")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    FIT_ID_FIELD_NUMBER: _ClassVar[int]
    FITTED_ON_FIELD_NUMBER: _ClassVar[int]
    FIT_TIME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    method: str
    parameters: _containers.ScalarMap[str, str]
    fit_id: str
    fitted_on: int
    fit_time: _timestamp_pb2.Timestamp
    labels: int
    def __init__(self, kind: _Optional[str] = ..., method: _Optional[str] = ..., parameters: _Optional[_Mapping[str, str]] = ..., fit_id: _Optional[str] = ..., fitted_on: _Optional[int] = ..., fit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., labels: _Optional[int] = ...) -> None: ...

class ModelLineage(_message.Message):
    __slots__ = ("model", "calibration_id", "items", "threshold", "audit_share")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SHARE_FIELD_NUMBER: _ClassVar[int]
    model: str
    calibration_id: str
    items: int
    threshold: float
    audit_share: float
    def __init__(self, model: _Optional[str] = ..., calibration_id: _Optional[str] = ..., items: _Optional[int] = ..., threshold: _Optional[float] = ..., audit_share: _Optional[float] = ...) -> None: ...

class GuidelineLineage(_message.Message):
    __slots__ = ("kind", "version", "judgements")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    version: str
    judgements: int
    def __init__(self, kind: _Optional[str] = ..., version: _Optional[str] = ..., judgements: _Optional[int] = ...) -> None: ...

class GetEvaluationReportRequest(_message.Message):
    __slots__ = ("name", "measures", "segment_by", "confidence", "segments", "relabel_with")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    RELABEL_WITH_FIELD_NUMBER: _ClassVar[int]
    name: str
    measures: _containers.RepeatedScalarFieldContainer[str]
    segment_by: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    segments: _containers.RepeatedScalarFieldContainer[str]
    relabel_with: str
    def __init__(self, name: _Optional[str] = ..., measures: _Optional[_Iterable[str]] = ..., segment_by: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ..., segments: _Optional[_Iterable[str]] = ..., relabel_with: _Optional[str] = ...) -> None: ...

class EvaluationReport(_message.Message):
    __slots__ = ("name", "segments", "krippendorff_alpha", "report_time", "partial", "partial_reason", "state", "estimator", "confidence", "coverage", "automation", "agreement", "grading", "label_set", "rankers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    KRIPPENDORFF_ALPHA_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATOR_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    GRADING_FIELD_NUMBER: _ClassVar[int]
    LABEL_SET_FIELD_NUMBER: _ClassVar[int]
    RANKERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    krippendorff_alpha: float
    report_time: _timestamp_pb2.Timestamp
    partial: bool
    partial_reason: str
    state: _evaluation_pb2.EvaluationState
    estimator: str
    confidence: float
    coverage: Coverage
    automation: AutomationSummary
    agreement: RaterAgreement
    grading: GradingSummary
    label_set: LabelSet
    rankers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., krippendorff_alpha: _Optional[float] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partial: _Optional[bool] = ..., partial_reason: _Optional[str] = ..., state: _Optional[_Union[_evaluation_pb2.EvaluationState, str]] = ..., estimator: _Optional[str] = ..., confidence: _Optional[float] = ..., coverage: _Optional[_Union[Coverage, _Mapping]] = ..., automation: _Optional[_Union[AutomationSummary, _Mapping]] = ..., agreement: _Optional[_Union[RaterAgreement, _Mapping]] = ..., grading: _Optional[_Union[GradingSummary, _Mapping]] = ..., label_set: _Optional[_Union[LabelSet, _Mapping]] = ..., rankers: _Optional[_Iterable[str]] = ...) -> None: ...

class CompareRankersRequest(_message.Message):
    __slots__ = ("name", "baseline", "candidate", "measures", "segment_by", "confidence", "segments", "relabel_with", "min_effect", "stopping_rule")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    RELABEL_WITH_FIELD_NUMBER: _ClassVar[int]
    MIN_EFFECT_FIELD_NUMBER: _ClassVar[int]
    STOPPING_RULE_FIELD_NUMBER: _ClassVar[int]
    name: str
    baseline: str
    candidate: str
    measures: _containers.RepeatedScalarFieldContainer[str]
    segment_by: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    segments: _containers.RepeatedScalarFieldContainer[str]
    relabel_with: str
    min_effect: float
    stopping_rule: _evaluation_pb2.StoppingRule
    def __init__(self, name: _Optional[str] = ..., baseline: _Optional[str] = ..., candidate: _Optional[str] = ..., measures: _Optional[_Iterable[str]] = ..., segment_by: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ..., segments: _Optional[_Iterable[str]] = ..., relabel_with: _Optional[str] = ..., min_effect: _Optional[float] = ..., stopping_rule: _Optional[_Union[_evaluation_pb2.StoppingRule, str]] = ...) -> None: ...

class MetricDifference(_message.Message):
    __slots__ = ("measure", "segment", "difference", "interval", "p_value_t", "p_value_permutation", "p_value_holm", "queries", "baseline_mean", "candidate_mean", "unweighted_difference", "significant", "estimates", "lead", "lead_reason")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_T_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_PERMUTATION_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_HOLM_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    BASELINE_MEAN_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_MEAN_FIELD_NUMBER: _ClassVar[int]
    UNWEIGHTED_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNIFICANT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATES_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    LEAD_REASON_FIELD_NUMBER: _ClassVar[int]
    measure: str
    segment: str
    difference: float
    interval: _common_pb2.Interval
    p_value_t: float
    p_value_permutation: float
    p_value_holm: float
    queries: int
    baseline_mean: float
    candidate_mean: float
    unweighted_difference: float
    significant: bool
    estimates: _containers.RepeatedCompositeFieldContainer[Estimate]
    lead: str
    lead_reason: str
    def __init__(self, measure: _Optional[str] = ..., segment: _Optional[str] = ..., difference: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., p_value_t: _Optional[float] = ..., p_value_permutation: _Optional[float] = ..., p_value_holm: _Optional[float] = ..., queries: _Optional[int] = ..., baseline_mean: _Optional[float] = ..., candidate_mean: _Optional[float] = ..., unweighted_difference: _Optional[float] = ..., significant: _Optional[bool] = ..., estimates: _Optional[_Iterable[_Union[Estimate, _Mapping]]] = ..., lead: _Optional[str] = ..., lead_reason: _Optional[str] = ...) -> None: ...

class SideBySideVerdict(_message.Message):
    __slots__ = ("segment", "wins", "ties", "losses", "mean_preference", "interval", "p_value_sign", "p_value_wilcoxon", "items", "items_human", "estimates", "lead", "lead_reason")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    TIES_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    MEAN_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_SIGN_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_WILCOXON_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_HUMAN_FIELD_NUMBER: _ClassVar[int]
    ESTIMATES_FIELD_NUMBER: _ClassVar[int]
    LEAD_FIELD_NUMBER: _ClassVar[int]
    LEAD_REASON_FIELD_NUMBER: _ClassVar[int]
    segment: str
    wins: int
    ties: int
    losses: int
    mean_preference: float
    interval: _common_pb2.Interval
    p_value_sign: float
    p_value_wilcoxon: float
    items: int
    items_human: int
    estimates: _containers.RepeatedCompositeFieldContainer[Estimate]
    lead: str
    lead_reason: str
    def __init__(self, segment: _Optional[str] = ..., wins: _Optional[int] = ..., ties: _Optional[int] = ..., losses: _Optional[int] = ..., mean_preference: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., p_value_sign: _Optional[float] = ..., p_value_wilcoxon: _Optional[float] = ..., items: _Optional[int] = ..., items_human: _Optional[int] = ..., estimates: _Optional[_Iterable[_Union[Estimate, _Mapping]]] = ..., lead: _Optional[str] = ..., lead_reason: _Optional[str] = ...) -> None: ...

class SequentialDecision(_message.Message):
    __slots__ = ("measure", "decision", "verdict", "estimate", "interval", "looks", "eligible", "decided_at_look", "decided_interval", "min_effect", "values", "method", "rule")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LOOKS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_LOOK_FIELD_NUMBER: _ClassVar[int]
    DECIDED_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MIN_EFFECT_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    measure: str
    decision: str
    verdict: str
    estimate: float
    interval: _common_pb2.Interval
    looks: int
    eligible: int
    decided_at_look: int
    decided_interval: _common_pb2.Interval
    min_effect: float
    values: str
    method: str
    rule: _evaluation_pb2.StoppingRule
    def __init__(self, measure: _Optional[str] = ..., decision: _Optional[str] = ..., verdict: _Optional[str] = ..., estimate: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., looks: _Optional[int] = ..., eligible: _Optional[int] = ..., decided_at_look: _Optional[int] = ..., decided_interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., min_effect: _Optional[float] = ..., values: _Optional[str] = ..., method: _Optional[str] = ..., rule: _Optional[_Union[_evaluation_pb2.StoppingRule, str]] = ...) -> None: ...

class RankerComparison(_message.Message):
    __slots__ = ("name", "differences", "verdicts", "baseline", "candidate", "summary", "partial", "partial_reason", "estimator", "confidence", "label_set", "report_time", "sequential")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    ESTIMATOR_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    LABEL_SET_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    differences: _containers.RepeatedCompositeFieldContainer[MetricDifference]
    verdicts: _containers.RepeatedCompositeFieldContainer[SideBySideVerdict]
    baseline: str
    candidate: str
    summary: str
    partial: bool
    partial_reason: str
    estimator: str
    confidence: float
    label_set: LabelSet
    report_time: _timestamp_pb2.Timestamp
    sequential: SequentialDecision
    def __init__(self, name: _Optional[str] = ..., differences: _Optional[_Iterable[_Union[MetricDifference, _Mapping]]] = ..., verdicts: _Optional[_Iterable[_Union[SideBySideVerdict, _Mapping]]] = ..., baseline: _Optional[str] = ..., candidate: _Optional[str] = ..., summary: _Optional[str] = ..., partial: _Optional[bool] = ..., partial_reason: _Optional[str] = ..., estimator: _Optional[str] = ..., confidence: _Optional[float] = ..., label_set: _Optional[_Union[LabelSet, _Mapping]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequential: _Optional[_Union[SequentialDecision, _Mapping]] = ...) -> None: ...

class ExportEvaluationRequest(_message.Message):
    __slots__ = ("name", "content", "format", "ranker")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    name: str
    content: ExportContent
    format: ExportFormat
    ranker: str
    def __init__(self, name: _Optional[str] = ..., content: _Optional[_Union[ExportContent, str]] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., ranker: _Optional[str] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("data", "content_type", "file_name")
    DATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    content_type: str
    file_name: str
    def __init__(self, data: _Optional[bytes] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class ListMetricSnapshotsRequest(_message.Message):
    __slots__ = ("measure", "ranker", "segment", "window", "page_size", "page_token", "owner_team", "series", "all_segments")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_TEAM_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    ALL_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    measure: str
    ranker: str
    segment: str
    window: _common_pb2.TimeWindow
    page_size: int
    page_token: str
    owner_team: str
    series: str
    all_segments: bool
    def __init__(self, measure: _Optional[str] = ..., ranker: _Optional[str] = ..., segment: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_team: _Optional[str] = ..., series: _Optional[str] = ..., all_segments: _Optional[bool] = ...) -> None: ...

class MetricSnapshot(_message.Message):
    __slots__ = ("snapshot_time", "evaluation", "ranker", "segment", "value", "series", "window_end", "window_start", "run_index", "traffic_share", "partial")
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    RUN_INDEX_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_SHARE_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    snapshot_time: _timestamp_pb2.Timestamp
    evaluation: str
    ranker: str
    segment: str
    value: MetricValue
    series: str
    window_end: _timestamp_pb2.Timestamp
    window_start: _timestamp_pb2.Timestamp
    run_index: int
    traffic_share: float
    partial: bool
    def __init__(self, snapshot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation: _Optional[str] = ..., ranker: _Optional[str] = ..., segment: _Optional[str] = ..., value: _Optional[_Union[MetricValue, _Mapping]] = ..., series: _Optional[str] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_index: _Optional[int] = ..., traffic_share: _Optional[float] = ..., partial: _Optional[bool] = ...) -> None: ...

class ListMetricSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "next_page_token")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[MetricSnapshot]
    next_page_token: str
    def __init__(self, snapshots: _Optional[_Iterable[_Union[MetricSnapshot, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("name", "create_time", "evaluation", "series", "ranker", "segment", "measure", "value", "baseline", "drop", "interval", "p_value", "baseline_snapshots", "message", "delivery", "p_value_holm", "baseline_evaluations", "delivery_attempts", "delivery_error", "delivered_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_HOLM_FIELD_NUMBER: _ClassVar[int]
    BASELINE_EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ERROR_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    create_time: _timestamp_pb2.Timestamp
    evaluation: str
    series: str
    ranker: str
    segment: str
    measure: str
    value: float
    baseline: float
    drop: float
    interval: _common_pb2.Interval
    p_value: float
    baseline_snapshots: int
    message: str
    delivery: str
    p_value_holm: float
    baseline_evaluations: _containers.RepeatedScalarFieldContainer[str]
    delivery_attempts: int
    delivery_error: str
    delivered_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation: _Optional[str] = ..., series: _Optional[str] = ..., ranker: _Optional[str] = ..., segment: _Optional[str] = ..., measure: _Optional[str] = ..., value: _Optional[float] = ..., baseline: _Optional[float] = ..., drop: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., p_value: _Optional[float] = ..., baseline_snapshots: _Optional[int] = ..., message: _Optional[str] = ..., delivery: _Optional[str] = ..., p_value_holm: _Optional[float] = ..., baseline_evaluations: _Optional[_Iterable[str]] = ..., delivery_attempts: _Optional[int] = ..., delivery_error: _Optional[str] = ..., delivered_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("window", "series", "page_size", "page_token", "owner_team")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_TEAM_FIELD_NUMBER: _ClassVar[int]
    window: _common_pb2.TimeWindow
    series: str
    page_size: int
    page_token: str
    owner_team: str
    def __init__(self, window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., series: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_team: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "next_page_token")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    next_page_token: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPartnerScorecardRequest(_message.Message):
    __slots__ = ("partner", "window")
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    partner: str
    window: _common_pb2.TimeWindow
    def __init__(self, partner: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ...) -> None: ...

class GetGraderScorecardRequest(_message.Message):
    __slots__ = ("grader", "window")
    GRADER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    grader: str
    window: _common_pb2.TimeWindow
    def __init__(self, grader: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ...) -> None: ...

class ListScorecardsRequest(_message.Message):
    __slots__ = ("subject", "window", "partner")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    subject: ScorecardSubject
    window: _common_pb2.TimeWindow
    partner: str
    def __init__(self, subject: _Optional[_Union[ScorecardSubject, str]] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., partner: _Optional[str] = ...) -> None: ...

class ListScorecardsResponse(_message.Message):
    __slots__ = ("scorecards",)
    SCORECARDS_FIELD_NUMBER: _ClassVar[int]
    scorecards: _containers.RepeatedCompositeFieldContainer[Scorecard]
    def __init__(self, scorecards: _Optional[_Iterable[_Union[Scorecard, _Mapping]]] = ...) -> None: ...

class QualityFlag(_message.Message):
    __slots__ = ("kind", "value", "threshold", "n", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    value: float
    threshold: float
    n: int
    message: str
    def __init__(self, kind: _Optional[str] = ..., value: _Optional[float] = ..., threshold: _Optional[float] = ..., n: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class Scorecard(_message.Message):
    __slots__ = ("subject", "window", "judgements", "gold_accuracy", "gold_accuracy_interval", "consensus_agreement", "throughput_per_hour", "median_seconds_on_task", "cost", "sla_met_share", "display_name", "gold_judgements", "consensus_judgements", "skip_rate", "skips", "reliability", "drifting", "drift_p_value", "cost_per_judgement", "cost_per_reliable_judgement", "currency", "sla_judgements", "flagged", "flags", "partner", "active_hours")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    GOLD_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    GOLD_ACCURACY_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    THROUGHPUT_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SECONDS_ON_TASK_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SLA_MET_SHARE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    GOLD_JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    CONSENSUS_JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    SKIP_RATE_FIELD_NUMBER: _ClassVar[int]
    SKIPS_FIELD_NUMBER: _ClassVar[int]
    RELIABILITY_FIELD_NUMBER: _ClassVar[int]
    DRIFTING_FIELD_NUMBER: _ClassVar[int]
    DRIFT_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    COST_PER_JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    COST_PER_RELIABLE_JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SLA_JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_HOURS_FIELD_NUMBER: _ClassVar[int]
    subject: str
    window: _common_pb2.TimeWindow
    judgements: int
    gold_accuracy: float
    gold_accuracy_interval: _common_pb2.Interval
    consensus_agreement: float
    throughput_per_hour: float
    median_seconds_on_task: float
    cost: float
    sla_met_share: float
    display_name: str
    gold_judgements: int
    consensus_judgements: int
    skip_rate: float
    skips: int
    reliability: float
    drifting: bool
    drift_p_value: float
    cost_per_judgement: float
    cost_per_reliable_judgement: float
    currency: str
    sla_judgements: int
    flagged: bool
    flags: _containers.RepeatedCompositeFieldContainer[QualityFlag]
    partner: str
    active_hours: float
    def __init__(self, subject: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., judgements: _Optional[int] = ..., gold_accuracy: _Optional[float] = ..., gold_accuracy_interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., consensus_agreement: _Optional[float] = ..., throughput_per_hour: _Optional[float] = ..., median_seconds_on_task: _Optional[float] = ..., cost: _Optional[float] = ..., sla_met_share: _Optional[float] = ..., display_name: _Optional[str] = ..., gold_judgements: _Optional[int] = ..., consensus_judgements: _Optional[int] = ..., skip_rate: _Optional[float] = ..., skips: _Optional[int] = ..., reliability: _Optional[float] = ..., drifting: _Optional[bool] = ..., drift_p_value: _Optional[float] = ..., cost_per_judgement: _Optional[float] = ..., cost_per_reliable_judgement: _Optional[float] = ..., currency: _Optional[str] = ..., sla_judgements: _Optional[int] = ..., flagged: _Optional[bool] = ..., flags: _Optional[_Iterable[_Union[QualityFlag, _Mapping]]] = ..., partner: _Optional[str] = ..., active_hours: _Optional[float] = ...) -> None: ...
