"""Abuse from the wire: graders reaching for other graders' work, replayed and guessed
assignments, every role calling what it may not, rate limits, and the audit log of changes."""
from __future__ import annotations

import base64
import secrets
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services import wirefuzz
from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc
from services._proto.qrelay.v1 import operations_pb2 as ops_pb2
from services._proto.qrelay.v1 import operations_pb2_grpc
from services.store import audit
from tests.integration import test_grading_support as w
from tests.integration.serving import TOKENS, TOKENS_SPEC, auth, qrelay_server
from tests.integration.test_grading import World, _drop

DENIED = grpc.StatusCode.PERMISSION_DENIED
SECOND_ENGINEER = "t-eng2"


@pytest.fixture(scope="module")
def abused(es_url, es, tmp_path_factory):
    """A server whose leases last 2 s, with two engineers each limited to 3 calls at once and then
    one per 100 s (the other roles as configured by default)."""
    prefix = f"qt-abuse-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("abuse") / "serve.log", {
            "QRELAY_LEASE_SECONDS": "2", "QRELAY_RATE_LIMITS": "engineer=0.01:3",
            "QRELAY_TOKENS": f"{TOKENS_SPEC},{SECOND_ENGINEER}=eng2-user:engineer"}) as (address, _), \
            grpc.insecure_channel(address) as ch:
        yield World(es, ch, prefix)
    _drop(es, prefix)


def _fresh(world: World) -> World:
    return World(world.es, world.channel, world.prefix)


def test_a_grader_cannot_touch_another_graders_assignment_nor_replay_an_expired_one(abused):
    world = _fresh(abused)
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    owner, thief = world.grader(), world.grader()
    a = owner.next()
    for call in (lambda: thief.submit(a.name, grade=3), lambda: thief.skip(a.name), lambda: thief.extend(a.name)):
        assert w.code_of(call) == DENIED  # extend is also the only way to read an assignment again
    time.sleep(2.3)  # the lease ends
    assert w.code_of(owner.submit, a.name, grade=1) == grpc.StatusCode.FAILED_PRECONDITION
    b = thief.next()  # the task went back to the pool; the thief takes it fairly now
    assert b.task.query == a.task.query and b.name != a.name
    # replaying the old assignment after someone else holds the task changes nothing
    assert w.code_of(owner.submit, a.name, grade=1) == grpc.StatusCode.FAILED_PRECONDITION
    assert w.code_of(owner.extend, a.name) == grpc.StatusCode.FAILED_PRECONDITION
    thief.submit(b.name, grade=2)
    assert [(j["grader"], j["grade"]) for j in world.judgements()] == [(thief.id, 2)]


