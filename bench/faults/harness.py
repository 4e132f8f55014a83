"""The driver the fault scenarios share: load from simulated graders with failover and retries,
a monitor that fires the fault at a point of progress and stops once every item has its overlap,
and the audit of Elasticsearch afterwards.

Servers, seeding and grader creation are :mod:`bench.bench_grading`'s. The load runs in separate
processes (one asyncio task per grader, gRPC over loopback) so that the fault — a ``kill -9``, an
Elasticsearch stop — is driven from this process while it runs.

Clients (:func:`_steady` and :func:`_chaotic`) behave as a careful API client would: an answer of
UNAVAILABLE or DEADLINE_EXCEEDED is retried with the same request, after UNAVAILABLE on the next
replica (failover); any other answer is final.
"""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import random
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from bench.bench_grading import create_graders, seed, server

EVALUATION = "bench"
RPC_TIMEOUT_S = 10.0
IDLE_S = 1.0  # a grader told "queue empty" asks again after about this long
RETRYABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED")
# What no call may ever answer: our code failing, not the caller or a dependency.
FORBIDDEN = ("UNKNOWN", "INTERNAL")


@dataclass(frozen=True)
class Size:
    """How big a run is."""

    graders: int = 200
    items: int = 3000
    overlap: int = 3
    replicas: int = 2
    processes: int = 2  # load-generator processes
    workers: int = 32  # gRPC worker threads per server
    think_s: float = 0.05  # at most this long between receiving a task and answering it (uniform)
    fault_at: float = 0.25  # the fault fires once this share of the judgements is stored
    deadline_s: float = 600.0  # the run stops here even if items lack judgements


@dataclass
class Records:
    """What the clients saw (merged over load processes)."""

    sent: Counter = field(default_factory=Counter)  # RPC -> requests sent, retries included
    errors: Counter = field(default_factory=Counter)  # "RPC CODE" -> answers
    acked: set = field(default_factory=set)  # judgement handles answered OK
    ok_submits: list = field(default_factory=list)  # (epoch seconds, grader index, replica) of each OK submit
    anomalies: list = field(default_factory=list)  # what a client found wrong in an answer

    def merge(self, other: dict) -> None:
        self.sent.update(other["sent"])
        self.errors.update(other["errors"])
        self.acked.update(other["acked"])
        self.ok_submits += other["ok_submits"]
        self.anomalies += other["anomalies"]

    def codes(self) -> Counter:
        """Error answers by gRPC code, over every RPC."""
        out: Counter = Counter()
        for key, n in self.errors.items():
            out[key.split()[-1]] += n
        return out


@dataclass
class Report:
    """One scenario's figures (see :func:`audit` and :func:`table`)."""

    scenario: str
    size: Size
    records: Records
    audit: dict
    recovery_s: float | None
    wall_s: float
    notes: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        a = self.audit
        return (not self.records.anomalies and not any(self.records.codes()[c] for c in FORBIDDEN)
                and a["lost"] == a["dup_pair"] == a["dup_assignment"] == a["beyond"] == a["short"] == a["repeats"] == 0)

    def failures(self) -> list[str]:
        """What broke the pass condition, in words (empty when it passed)."""
        a, out = self.audit, []
        for key, words in (("lost", "acknowledged but not stored"), ("dup_pair", "duplicates per (item, grader)"),
                           ("dup_assignment", "duplicates per assignment"), ("beyond", "items beyond overlap"),
                           ("short", "items short of overlap"), ("repeats", "same-grader repeats")):
            if a[key]:
                out.append(f"{a[key]} {words}")
        out += [f"{n} answers {c}" for c, n in self.records.codes().items() if c in FORBIDDEN]
        return out + self.records.anomalies[:5] + (self.audit.get("examples") or [])


# --------------------------------------------------------------------------- deployment


@contextmanager
def deployment(es, es_url: str, prefix: str, size: Size, tmp: Path, env: dict | None = None,
               replicas: int | None = None) -> Iterator[tuple[list[tuple[str, int]], list[str]]]:
    """Index templates, one evaluation of ``size.items`` items in GRADING, ``replicas`` servers on
    the same Elasticsearch and prefix, and ``size.graders`` graders. Yields ``([(address, pid)],
    credentials)``; servers get SIGTERM afterwards (a killed one is gone already)."""
    from services.store import templates

    templates.install(es, prefix)
    seed(es, prefix, EVALUATION, size.items, size.overlap)
    # scripted graders have no think time worth limiting; the scenarios test faults, not rate limits
    env = {"QRELAY_RATE_LIMITS": "grader=0,engineer=0,ops=0,admin=0", **(env or {})}
    with ExitStack() as stack:
        servers = [stack.enter_context(server(es_url, prefix, tmp / f"{prefix}serve-{k}.log", size.workers, env))
                   for k in range(replicas or size.replicas)]
        yield servers, create_graders(servers[0][0], size.graders)


