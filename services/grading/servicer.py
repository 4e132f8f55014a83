"""GradingService: translates messages to the grading domain and back; the domain decides."""
from __future__ import annotations

from typing import Any

from google.protobuf import duration_pb2

from services import aip
from services._proto.qrelay.v1 import common_pb2, grading_pb2, grading_pb2_grpc
from services.auth import current_principal
from services.core.errors import FieldViolation, InvalidArgument, NotFound
from services.grading import judging, stats
from services.grading.config import GradingConfig
from services.grading.dispatch import Dispatcher
from services.grading.handles import Handles
from services.grading.reconcile import Reconciler
from services.grading.scales import Guidelines
from services.store import queue
from services.store.group_commit import GroupCommit

_KINDS = {common_pb2.POINTWISE: "pointwise", common_pb2.SIDE_BY_SIDE: "side_by_side"}
_SCALES = {"pointwise": common_pb2.POINTWISE_0_3, "side_by_side": common_pb2.SIDE_BY_SIDE_MINUS3_PLUS3}


def _doc(d: dict[str, Any], ranked: bool = True) -> common_pb2.ResultDoc:
    return common_pb2.ResultDoc(doc_id=str(d.get("doc_id") or ""), title=d.get("title") or "",
                                snippet=d.get("snippet") or "", url=d.get("url") or "",
                                position=int(d.get("position") or 0) if ranked else 0)


def task_of(slot: dict[str, Any], item: dict[str, Any]) -> grading_pb2.Task:
    """What the grader sees: never the rankers; SxS sides swapped when the lease says so; no rank
    on a pointwise result (a live item's best rank and a gold item's loaded position differ, so a
    rank would mark gold — and it would bias the grade)."""
    kind = item["kind"]
    task = grading_pb2.Task(query=item.get("query") or "", locale=item.get("locale") or "", scale=_SCALES[kind])
    if kind == "pointwise":
        task.pointwise.result.CopyFrom(_doc(item.get("doc") or {}, ranked=False))
    else:
        a, b = item.get("left") or [], item.get("right") or []
        left, right = (b, a) if slot.get("flipped") else (a, b)
        task.side_by_side.left.extend(_doc(d) for d in left)
        task.side_by_side.right.extend(_doc(d) for d in right)
    return task


def judgement_to_proto(j: dict[str, Any], handle: str) -> grading_pb2.Judgement:
    """The grader's view of a stored judgement, named by the assignment's handle."""
    out = grading_pb2.Judgement(name=f"judgements/{handle}", assignment=f"assignments/{handle}",
                                submit_time=aip.timestamp(j["submit_time"]),
                                time_on_task=duration_pb2.Duration(seconds=j["time_on_task_ms"] // 1000,
                                                                   nanos=(j["time_on_task_ms"] % 1000) * 1_000_000))
    if j["kind"] == "pointwise":
        out.grade = int(j["grade"])
    else:
        out.preference = int(j["shown_preference"])  # as the grader saw the sides
    return out


def _me() -> str:
    return current_principal.get().subject


class GradingServicer(grading_pb2_grpc.GradingServiceServicer):
    def __init__(self, ctx, cfg: GradingConfig | None = None):
        self.cfg = cfg or GradingConfig()
        self.prefix = ctx.prefix
        self.es = ctx.es
        if self.cfg.es_path == "grouped":  # concurrent calls share requests (services.store.group_commit)
            self.es = GroupCommit(ctx.es, max_wait=self.cfg.group_wait_seconds,
                                  flushers=self.cfg.group_flushers)
            ctx.closers.append(self.es.close)
        self.dispatch = Dispatcher(self.es, self.prefix, self.cfg)
        self.guidelines = Guidelines(self.cfg.guidelines_dir)
        self.handles = Handles(ctx.secret)
        reconciler = Reconciler(self.es, self.prefix, self.cfg.reconcile_seconds).start()
        ctx.closers.append(reconciler.stop)

    def _aid(self, name: str) -> str:
        """The assignment id behind a client's ``assignments/{handle}``."""
        aid = self.handles.decode(aip.id_of(name, "assignments"))
        if aid is None:
            raise NotFound("this assignment does not exist")
        return aid

    def _assignment(self, slot: dict[str, Any], item: dict[str, Any]) -> grading_pb2.Assignment:
        return grading_pb2.Assignment(name=f"assignments/{self.handles.encode(slot['assignment_id'])}",
                                      task=task_of(slot, item),
                                      lease_expire_time=aip.timestamp(slot["lease_expire"]),
                                      guidelines=self.guidelines.for_kind(item["kind"]))

    def NextAssignment(self, request, context):
        kind = None
        if request.kind:
            kind = _KINDS.get(request.kind)
            if kind is None:
                raise InvalidArgument(FieldViolation("kind", "POINTWISE, SIDE_BY_SIDE, or unset for both"))
        lease = self.dispatch.next(_me(), kind)
        return self._assignment(lease.slot, lease.item)

    def SubmitJudgement(self, request, context):
        aid = self._aid(request.name)
        field = request.WhichOneof("rating")
        rating = judging.Rating(field, getattr(request, field) if field else 0, request.comment, request.flagged,
                                self.guidelines.versions)
        known = self.dispatch.leases.take(aid)
        j = judging.submit(self.es, self.prefix, _me(), aid, rating, known=known,
                           count=self.dispatch.counter.add, faults=self.cfg.faults)
        self.dispatch.lease_ended(_me(), known.doc if known else None)
        return judgement_to_proto(j, self.handles.encode(aid))

    def SkipAssignment(self, request, context):
        aid = self._aid(request.name)
        reason = aip.enum_name(grading_pb2.SkipReason, request.reason, "reason") if request.reason else ""
        known = self.dispatch.leases.take(aid)  # the slot changes: submits read it again
        judging.skip(self.es, self.prefix, _me(), aid, reason, request.comment)
        self.dispatch.lease_ended(_me(), known.doc if known else None)
        return grading_pb2.SkipAssignmentResponse()

    def ExtendLease(self, request, context):
        aid = self._aid(request.name)
        seconds = aip.seconds_of(request.extension, "extension") if request.HasField("extension") else 0
        if seconds < 0:
            raise InvalidArgument(FieldViolation("extension", "must not be negative"))
        self.dispatch.leases.take(aid)  # the slot changes: submits read it again
        slot = judging.extend(self.es, self.prefix, _me(), aid, seconds or self.cfg.lease_seconds,
                              self.cfg.max_lease_seconds)
        item = queue.get_item(self.es, self.prefix, slot["item_id"]) or {}
        item.setdefault("kind", slot["kind"])
        return self._assignment(slot, item)

    def GetMyStats(self, request, context):
        return grading_pb2.GraderStats(**stats.my_stats(self.es, self.prefix, _me(),
                                                        gold_every=self.cfg.gold_feedback_every))
