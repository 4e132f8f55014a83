"""Submitting, skipping and extending a leased task: the rules of an assignment id.

Submit commits on the slot first (one optimistic replace: LEASED → SUBMITTED, carrying the
judgement), then appends the judgement under the assignment id (``op_type=create``), and
answers only after Elasticsearch acknowledged that write. The slot replace is the single
point of decision: a lease that expired and was reclaimed by another grader cannot also be
submitted, and a retry after any failure finds the committed judgement on the slot and
writes exactly that one — never a second, never a different one.

Side by side: the grader rates the sides as shown (negative: left better); the stored
``preference`` is relative to (ranker_a, ranker_b), positive when ranker_b is better.

>>> canonical_preference(2, flipped=False), canonical_preference(2, flipped=True)
(2, -2)
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable

from elasticsearch import Elasticsearch


from services.core import clock
from services.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.grading import leases
from services.grading.faults import NONE as NO_FAULTS, FaultPoints
from services.grading.scales import BY_KIND, MAX_COMMENT
from services.store import assignments, graders, judgements, partners, queue, seats

log = logging.getLogger("qrelay.grading")

SKIP_REASONS = ("WRONG_LANGUAGE", "PAGE_BROKEN", "OFFENSIVE", "OTHER")


@dataclass(frozen=True)
class Rating:
    """What the grader sent: ``field`` is ``grade`` or ``preference`` (None: no rating)."""

    field: str | None
    value: int
    comment: str = ""
    flagged: bool = False
    guidelines: Mapping[str, str] = field(default_factory=dict)  # kind -> version of the text the grader was shown


def canonical_preference(shown: int, flipped: bool) -> int:
    """Un-randomise a preference: shown sides → (ranker_a, ranker_b)."""
    return -shown if flipped else shown


def check_comment(comment: str, field: str = "comment") -> None:
    if len(comment) > MAX_COMMENT:
        raise InvalidArgument(FieldViolation(field, f"at most {MAX_COMMENT} characters, got {len(comment)}"))


def _own_slot(es: Elasticsearch, prefix: str, grader_id: str, assignment_id: str,
              check_status: bool = False) -> assignments.Slot:
    """The slot an assignment id names, if it is the caller's; the right error otherwise.
    ``check_status``: also refuse a suspended grader or partner (read realtime with the slot)."""
    sid = leases.slot_of(assignment_id)
    if sid is None:
        raise NotFound("this assignment does not exist")
    if check_status:
        found, [g] = assignments.get_slots_with(es, prefix, [sid], [{"_index": graders.index(prefix), "_id": grader_id}])
        slot = found[sid]
        _check_status(es, prefix, grader_id, g.get("_source") if g.get("found") else None)
    else:
        slot = assignments.get_slot(es, prefix, sid)
    who = leases.holder(slot.doc, assignment_id)
    if who is None:
        raise NotFound("this assignment does not exist")
    where, grader = who
    if grader != grader_id:
        raise PermissionDenied("this assignment belongs to another grader")
    if where == "previous":
        raise FailedPrecondition("this assignment is no longer yours: the lease ended and the task "
                                 "went back to the pool; ask for the next task")
    return slot


def _check_status(es: Elasticsearch, prefix: str, grader_id: str, grader: dict[str, Any] | None) -> None:
    """A suspended grader, or a grader of a suspended partner, may not submit or extend."""
    if grader is not None and grader.get("status") == "SUSPENDED":
        raise PermissionDenied(f"graders/{grader_id} is suspended: no judgements are taken")
    partner = (grader or {}).get("partner")
    if partner and (partners.find(es, prefix, partner) or {}).get("status") == "SUSPENDED":
        raise PermissionDenied(f"partners/{partner} is suspended: its graders' judgements are not taken")


def _require_live(slot: assignments.Slot, assignment_id: str, at) -> None:
    doc = slot.doc
    if doc["state"] == "LEASED" and not leases.is_live(doc, at):
        raise FailedPrecondition(f"the lease of this assignment expired at {doc['lease_expire']}; "
                                 "the task went back to the pool")
    if doc["state"] == "SKIPPED":
        raise FailedPrecondition("this assignment was skipped")
    if doc["state"] == "RELEASED":
        raise FailedPrecondition("this assignment was released (grader suspended)")
    if doc["state"] == "SUBMITTED":
        raise FailedPrecondition("this assignment was already submitted")


def _validate(doc: dict[str, Any], rating: Rating) -> None:
    scale = BY_KIND[doc["kind"]]
    other = "preference" if scale.field == "grade" else "grade"
    if rating.field is None:
        raise InvalidArgument(FieldViolation(scale.field, f"a {doc['kind']} task needs `{scale.field}` "
                                             f"on the scale {scale.describe()}"))
    if rating.field != scale.field:
        raise InvalidArgument(FieldViolation(other, f"wrong scale: this is a {doc['kind']} task; "
                                             f"send `{scale.field}` ({scale.describe()}), not `{other}`"))
    if not scale.check(rating.value):
        raise InvalidArgument(FieldViolation(scale.field, f"must be in {scale.describe()}, got {rating.value}"))
    check_comment(rating.comment)


def _judgement(doc: dict[str, Any], rating: Rating, at) -> dict[str, Any]:
    start = clock.parse_time(doc["lease_start"])
    j = {
        "judgement_id": doc["assignment_id"], "assignment_id": doc["assignment_id"], "item_id": doc["item_id"],
        "evaluation_id": doc["evaluation_id"], "grader": doc["grader"], "partner": doc.get("partner") or "",
        "locale": doc["locale"], "kind": doc["kind"], "gold": bool(doc.get("gold")),
        "flagged": rating.flagged, "comment": rating.comment, "submit_time": clock.iso(at),
        "lease_start": doc["lease_start"], "time_on_task_ms": max(0, int((at - start).total_seconds() * 1000)),
    }
    if rating.guidelines.get(doc["kind"]):
        j["guideline_version"] = rating.guidelines[doc["kind"]]  # label lineage
    if doc["kind"] == "pointwise":
        j["grade"] = rating.value
        if doc.get("gold") and doc.get("gold_label") is not None:
            j["gold_correct"] = rating.value == int(doc["gold_label"])  # scored silently
    else:
        j["shown_preference"] = rating.value
        j["flipped"] = bool(doc.get("flipped"))
        j["preference"] = canonical_preference(rating.value, bool(doc.get("flipped")))
    return j


def _known_live(known: assignments.Slot | None, grader_id: str, assignment_id: str, rating: Rating,
                at) -> bool:
    """Whether the slot as this process last wrote it is the caller's live lease and the rating
    fits it: then it may be replaced without reading it first (if it changed anywhere since, the
    optimistic replace fails and the slot is read). Anything else is decided on a fresh read."""
    if known is None or known.doc is None or known.seq_no is None:
        return False
    doc = known.doc
    if leases.holder(doc, assignment_id) != ("current", grader_id) or not leases.is_live(doc, at):
        return False
    try:
        _validate(doc, rating)
    except InvalidArgument:
        return False
    return True


def submit(es: Elasticsearch, prefix: str, grader_id: str, assignment_id: str, rating: Rating,
           retries: int = 3, known: assignments.Slot | None = None,
           count: Callable[[str, int], None] | None = None, faults: FaultPoints = NO_FAULTS) -> dict[str, Any]:
    """Record the judgement of a live lease; a retry returns the first judgement.

    ``known``: the slot as this process leased it (skips the read when still current);
    ``count``: raises the item's judged count off the request path (default: inline)."""
    at = clock.now()
    if _known_live(known, grader_id, assignment_id, rating, at):
        doc = known.doc
        judgement = _judgement(doc, rating, at)
        if assignments.replace(es, prefix, known, leases.submitted(doc, judgement, at)):
            faults.hit("submit.between_writes")
            written = _ensure_written(es, prefix, {**doc, "pending": judgement})
            _count_later(es, prefix, doc, count)
            return written
    for _ in range(retries):
        slot = _own_slot(es, prefix, grader_id, assignment_id, check_status=True)
        doc = slot.doc
        if doc["state"] == "SUBMITTED":
            return _ensure_written(es, prefix, doc)
        _validate(doc, rating)
        at = clock.now()
        _require_live(slot, assignment_id, at)
        judgement = _judgement(doc, rating, at)
        if not assignments.replace(es, prefix, slot, leases.submitted(doc, judgement, at)):
            continue  # changed meanwhile (extended, or reclaimed after expiry): read again and decide
        faults.hit("submit.between_writes")
        written = _ensure_written(es, prefix, {**doc, "pending": judgement})
        _count_later(es, prefix, doc, count)
        return written
    raise FailedPrecondition("this assignment kept changing; retry")


