"""EvaluationService: translates messages to domain calls and back; the domain decides."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid

from google.protobuf import json_format

from services.core import clock
from services._proto.qrelay.v1 import evaluation_pb2, evaluation_pb2_grpc
from services.aip import check_keyword, enum_name, id_of, page_after, page_token, timestamp
from services.auth import current_principal
from services.core.errors import FieldViolation, InvalidArgument, NotFound
from services.evaluation import checks
from services.evaluation.production import Producer
from services.evaluation.recurrence import Scheduler
from services.evaluation.spec import from_proto, proto_from_json, to_json
from services.reporting.worker import ReportingWorker
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
    if doc.get("grading"):
        e.grading.CopyFrom(stored_message(evaluation_pb2.GradingProgress, doc["grading"]))
    if doc.get("completion"):
        e.completion.CopyFrom(stored_message(evaluation_pb2.Completion, doc["completion"]))
    if doc.get("series"):
        e.series = f"evaluations/{doc['series']}"
    for attr in ("create_time", "update_time", "next_run_time"):
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
    if spec.recurrence:
        e.spec.recurrence.window.FromTimedelta(dt.timedelta(seconds=spec.recurrence.window_s))
    if spec.alerting:
        a = e.spec.alerting
        a.measures[:] = spec.alerting.measures
        a.baseline_snapshots, a.alpha, a.webhook_url = (spec.alerting.baseline_snapshots, spec.alerting.alpha,
                                                        spec.alerting.webhook_url)
    return e


class EvaluationServicer(evaluation_pb2_grpc.EvaluationServiceServicer):
    def __init__(self, ctx):
        self.ctx = ctx
        self.producer = Producer(ctx.es, ctx.prefix, ctx.log_mapping, outage_seconds=ctx.config.outage_seconds)
        ctx.closers.append(self.producer.shutdown)
        self.producer.start()
        # One loop over the evaluations in GRADING: consensus, agreement, progress, completion.
        self.reporting = ReportingWorker(ctx.es, ctx.prefix, ctx.config.reporting)
        ctx.closers.append(self.reporting.stop)
        self.reporting.start()
        self.scheduler = Scheduler(ctx.es, ctx.prefix, self.producer.submit, ctx.config.trends.scheduler_seconds)
        ctx.closers.append(self.scheduler.stop)
        self.scheduler.start()

    def CreateEvaluation(self, request, context):
        principal = current_principal.get()
        check_keyword(request.request_id, "request_id")
        spec = from_proto(request.evaluation.display_name, request.evaluation.spec,
                          min_recurrence_s=self.ctx.config.trends.min_recurrence_seconds)
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
        if spec.recurrence:
            # the first evaluation names the series; the scheduler re-creates it from `next_run_time`
            doc.update(series=evaluation_id, run_index=0, next_run_time=clock.iso(
                clock.parse_time(now) + dt.timedelta(seconds=spec.recurrence.every_s)))
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
        doc = evaluations.get(self.ctx.es, self.ctx.prefix, evaluation_id)
        if doc.get("next_run_time"):
            # the first evaluation of a recurring series: cancelling it ends the series, also
            # once it has finished itself (it is the series' only handle)
            doc = evaluations.stop_series(self.ctx.es, self.ctx.prefix, evaluation_id)
            if doc["state"] in evaluations.TERMINAL_STATES:
                return to_proto(doc)
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
            # grading's clock fields move on every pass of the reporting worker; only news counts
            grading = {k: v for k, v in (doc.get("grading") or {}).items() if k not in ("update_time", "eta")}
            key = (doc["state"], json.dumps([counts, doc.get("progress"), grading, doc.get("completion")],
                                            sort_keys=True))
            now = time.monotonic()
            if key != last or now - last_sent > WATCH_HEARTBEAT_S:
                e = to_proto(doc)
                msg = evaluation_pb2.EvaluationProgress(
                    name=f"evaluations/{evaluation_id}",
                    state=e.state,
                    state_reason=doc.get("state_reason") or "",
                    counts=e.counts,
                    grading=e.grading,
                    completion=e.completion,
                )
                msg.report_time.GetCurrentTime()
                if doc["state"] == "GRADING" and doc.get("grading"):
                    # grading has its own measure of progress and an ETA from the judgement rate
                    g = doc["grading"]
                    wanted = g.get("judgements_wanted") or 0
                    msg.stage_progress = min(g.get("judgements", 0) / wanted, 1.0) if wanted else 0.0
                    if e.grading.HasField("eta"):
                        msg.eta.CopyFrom(e.grading.eta)
                else:
                    progress, eta = _stage_progress(doc, rate)
                    msg.stage_progress = progress
                    if eta is not None:
                        msg.eta.FromDatetime(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=eta))
                yield msg
                last, last_sent = key, now
            if doc["state"] in evaluations.TERMINAL_STATES:
                return
            time.sleep(WATCH_POLL_S)


CALIBRATION_SOURCES = {"prior": evaluation_pb2.PRIOR, "earlier_evaluations": evaluation_pb2.EARLIER_EVALUATIONS,
                       "within_evaluation": evaluation_pb2.WITHIN_EVALUATION}


def automation_proto(a: dict) -> evaluation_pb2.Automation:
    """What pre-judgement settled, which calibration the routing used, and how well the model
    agrees with humans on the audit share."""
    out = evaluation_pb2.Automation(
        model=a.get("model") or "", model_version=a.get("model_version") or "",
        automation_rate=float(a.get("automation_rate") or 0.0), auto_judged=int(a.get("auto_judged") or 0),
        audit=int(a.get("audit") or 0), threshold=float(a.get("threshold") or 0.0),
        audit_share=float(a.get("audit_share") or 0.0),
        # before streaming, the job scored every item before grading opened
        scored=int(a["scored"] if a.get("scored") is not None else a.get("items") or 0),
        streaming=((a.get("progress") or {}).get("phase") or "done") != "done")
    agreement = a.get("audit_agreement") or {}
    for loc, row in sorted((a.get("locales") or {}).items()):
        audit = agreement.get(loc) or {}
        la = out.locales.add(locale=loc, items=int(row.get("items") or 0), auto_judged=int(row.get("auto_judged") or 0),
                             audit=int(row.get("audit") or 0), automation_rate=float(row.get("automation_rate") or 0.0),
                             audit_judged=int(audit.get("judged") or 0),
                             calibration_source=CALIBRATION_SOURCES.get(row.get("calibration_source") or "", 0),
                             calibration_labels=int(row.get("calibration_labels") or 0))
        if row.get("agreement") is not None:
            la.agreement = float(row["agreement"])
        if (row.get("calibration") or {}).get("accuracy") is not None:
            la.heldout_agreement = float(row["calibration"]["accuracy"])
    cal = a.get("calibration") or {}
    if cal.get("source") in CALIBRATION_SOURCES:
        held = (cal.get("heldout") or {}).get("overall") or {}
        c = out.calibration
        c.source = CALIBRATION_SOURCES[cal["source"]]
        c.labels, c.heldout_labels = int(cal.get("labels") or 0), int(held.get("n") or 0)
        c.learner, c.fits = cal.get("learner") or "", int(cal.get("fits") or 0)
        c.features.extend(cal.get("features") or [])
        for name, key in (("heldout_agreement", "accuracy"), ("heldout_alpha", "alpha"), ("heldout_ece", "ece")):
            if held.get(key) is not None:
                setattr(c, name, float(held[key]))
        if cal.get("fits") and cal.get("fit_time"):
            c.fit_time.FromDatetime(clock.parse_time(cal["fit_time"]))
    sample = a.get("calibration_sample") or {}
    if sample.get("items"):
        out.calibration_sample.items = int(sample["items"])
        out.calibration_sample.labelled = int(sample.get("labelled") or 0)
        out.calibration_sample.complete = bool(sample.get("complete"))
    return out


def stored_message(cls, stored: dict):
    """A message the reporting worker stored as a dict named like its fields (``grading``,
    ``completion``): times as ISO strings, enums by name; what the message lacks is skipped."""
    return json_format.ParseDict({k: v for k, v in stored.items() if v is not None}, cls(),
                                 ignore_unknown_fields=True)


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
