"""The ``seats`` index: a grader's places for live leases, ``{grader}:0`` … ``{grader}:{cap-1}``.

A lease takes a free seat in the same all-or-nothing bulk as its slot (``services.store.atomic``),
so a grader can never hold more than ``cap`` live leases, whatever the concurrency. A seat is free
when absent, FREE, or past its lease's end; one that still looks taken is checked against the slot
it points to (the slot is the truth: submitted, skipped or released leases free their seat then).
Because the seats have fixed ids, a suspension reads all of a grader's live leases realtime
(no search) and blocks every seat, so a lease racing the suspension loses its seat write.
"""
from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from services.store.atomic import Doc, write_each
from services.store.family import DATE, INT, KEYWORD, LONG, IndexFamily

FAMILY = IndexFamily(
    name="seats",
    version=1,
    doc="Graders' places for live leases (at most the cap each); LEASED, FREE or BLOCKED.",
    properties={
        "grader": KEYWORD,
        "seat": INT,
        "state": KEYWORD,
        "assignment_id": KEYWORD,
        "slot_id": KEYWORD,
        "lease_expire": DATE,
        "block_version": LONG,  # BLOCKED by the suspension with this status version
        "update_time": DATE,
    },
)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def seat_id(grader: str, k: int) -> str:
    return f"{grader}:{k}"


def specs(prefix: str, grader: str, cap: int, only: int | None = None) -> list[dict[str, Any]]:
    """mget specs of a grader's seats, in seat order (``only``: just that one)."""
    return [{"_index": index(prefix), "_id": seat_id(grader, k)} for k in (range(cap) if only is None else [only])]


def get_all(es: Elasticsearch, prefix: str, grader: str, cap: int) -> list[Doc]:
    """A grader's seats, read realtime."""
    return [Doc.from_mget(d) for d in es.mget(docs=specs(prefix, grader, cap), realtime=True)["docs"]]


def leased(grader: str, k: int, lease: dict[str, Any], at: str) -> dict[str, Any]:
    return {"grader": grader, "seat": k, "state": "LEASED", "assignment_id": lease["assignment_id"],
            "slot_id": lease["slot_id"], "lease_expire": lease["lease_expire"], "update_time": at}


def free(grader: str, k: int, at: str) -> dict[str, Any]:
    return {"grader": grader, "seat": k, "state": "FREE", "update_time": at}


def blocked(seat: Doc, grader: str, k: int, version: int, at: str) -> dict[str, Any]:
    """The seat as a suspension leaves it (what it pointed to is kept, for the release)."""
    src = seat.source or {}
    return {**{f: src[f] for f in ("assignment_id", "slot_id", "lease_expire") if src.get(f)},
            "grader": grader, "seat": k, "state": "BLOCKED", "block_version": version, "update_time": at}


def follow_extension(es: Elasticsearch, prefix: str, grader: str, k: int, assignment_id: str, lease_expire: str,
                     at: str) -> bool:
    """Move the end of the seat holding ``assignment_id`` to the lease's new end (an extended lease
    keeps its seat). False if the seat holds something else now."""
    [seat] = [Doc.from_mget(d) for d in es.mget(docs=[{"_index": index(prefix), "_id": seat_id(grader, k)}],
                                                 realtime=True)["docs"]]
    if seat.source is None or seat.source.get("assignment_id") != assignment_id or seat.source.get("state") != "LEASED":
        return False
    return not write_each(es, [(seat, {**seat.source, "lease_expire": lease_expire, "update_time": at})])
