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

class SkipReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SKIP_REASON_UNSPECIFIED: _ClassVar[SkipReason]
    WRONG_LANGUAGE: _ClassVar[SkipReason]
    PAGE_BROKEN: _ClassVar[SkipReason]
    OFFENSIVE: _ClassVar[SkipReason]
    OTHER: _ClassVar[SkipReason]
SKIP_REASON_UNSPECIFIED: SkipReason
WRONG_LANGUAGE: SkipReason
PAGE_BROKEN: SkipReason
OFFENSIVE: SkipReason
OTHER: SkipReason

class Assignment(_message.Message):
    __slots__ = ("name", "task", "lease_expire_time", "guidelines")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    GUIDELINES_FIELD_NUMBER: _ClassVar[int]
    name: str
    task: Task
    lease_expire_time: _timestamp_pb2.Timestamp
    guidelines: str
    def __init__(self, name: _Optional[str] = ..., task: _Optional[_Union[Task, _Mapping]] = ..., lease_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., guidelines: _Optional[str] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("query", "locale", "scale", "pointwise", "side_by_side")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    POINTWISE_FIELD_NUMBER: _ClassVar[int]
    SIDE_BY_SIDE_FIELD_NUMBER: _ClassVar[int]
    query: str
    locale: str
    scale: _common_pb2.Scale
    pointwise: PointwiseTask
    side_by_side: SideBySideTask
    def __init__(self, query: _Optional[str] = ..., locale: _Optional[str] = ..., scale: _Optional[_Union[_common_pb2.Scale, str]] = ..., pointwise: _Optional[_Union[PointwiseTask, _Mapping]] = ..., side_by_side: _Optional[_Union[SideBySideTask, _Mapping]] = ...) -> None: ...

class PointwiseTask(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.ResultDoc
    def __init__(self, result: _Optional[_Union[_common_pb2.ResultDoc, _Mapping]] = ...) -> None: ...

class SideBySideTask(_message.Message):
    __slots__ = ("left", "right")
    LEFT_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    left: _containers.RepeatedCompositeFieldContainer[_common_pb2.ResultDoc]
    right: _containers.RepeatedCompositeFieldContainer[_common_pb2.ResultDoc]
    def __init__(self, left: _Optional[_Iterable[_Union[_common_pb2.ResultDoc, _Mapping]]] = ..., right: _Optional[_Iterable[_Union[_common_pb2.ResultDoc, _Mapping]]] = ...) -> None: ...

class NextAssignmentRequest(_message.Message):
    __slots__ = ("kind",)
    KIND_FIELD_NUMBER: _ClassVar[int]
    kind: _common_pb2.JudgementKind
    def __init__(self, kind: _Optional[_Union[_common_pb2.JudgementKind, str]] = ...) -> None: ...

class SubmitJudgementRequest(_message.Message):
    __slots__ = ("name", "grade", "preference", "comment", "flagged")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    name: str
    grade: int
    preference: int
    comment: str
    flagged: bool
    def __init__(self, name: _Optional[str] = ..., grade: _Optional[int] = ..., preference: _Optional[int] = ..., comment: _Optional[str] = ..., flagged: _Optional[bool] = ...) -> None: ...

class Judgement(_message.Message):
    __slots__ = ("name", "assignment", "grade", "preference", "submit_time", "time_on_task")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    PREFERENCE_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_ON_TASK_FIELD_NUMBER: _ClassVar[int]
    name: str
    assignment: str
    grade: int
    preference: int
    submit_time: _timestamp_pb2.Timestamp
    time_on_task: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., assignment: _Optional[str] = ..., grade: _Optional[int] = ..., preference: _Optional[int] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_on_task: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SkipAssignmentRequest(_message.Message):
    __slots__ = ("name", "reason", "comment")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: SkipReason
    comment: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[_Union[SkipReason, str]] = ..., comment: _Optional[str] = ...) -> None: ...

class SkipAssignmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExtendLeaseRequest(_message.Message):
    __slots__ = ("name", "extension")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    extension: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., extension: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetMyStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GraderStats(_message.Message):
    __slots__ = ("done_today", "gold_judged", "gold_accuracy", "streak_days", "done_total", "gold_feedback_judgements")
    DONE_TODAY_FIELD_NUMBER: _ClassVar[int]
    GOLD_JUDGED_FIELD_NUMBER: _ClassVar[int]
    GOLD_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    STREAK_DAYS_FIELD_NUMBER: _ClassVar[int]
    DONE_TOTAL_FIELD_NUMBER: _ClassVar[int]
    GOLD_FEEDBACK_JUDGEMENTS_FIELD_NUMBER: _ClassVar[int]
    done_today: int
    gold_judged: int
    gold_accuracy: float
    streak_days: int
    done_total: int
    gold_feedback_judgements: int
    def __init__(self, done_today: _Optional[int] = ..., gold_judged: _Optional[int] = ..., gold_accuracy: _Optional[float] = ..., streak_days: _Optional[int] = ..., done_total: _Optional[int] = ..., gold_feedback_judgements: _Optional[int] = ...) -> None: ...
