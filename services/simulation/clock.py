"""A simulated clock for compressed runs that never runs ahead of the real work.

Simulated seconds pass ``compression`` times faster than real ones, with two brakes:

* **work holds it**: every action (a grader's RPCs, due at simulated time ``d``) is registered
  when it is scheduled; the clock never passes ``d + hold`` while that action has not finished.
  A server that cannot keep up, or an event loop that wakes its tasks late, therefore slows the
  simulated clock down instead of letting graders' think times overlap with work still queued —
  an action may take at most ``hold`` simulated seconds, as a real round trip would, and the
  time the clock stood still is counted (:attr:`SimClock.held_real`);
* **looks stop it**: :meth:`SimClock.look_at` halts the clock at a simulated instant and waits
  until every action due by then has finished, so an observer (a report) sees the world exactly
  as of that instant and costs no simulated time; :meth:`SimClock.resume` lets it go on.

Driving it: ``asyncio.create_task(clock.run())``, then ``async with clock.at(due): ...`` in each
actor. ``compression`` and the real seconds it ran, stood held and stood paused give the
effective compression (:attr:`SimClock.effective_compression`).
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from contextlib import asynccontextmanager

__all__ = ["SimClock"]


class SimClock:
    """Simulated seconds from 0 (see the module notes)."""

    def __init__(self, compression: float, hold: float = 1.0, tick: float = 0.01):
        if not compression > 0 or not hold > 0 or not tick > 0:
            raise ValueError("compression, hold and tick must be positive")
        self.compression, self.hold, self.tick = float(compression), float(hold), float(tick)
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._acting: dict[int, float] = {}  # action -> its due time, from scheduling to finish
        self._ids = itertools.count()
        self._stop_at = math.inf
        self._halted: asyncio.Event | None = None
        self._paused = False
        self.running_real = 0.0  # real seconds the clock was free to run
        self.held_real = 0.0  # of those, real seconds lost standing still for unfinished work
        self.paused_real = 0.0  # real seconds halted for looks

    def now(self) -> float:
        return self._now

    @property
    def effective_compression(self) -> float:
        """Simulated seconds per real second while not paused for a look."""
        return self._now / self.running_real if self.running_real > 0 else float("nan")

    def _limit(self) -> float:
        due = min(self._acting.values(), default=math.inf)
        return min(due + self.hold, self._stop_at)

    def advance(self, real_seconds: float) -> None:
        """Let ``real_seconds`` of real time pass (what :meth:`run` does every tick)."""
        if self._paused:
            self.paused_real += real_seconds
            return
        self.running_real += real_seconds
        target = self._now + self.compression * real_seconds
        limit = self._limit()
        new = min(target, limit)
        if target > limit and limit < self._stop_at:
            self.held_real += (target - max(new, self._now)) / self.compression
        if new > self._now:
            self._now = new
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)
        if self._now >= self._stop_at:
            self._paused = True
            if self._halted is not None:
                self._halted.set()

    async def run(self) -> None:
        """The ticker: advances the clock until cancelled."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick)
            t = time.monotonic()
            self.advance(t - last)
            last = t

    @asynccontextmanager
    async def at(self, due: float):
        """Wait until simulated time ``due``; the body is the action, holding the clock at
        ``due + hold`` until it finishes."""
        token = next(self._ids)
        self._acting[token] = due
        try:
            if due > self._now:
                fut = asyncio.get_running_loop().create_future()
                heapq.heappush(self._sleepers, (due, token, fut))
                await fut
            yield
        finally:
            self._acting.pop(token, None)

    async def look_at(self, t: float) -> None:
        """Halt the clock at simulated time ``t`` (or now, if that has passed) and return once
        every action due by then has finished."""
        self._halted = asyncio.Event()
        self._stop_at = max(t, self._now)
        if self._now >= self._stop_at:
            self._paused = True
            self._halted.set()
        await self._halted.wait()
        while any(d <= self._now for d in self._acting.values()):
            await asyncio.sleep(self.tick)

    def resume(self) -> None:
        self._stop_at = math.inf
        self._paused = False
