"""Leases on item slots: the rules of one slot's life, as pure functions on its document.

An item with ``overlap`` n has slots ``item:0`` … ``item:n-1``; a slot document is the lock
(DESIGN.md: ``op_type=create`` on a deterministic slot id, reclaim by optimistic
concurrency). A slot is LEASED to one grader until the lease ends; SUBMITTED for good once
judged; SKIPPED, RELEASED (grader suspended) or expired-LEASED slots are free to reclaim.
Each lease has its own assignment id ``item:slot:nonce``, so a retried submit is recognised
and an old assignment id never acts on a newer lease of the same slot.

>>> doc = new_lease("it1", 0, "it1:0:abc", {"grader_id": "g1"}, {"evaluation_id": "e", "kind": "pointwise",
...                 "locale": "en-US", "overlap": 1}, NOW, 60)
>>> is_free(doc, NOW), is_free(doc, NOW + timedelta(seconds=61))
(False, True)
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from services.core.clock import iso, parse_time

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)  # for the examples
FREE_STATES = frozenset({"SKIPPED", "RELEASED", "EXPIRED"})
MAX_HISTORY = 20


def new_assignment_id(item_id: str, slot: int) -> str:
    return f"{item_id}:{slot}:{secrets.token_hex(6)}"


def slot_of(assignment_id: str) -> str | None:
    """``item:slot`` of an assignment id, or None if it is not one of ours."""
    head, sep, nonce = assignment_id.rpartition(":")
    item, sep2, slot = head.rpartition(":")
    if not (sep and sep2 and item and slot.isdigit() and nonce):
        return None
    return head


def flipped() -> bool:
    """Whether ranker A is shown on the right: a fresh random bit per lease, kept only on the slot
    (server side). Never derived from anything the client receives (issue 11: a bit derived from
    the assignment id let a client undo the blinding)."""
    return secrets.randbits(1) == 1


def is_free(doc: dict[str, Any] | None, at: datetime) -> bool:
    if doc is None:
        return True
    if doc["state"] in FREE_STATES:
        return True
    return doc["state"] == "LEASED" and parse_time(doc["lease_expire"]) <= at


def is_live(doc: dict[str, Any], at: datetime) -> bool:
    return doc["state"] == "LEASED" and parse_time(doc["lease_expire"]) > at


def graders_of(doc: dict[str, Any] | None) -> set[str]:
    """Everyone who held this slot: they never get the item again."""
    if doc is None:
        return set()
    return {doc["grader"], *(p["grader"] for p in doc.get("previous") or ())}


def _history(doc: dict[str, Any] | None, at: datetime) -> list[dict[str, Any]]:
    if doc is None:
        return []
    state = "EXPIRED" if doc["state"] == "LEASED" else doc["state"]
    entry = {"assignment_id": doc["assignment_id"], "grader": doc["grader"], "state": state, "time": iso(at)}
    if doc.get("skip_reason"):
        entry["reason"] = doc["skip_reason"]
    if doc.get("skip_comment"):
        entry["comment"] = doc["skip_comment"]
    return ([*(doc.get("previous") or ()), entry])[-MAX_HISTORY:]


def new_lease(item_id: str, slot: int, assignment_id: str, grader: dict[str, Any], item: dict[str, Any],
              at: datetime, ttl_seconds: float, previous: dict[str, Any] | None = None,
              seat: int | None = None) -> dict[str, Any]:
    """The slot document of a fresh lease (``previous``: the document it replaces, kept as history;
    ``seat``: the grader's seat it occupies)."""
    return {**({"seat": seat} if seat is not None else {}),
        "assignment_id": assignment_id, "slot_id": f"{item_id}:{slot}", "slot": slot, "item_id": item_id,
        "evaluation_id": item["evaluation_id"], "grader": grader["grader_id"], "partner": grader.get("partner") or "",
        "kind": item["kind"], "locale": item["locale"], "state": "LEASED", "flipped": flipped(),
        "gold": bool(item.get("gold")), **({"gold_label": item["gold_label"]} if item.get("gold_label") is not None else {}),
        "overlap": int(item.get("overlap") or 1),
        "lease_start": iso(at), "lease_expire": iso(at + timedelta(seconds=ttl_seconds)), "update_time": iso(at),
        "previous": _history(previous, at),
    }


def submitted(doc: dict[str, Any], judgement: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {**doc, "state": "SUBMITTED", "judgement_id": judgement["judgement_id"], "pending": judgement,
            "update_time": iso(at)}


def skipped(doc: dict[str, Any], reason: str, comment: str, at: datetime) -> dict[str, Any]:
    return {**doc, "state": "SKIPPED", "skip_reason": reason, "skip_comment": comment, "update_time": iso(at)}


def released(doc: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {**doc, "state": "RELEASED", "update_time": iso(at)}


def extended(doc: dict[str, Any], at: datetime, seconds: float) -> dict[str, Any]:
    return {**doc, "lease_expire": iso(at + timedelta(seconds=seconds)), "update_time": iso(at)}


def holder(doc: dict[str, Any] | None, assignment_id: str) -> tuple[str, str] | None:
    """(``current`` | ``previous``, grader) for an assignment id on this slot, or None."""
    if doc is None:
        return None
    if doc["assignment_id"] == assignment_id:
        return "current", doc["grader"]
    for p in doc.get("previous") or ():
        if p["assignment_id"] == assignment_id:
            return "previous", p["grader"]
    return None


def seat_looks_free(seat: dict[str, Any] | None, at: datetime, status_version: int) -> bool:
    """Whether a grader's seat is free without looking at the slot it points to: absent, FREE, its
    lease's end passed (an ExtendLease moves the seat's end too), or BLOCKED by a suspension older
    than the profile read (``status_version``: the grader's status changed since, e.g. reactivated).

    >>> seat_looks_free({"state": "BLOCKED", "block_version": 3}, NOW, 3), seat_looks_free(None, NOW, 0)
    (False, True)
    """
    if seat is None or seat.get("state") == "FREE":
        return True
    if seat.get("state") == "BLOCKED":
        return int(seat.get("block_version") or 0) < status_version
    return seat.get("state") == "LEASED" and parse_time(seat["lease_expire"]) <= at


def seat_is_free(seat: dict[str, Any], slot: dict[str, Any] | None, at: datetime, status_version: int) -> bool:
    """A LEASED seat whose slot no longer holds its lease live (submitted, skipped, released) is free."""
    if seat.get("state") != "LEASED":
        return seat_looks_free(seat, at, status_version)
    return not (slot is not None and slot.get("assignment_id") == seat.get("assignment_id") and is_live(slot, at))


def seat_is_free_after(seat: dict[str, Any] | None, ended: str, at: datetime, status_version: int) -> bool:
    """Whether a seat is free, knowing that the lease ``ended`` (an assignment id) was submitted or
    skipped: a seat still LEASED to that assignment is free (its slot left LEASED for good).

    >>> s = {"state": "LEASED", "assignment_id": "it1:0:abc", "lease_expire": "2030-01-01T00:00:00Z"}
    >>> seat_is_free_after(s, "it1:0:abc", NOW, 0), seat_is_free_after(s, "it2:0:def", NOW, 0)
    (True, False)
    """
    if seat is not None and seat.get("state") == "LEASED" and seat.get("assignment_id") == ended:
        return True
    return seat_looks_free(seat, at, status_version)
