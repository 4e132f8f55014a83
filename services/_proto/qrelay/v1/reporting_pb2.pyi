import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services._proto.qrelay.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MetricValue(_message.Message):
    __slots__ = ("measure", "mean", "interval", "queries", "judged_share")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    JUDGED_SHARE_FIELD_NUMBER: _ClassVar[int]
    measure: str
    mean: float
    interval: _common_pb2.Interval
    queries: int
    judged_share: float
    def __init__(self, measure: _Optional[str] = ..., mean: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., queries: _Optional[int] = ..., judged_share: _Optional[float] = ...) -> None: ...

class RankerMetrics(_message.Message):
    __slots__ = ("ranker", "metrics")
    RANKER_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ranker: str
    metrics: _containers.RepeatedCompositeFieldContainer[MetricValue]
    def __init__(self, ranker: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[MetricValue, _Mapping]]] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("key", "rankers")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RANKERS_FIELD_NUMBER: _ClassVar[int]
    key: str
    rankers: _containers.RepeatedCompositeFieldContainer[RankerMetrics]
    def __init__(self, key: _Optional[str] = ..., rankers: _Optional[_Iterable[_Union[RankerMetrics, _Mapping]]] = ...) -> None: ...

class GetEvaluationReportRequest(_message.Message):
    __slots__ = ("name", "measures", "segment_by", "confidence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    measures: _containers.RepeatedScalarFieldContainer[str]
    segment_by: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    def __init__(self, name: _Optional[str] = ..., measures: _Optional[_Iterable[str]] = ..., segment_by: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ...) -> None: ...

class EvaluationReport(_message.Message):
    __slots__ = ("name", "segments", "krippendorff_alpha", "report_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    KRIPPENDORFF_ALPHA_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    krippendorff_alpha: float
    report_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., krippendorff_alpha: _Optional[float] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CompareRankersRequest(_message.Message):
    __slots__ = ("name", "baseline", "candidate", "measures", "segment_by", "confidence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    MEASURES_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    baseline: str
    candidate: str
    measures: _containers.RepeatedScalarFieldContainer[str]
    segment_by: _containers.RepeatedScalarFieldContainer[str]
    confidence: float
    def __init__(self, name: _Optional[str] = ..., baseline: _Optional[str] = ..., candidate: _Optional[str] = ..., measures: _Optional[_Iterable[str]] = ..., segment_by: _Optional[_Iterable[str]] = ..., confidence: _Optional[float] = ...) -> None: ...

class MetricDifference(_message.Message):
    __slots__ = ("measure", "segment", "difference", "interval", "p_value_t", "p_value_permutation", "p_value_holm", "queries")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_T_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_PERMUTATION_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_HOLM_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    measure: str
    segment: str
    difference: float
    interval: _common_pb2.Interval
    p_value_t: float
    p_value_permutation: float
    p_value_holm: float
    queries: int
    def __init__(self, measure: _Optional[str] = ..., segment: _Optional[str] = ..., difference: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., p_value_t: _Optional[float] = ..., p_value_permutation: _Optional[float] = ..., p_value_holm: _Optional[float] = ..., queries: _Optional[int] = ...) -> None: ...

class SideBySideVerdict(_message.Message):
    __slots__ = ("segment", "wins", "ties", "losses", "mean_preference", "interval", "p_value_sign", "p_value_wilcoxon")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    WINS_FIELD_NUMBER: _ClassVar[int]
    TIES_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    MEAN_PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_SIGN_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_WILCOXON_FIELD_NUMBER: _ClassVar[int]
    segment: str
    wins: int
    ties: int
    losses: int
    mean_preference: float
    interval: _common_pb2.Interval
    p_value_sign: float
    p_value_wilcoxon: float
    def __init__(self, segment: _Optional[str] = ..., wins: _Optional[int] = ..., ties: _Optional[int] = ..., losses: _Optional[int] = ..., mean_preference: _Optional[float] = ..., interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., p_value_sign: _Optional[float] = ..., p_value_wilcoxon: _Optional[float] = ...) -> None: ...

class RankerComparison(_message.Message):
    __slots__ = ("name", "differences", "verdicts")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    differences: _containers.RepeatedCompositeFieldContainer[MetricDifference]
    verdicts: _containers.RepeatedCompositeFieldContainer[SideBySideVerdict]
    def __init__(self, name: _Optional[str] = ..., differences: _Optional[_Iterable[_Union[MetricDifference, _Mapping]]] = ..., verdicts: _Optional[_Iterable[_Union[SideBySideVerdict, _Mapping]]] = ...) -> None: ...

class ListMetricSnapshotsRequest(_message.Message):
    __slots__ = ("measure", "ranker", "segment", "window", "page_size", "page_token")
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    measure: str
    ranker: str
    segment: str
    window: _common_pb2.TimeWindow
    page_size: int
    page_token: str
    def __init__(self, measure: _Optional[str] = ..., ranker: _Optional[str] = ..., segment: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class MetricSnapshot(_message.Message):
    __slots__ = ("snapshot_time", "evaluation", "ranker", "segment", "value")
    SNAPSHOT_TIME_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    RANKER_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    snapshot_time: _timestamp_pb2.Timestamp
    evaluation: str
    ranker: str
    segment: str
    value: MetricValue
    def __init__(self, snapshot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation: _Optional[str] = ..., ranker: _Optional[str] = ..., segment: _Optional[str] = ..., value: _Optional[_Union[MetricValue, _Mapping]] = ...) -> None: ...

class ListMetricSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "next_page_token")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[MetricSnapshot]
    next_page_token: str
    def __init__(self, snapshots: _Optional[_Iterable[_Union[MetricSnapshot, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

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

class Scorecard(_message.Message):
    __slots__ = ("subject", "window", "judgements", "gold_accuracy", "gold_accuracy_interval", "consensus_agreement", "throughput_per_hour", "median_seconds_on_task", "cost", "sla_met_share")
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
    def __init__(self, subject: _Optional[str] = ..., window: _Optional[_Union[_common_pb2.TimeWindow, _Mapping]] = ..., judgements: _Optional[int] = ..., gold_accuracy: _Optional[float] = ..., gold_accuracy_interval: _Optional[_Union[_common_pb2.Interval, _Mapping]] = ..., consensus_agreement: _Optional[float] = ..., throughput_per_hour: _Optional[float] = ..., median_seconds_on_task: _Optional[float] = ..., cost: _Optional[float] = ..., sla_met_share: _Optional[float] = ...) -> None: ...
