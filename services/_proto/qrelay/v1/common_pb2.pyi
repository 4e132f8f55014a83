import datetime

from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_ENGINEER: _ClassVar[Role]
    ROLE_GRADER: _ClassVar[Role]
    ROLE_OPS: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]

class JudgementKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JUDGEMENT_KIND_UNSPECIFIED: _ClassVar[JudgementKind]
    POINTWISE: _ClassVar[JudgementKind]
    SIDE_BY_SIDE: _ClassVar[JudgementKind]

class Scale(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCALE_UNSPECIFIED: _ClassVar[Scale]
    POINTWISE_0_3: _ClassVar[Scale]
    SIDE_BY_SIDE_MINUS3_PLUS3: _ClassVar[Scale]
ROLE_UNSPECIFIED: Role
ROLE_ENGINEER: Role
ROLE_GRADER: Role
ROLE_OPS: Role
ROLE_ADMIN: Role
JUDGEMENT_KIND_UNSPECIFIED: JudgementKind
POINTWISE: JudgementKind
SIDE_BY_SIDE: JudgementKind
SCALE_UNSPECIFIED: Scale
POINTWISE_0_3: Scale
SIDE_BY_SIDE_MINUS3_PLUS3: Scale
ALLOWED_ROLES_FIELD_NUMBER: _ClassVar[int]
allowed_roles: _descriptor.FieldDescriptor

class TimeWindow(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResultDoc(_message.Message):
    __slots__ = ("doc_id", "title", "snippet", "url", "position")
    DOC_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    doc_id: str
    title: str
    snippet: str
    url: str
    position: int
    def __init__(self, doc_id: _Optional[str] = ..., title: _Optional[str] = ..., snippet: _Optional[str] = ..., url: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class Interval(_message.Message):
    __slots__ = ("low", "high", "level")
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    low: float
    high: float
    level: float
    def __init__(self, low: _Optional[float] = ..., high: _Optional[float] = ..., level: _Optional[float] = ...) -> None: ...
