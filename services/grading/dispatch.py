"""Routing: which task a grader gets next, and taking its lease.

A grader gets items only in their locales and skills (kinds), from evaluations in GRADING
they are allowed on (their programmes' owner teams; no programmes: all), highest priority
first, then earliest deadline, then whole queries in the order of their random keys (issue 12:
a query-complete grading order); never an item they already held (judged, skipped, or let
expire); never a slot beyond the item's overlap (the slots are the overlap).

The critical path of NextAssignment is two round trips: one realtime multi-get of the
candidates' slots *and* the grader's profile (so a suspension applies at once), then one
``create`` or optimistic replace of a slot. Candidates come from a short-lived in-process pool
per (evaluations, locales, kinds) — one search serves many calls; the pool is only a list of
items worth trying: the slots, read realtime, decide everything (overlap, "never the same item
twice", free or live). Ties in priority, deadline and order key are sampled at random per call, so
concurrent graders and server replicas rarely reach for the same slot. When the pool yields
nothing, the per-call paged search of old runs before the grader hears "queue empty".
"""
from __future__ import annotations

import logging
import queue as queue_mod
import random
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from elasticsearch import Elasticsearch


from services.core import clock
from services.core.errors import FailedPrecondition, NotFound, PermissionDenied
from services.grading import leases
from services.grading.config import GradingConfig
from services.store import assignments, atomic, graders, holds, partners, programmes, queue, seats

log = logging.getLogger("qrelay.grading")

KINDS = ("pointwise", "side_by_side")
RECENT_HOLDS = 256


