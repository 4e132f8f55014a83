"""OperationsService against the real server process and a real Elasticsearch: partners,
graders and their one-time credentials, suspension, programmes, gold, and bad input."""
from __future__ import annotations

import hashlib
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from services._proto.qrelay.v1 import common_pb2, grading_pb2, grading_pb2_grpc, operations_pb2 as ops_pb2
from services._proto.qrelay.v1 import operations_pb2_grpc
from tests.integration import test_grading_support as w
from tests.integration.serving import auth, qrelay_server
from tests.integration.test_grading import _drop, bad_request_fields


@pytest.fixture(scope="module")
def server(es_url, es, tmp_path_factory):
    prefix = f"qt-ops-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("ops") / "serve.log") as (address, _):
        yield address, prefix
    _drop(es, prefix)


@pytest.fixture()
def ops(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield operations_pb2_grpc.OperationsServiceStub(ch), ch


def invalid_fields(call, *args, **kw) -> list[str]:
    with pytest.raises(grpc.RpcError) as e:
        call(*args, **kw)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value
    return bad_request_fields(e.value)


def test_partners_create_get_list_update_idempotently(ops):
    stub, _ = ops
    rid = uuid.uuid4().hex
    p = stub.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Acme BPO"),
                                                        request_id=rid), metadata=auth("ops"))
    assert p.name.startswith("partners/") and p.status == ops_pb2.ACTIVE and p.create_time.seconds > 0
    again = stub.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Other"),
                                                            request_id=rid), metadata=auth("admin"))
    assert again == p
    assert stub.GetPartner(ops_pb2.GetPartnerRequest(name=p.name), metadata=auth("ops")) == p
    names = set()
    token = ""
    while True:
        page = stub.ListPartners(ops_pb2.ListPartnersRequest(page_size=1, page_token=token), metadata=auth("ops"))
        names |= {x.name for x in page.partners}
        token = page.next_page_token
        if not token:
            break
    assert p.name in names
    u = stub.UpdatePartner(ops_pb2.UpdatePartnerRequest(
        partner=ops_pb2.Partner(name=p.name, display_name="Acme", status=ops_pb2.SUSPENDED),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name", "status"])), metadata=auth("ops"))
    assert (u.display_name, u.status) == ("Acme", ops_pb2.SUSPENDED)
    # bad input
    assert "partner.display_name" in invalid_fields(stub.CreatePartner, ops_pb2.CreatePartnerRequest(), metadata=auth("ops"))
    assert "update_mask" in invalid_fields(stub.UpdatePartner, ops_pb2.UpdatePartnerRequest(
        partner=ops_pb2.Partner(name=p.name), update_mask=field_mask_pb2.FieldMask(paths=["create_time"])),
        metadata=auth("ops"))
    assert "name" in invalid_fields(stub.GetPartner, ops_pb2.GetPartnerRequest(name="graders/x"), metadata=auth("ops"))
    assert w.code_of(stub.GetPartner, ops_pb2.GetPartnerRequest(name="partners/nope"),
                     metadata=auth("ops")) == grpc.StatusCode.NOT_FOUND
    assert "page_token" in invalid_fields(stub.ListPartners, ops_pb2.ListPartnersRequest(page_token="%%"),
                                          metadata=auth("ops"))


def test_a_partners_price_per_judgement_is_set_and_checked_with_its_currency(ops):
    stub, _ = ops
    p = stub.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Priced")),
                           metadata=auth("ops"))
    assert (p.price_per_judgement, p.currency) == (0, "")
    mask = field_mask_pb2.FieldMask(paths=["price_per_judgement", "currency"])
    u = stub.UpdatePartner(ops_pb2.UpdatePartnerRequest(partner=ops_pb2.Partner(
        name=p.name, price_per_judgement=0.08, currency="EUR"), update_mask=mask), metadata=auth("ops"))
    assert (u.price_per_judgement, u.currency) == (pytest.approx(0.08), "EUR")
    assert stub.GetPartner(ops_pb2.GetPartnerRequest(name=p.name), metadata=auth("ops")) == u
    # the currency cannot go while a price remains; a negative price is refused
    assert invalid_fields(stub.UpdatePartner, ops_pb2.UpdatePartnerRequest(partner=ops_pb2.Partner(name=p.name),
                          update_mask=field_mask_pb2.FieldMask(paths=["currency"])), metadata=auth("ops")) == [
        "partner.currency"]
    assert "partner.price_per_judgement" in invalid_fields(stub.CreatePartner, ops_pb2.CreatePartnerRequest(
        partner=ops_pb2.Partner(display_name="x", price_per_judgement=-1, currency="EUR")), metadata=auth("ops"))


def test_grader_lifecycle_and_one_time_credential(ops, server, es):
    stub, ch = ops
    partner = stub.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Vendor")),
                                 metadata=auth("ops"))
    rid = uuid.uuid4().hex
    req = ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
        display_name="Amal", partner=partner.name, locales=["ar-SA", "en-US"], skills=["pointwise"]), request_id=rid)
    r = stub.CreateGrader(req, metadata=auth("ops"))
    g = r.grader
    assert g.name.startswith("graders/") and g.status == ops_pb2.ACTIVE and list(g.locales) == ["ar-SA", "en-US"]
    assert r.credential.startswith("qrg.")
    # only the hash is stored
    stored = es.get(index=f"{server[1]}graders", id=g.name.split("/")[1])["_source"]
    assert stored["credential_sha256"] == hashlib.sha256(r.credential.encode()).hexdigest()
    assert r.credential not in str(stored)
    # the credential signs the grader in as a grader
    grading = grading_pb2_grpc.GradingServiceStub(ch)
    assert grading.GetMyStats(grading_pb2.GetMyStatsRequest(), metadata=w.bearer(r.credential)).done_total == 0
    # a retry returns the same grader, and never the credential again
    again = stub.CreateGrader(req, metadata=auth("ops"))
    assert again.grader == g and again.credential == ""
    assert stub.GetGrader(ops_pb2.GetGraderRequest(name=g.name), metadata=auth("ops")) == g
    listed = stub.ListGraders(ops_pb2.ListGradersRequest(partner=partner.name, locale="ar-SA"), metadata=auth("ops"))
    assert [x.name for x in listed.graders] == [g.name]
    u = stub.UpdateGrader(ops_pb2.UpdateGraderRequest(
        grader=ops_pb2.Grader(name=g.name, locales=["fr-FR"], skills=["side_by_side"]),
        update_mask=field_mask_pb2.FieldMask(paths=["locales", "skills"])), metadata=auth("ops"))
    assert list(u.locales) == ["fr-FR"] and list(u.skills) == ["side_by_side"] and u.display_name == "Amal"
    s = stub.SuspendGrader(ops_pb2.SuspendGraderRequest(name=g.name, reason="left"), metadata=auth("admin"))
    assert s.status == ops_pb2.SUSPENDED
    assert [x.name for x in stub.ListGraders(ops_pb2.ListGradersRequest(
        partner=partner.name, status=ops_pb2.SUSPENDED), metadata=auth("ops")).graders] == [g.name]
    # a suspended grader still signs in, but gets no tasks
    with pytest.raises(grpc.RpcError) as e:
        grading.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=w.bearer(r.credential))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_grader_bad_input(ops):
    stub, _ = ops
    md = auth("ops")
    fields = invalid_fields(stub.CreateGrader, ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
        display_name="", locales=["english"], partner="partners/nope-x", programmes=["nope"])), metadata=md)
    assert {"grader.display_name", "grader.locales[0]", "grader.programmes[0]"} <= set(fields)
    assert "grader.locales" in invalid_fields(stub.CreateGrader, ops_pb2.CreateGraderRequest(
        grader=ops_pb2.Grader(display_name="x")), metadata=md)
    assert "grader.partner" in invalid_fields(stub.CreateGrader, ops_pb2.CreateGraderRequest(
        grader=ops_pb2.Grader(display_name="x", locales=["en-US"], partner="partners/does-not-exist")), metadata=md)
    assert "grader.programmes" in invalid_fields(stub.CreateGrader, ops_pb2.CreateGraderRequest(
        grader=ops_pb2.Grader(display_name="x", locales=["en-US"], programmes=["programmes/none"])), metadata=md)
    assert w.code_of(stub.GetGrader, ops_pb2.GetGraderRequest(name="graders/none"), metadata=md) == grpc.StatusCode.NOT_FOUND
    assert w.code_of(stub.SuspendGrader, ops_pb2.SuspendGraderRequest(name="graders/none"),
                     metadata=md) == grpc.StatusCode.NOT_FOUND
    assert w.code_of(stub.UpdateGrader, ops_pb2.UpdateGraderRequest(
        grader=ops_pb2.Grader(name="graders/none"), update_mask=field_mask_pb2.FieldMask(paths=["skills"])),
        metadata=md) == grpc.StatusCode.NOT_FOUND
    # roles: engineers and graders may not run the operation; no token is UNAUTHENTICATED
    req = ops_pb2.ListGradersRequest()
    assert w.code_of(stub.ListGraders, req, metadata=auth("engineer")) == grpc.StatusCode.PERMISSION_DENIED
    assert w.code_of(stub.ListGraders, req, metadata=auth("grader")) == grpc.StatusCode.PERMISSION_DENIED
    assert w.code_of(stub.ListGraders, req) == grpc.StatusCode.UNAUTHENTICATED


