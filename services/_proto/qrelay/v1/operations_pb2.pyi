import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from services._proto.qrelay.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActiveStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVE_STATUS_UNSPECIFIED: _ClassVar[ActiveStatus]
    ACTIVE: _ClassVar[ActiveStatus]
    SUSPENDED: _ClassVar[ActiveStatus]
ACTIVE_STATUS_UNSPECIFIED: ActiveStatus
ACTIVE: ActiveStatus
SUSPENDED: ActiveStatus

class Partner(_message.Message):
    __slots__ = ("name", "display_name", "status", "create_time", "price_per_judgement", "currency")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    status: ActiveStatus
    create_time: _timestamp_pb2.Timestamp
    price_per_judgement: float
    currency: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[_Union[ActiveStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., price_per_judgement: _Optional[float] = ..., currency: _Optional[str] = ...) -> None: ...

class Grader(_message.Message):
    __slots__ = ("name", "display_name", "partner", "locales", "skills", "status", "programmes", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    partner: str
    locales: _containers.RepeatedScalarFieldContainer[str]
    skills: _containers.RepeatedScalarFieldContainer[str]
    status: ActiveStatus
    programmes: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., partner: _Optional[str] = ..., locales: _Optional[_Iterable[str]] = ..., skills: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[ActiveStatus, str]] = ..., programmes: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Programme(_message.Message):
    __slots__ = ("name", "display_name", "owner_teams", "locales", "price_per_judgement", "currency", "sla_hours")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_TEAMS_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_JUDGEMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SLA_HOURS_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    owner_teams: _containers.RepeatedScalarFieldContainer[str]
    locales: _containers.RepeatedScalarFieldContainer[str]
    price_per_judgement: float
    currency: str
    sla_hours: float
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., owner_teams: _Optional[_Iterable[str]] = ..., locales: _Optional[_Iterable[str]] = ..., price_per_judgement: _Optional[float] = ..., currency: _Optional[str] = ..., sla_hours: _Optional[float] = ...) -> None: ...

class GoldItem(_message.Message):
    __slots__ = ("id", "query", "locale", "result", "grade")
    ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    id: str
    query: str
    locale: str
    result: _common_pb2.ResultDoc
    grade: int
    def __init__(self, id: _Optional[str] = ..., query: _Optional[str] = ..., locale: _Optional[str] = ..., result: _Optional[_Union[_common_pb2.ResultDoc, _Mapping]] = ..., grade: _Optional[int] = ...) -> None: ...

class CreatePartnerRequest(_message.Message):
    __slots__ = ("partner", "request_id")
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    partner: Partner
    request_id: str
    def __init__(self, partner: _Optional[_Union[Partner, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPartnerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListPartnersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPartnersResponse(_message.Message):
    __slots__ = ("partners", "next_page_token")
    PARTNERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    partners: _containers.RepeatedCompositeFieldContainer[Partner]
    next_page_token: str
    def __init__(self, partners: _Optional[_Iterable[_Union[Partner, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdatePartnerRequest(_message.Message):
    __slots__ = ("partner", "update_mask")
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    partner: Partner
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, partner: _Optional[_Union[Partner, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class CreateGraderRequest(_message.Message):
    __slots__ = ("grader", "request_id")
    GRADER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    grader: Grader
    request_id: str
    def __init__(self, grader: _Optional[_Union[Grader, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateGraderResponse(_message.Message):
    __slots__ = ("grader", "credential")
    GRADER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    grader: Grader
    credential: str
    def __init__(self, grader: _Optional[_Union[Grader, _Mapping]] = ..., credential: _Optional[str] = ...) -> None: ...

class GetGraderRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListGradersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "partner", "locale", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARTNER_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    partner: str
    locale: str
    status: ActiveStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., partner: _Optional[str] = ..., locale: _Optional[str] = ..., status: _Optional[_Union[ActiveStatus, str]] = ...) -> None: ...

class ListGradersResponse(_message.Message):
    __slots__ = ("graders", "next_page_token")
    GRADERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    graders: _containers.RepeatedCompositeFieldContainer[Grader]
    next_page_token: str
    def __init__(self, graders: _Optional[_Iterable[_Union[Grader, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateGraderRequest(_message.Message):
    __slots__ = ("grader", "update_mask")
    GRADER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    grader: Grader
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, grader: _Optional[_Union[Grader, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class SuspendGraderRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RotateGraderCredentialRequest(_message.Message):
    __slots__ = ("name", "grace_period", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    grace_period: _duration_pb2.Duration
    request_id: str
    def __init__(self, name: _Optional[str] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GraderCredential(_message.Message):
    __slots__ = ("grader", "credential", "previous_expire_time")
    GRADER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    grader: Grader
    credential: str
    previous_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, grader: _Optional[_Union[Grader, _Mapping]] = ..., credential: _Optional[str] = ..., previous_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokeGraderCredentialsRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateProgrammeRequest(_message.Message):
    __slots__ = ("programme", "request_id")
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    programme: Programme
    request_id: str
    def __init__(self, programme: _Optional[_Union[Programme, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListProgrammesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProgrammesResponse(_message.Message):
    __slots__ = ("programmes", "next_page_token")
    PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    programmes: _containers.RepeatedCompositeFieldContainer[Programme]
    next_page_token: str
    def __init__(self, programmes: _Optional[_Iterable[_Union[Programme, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LoadGoldItemsRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[GoldItem]
    def __init__(self, items: _Optional[_Iterable[_Union[GoldItem, _Mapping]]] = ...) -> None: ...

class LoadGoldItemsResponse(_message.Message):
    __slots__ = ("created", "existing")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    created: int
    existing: int
    def __init__(self, created: _Optional[int] = ..., existing: _Optional[int] = ...) -> None: ...
