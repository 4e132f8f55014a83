"""Shared by the grading, operations and browser tests (no tests here): a world to grade in —
an evaluation in GRADING with pointwise, side-by-side and gold items written straight into
Elasticsearch — and gRPC helpers to create graders and call the API as them."""
from __future__ import annotations

import datetime as dt

import grpc

from services.evaluation import pooling
from services._proto.qrelay.v1 import common_pb2, grading_pb2, grading_pb2_grpc, operations_pb2, operations_pb2_grpc
from tests.integration.serving import auth


def now_iso(offset_s: float = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_s)).isoformat(timespec="milliseconds")


def doc(i: int, tag: str = "") -> dict:
    return {"doc_id": f"d{tag}{i}", "title": f"Result {tag}{i}", "snippet": f"Snippet of result {tag}{i}.",
            "url": f"https://example.org/{tag}{i}", "position": 1}


def _common(evaluation_id: str, overlap: int, priority: int, deadline: str | None) -> dict:
    """The fields production gives every item of an evaluation (services.evaluation.production)."""
    return {"evaluation_id": evaluation_id, "overlap": overlap, "priority": priority, "deadline": deadline,
            "needs_humans": True, "audit": False, "judgements": 0, "gold": False, "identical": False,
            "create_time": now_iso()}


def _query(query: str, i: int, locale: str, lists: dict) -> pooling.QueryResults:
    # stratified by locale, as `qrelay eval create --stratify-by locale` does: the group is part of the id
    return pooling.QueryResults(query_norm=f"{query} {i}", query=f"{query} {i}", locale=locale, stratum="head",
                                lists=lists, group=(locale,))


def pointwise(evaluation_id: str, n: int, locale: str = "en-US", overlap: int = 1, priority: int = 50,
              deadline: str | None = None, query: str = "running shoes", tag: str = "p") -> list[dict]:
    """``n`` pointwise items built by production's pooling (so their ids are production's ids)."""
    common = _common(evaluation_id, overlap, priority, deadline)
    out = []
    for i in range(n):
        out += pooling.pointwise_items(evaluation_id, _query(query, i, locale, {"A": [doc(i, tag)]}), ["A"], common)
    return out


def side_by_side(evaluation_id: str, n: int, locale: str = "en-US", overlap: int = 1, priority: int = 50,
                 query: str = "laptop") -> list[dict]:
    """``n`` side-by-side items (ranker-alpha's list ``a{i}-k``, ranker-beta's ``b{i}-k``) built by production."""
    common = _common(evaluation_id, overlap, priority, None)
    out = []
    for i in range(n):
        lists = {"ranker-alpha": [doc(k, f"a{i}-") for k in range(1, 4)],
                 "ranker-beta": [doc(k, f"b{i}-") for k in range(1, 4)]}
        out += pooling.side_by_side_items(evaluation_id, _query(query, i, locale, lists),
                                          ["ranker-alpha", "ranker-beta"], common)
    return out


def gold(evaluation_id: str, n: int, label: int = 2, locale: str = "en-US", query: str = "tennis racket",
         tag: str = "g") -> list[dict]:
    """``n`` gold items as production mixes them in (from gold-index entries)."""
    entries = [{"gold_id": f"{evaluation_id}-{tag}{i}", "query": f"{query} {i}", "query_norm": f"{query} {i}",
                "locale": locale, "grade": label, "doc": doc(i, tag)} for i in range(n)]
    return pooling.gold_items(evaluation_id, entries, _common(evaluation_id, 1, 50, None))


def seed(es, prefix: str, evaluation_id: str, items: list[dict], state: str = "GRADING",
         owner_team: str = "search") -> None:
    es.index(index=f"{prefix}evaluations", id=evaluation_id, refresh="wait_for", document={
        "evaluation_id": evaluation_id, "display_name": evaluation_id, "owner_team": owner_team, "state": state,
        "create_time": now_iso(), "update_time": now_iso()})
    for it in items:
        es.index(index=f"{prefix}items", id=it["item_id"], document=it)
    es.indices.refresh(index=f"{prefix}items")


def create_grader(channel, locales=("en-US",), skills=(), programmes=(), partner: str = "",
                  name: str = "Grader", role: str = "ops") -> tuple[str, str]:
    """(grader name, credential)."""
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    r = ops.CreateGrader(operations_pb2.CreateGraderRequest(grader=operations_pb2.Grader(
        display_name=name, locales=list(locales), skills=list(skills), programmes=list(programmes),
        partner=partner)), metadata=auth(role))
    return r.grader.name, r.credential


def bearer(token: str):
    return (("authorization", f"Bearer {token}"),)


class GraderClient:
    """The grading API as one grader sees it."""

    def __init__(self, channel, credential: str):
        self.stub = grading_pb2_grpc.GradingServiceStub(channel)
        self.md = bearer(credential)

    def next(self, kind=common_pb2.JUDGEMENT_KIND_UNSPECIFIED):
        return self.stub.NextAssignment(grading_pb2.NextAssignmentRequest(kind=kind), metadata=self.md)

    def submit(self, name, **kw):
        return self.stub.SubmitJudgement(grading_pb2.SubmitJudgementRequest(name=name, **kw), metadata=self.md)

    def skip(self, name, reason=grading_pb2.PAGE_BROKEN, comment=""):
        return self.stub.SkipAssignment(grading_pb2.SkipAssignmentRequest(name=name, reason=reason, comment=comment),
                                        metadata=self.md)

    def extend(self, name, seconds=None):
        req = grading_pb2.ExtendLeaseRequest(name=name)
        if seconds is not None:
            req.extension.FromSeconds(seconds)
        return self.stub.ExtendLease(req, metadata=self.md)

    def stats(self):
        return self.stub.GetMyStats(grading_pb2.GetMyStatsRequest(), metadata=self.md)

    def drain(self, **submit) -> list:
        """Lease and submit until the queue is empty; returns the assignments."""
        out = []
        while True:
            try:
                a = self.next()
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e
                return out
            kw = submit or ({"grade": 2} if a.task.WhichOneof("body") == "pointwise" else {"preference": 1})
            self.submit(a.name, **kw)
            out.append(a)


def code_of(call, *args, **kwargs) -> grpc.StatusCode:
    try:
        call(*args, **kwargs)
    except grpc.RpcError as e:
        return e.code()
    return grpc.StatusCode.OK


def judgements(es, prefix: str, **terms) -> list[dict]:
    es.indices.refresh(index=f"{prefix}judgements")
    q = {"bool": {"filter": [{"term": {k: v}} for k, v in terms.items()]}} if terms else {"match_all": {}}
    return [h["_source"] for h in es.search(index=f"{prefix}judgements", size=10_000, query=q)["hits"]["hits"]]
