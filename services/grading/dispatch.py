"""Routing: which task a grader gets next, and taking its lease.

A grader gets items only in their locales and skills (kinds), from evaluations in GRADING
they are allowed on (their programmes' owner teams; no programmes: all), highest priority
first, then earliest deadline; never an item they already held (judged, skipped, or let
expire); never a slot beyond the item's overlap (the slots are the overlap). Candidates
come from one search, their slots from one realtime multi-get; the lease is one
``create`` or one optimistic replace. Ties in priority and deadline are shuffled per call,
so concurrent graders and server replicas rarely reach for the same slot.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from elasticsearch import Elasticsearch

from services.errors import FailedPrecondition, NotFound, PermissionDenied
from services.grading import leases
from services.grading.config import GradingConfig
from services.store import assignments, graders, partners, programmes, queue

log = logging.getLogger("qrelay.grading")

KINDS = ("pointwise", "side_by_side")


class TtlCache:
    """A value per key, recomputed after ``seconds`` (per server process; replicas need no sync)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        t = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit and hit[0] > t:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[key] = (t + self.seconds, value)
        return value


@dataclass(frozen=True)
class Lease:
    """A leased task: its slot document and the item it is for."""

    slot: dict[str, Any]
    item: dict[str, Any]


def kinds_for(grader: dict[str, Any], requested: str | None) -> list[str]:
    """The kinds a grader may do: the kinds named in their skills (none named: both).

    >>> kinds_for({"skills": ["side_by_side", "adult_content"]}, None)
    ['side_by_side']
    >>> kinds_for({"skills": []}, "pointwise")
    ['pointwise']
    """
    named = [k for k in KINDS if k in (grader.get("skills") or ())]
    allowed = named or list(KINDS)
    return [k for k in allowed if requested in (None, k)]


class Dispatcher:
    def __init__(self, es: Elasticsearch, prefix: str, cfg: GradingConfig):
        self.es, self.prefix, self.cfg = es, prefix, cfg
        self._evaluations = TtlCache(cfg.cache_seconds)
        self._programmes = TtlCache(cfg.cache_seconds)
        self._partners = TtlCache(cfg.cache_seconds)

    # --- who is asking -------------------------------------------------------------------

    def grader(self, grader_id: str) -> dict[str, Any]:
        """The calling grader's profile (realtime: a suspension applies at once)."""
        doc = graders.find(self.es, self.prefix, grader_id)
        if doc is None:
            raise FailedPrecondition(f"there is no grader profile for {grader_id!r}: an ops lead must create it "
                                     "(OperationsService.CreateGrader) before tasks can be served")
        return doc

    def active_grader(self, grader_id: str) -> dict[str, Any]:
        doc = self.grader(grader_id)
        if doc.get("status") == "SUSPENDED":
            raise PermissionDenied(f"graders/{grader_id} is suspended: no tasks are served")
        partner_id = doc.get("partner")
        if partner_id:
            partner = self._partners.get(partner_id, lambda: _partner_or_none(self.es, self.prefix, partner_id))
            if partner and partner.get("status") == "SUSPENDED":
                raise PermissionDenied(f"partners/{partner_id} is suspended: its graders get no tasks")
        return doc

    def allowed_evaluations(self, grader: dict[str, Any]) -> list[str]:
        open_ = self._evaluations.get("grading", lambda: queue.grading_evaluations(self.es, self.prefix))
        names = grader.get("programmes") or []
        if not names:
            return [e["evaluation_id"] for e in open_]
        ids = tuple(sorted(n.partition("/")[2] or n for n in names))
        progs = self._programmes.get(ids, lambda: programmes.get_many(self.es, self.prefix, list(ids)))
        teams = {t for p in progs for t in p.get("owner_teams") or ()}
        return [e["evaluation_id"] for e in open_ if e.get("owner_team") in teams]

    # --- the next task -------------------------------------------------------------------

    def next(self, grader_id: str, kind: str | None = None) -> Lease:
        grader = self.active_grader(grader_id)
        locales = list(grader.get("locales") or ())
        kinds = kinds_for(grader, kind)
        evaluations = self.allowed_evaluations(grader)
        where = f"locales {', '.join(locales) or '(none)'}; kinds {', '.join(kinds) or '(none)'}"
        seed = random.getrandbits(31)
        after = None
        for _ in range(self.cfg.queue_pages):
            items, after = queue.candidates(self.es, self.prefix, evaluations, locales, kinds,
                                            self.cfg.queue_candidates, seed, after)
            lease = self._lease_one(grader, items)
            if lease or after is None:
                break
        if lease is None:
            raise NotFound(f"no tasks for you right now ({where}); try again later")
        return lease

    def _lease_one(self, grader: dict[str, Any], items: Sequence[dict[str, Any]]) -> Lease | None:
        if not items:
            return None
        me = grader["grader_id"]
        wanted = [(it, s) for it in items for s in range(int(it.get("overlap") or 1))]
        slots = assignments.get_slots(self.es, self.prefix, (assignments.slot_id(it["item_id"], s) for it, s in wanted))
        by_item: dict[str, list[assignments.Slot]] = {}
        for it, s in wanted:
            by_item.setdefault(it["item_id"], []).append(slots[assignments.slot_id(it["item_id"], s)])
        at = leases.now()
        for it in items:
            mine = by_item[it["item_id"]]
            if any(me in leases.graders_of(sl.doc) for sl in mine):
                continue
            free = [sl for sl in mine if leases.is_free(sl.doc, at)]
            if not free:
                done = sum(1 for sl in mine if sl.doc and sl.doc["state"] == "SUBMITTED")
                if done >= len(mine) and (it.get("judgements") or 0) < done:
                    self._repair(it["item_id"], done)
                continue
            # never-used slots first (create is cheapest), then the rest in random order
            free.sort(key=lambda sl: (sl.doc is not None, random.random()))
            for sl in free:
                slot_no = int(sl.slot_id.rpartition(":")[2])
                aid = leases.new_assignment_id(it["item_id"], slot_no)
                doc = leases.new_lease(it["item_id"], slot_no, aid, grader, it, at, self.cfg.lease_seconds, sl.doc)
                if assignments.claim(self.es, self.prefix, sl, doc):
                    return Lease(doc, it)
        return None

    def _repair(self, item_id: str, done: int) -> None:
        try:
            queue.raise_judged(self.es, self.prefix, item_id, done)
        except Exception:  # noqa: BLE001 - a routing hint; the slots stay the truth
            log.warning("could not update the judged count of %s", item_id, exc_info=True)

    # --- suspension ----------------------------------------------------------------------

    def release_all(self, grader_id: str) -> int:
        """Give every live lease of a grader back to the pool; returns how many."""
        n = 0
        at = leases.now()
        for sl in assignments.live_of(self.es, self.prefix, grader_id):
            if assignments.replace(self.es, self.prefix, sl, leases.released(sl.doc, at)):
                n += 1
        return n


def _partner_or_none(es: Elasticsearch, prefix: str, partner_id: str) -> dict[str, Any] | None:
    try:
        return partners.get(es, prefix, partner_id)
    except NotFound:
        return None
