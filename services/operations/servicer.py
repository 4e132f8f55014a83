"""OperationsService: translates messages to the operations domain and back."""
from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from services._proto.qrelay.v1 import operations_pb2, operations_pb2_grpc
from services.aip import id_of, page_after, page_token, timestamp
from services.core.errors import Violations
from services.grading.dispatch import Dispatcher
from services.core.clock import iso, now
from services.operations import graders as grader_ops
from services.operations import partners as partner_ops
from services.operations.validation import check_locales, page_size
from services.store import gold, graders, partners, programmes

_STATUS = {"ACTIVE": operations_pb2.ACTIVE, "SUSPENDED": operations_pb2.SUSPENDED}
MAX_GOLD = 10_000


def _status_name(value: int) -> str:
    return operations_pb2.ActiveStatus.Name(value) if value else ""


def partner_to_proto(d: dict[str, Any]) -> operations_pb2.Partner:
    p = operations_pb2.Partner(name=f"partners/{d['partner_id']}", display_name=d.get("display_name", ""),
                               status=_STATUS.get(d.get("status", ""), 0),
                               price_per_judgement=d.get("price_per_judgement") or 0.0, currency=d.get("currency") or "")
    if ts := timestamp(d.get("create_time")):
        p.create_time.CopyFrom(ts)
    return p


def grader_to_proto(d: dict[str, Any]) -> operations_pb2.Grader:
    g = operations_pb2.Grader(
        name=f"graders/{d['grader_id']}", display_name=d.get("display_name", ""),
        partner=f"partners/{d['partner']}" if d.get("partner") else "", locales=d.get("locales") or [],
        skills=d.get("skills") or [], status=_STATUS.get(d.get("status", ""), 0),
        programmes=[f"programmes/{p}" for p in d.get("programmes") or []])
    if ts := timestamp(d.get("create_time")):
        g.create_time.CopyFrom(ts)
    return g


def programme_to_proto(d: dict[str, Any]) -> operations_pb2.Programme:
    return operations_pb2.Programme(
        name=f"programmes/{d['programme_id']}", display_name=d.get("display_name", ""),
        owner_teams=d.get("owner_teams") or [], locales=d.get("locales") or [],
        price_per_judgement=d.get("price_per_judgement") or 0.0, currency=d.get("currency") or "",
        sla_hours=d.get("sla_hours") or 0.0)


def _grader_fields(g: operations_pb2.Grader) -> dict[str, Any]:
    return {"display_name": g.display_name, "partner": g.partner, "locales": list(g.locales),
            "skills": list(g.skills), "status": _status_name(g.status), "programmes": list(g.programmes)}


class OperationsServicer(operations_pb2_grpc.OperationsServiceServicer):
    def __init__(self, ctx, dispatcher: Dispatcher):
        self.es, self.prefix = ctx.es, ctx.prefix
        self.dispatcher = dispatcher

    # --- partners ------------------------------------------------------------------------

    def CreatePartner(self, request, context):
        p = request.partner
        return partner_to_proto(partner_ops.create_partner(self.es, self.prefix, p.display_name,
                                                           _status_name(p.status), request.request_id,
                                                           p.price_per_judgement, p.currency))

    def GetPartner(self, request, context):
        return partner_to_proto(partners.get(self.es, self.prefix, id_of(request.name, "partners", "name")))

    def ListPartners(self, request, context):
        docs, after = partners.list_page(self.es, self.prefix, page_size(request.page_size), page_after(request.page_token))
        return operations_pb2.ListPartnersResponse(partners=[partner_to_proto(d) for d in docs],
                                                   next_page_token=page_token(after))

    def UpdatePartner(self, request, context):
        pid = id_of(request.partner.name, "partners", "partner.name")
        p = request.partner
        fields = {"display_name": p.display_name, "status": _status_name(p.status),
                  "price_per_judgement": p.price_per_judgement, "currency": p.currency}
        return partner_to_proto(partner_ops.update_partner(self.es, self.prefix, pid, fields,
                                                           request.update_mask.paths))

    # --- graders -------------------------------------------------------------------------

    def CreateGrader(self, request, context):
        doc, credential = grader_ops.create(self.es, self.prefix, _grader_fields(request.grader), request.request_id)
        return operations_pb2.CreateGraderResponse(grader=grader_to_proto(doc), credential=credential)

    def GetGrader(self, request, context):
        return grader_to_proto(graders.get(self.es, self.prefix, id_of(request.name, "graders", "name")))

    def ListGraders(self, request, context):
        v = Violations()
        if request.locale:
            check_locales(v, [request.locale], "locale")
        v.raise_if_any()
        partner = id_of(request.partner, "partners", "partner") if request.partner else ""
        docs, after = graders.list_page(self.es, self.prefix, page_size(request.page_size), page_after(request.page_token),
                                        partner=partner, locale=request.locale, status=_status_name(request.status))
        return operations_pb2.ListGradersResponse(graders=[grader_to_proto(d) for d in docs],
                                                  next_page_token=page_token(after))

    def UpdateGrader(self, request, context):
        gid = id_of(request.grader.name, "graders", "grader.name")
        doc = grader_ops.update(self.es, self.prefix, self.dispatcher, gid, _grader_fields(request.grader),
                                request.update_mask.paths)
        return grader_to_proto(doc)

    def SuspendGrader(self, request, context):
        gid = id_of(request.name, "graders", "name")
        return grader_to_proto(grader_ops.suspend(self.es, self.prefix, self.dispatcher, gid, request.reason))

    # --- programmes ----------------------------------------------------------------------

    def CreateProgramme(self, request, context):
        p = json_format.MessageToDict(request.programme, preserving_proto_field_name=True)
        p.pop("name", None)
        return programme_to_proto(partner_ops.create_programme(self.es, self.prefix, p, request.request_id))

    def ListProgrammes(self, request, context):
        docs, after = programmes.list_page(self.es, self.prefix, page_size(request.page_size),
                                           page_after(request.page_token))
        return operations_pb2.ListProgrammesResponse(programmes=[programme_to_proto(d) for d in docs],
                                                     next_page_token=page_token(after))

    # --- gold ----------------------------------------------------------------------------

    def LoadGoldItems(self, request, context):
        v = Violations()
        v.check(0 < len(request.items) <= MAX_GOLD, "items", f"between 1 and {MAX_GOLD} gold items")
        seen = set()
        for i, it in enumerate(request.items):
            f = f"items[{i}]"
            v.check(bool(it.id) and it.id not in seen, f"{f}.id", "required and unique within the request")
            seen.add(it.id)
            v.check(bool(it.query.strip()), f"{f}.query", "required")
            check_locales(v, [it.locale], f"{f}.locale")
            v.check(bool(it.result.doc_id), f"{f}.result.doc_id", "required")
            v.check(0 <= it.grade <= 3, f"{f}.grade", f"must be in 0..3, got {it.grade}")
        v.raise_if_any()
        t = iso(now())
        docs = [{"gold_id": it.id, "query": it.query, "query_norm": " ".join(it.query.lower().split()),
                 "locale": it.locale, "grade": it.grade, "create_time": t,
                 "doc": {"doc_id": it.result.doc_id, "title": it.result.title, "snippet": it.result.snippet,
                         "url": it.result.url, "position": it.result.position or 1}} for it in request.items]
        created, existing = gold.load(self.es, self.prefix, docs)
        return operations_pb2.LoadGoldItemsResponse(created=created, existing=existing)