def _ensure_written(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The committed judgement of a SUBMITTED slot, appended if a failure stopped it before."""
    pending = doc["pending"]
    if not judgements.create(es, prefix, pending):
        return judgements.get(es, prefix, pending["judgement_id"]) or pending
    return pending


def _count_later(es: Elasticsearch, prefix: str, doc: dict[str, Any],
                 count: Callable[[str, int], None] | None) -> None:
    if count is None:
        _count(es, prefix, doc)
    else:
        count(doc["item_id"], int(doc.get("overlap") or 1))


def _count(es: Elasticsearch, prefix: str, doc: dict[str, Any]) -> None:
    """Raise the item's judged count (a routing hint): best effort, repaired by the queue."""
    try:
        ids = [assignments.slot_id(doc["item_id"], s) for s in range(int(doc.get("overlap") or 1))]
        done = sum(1 for sl in assignments.get_slots(es, prefix, ids).values()
                   if sl.doc and sl.doc["state"] == "SUBMITTED")
        queue.raise_judged(es, prefix, doc["item_id"], done)
    except Exception:  # noqa: BLE001 - the judgement is stored; the hint heals on the next queue pass
        log.warning("could not update the judged count of %s", doc["item_id"], exc_info=True)


def skip(es: Elasticsearch, prefix: str, grader_id: str, assignment_id: str, reason: str, comment: str) -> None:
    """Give a live lease back with a reason; the slot is free for other graders at once."""
    if reason not in SKIP_REASONS:
        raise InvalidArgument(FieldViolation("reason", f"say why: one of {', '.join(SKIP_REASONS)}"))
    check_comment(comment)
    for _ in range(3):
        try:
            slot = _own_slot(es, prefix, grader_id, assignment_id)
        except FailedPrecondition:
            # a retry of a skip that went through, after another grader took the slot: answer as then
            if leases.ended_as(assignments.get_slot(es, prefix, leases.slot_of(assignment_id)).doc,
                               assignment_id) == "SKIPPED":
                return
            raise
        if slot.doc["state"] == "SKIPPED":
            return  # a retry
        at = clock.now()
        _require_live(slot, assignment_id, at)
        if assignments.replace(es, prefix, slot, leases.skipped(slot.doc, reason, comment, at)):
            return
    raise FailedPrecondition("this assignment kept changing; retry")


def extend(es: Elasticsearch, prefix: str, grader_id: str, assignment_id: str, seconds: float,
           max_seconds: float) -> dict[str, Any]:
    """Push a live lease's end to ``now + seconds`` (capped at ``max_seconds``); returns the slot."""
    for _ in range(3):
        slot = _own_slot(es, prefix, grader_id, assignment_id, check_status=True)
        at = clock.now()
        _require_live(slot, assignment_id, at)
        doc = leases.extended(slot.doc, at, min(seconds, max_seconds))
        if clock.parse_time(doc["lease_expire"]) < clock.parse_time(slot.doc["lease_expire"]):
            return slot.doc  # never shortens a lease
        if assignments.replace(es, prefix, slot, doc):
            if doc.get("seat") is not None:  # the seat's end follows, so the cap still counts this lease
                seats.follow_extension(es, prefix, grader_id, int(doc["seat"]), assignment_id, doc["lease_expire"],
                                       doc["update_time"])
            return doc
    raise FailedPrecondition("this assignment kept changing; retry")


def lease_of(es: Elasticsearch, prefix: str, grader_id: str, assignment_id: str) -> dict[str, Any]:
    """The caller's slot document for an assignment id (for re-showing a task)."""
    return _own_slot(es, prefix, grader_id, assignment_id).doc
