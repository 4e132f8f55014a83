"""Simulated graders over gRPC: each signs in with its own credential and works the queue through
``GradingService`` — ``NextAssignment``, think, ``SubmitJudgement`` or ``SkipAssignment`` —
answering as :mod:`fixtures.graders` says.

With a :class:`~services.simulation.clock.SimClock` the graders think in simulated time (a
grader's next action is due when its think time is over, and the clock is held while actions
are under way); without one they answer as fast as the server serves, and each stops at its
first "queue empty" (end-to-end tests). One asyncio task per grader, one channel for all.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import grpc
import numpy as np

from fixtures.graders import SXS, Answer, GraderProfile, Task, WorkforceSpec, respond
from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc, operations_pb2, operations_pb2_grpc
from services.simulation.clock import SimClock

__all__ = ["Crowd", "Tally", "create_graders", "task_of"]

SKIP_REASONS = {"page_broken": grading_pb2.PAGE_BROKEN, "wrong_language": grading_pb2.WRONG_LANGUAGE,
                "other": grading_pb2.OTHER}
# Worth another try: the server or Elasticsearch is busy or briefly away (a retried submit is safe).
RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED)
ATTEMPTS = 5
RPC_TIMEOUT_S = 60.0


def _bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


async def create_graders(channel: grpc.aio.Channel, profiles: Sequence[GraderProfile], ops_token: str,
                         name: str = "sim") -> list[str]:
    """One grader per profile through ``OperationsService.CreateGrader`` (its locales, both
    kinds); returns their credentials in order."""
    ops = operations_pb2_grpc.OperationsServiceStub(channel)

    async def one(p: GraderProfile) -> str:
        r = await ops.CreateGrader(operations_pb2.CreateGraderRequest(
            grader=operations_pb2.Grader(display_name=f"{name} {p.index}", locales=list(p.locales)),
            request_id=f"{name}-{p.index}"), metadata=_bearer(ops_token), timeout=RPC_TIMEOUT_S)
        return r.credential

    return list(await asyncio.gather(*(one(p) for p in profiles)))


def task_of(a: grading_pb2.Assignment) -> Task:
    """What the grader sees of an assignment, as plain data."""
    t = a.task
    if t.WhichOneof("body") == "side_by_side":
        return Task(SXS, t.query, left=tuple(d.doc_id for d in t.side_by_side.left),
                    right=tuple(d.doc_id for d in t.side_by_side.right))
    return Task("pointwise", t.query, doc_id=t.pointwise.result.doc_id)


@dataclass
class Tally:
    """What the crowd did."""

    judgements: int = 0  # acknowledged submits
    skips: int = 0
    empty: int = 0  # "queue empty" answers
    careless: int = 0  # judgements by careless graders
    matched: int = 0  # judgements equal to the hidden truth
    errors: Counter = field(default_factory=Counter)  # "rpc CODE" -> count, after retries
    next_ms: list = field(default_factory=list)  # real latency of NextAssignment calls
    submit_ms: list = field(default_factory=list)  # real latency of SubmitJudgement calls
    ack_times: list = field(default_factory=list)  # simulated time of each acknowledged judgement
    graders: set = field(default_factory=set)  # indices of graders who submitted
    # simulated time of the first "queue empty" answer after the first judgement (before it, grading
    # may not be open yet: streamed pre-judgement)
    first_empty: float | None = None


class Crowd:
    """Graders (profile + credential) working one server's queue."""

    def __init__(self, channel: grpc.aio.Channel, members: Sequence[tuple[GraderProfile, str]], spec: WorkforceSpec,
                 oracle, clock: SimClock | None = None, seed: int = 0):
        self.stub = grading_pb2_grpc.GradingServiceStub(channel)
        self.members, self.spec, self.oracle, self.clock, self.seed = list(members), spec, oracle, clock, seed
        self.tally = Tally()
        self._kinds: dict[str, str] = {}  # assignment name -> kind, while held

    async def run(self, stop: asyncio.Event | None = None) -> Tally:
        """Work until ``stop`` is set (with a clock) or every grader heard "queue empty"
        (without one)."""
        tasks = [asyncio.create_task(self._grader(p, token)) for p, token in self.members]
        if stop is None:
            await asyncio.gather(*tasks)
            return self.tally
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        for t in (waiter, *tasks):
            t.cancel()
        await asyncio.gather(waiter, *tasks, return_exceptions=True)
        if failed:
            raise failed[0].exception()
        return self.tally

    async def _call(self, what: str, fn, request, md, lat: list | None):
        """One RPC with retries; None when the answer is NOT_FOUND (or another final error, counted)."""
        for attempt in range(ATTEMPTS):
            t = time.perf_counter()
            try:
                r = await fn(request, metadata=md, timeout=RPC_TIMEOUT_S)
            except grpc.aio.AioRpcError as e:
                if e.code() in RETRY and attempt + 1 < ATTEMPTS:
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                if e.code() == grpc.StatusCode.NOT_FOUND and what == "next":
                    self.tally.empty += 1
                    if self.clock is not None and self.tally.first_empty is None and self.tally.judgements:
                        self.tally.first_empty = self.clock.now()
                else:
                    self.tally.errors[f"{what} {e.code().name}"] += 1
                return None
            if lat is not None:
                lat.append((time.perf_counter() - t) * 1000)
            return r

    async def _finish(self, p: GraderProfile, md, name: str, ans: Answer) -> None:
        """Submit (or skip) a held assignment."""
        tally = self.tally
        if ans.skip:
            self._kinds.pop(name, None)
            r = await self._call("skip", self.stub.SkipAssignment, grading_pb2.SkipAssignmentRequest(
                name=name, reason=SKIP_REASONS[ans.skip]), md, None)
            tally.skips += r is not None
            return
        kind = "preference" if self._kinds.pop(name, None) == SXS else "grade"
        r = await self._call("submit", self.stub.SubmitJudgement, grading_pb2.SubmitJudgementRequest(
            name=name, **{kind: ans.value}), md, tally.submit_ms)
        if r is None:
            return
        tally.judgements += 1
        tally.graders.add(p.index)
        tally.careless += p.careless
        tally.matched += ans.value == ans.truth
        if self.clock is not None:
            tally.ack_times.append(self.clock.now())

    async def _grader(self, p: GraderProfile, token: str) -> None:
        md = _bearer(token)
        rng = np.random.default_rng([self.seed, p.index])
        held: tuple[str, Answer] | None = None
        clock = self.clock
        if clock is None:
            while (held := await self._step(p, md, held, rng)) is not None:
                pass
            return
        # graders do not all start in the same second: the first task comes within one think time
        due = float(rng.uniform(0, self.spec.think_median_s * p.speed))
        while True:
            async with clock.at(due):
                held = await self._step(p, md, held, rng)
            due = clock.now() + (held[1].seconds if held else self.spec.idle_s)

    async def _step(self, p: GraderProfile, md, held: tuple[str, Answer] | None,
                    rng: np.random.Generator) -> tuple[str, Answer] | None:
        """Finish what is held, lease the next task and decide the answer to it (None: queue empty)."""
        if held is not None:
            await self._finish(p, md, *held)
        a = await self._call("next", self.stub.NextAssignment, grading_pb2.NextAssignmentRequest(), md,
                             self.tally.next_ms)
        if a is None:
            return None
        task = task_of(a)
        self._kinds[a.name] = task.kind
        return a.name, respond(p, self.spec, task, self.oracle, rng)