def drop(es, prefix: str) -> None:
    """Delete a scenario's indices and templates."""
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all"))
    if names:
        es.indices.delete(index=",".join(names), ignore_unavailable=True)
    for tpl in es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*").get("index_templates", []):
        es.indices.delete_index_template(name=tpl["name"])


def stored(es, prefix: str) -> int:
    """Judgements of the scenario's evaluation that Elasticsearch can count now (-1: it cannot)."""
    from services.store import judgements

    try:
        return judgements.count(es, prefix, EVALUATION)
    except Exception:  # noqa: BLE001 - Elasticsearch down or a node lost: the monitor asks again
        return -1


# --------------------------------------------------------------------------- load


def run(es, prefix: str, addresses: list[str], credentials: list[str], size: Size, mode: str = "steady",
        fault: Callable[[], None] | None = None, abandon: Callable[[int], bool] | None = None,
        ) -> tuple[Records, float | None, float]:
    """Load until every item has its overlap (or ``size.deadline_s``); ``fault`` runs in a thread
    once ``size.fault_at`` of the judgements are stored. Returns (records, epoch seconds the fault
    started or None, wall seconds).

    ``mode``: ``steady`` (Next → think → Submit) or ``chaotic`` (every call repeated at random).
    Grader ``i`` talks to replica ``i % replicas`` first; ``abandon(i)``:
    whether grader ``i`` drops the task it holds when its replica goes away, instead of retrying
    the submit on another."""
    target = size.items * size.overlap
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    t0 = time.time()
    deadline = t0 + size.deadline_s
    homes = [i % len(addresses) for i in range(len(credentials))]
    drops = [bool(abandon and abandon(i)) for i in range(len(credentials))]
    pipes, procs = [], []
    for k in range(size.processes):
        mine = list(range(k, len(credentials), size.processes))
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_load_process, args=(
            addresses, [(i, credentials[i], homes[i], drops[i]) for i in mine], mode, size.think_s, stop,
            deadline, send))
        p.start()
        pipes.append(recv)
        procs.append(p)
    fired: list[float] = []
    worker = None
    try:
        while time.time() < deadline:
            n = stored(es, prefix)
            if fault and not fired and n >= size.fault_at * target:
                fired.append(time.time())
                worker = threading.Thread(target=fault, name="fault")
                worker.start()
            if n >= target and (worker is None or not worker.is_alive()) and (fired or not fault):
                break
            time.sleep(0.25)
    finally:
        stop.set()
        records = Records()
        for r in pipes:
            records.merge(r.recv())
        for p in procs:
            p.join()
        if worker is not None:
            worker.join()
    return records, fired[0] if fired else None, time.time() - t0


def _load_process(addresses, graders, mode, think_s, stop, deadline, out) -> None:
    out.send(asyncio.run(_load(addresses, graders, mode, think_s, stop, deadline)))
    out.close()


async def _load(addresses, graders, mode, think_s, stop, deadline) -> dict:
    import grpc

    from services._proto.qrelay.v1 import grading_pb2_grpc

    channels = [grpc.aio.insecure_channel(a) for a in addresses]
    stubs = [grading_pb2_grpc.GradingServiceStub(c) for c in channels]
    rec = {"sent": Counter(), "errors": Counter(), "acked": set(), "ok_submits": [], "anomalies": []}
    body = _steady if mode == "steady" else _chaotic
    await asyncio.gather(*(body(_Client(stubs, index, cred, home, rec), rec, think_s, stop, deadline, drop)
                           for index, cred, home, drop in graders))
    for c in channels:
        await c.close()
    return rec


class _Client:
    """One grader's connection: retries UNAVAILABLE/DEADLINE_EXCEEDED with the same request and
    fails over to the next replica on UNAVAILABLE."""

    def __init__(self, stubs, index: int, credential: str, home: int, rec: dict):
        self.stubs, self.index, self.current, self.rec = stubs, index, home, rec
        self.md = (("authorization", f"Bearer {credential}"),)

    async def call(self, rpc: str, request, retry_until: float, retry: bool = True):
        """(response, None) or (None, code name) once an answer is final or ``retry_until`` passed."""
        import grpc

        attempt = 0
        while True:
            self.rec["sent"][rpc] += 1
            try:
                return await getattr(self.stubs[self.current], rpc)(
                    request, metadata=self.md, timeout=RPC_TIMEOUT_S), None
            except grpc.aio.AioRpcError as e:
                code = e.code().name
            self.rec["errors"][f"{rpc} {code}"] += 1
            if code == "UNAVAILABLE" and len(self.stubs) > 1:
                self.current = (self.current + 1) % len(self.stubs)
            if not retry or code not in RETRYABLE or time.time() > retry_until:
                return None, code
            await asyncio.sleep(min(2.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0))
            attempt += 1

    def acked(self, judgement) -> None:
        self.rec["acked"].add(judgement.name.split("/", 1)[1])
        self.rec["ok_submits"].append((time.time(), self.index, self.current))