def test_programmes(ops):
    stub, _ = ops
    p = stub.CreateProgramme(ops_pb2.CreateProgrammeRequest(programme=ops_pb2.Programme(
        display_name="MX tail", owner_teams=["search-mx"], locales=["es-MX"], price_per_judgement=0.12,
        currency="USD", sla_hours=48), request_id="prog-1"), metadata=auth("ops"))
    assert p.name.startswith("programmes/") and p.price_per_judgement == pytest.approx(0.12) and p.sla_hours == 48
    assert p.name in {x.name for x in stub.ListProgrammes(ops_pb2.ListProgrammesRequest(), metadata=auth("ops")).programmes}
    fields = invalid_fields(stub.CreateProgramme, ops_pb2.CreateProgrammeRequest(programme=ops_pb2.Programme(
        display_name="x", currency="dollars", price_per_judgement=-1, locales=["nope nope"])), metadata=auth("ops"))
    assert {"programme.owner_teams", "programme.currency", "programme.price_per_judgement",
            "programme.locales[0]"} <= set(fields)


def test_load_gold_items_admin_only_and_idempotent(ops, server, es):
    stub, _ = ops
    items = [ops_pb2.GoldItem(id=f"gold-{i}", query="capital of france", locale="en-US", grade=3,
                              result=common_pb2.ResultDoc(doc_id=f"d{i}", title="Paris", url="https://x/p"))
             for i in range(3)]
    req = ops_pb2.LoadGoldItemsRequest(items=items)
    assert w.code_of(stub.LoadGoldItems, req, metadata=auth("ops")) == grpc.StatusCode.PERMISSION_DENIED
    r = stub.LoadGoldItems(req, metadata=auth("admin"))
    assert (r.created, r.existing) == (3, 0)
    r = stub.LoadGoldItems(req, metadata=auth("admin"))
    assert (r.created, r.existing) == (0, 3)
    assert es.get(index=f"{server[1]}gold", id="gold-1")["_source"]["grade"] == 3
    bad = ops_pb2.LoadGoldItemsRequest(items=[ops_pb2.GoldItem(id="", query="", locale="xx_YY", grade=4)])
    assert {"items[0].id", "items[0].query", "items[0].locale[0]", "items[0].result.doc_id", "items[0].grade"} <= set(
        invalid_fields(stub.LoadGoldItems, bad, metadata=auth("admin")))
    assert "items" in invalid_fields(stub.LoadGoldItems, ops_pb2.LoadGoldItemsRequest(), metadata=auth("admin"))