def test_guessed_and_tampered_handles_name_nothing(abused):
    world = _fresh(abused)
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g = world.grader()
    real = g.next().name.split("/", 1)[1]
    raw = bytearray(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4)))
    guesses = [base64.urlsafe_b64encode(secrets.token_bytes(len(raw))).decode().rstrip("=") for _ in range(2)]
    for i in (0, len(raw) // 2, len(raw) - 1):  # one bit off anywhere: authentication fails
        forged = bytearray(raw)
        forged[i] ^= 1
        guesses.append(base64.urlsafe_b64encode(bytes(forged)).decode().rstrip("="))
    guesses += [real[:-1], real + "A", "0" * len(real)]
    for guess in guesses:
        assert w.code_of(g.extend, f"assignments/{guess}") == grpc.StatusCode.NOT_FOUND, guess


def test_every_role_is_refused_every_method_it_may_not_call(abused):
    """From the contract the wire reports: each role against each method it is not allowed."""
    world = _fresh(abused)
    grader = world.grader()
    tokens = {"engineer": TOKENS["engineer"], "ops": TOKENS["ops"], "admin": TOKENS["admin"],
              "grader": grader.md[0][1][len("Bearer "):]}
    from services.auth import method_roles
    from services.server import PROTO_FILES

    roles = method_roles(m.DESCRIPTOR for m in PROTO_FILES)
    refused = 0
    for m in wirefuzz.discover(world.channel):
        for role, token in tokens.items():
            if role in roles[m.path]:
                continue
            outcome = wirefuzz.call(world.channel, m, b"", token)
            assert outcome.code == "PERMISSION_DENIED", (m.path, role, outcome)
            refused += 1
    assert refused > 40  # graders on engineer/ops/admin methods, engineers on ops, ops on admin ones


def test_rate_limits_answer_resource_exhausted_per_principal(abused):
    world = _fresh(abused)
    evals = evaluation_pb2_grpc.EvaluationServiceStub(world.channel)
    req = evaluation_pb2.ListEvaluationsRequest(page_size=1)
    codes = [w.code_of(evals.ListEvaluations, req, metadata=auth("engineer")) for _ in range(5)]
    assert codes == [grpc.StatusCode.OK] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
    with pytest.raises(grpc.RpcError) as e:
        evals.ListEvaluations(req, metadata=auth("engineer"))
    retry = [d for d in rpc_status.from_call(e.value).details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR)]
    info = error_details_pb2.RetryInfo()
    retry[0].Unpack(info)
    assert "rate limit" in e.value.details() and 0 < info.retry_delay.ToTimedelta().total_seconds() <= 100
    # another engineer has a bucket of their own, and ops are limited apart
    assert w.code_of(evals.ListEvaluations, req, metadata=w.bearer(SECOND_ENGINEER)) == grpc.StatusCode.OK
    assert w.code_of(evals.ListEvaluations, req, metadata=auth("ops")) == grpc.StatusCode.OK


def test_changes_by_ops_and_admins_go_to_the_audit_log(abused):
    world = _fresh(abused)
    ops = operations_pb2_grpc.OperationsServiceStub(world.channel)
    rid = uuid.uuid4().hex
    p = ops.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Audited"),
                                                       request_id=rid), metadata=auth("ops"))
    ops.UpdatePartner(ops_pb2.UpdatePartnerRequest(partner=ops_pb2.Partner(name=p.name, display_name="Renamed"),
                                                   update_mask=field_mask_pb2.FieldMask(paths=["display_name"])),
                      metadata=(*auth("admin"), ("x-request-id", "change-42")))
    created = ops.CreateGrader(ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
        display_name="Audited grader", locales=[world.locale])), metadata=auth("ops"))
    ops.GetPartner(ops_pb2.GetPartnerRequest(name=p.name), metadata=auth("ops"))  # a read: not audited
    g = w.GraderClient(world.channel, created.credential)
    assert w.code_of(ops.SuspendGrader, ops_pb2.SuspendGraderRequest(name=created.grader.name),
                     metadata=g.md) == DENIED  # an attempt by a grader
    ops.SuspendGrader(ops_pb2.SuspendGraderRequest(name=created.grader.name, reason="audit"), metadata=auth("ops"))
    records = {(r["method"].rsplit("/", 1)[1], r["subject"], r["code"]): r
               for r in audit.search(world.es, world.prefix, size=1000) if r["target"] in (p.name, created.grader.name)}
    gid = created.grader.name.split("/")[1]
    assert set(records) == {("CreatePartner", "ops-user", "OK"), ("UpdatePartner", "admin-user", "OK"),
                            ("CreateGrader", "ops-user", "OK"), ("SuspendGrader", gid, "PERMISSION_DENIED"),
                            ("SuspendGrader", "ops-user", "OK")}
    assert records[("CreatePartner", "ops-user", "OK")]["request_id"] == rid
    assert records[("UpdatePartner", "admin-user", "OK")]["request_id"] == "change-42"
    assert records[("SuspendGrader", "ops-user", "OK")]["request"] == {"name": created.grader.name, "reason": "audit"}
    assert all(r["time"] and r["role"] for r in records.values())
    assert created.credential not in str(records)  # credentials are answers, never recorded