def _request(rpc: str, name: str, rng: random.Random):
    from services._proto.qrelay.v1 import grading_pb2

    if rpc == "SubmitJudgement":
        return grading_pb2.SubmitJudgementRequest(name=name, grade=rng.randint(0, 3))
    return grading_pb2.SkipAssignmentRequest(name=name, reason=grading_pb2.PAGE_BROKEN)


async def _steady(cl: _Client, rec, think_s, stop, deadline, abandon: bool) -> None:
    """Next → think → Submit, until stopped; a submit is retried until it is answered for good
    (after the stop too: its outcome must be known), unless the grader abandons it."""
    from services._proto.qrelay.v1 import grading_pb2

    rng = random.Random(cl.index)
    while not stop.is_set() and time.time() < deadline:
        a, code = await cl.call("NextAssignment", grading_pb2.NextAssignmentRequest(), deadline)
        if a is None:
            await asyncio.sleep(IDLE_S * rng.uniform(0.5, 1.5) if code == "NOT_FOUND" else 0.2)
            continue
        await asyncio.sleep(rng.uniform(0, think_s))
        request = _request("SubmitJudgement", a.name, rng)
        j, code = await cl.call("SubmitJudgement", request, deadline + 120, retry=not abandon)
        if j is None and abandon and code in RETRYABLE:
            if code == "UNAVAILABLE":
                continue  # the tab closed with its replica: the lease is left to expire
            j, _ = await cl.call("SubmitJudgement", request, deadline + 120)
        if j is not None:
            cl.acked(j)


async def _chaotic(cl: _Client, rec, think_s, stop, deadline, abandon: bool) -> None:
    """A client that repeats every call at random — after success too, sometimes at the same time
    as the first — takes a second task now and then (double Next), skips some, and replays old
    requests. Every OK answer to one submit must name the same judgement."""
    from services._proto.qrelay.v1 import grading_pb2

    rng = random.Random(1000 + cl.index)
    held: list[str] = []
    history: list[tuple[str, object, str | None]] = []  # (rpc, request, judgement name of the first OK)

    async def send(rpc, request):
        repeats = 1 + (rng.random() < 0.5) * rng.randint(1, 2)
        if rng.random() < 0.5:  # the repeats race the first
            answers = await asyncio.gather(*(cl.call(rpc, request, deadline + 120) for _ in range(repeats)))
        else:
            answers = [await cl.call(rpc, request, deadline + 120) for _ in range(repeats)]
        return [r for r, _ in answers if r is not None]

    while not stop.is_set() and time.time() < deadline:
        if not held or (len(held) < 3 and rng.random() < 0.2):
            got = await send("NextAssignment", grading_pb2.NextAssignmentRequest())
            held += [a.name for a in got]
            if not held:
                await asyncio.sleep(IDLE_S * rng.uniform(0.5, 1.5))
                continue
        name = held.pop(0)
        await asyncio.sleep(rng.uniform(0, think_s))
        rpc = "SkipAssignment" if rng.random() < 0.1 else "SubmitJudgement"
        request = _request(rpc, name, rng)
        oks = await send(rpc, request)
        first = None
        if rpc == "SubmitJudgement" and oks:
            first = oks[0].name
            cl.acked(oks[0])
            if any(j.name != first for j in oks):
                rec["anomalies"].append(f"one submit answered different judgements: {sorted({j.name for j in oks})}")
        history.append((rpc, request, first))
        if rng.random() < 0.15:  # replay an old request, long after its answer
            old_rpc, old, old_first = rng.choice(history)
            for r in await send(old_rpc, old):
                if old_rpc == "SubmitJudgement" and old_first is not None and r.name != old_first:
                    rec["anomalies"].append(f"a replayed submit answered another judgement: {r.name} != {old_first}")
                elif old_rpc == "SubmitJudgement" and old_first is None:
                    cl.acked(r)


# --------------------------------------------------------------------------- audit