class TtlCache:
    """A value per key, recomputed after ``seconds`` (per server process; replicas need no sync)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any], fresh: bool = False) -> Any:
        """The cached value, or a new one when it is older than ``seconds`` or ``fresh`` is asked for."""
        t = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit and hit[0] > t and not fresh:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[key] = (t + self.seconds, value)
        return value


class CandidatePool:
    """Open items for one (evaluations, locales, kinds), best first, refetched every ``seconds``
    (or at once when a grader finds nothing in it). Only a hint: slots decide."""

    def __init__(self, fetch: Callable[[], list[dict[str, Any]]], seconds: float):
        self._fetch, self.seconds = fetch, seconds
        self._items: list[dict[str, Any]] = []
        self._held: dict[str, set[str]] = {}  # item → graders seen holding one of its slots
        self._expires = 0.0
        self._generation = 0
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        seen = self._generation
        # one thread fetches; the others go on with what is there (or wait if there is nothing)
        if not self._refreshing.acquire(blocking=force or not self._items):
            return
        try:
            if self._generation != seen or (not force and self._expires > time.monotonic()):
                return  # someone else just did
            items = self._fetch()
            with self._lock:
                keep = {it["item_id"] for it in items}
                self._held = {k: v for k, v in self._held.items() if k in keep}
                self._items = items
                self._expires = time.monotonic() + self.seconds
                self._generation += 1
        finally:
            self._refreshing.release()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - the next call that finds nothing refreshes in line
            log.warning("could not refresh the candidate pool", exc_info=True)

    def pick(self, grader_id: str, k: int) -> list[dict[str, Any]]:
        """Up to ``k`` items for a grader: the best (priority, deadline, order key) tier first, sampled at random."""
        if self._expires <= time.monotonic():
            if self._items and not self._refreshing.locked():
                # the search runs off the request path; this call goes on with the current list
                threading.Thread(target=self._refresh_quietly, name="candidate-pool", daemon=True).start()
            elif not self._items:
                self.refresh()
        with self._lock:
            eligible = [it for it in self._items if grader_id not in self._held.get(it["item_id"], ())]
        if not eligible:
            return []
        top = _rank(eligible[0])
        tier = 0
        while tier < len(eligible) and _rank(eligible[tier]) == top:
            tier += 1
        if tier >= k:
            return random.sample(eligible[:tier], k)
        return eligible[:k]

    def held(self, item_id: str, graders: set[str]) -> None:
        with self._lock:
            self._held.setdefault(item_id, set()).update(graders)

    def drop(self, item_id: str) -> None:
        with self._lock:
            self._items = [it for it in self._items if it["item_id"] != item_id]


def _rank(item: dict[str, Any]) -> tuple:
    # the query's order key is part of the tier: a grader samples among one query's items (issue 12)
    key = item.get("order_key")
    return (item.get("priority") or 0, item.get("deadline") or "", float("inf") if key is None else key)


class LeaseCache:
    """The slots this process leased (as written, with their version), by assignment id, so a
    submit from the same grader can replace its slot without reading it first. Only a hint: the
    optimistic replace fails if the slot changed anywhere, and the caller then reads it."""

    def __init__(self, capacity: int = 100_000):
        self.capacity = capacity
        self._slots: "OrderedDict[str, assignments.Slot]" = OrderedDict()
        self._lock = threading.Lock()

    def put(self, slot: assignments.Slot) -> None:
        with self._lock:
            self._slots[slot.doc["assignment_id"]] = slot
            while len(self._slots) > self.capacity:
                self._slots.popitem(last=False)

    def take(self, assignment_id: str) -> assignments.Slot | None:
        with self._lock:
            return self._slots.pop(assignment_id, None)


class JudgedCounter:
    """Raises items' judged counts (a routing hint) off the request path, in batches: one
    multi-get and one bulk per batch instead of three round trips per submit. Best effort: a
    count that is lost is repaired by the queue (``Dispatcher._repair``)."""

    def __init__(self, es: Elasticsearch, prefix: str, batch: int = 500, linger: float = 0.05):
        self.es, self.prefix, self.batch, self.linger = es, prefix, batch, linger
        self._queue: "queue_mod.Queue[tuple[str, int]]" = queue_mod.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._busy = 0

    def add(self, item_id: str, overlap: int) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="judged-counter", daemon=True)
                    self._thread.start()
        self._queue.put((item_id, overlap))

    def idle(self) -> bool:
        return self._queue.empty() and not self._busy

    def _run(self) -> None:
        retries: dict[str, int] = {}
        while True:
            first = self._queue.get()
            self._busy = 1
            todo = dict([first])
            end = time.monotonic() + self.linger
            while len(todo) < self.batch:
                try:
                    item_id, overlap = self._queue.get(timeout=max(0.0, end - time.monotonic()))
                except queue_mod.Empty:
                    break
                todo[item_id] = overlap
            try:
                lost = queue.raise_judged_many(self.es, self.prefix, todo)
            except Exception:  # noqa: BLE001 - a routing hint; the slots stay the truth
                log.warning("could not update the judged count of %d items", len(todo), exc_info=True)
                lost = []
                time.sleep(0.5)
            for item_id in lost:
                retries[item_id] = retries.get(item_id, 0) + 1
                if retries[item_id] <= 10:
                    self._queue.put((item_id, todo[item_id]))
                else:
                    retries.pop(item_id, None)
            for item_id in todo:
                if item_id not in lost:
                    retries.pop(item_id, None)
            self._busy = 0


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
        # routing fields of graders' profiles (locales, skills, programmes); their status is read
        # realtime with the slots on every call
        self._profiles: dict[str, tuple[float, dict[str, Any]]] = {}
        self._pools: dict[tuple, CandidatePool] = {}
        self._pools_lock = threading.Lock()
        self.leases = LeaseCache()
        self.counter = JudgedCounter(es, prefix)
        # items each grader leased lately through this process (the holds search lags a second)
        self._recent: dict[str, deque[str]] = {}
        # grouped path: per grader, (seat, assignment id) of the lease this process last saw end
        self.grouped = cfg.es_path == "grouped"
        self._seat_hints: dict[str, tuple[int, str]] = {}

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
        self._check_active(grader_id, doc)
        self._profiles[grader_id] = (time.monotonic() + self.cfg.cache_seconds, doc)
        if len(self._profiles) > 100_000:
            self._profiles.clear()
        return doc

    def _check_active(self, grader_id: str, doc: dict[str, Any]) -> None:
        if doc.get("status") == "SUSPENDED":
            self._profiles.pop(grader_id, None)
            raise PermissionDenied(f"graders/{grader_id} is suspended: no tasks are served")
        partner_id = doc.get("partner")
        if partner_id:
            partner = self._partners.get(partner_id, lambda: _partner_or_none(self.es, self.prefix, partner_id))
            if partner and partner.get("status") == "SUSPENDED":
                raise PermissionDenied(f"partners/{partner_id} is suspended: its graders get no tasks")

    def _profile(self, grader_id: str) -> dict[str, Any] | None:
        hit = self._profiles.get(grader_id)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def allowed_evaluations(self, grader: dict[str, Any], fresh: bool = False) -> list[str]:
        """Evaluations in GRADING the grader may work on; cached for ``cache_seconds`` unless ``fresh``."""
        open_ = self._evaluations.get("grading", lambda: queue.grading_evaluations(self.es, self.prefix), fresh)
        names = grader.get("programmes") or []
        if not names:
            return [e["evaluation_id"] for e in open_]
        ids = tuple(sorted(n.partition("/")[2] or n for n in names))
        progs = self._programmes.get(ids, lambda: programmes.get_many(self.es, self.prefix, list(ids)), fresh)
        teams = {t for p in progs for t in p.get("owner_teams") or ()}
        return [e["evaluation_id"] for e in open_ if e.get("owner_team") in teams]

    # --- the next task -------------------------------------------------------------------

    def next(self, grader_id: str, kind: str | None = None) -> Lease:
        grader, checked = self._profile(grader_id), False
        if grader is None:
            grader, checked = self.active_grader(grader_id), True
        lease = self._from_pool(grader, kind, realtime_check=not checked)
        if lease is not None:
            return lease
        return self._search(grader_id, kind)

    def _pool(self, grader: dict[str, Any], kind: str | None) -> CandidatePool | None:
        locales = tuple(sorted(grader.get("locales") or ()))
        kinds = tuple(kinds_for(grader, kind))
        evaluations = tuple(sorted(self.allowed_evaluations(grader)))
        if not (locales and kinds and evaluations):
            return None
        key = (evaluations, locales, kinds)
        with self._pools_lock:
            pool = self._pools.get(key)
            if pool is None:
                if len(self._pools) > 10_000:
                    self._pools.clear()
                pool = self._pools[key] = CandidatePool(
                    lambda: queue.candidates(self.es, self.prefix, evaluations, locales, kinds, self.cfg.pool_size,
                                             random.getrandbits(31))[0], self.cfg.pool_seconds)
        return pool

    def _from_pool(self, grader: dict[str, Any], kind: str | None, realtime_check: bool = True) -> Lease | None:
        """A lease from the pool, or None (pool empty for this grader, or the profile changed:
        the caller decides again). Suspension and profile changes are seen realtime."""
        pool = self._pool(grader, kind)
        if pool is None:
            return None
        # grouped: a realtime read costs Elasticsearch per document, so read a few candidates' slots
        # at a time and try again (the pool learns which items were full or held) — fewer
        # documents per lease than reading many at once
        k, tries = ((self.cfg.read_candidates, self.cfg.read_tries) if self.grouped
                    else (self.cfg.lease_candidates, 1))
        refreshed = False
        for _ in range(tries + 1):
            items = pool.pick(grader["grader_id"], k)
            if not items:
                if not refreshed:
                    refreshed = True
                    pool.refresh(force=True)
                    continue
                return None
            try:
                lease = self._lease_one(grader, items, pool=pool, realtime_check=realtime_check)
            except _ProfileChanged:
                return None
            if lease is not None or not self.grouped:
                return lease
            tries -= 1
            if tries <= 0:
                return None
        return None

    def _search(self, grader_id: str, kind: str | None) -> Lease:
        """The per-call paged search (no pool), with the grader's profile read realtime, leaving
        out the items the grader already held — however many of the best ones that is (issue 11:
        filtering them after reading a few pages starved the busiest graders)."""
        grader = self.active_grader(grader_id)
        locales = list(grader.get("locales") or ())
        kinds = kinds_for(grader, kind)
        # read afresh: an evaluation opened (or a programme joined) a moment ago must not be
        # answered with "no tasks" until the cache expires — the app would only look again in 30 s
        evaluations = self.allowed_evaluations(grader, fresh=True)
        where = f"locales {', '.join(locales) or '(none)'}; kinds {', '.join(kinds) or '(none)'}"
        seed = random.getrandbits(31)
        held: list[str] = []
        if locales and kinds:
            # the holds index is searchable a moment after a write: add what this process leased lately
            held = list({*holds.held_items(self.es, self.prefix, grader_id, evaluations),
                         *self._recent.get(grader_id, ())})
        after, lease = None, None
        for _ in range(self.cfg.queue_pages):
            items, after = queue.candidates(self.es, self.prefix, evaluations, locales, kinds,
                                            self.cfg.queue_candidates, seed, after, exclude=held)
            lease = self._lease_one(grader, items)
            if lease or after is None:
                break
        if lease is None:
            raise NotFound(f"no tasks for you right now ({where}); try again later")
        return lease

    def _lease_one(self, grader: dict[str, Any], items: Sequence[dict[str, Any]],
                   pool: CandidatePool | None = None, realtime_check: bool = False) -> Lease | None:
        """Lease a slot of one of ``items``: one realtime multi-get (the items' slots, the grader's
        seats, and the profile when it came from the cache), then one all-or-nothing bulk that takes
        a free seat, the (item, grader) hold and the slot together."""
        if not items:
            return None
        me = grader["grader_id"]
        cap = self.cfg.max_live_leases
        wanted = [(it, s) for it in items for s in range(int(it.get("overlap") or 1))]
        ids = [assignments.slot_id(it["item_id"], s) for it, s in wanted]
        hint = self._seat_hints.get(me)
        # one seat (the one whose lease this process saw end) or all of them
        others = seats.specs(self.prefix, me, cap, only=hint[0] if hint else None)
        n_seats = len(others)
        if realtime_check:  # the profile came from the cache: read it realtime with the slots
            others.append({"_index": graders.index(self.prefix), "_id": me})
        slots, rest = assignments.get_slots_with(self.es, self.prefix, ids, others)
        my_seats = [atomic.Doc.from_mget(d) for d in rest[:n_seats]]
        if realtime_check:
            g = rest[n_seats]
            fresh = g.get("_source") if g.get("found") else None
            if fresh is None:
                self._profiles.pop(me, None)
                raise _ProfileChanged()
            self._check_active(me, fresh)
            if any(fresh.get(f) != grader.get(f) for f in _ROUTING_FIELDS):
                self._profiles.pop(me, None)
                raise _ProfileChanged()
        version = int(grader.get("status_version") or 0)  # as read realtime in this call or the one before
        self.cfg.faults.hit("next.before_claim")
        at = clock.now()
        if hint and leases.seat_is_free_after(my_seats[0].source, hint[1], at, version):
            seat = my_seats[0]
        else:
            if hint:  # the seat is taken after all: read them all
                my_seats = seats.get_all(self.es, self.prefix, me, cap)
            seat = self._free_seat(me, my_seats, at, version)
        self._seat_hints.pop(me, None)
        by_item: dict[str, list[assignments.Slot]] = {}
        for it, s in wanted:
            by_item.setdefault(it["item_id"], []).append(slots[assignments.slot_id(it["item_id"], s)])
        for it in items:
            mine = by_item[it["item_id"]]
            held = set().union(*(leases.graders_of(sl.doc) for sl in mine))
            if pool is not None and held:
                pool.held(it["item_id"], held)
            if me in held:
                continue  # a hint; the hold decides
            free = [sl for sl in mine if leases.is_free(sl.doc, at)]
            if not free:
                if pool is not None:
                    pool.drop(it["item_id"])
                done = sum(1 for sl in mine if sl.doc and sl.doc["state"] == "SUBMITTED")
                if done >= len(mine) and (it.get("judgements") or 0) < done:
                    self._repair(it["item_id"], len(mine))
                continue
            # never-used slots first (create is cheapest), then the rest in random order
            free.sort(key=lambda sl: (sl.doc is not None, random.random()))
            for sl in free:
                slot_no = int(sl.slot_id.rpartition(":")[2])
                aid = leases.new_assignment_id(it["item_id"], slot_no)
                k = int(seat.id.rpartition(":")[2])
                doc = leases.new_lease(it["item_id"], slot_no, aid, grader, it, at, self.cfg.lease_seconds, sl.doc,
                                       seat=k)
                written, lost = atomic.write_all(self.es, [
                    (seat, seats.leased(me, k, doc, clock.iso(at))),
                    (holds.absent(self.prefix, it["item_id"], me), holds.new(doc)),
                    (sl.ref(self.prefix), doc)])
                if not lost:
                    self.leases.put(assignments.Slot.of(written[2]))
                    self._held_lately(me, it["item_id"])
                    if pool is not None:
                        pool.held(it["item_id"], {me})
                        if len(free) == 1:
                            pool.drop(it["item_id"])
                    return Lease(doc, it)
                if 0 in lost:  # another call of this grader took the seat (or a suspension blocked it)
                    seat = self._free_seat(me, seats.get_all(self.es, self.prefix, me, cap), clock.now(), version)
                if 1 in lost:  # this grader holds or held the item: never again
                    if pool is not None:
                        pool.held(it["item_id"], {me})
                    break
        return None

    def lease_ended(self, grader_id: str, slot: dict[str, Any] | None) -> None:
        """Note that this grader's lease ``slot`` was just submitted or skipped here (acknowledged):
        on the grouped path the grader's next lease reads only that seat instead of all of them
        (it is free while it still names this assignment; anything else: all seats are read)."""
        if self.grouped and slot is not None and slot.get("seat") is not None:
            if len(self._seat_hints) > 100_000:
                self._seat_hints.clear()
            self._seat_hints[grader_id] = (int(slot["seat"]), slot["assignment_id"])

    def _held_lately(self, grader_id: str, item_id: str) -> None:
        if len(self._recent) > 100_000:
            self._recent.clear()
        self._recent.setdefault(grader_id, deque(maxlen=RECENT_HOLDS)).append(item_id)

    def _free_seat(self, me: str, my_seats: list[atomic.Doc], at, version: int) -> atomic.Doc:
        """A free seat of the grader's (FAILED_PRECONDITION at the cap; PERMISSION_DENIED when a
        suspension newer than the profile read blocked them). Seats that look taken are checked
        against their slots; the stale ones found are marked FREE for the next calls."""
        for seat in my_seats:
            if leases.seat_looks_free(seat.source, at, version):
                return seat
        if any(s.source.get("state") == "BLOCKED" for s in my_seats):
            self._profiles.pop(me, None)
            raise PermissionDenied(f"graders/{me} is suspended: no tasks are served")
        taken = assignments.get_slots(self.es, self.prefix, {s.source["slot_id"] for s in my_seats
                                                            if s.source.get("slot_id")})
        stale = [s for s in my_seats if leases.seat_is_free(
            s.source, taken[s.source["slot_id"]].doc if s.source.get("slot_id") else None, at, version)]
        if not stale:
            raise FailedPrecondition(f"you hold {len(my_seats)} tasks already, the most at once: "
                                     "submit or skip one of them first")
        if len(stale) > 1:
            atomic.write_each(self.es, [(s, seats.free(me, int(s.id.rpartition(":")[2]), clock.iso(at)))
                                              for s in stale[1:]])
        return stale[0]

    def _repair(self, item_id: str, overlap: int) -> None:
        """Raise the item's judged count from its slots, off the request path (a routing hint)."""
        self.counter.add(item_id, overlap)

    # --- suspension ----------------------------------------------------------------------

    def release_all(self, grader_id: str, status_version: int) -> int:
        """Give every live lease of a grader back to the pool; returns how many.

        Every seat is BLOCKED at ``status_version`` (the suspension's) with optimistic concurrency,
        so a NextAssignment that read the seats before cannot write its lease's seat any more, and
        one that wrote it first is found here (and released; its slot write may be a moment behind).
        Leases from before seats existed are found by search."""
        self._profiles.pop(grader_id, None)
        at = clock.now()
        displaced: list[dict[str, Any]] = []
        for _ in range(10):
            my_seats = seats.get_all(self.es, self.prefix, grader_id, self.cfg.max_live_leases)
            todo = [(k, s) for k, s in enumerate(my_seats)
                    if not (s.source and s.source.get("state") == "BLOCKED"
                            and int(s.source.get("block_version") or 0) >= status_version)]
            if not todo:
                break
            lost = atomic.write_each(self.es, [(s, seats.blocked(s, grader_id, k, status_version, clock.iso(at)))
                                               for k, s in todo])
            displaced += [s.source for i, (_, s) in enumerate(todo)
                          if i not in lost and s.source and s.source.get("state") == "LEASED"]
        n = sum(self._release_lease(d["slot_id"], d["assignment_id"], d["lease_expire"]) for d in displaced)
        for sl in assignments.live_of(self.es, self.prefix, grader_id):
            if assignments.replace(self.es, self.prefix, sl, leases.released(sl.doc, clock.now())):
                n += 1
        return n

    def _release_lease(self, slot_id: str, assignment_id: str, lease_expire: str, wait: float = 2.0) -> bool:
        """Release one lease whose seat was just blocked. Its slot may not show it for a moment
        (written in the same bulk as the seat): wait up to ``wait`` seconds while the lease could live."""
        deadline = time.monotonic() + wait
        while True:
            slot = assignments.get_slot(self.es, self.prefix, slot_id)
            at = clock.now()
            if slot.doc is not None and slot.doc["assignment_id"] == assignment_id:
                if not leases.is_live(slot.doc, at):
                    return False  # submitted, skipped, released or expired already
                if assignments.replace(self.es, self.prefix, slot, leases.released(slot.doc, at)):
                    return True
                continue
            if time.monotonic() > deadline or clock.parse_time(lease_expire) <= at:
                return False  # never landed (its claim lost), or replaced after it ended
            time.sleep(0.05)


_ROUTING_FIELDS = ("locales", "skills", "programmes", "partner", "status", "status_version")


class _ProfileChanged(Exception):
    """The cached profile is stale: route again from the realtime one."""


def _partner_or_none(es: Elasticsearch, prefix: str, partner_id: str) -> dict[str, Any] | None:
    try:
        return partners.get(es, prefix, partner_id)
    except NotFound:
        return None
