"""EvaluationService: translates messages to domain calls and back; the domain decides."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid


from services.core import clock
from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc
from services.aip import check_keyword, enum_name, id_of, page_after, page_token, timestamp
from services.auth import current_principal
from services.core.errors import FieldViolation, InvalidArgument, NotFound
from services.evaluation import checks
from services.evaluation.automation import AgreementRefresher
from services.evaluation.production import Producer
from services.evaluation.spec import from_proto, proto_from_json, to_json
from services.store import evaluations

MAX_PAGE = 500
ACTIVE = ("PENDING", "PRODUCING", "PREJUDGING", "GRADING")
WATCH_POLL_S = 0.5
WATCH_HEARTBEAT_S = 15.0


def to_proto(doc: dict) -> evaluation_pb2.Evaluation:
    e = evaluation_pb2.Evaluation(
        name=f"evaluations/{doc['evaluation_id']}",
        display_name=doc.get("display_name", ""),
        spec=proto_from_json(doc.get("spec") or {}),
        state=evaluation_pb2.EvaluationState.Value(doc["state"]),
        state_reason=doc.get("state_reason") or "",
        counts=evaluation_pb2.EvaluationCounts(**{k: int(v) for k, v in (doc.get("counts") or {}).items()
                                                  if k in evaluation_pb2.EvaluationCounts.DESCRIPTOR.fields_by_name}),
        strata=[evaluation_pb2.Stratum(**s) for s in doc.get("strata") or []],
        automation=automation_proto(doc.get("automation") or {}),
        creator=doc.get("creator", ""),
    )
    for attr in ("create_time", "update_time"):
        ts = timestamp(doc.get(attr))
        if ts:
            getattr(e, attr).CopyFrom(ts)
    return e


def ev_with_defaults(evaluation: evaluation_pb2.Evaluation, spec) -> evaluation_pb2.Evaluation:
    """The request with the defaults the domain applied written in, so reads show effective values."""
    e = evaluation_pb2.Evaluation()
    e.CopyFrom(evaluation)
    e.spec.depth, e.spec.overlap, e.spec.priority = spec.depth, spec.overlap, spec.priority
    e.spec.sample_plan.size = spec.plan.size
    if e.spec.sample_plan.unit == evaluation_pb2.SAMPLING_UNIT_UNSPECIFIED:
        e.spec.sample_plan.unit = evaluation_pb2.TRAFFIC_WEIGHTED if spec.plan.traffic_weighted else evaluation_pb2.UNIQUE_QUERY
    if e.spec.sample_plan.allocation == evaluation_pb2.ALLOCATION_UNSPECIFIED:
        e.spec.sample_plan.allocation = evaluation_pb2.FIXED if spec.plan.fixed_counts is not None else evaluation_pb2.PROPORTIONAL
    if spec.plan.band_mode:
        e.spec.sample_plan.bands.names[:] = spec.plan.band_names
    return e


class EvaluationServicer(evaluation_pb2_grpc.EvaluationServiceServicer):
    def __init__(self, ctx):
        self.ctx = ctx
        self.producer = Producer(ctx.es, ctx.prefix, ctx.log_mapping, outage_seconds=ctx.config.outage_seconds)
        ctx.closers.append(self.producer.shutdown)
        self.producer.start()
        self.agreement = AgreementRefresher(ctx.es, ctx.prefix)
        ctx.closers.append(self.agreement.stop)
        self.agreement.start()

    def CreateEvaluation(self, request, context):
        principal = current_principal.get()
        check_keyword(request.request_id, "request_id")
        spec = from_proto(request.evaluation.display_name, request.evaluation.spec)
        if request.request_id:
            # the same caller retrying the same request gets the same evaluation
            digest = hashlib.sha256(f"{principal.subject}\x00{request.request_id}".encode()).hexdigest()
            evaluation_id = digest[:20]
            try:
                return to_proto(evaluations.get(self.ctx.es, self.ctx.prefix, evaluation_id))
            except NotFound:
                pass
        else:
            evaluation_id = uuid.uuid4().hex[:20]
        checks.validate(self.ctx.es, self.ctx.log_mapping, spec)
        stored_spec = ev_with_defaults(request.evaluation, spec)
        now = clock.now_iso()
        doc = {
            "evaluation_id": evaluation_id,
            "request_id": request.request_id or None,
            "display_name": spec.display_name,
            "owner_team": spec.owner_team,
            "creator": principal.subject,
            "state": "PENDING",
            "priority": spec.priority,
            "deadline": spec.deadline.isoformat() if spec.deadline else None,
            "kinds": spec.kinds,
            "spec": to_json(stored_spec),
            "counts": {},
            "strata": [],
            "create_time": now,
            "update_time": now,
        }
        stored, _created = evaluations.create(self.ctx.es, self.ctx.prefix, evaluation_id, doc)
        if stored["state"] == "PENDING":
            self.producer.submit(evaluation_id)
        return to_proto(stored)

    def GetEvaluation(self, request, context):
        return to_proto(evaluations.get(self.ctx.es, self.ctx.prefix, id_of(request.name, "evaluations")))

    def ListEvaluations(self, request, context):
        if request.page_size < 0:
            raise InvalidArgument(FieldViolation("page_size", "must not be negative"))
        size = min(request.page_size or 50, MAX_PAGE)
        states = [enum_name(evaluation_pb2.EvaluationState, s, f"states[{i}]") for i, s in enumerate(request.states)]
        docs, after = evaluations.list_page(self.ctx.es, self.ctx.prefix, size, page_after(request.page_token),
                                            check_keyword(request.owner_team, "owner_team") or None, states)
        return evaluation_pb2.ListEvaluationsResponse(evaluations=[to_proto(d) for d in docs],
                                                      next_page_token=page_token(after))

    def CancelEvaluation(self, request, context):
        evaluation_id = id_of(request.name, "evaluations")
        reason = request.reason.strip() or f"cancelled by {current_principal.get().subject}"
        doc = evaluations.transition(self.ctx.es, self.ctx.prefix, evaluation_id, ACTIVE, "CANCELLED", reason[:500])
        return to_proto(doc)

    def WatchEvaluation(self, request, context):
        evaluation_id = id_of(request.name, "evaluations")
        last = None
        last_sent = 0.0
        rate = _Rate()
        while context.is_active():
            doc = evaluations.get(self.ctx.es, self.ctx.prefix, evaluation_id)
            counts = doc.get("counts") or {}
            key = (doc["state"], json.dumps([counts, doc.get("progress")], sort_keys=True))
            now = time.monotonic()
            if key != last or now - last_sent > WATCH_HEARTBEAT_S:
                progress, eta = _stage_progress(doc, rate)
                msg = evaluation_pb2.EvaluationProgress(
                    name=f"evaluations/{evaluation_id}",
                    state=evaluation_pb2.EvaluationState.Value(doc["state"]),
                    state_reason=doc.get("state_reason") or "",
                    counts=to_proto(doc).counts,
                    stage_progress=progress,
                )
                msg.report_time.GetCurrentTime()
                if eta is not None:
                    msg.eta.FromDatetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=eta))
                yield msg
                last, last_sent = key, now
            if doc["state"] in evaluations.TERMINAL_STATES:
                return
            time.sleep(WATCH_POLL_S)


def automation_proto(a: dict) -> evaluation_pb2.Automation:
    """What pre-judgement settled, and how well the model agrees with humans on the audit share."""
    out = evaluation_pb2.Automation(
        model=a.get("model") or "", model_version=a.get("model_version") or "",
        automation_rate=float(a.get("automation_rate") or 0.0), auto_judged=int(a.get("auto_judged") or 0),
        audit=int(a.get("audit") or 0), threshold=float(a.get("threshold") or 0.0))
    agreement = a.get("audit_agreement") or {}
    for loc, row in sorted((a.get("locales") or {}).items()):
        audit = agreement.get(loc) or {}
        la = out.locales.add(locale=loc, items=int(row.get("items") or 0), auto_judged=int(row.get("auto_judged") or 0),
                             audit=int(row.get("audit") or 0), automation_rate=float(row.get("automation_rate") or 0.0),
                             audit_judged=int(audit.get("judged") or 0))
        if row.get("agreement") is not None:
            la.agreement = float(row["agreement"])
    return out


def _stage_progress(doc: dict, rate: "_Rate") -> tuple[float, float | None]:
    """Fraction of the current stage done, and seconds left at the rate seen while watching."""
    if doc["state"] in evaluations.TERMINAL_STATES:
        return 1.0, None
    progress = doc.get("progress") or {}
    done, total = progress.get("done", 0), progress.get("total", 0)
    if not total:
        return 0.0, None
    per_s = rate.observe(doc["state"], done)
    return min(done / total, 1.0), ((total - done) / per_s if per_s else None)


class _Rate:
    """Units per second of the current stage, from the first and latest observation."""

    def __init__(self):
        self.stage, self.t0, self.done0 = None, 0.0, 0

    def observe(self, stage: str, done: int) -> float | None:
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.t0, self.done0 = stage, now, done
            return None
        elapsed = now - self.t0
        return (done - self.done0) / elapsed if elapsed > 0 and done > self.done0 else None