def audit(es, prefix: str, size: Size, records: Records, reconcile: bool = True) -> dict:
    """What Elasticsearch holds for the evaluation after the run (and after one reconciler pass):

    ``acked`` (distinct judgements answered OK), ``stored``, ``lost`` (acked, not stored),
    ``dup_pair`` (extra judgements per (item, grader)), ``dup_assignment`` (extra per assignment),
    ``beyond`` / ``short`` (items with more / fewer judgements than their overlap), ``repeats``
    ((item, grader) pairs leased more than once, from every slot's holder history), ``expired``
    (leases that ran out and went back to the pool), ``reconciled`` (judgements the pass appended)."""
    from services.grading import reconcile as reconciler
    from services.grading.handles import Handles
    from services.store import assignments, judgements, system
    from services.store.scan import scan

    reconciled = reconciler.run_once(es, prefix) if reconcile else 0
    es.indices.refresh(index=f"{judgements.index(prefix)},{assignments.index(prefix)}")
    query = {"term": {"evaluation_id": EVALUATION}}
    docs = list(scan(es, judgements.index(prefix), query, ["judgement_id", "assignment_id", "item_id", "grader"]))
    ids = {d["judgement_id"] for d in docs}
    handles = Handles(system.server_secret(es, prefix))
    acked = {handles.decode(h) for h in records.acked}
    per_pair = Counter((d["item_id"], d["grader"]) for d in docs)
    per_assignment = Counter(d["assignment_id"] for d in docs)
    per_item = Counter(d["item_id"] for d in docs)
    leases: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    slots: dict[str, list[str]] = {}
    expired = 0
    for slot in scan(es, assignments.index(prefix), query,
                     ["item_id", "slot", "grader", "assignment_id", "state", "lease_expire", "previous"]):
        for lease in [slot, *(slot.get("previous") or ())]:
            leases.setdefault((slot["item_id"], lease["grader"]), []).append(
                (lease["assignment_id"], lease["state"], lease.get("time") or slot["lease_expire"]))
            expired += lease.get("state") == "EXPIRED"
        slots.setdefault(slot["item_id"], []).append(
            f"slot {slot['slot']} {slot['state']} {slot['grader']} until {slot['lease_expire']}")
    repeats = {k: v for k, v in leases.items() if len({aid for aid, _, _ in v}) > 1}
    short = sorted(i for i in slots if per_item[i] < size.overlap)
    return {
        "acked": len(acked), "stored": len(docs), "lost": len(acked - ids),
        "dup_pair": sum(c - 1 for c in per_pair.values() if c > 1),
        "dup_assignment": sum(c - 1 for c in per_assignment.values() if c > 1),
        "beyond": sum(1 for c in per_item.values() if c > size.overlap),
        "short": size.items - sum(1 for c in per_item.values() if c >= size.overlap),
        "repeats": len(repeats), "expired": expired, "reconciled": reconciled,
        # for a failure's message: what the slots say
        "examples": [f"repeat {k}: {v}" for k, v in list(repeats.items())[:3]]
        + [f"short {i}: {slots[i]}" for i in short[:3]],
    }


def first_ok_after(records: Records, at: float, which: Callable[[int, int], bool] = lambda grader, replica: True
                   ) -> float | None:
    """Seconds from ``at`` to the first OK submit at or after it (of those ``which(grader, replica)`` picks)."""
    times = [t for t, g, r in records.ok_submits if t >= at and which(g, r)]
    return min(times) - at if times else None


def longest_stall(records: Records, start: float, end: float) -> float:
    """The longest stretch between ``start`` and ``end`` without an OK submit (seconds)."""
    times = sorted([start, *(t for t, _, _ in records.ok_submits if start <= t <= end), end])
    return max(b - a for a, b in zip(times, times[1:]))


# --------------------------------------------------------------------------- report


def table(reports: list[Report]) -> str:
    """The reports as one markdown table, with the machine's load average."""
    import os

    head = ("scenario", "graders", "replicas", "requests", "errors by code", "acked", "stored", "lost",
            "dup (item, grader)", "dup (assignment)", "beyond overlap", "short of overlap", "repeats",
            "leases expired → pool", "reconciled", "recovery s", "wall s", "pass")
    rows = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in reports:
        a = r.audit
        codes = ", ".join(f"{k.replace('Assignment', '').replace('Judgement', '')} {n}"
                          for k, n in r.records.errors.most_common()) or "none"
        rows.append(" | ".join(str(x) for x in (
            r.scenario, r.size.graders, r.notes.get("replicas", r.size.replicas), sum(r.records.sent.values()), codes,
            a["acked"], a["stored"], a["lost"], a["dup_pair"], a["dup_assignment"], a["beyond"], a["short"],
            a["repeats"], a["expired"], a["reconciled"],
            "–" if r.recovery_s is None else f"{r.recovery_s:.2f}", f"{r.wall_s:.0f}", "yes" if r.passed else "NO")))
    load = os.getloadavg()
    rows.append(f"\nmachine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    for r in reports:
        if r.notes:
            rows.append(f"{r.scenario}: " + "; ".join(f"{k} {v}" for k, v in r.notes.items()))
        if not r.passed:
            rows.append(f"{r.scenario} FAILED: " + "; ".join(r.failures()))
    return "\n".join(rows)
