import pytest

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2, grading_pb2, operations_pb2, reporting_pb2
from services.auth import StaticTokens, authorize, bearer_token, method_roles
from services.config import Principal
from services.core.errors import PermissionDenied, Unauthenticated

ROLES = method_roles(m.DESCRIPTOR for m in (common_pb2, evaluation_pb2, grading_pb2, reporting_pb2, operations_pb2))
AUTH = StaticTokens({"eng": Principal("eve", "engineer"), "gr": Principal("gina", "grader")})


def test_every_rpc_declares_its_roles():
    assert len(ROLES) > 20
    assert all(ROLES.values()), [m for m, r in ROLES.items() if not r]
    assert ROLES["/qrelay.v1.EvaluationService/CreateEvaluation"] == {"engineer", "admin"}
    assert ROLES["/qrelay.v1.GradingService/SubmitJudgement"] == {"grader"}
    assert ROLES["/qrelay.v1.OperationsService/LoadGoldItems"] == {"admin"}


def test_bearer_token_parsing():
    assert bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert bearer_token([("authorization", "bearer  abc ")]) == "abc"
    assert bearer_token([("authorization", "Basic abc")]) is None
    assert bearer_token([("x", "y")]) is None


def test_authorize():
    m = "/qrelay.v1.EvaluationService/CreateEvaluation"
    assert authorize(m, "eng", ROLES, AUTH) == Principal("eve", "engineer")
    with pytest.raises(Unauthenticated, match="missing bearer token"):
        authorize(m, None, ROLES, AUTH)
    with pytest.raises(Unauthenticated, match="invalid bearer token"):
        authorize(m, "nope", ROLES, AUTH)
    with pytest.raises(PermissionDenied, match="role 'grader' may not call CreateEvaluation"):
        authorize(m, "gr", ROLES, AUTH)
