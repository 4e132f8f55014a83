"""services.simulation.clock: compressed time that never runs ahead of the work. The clock is
advanced by hand (``advance``), so nothing here depends on how fast the machine is."""
from __future__ import annotations

import asyncio

import pytest

from services.simulation.clock import SimClock


def run(coro):
    return asyncio.run(coro)


def test_runs_compressed_when_nothing_is_due():
    c = SimClock(compression=10, hold=1)
    c.advance(2.5)
    assert c.now() == 25 and c.held_real == 0 and c.effective_compression == 10


def test_unfinished_work_holds_the_clock():
    async def scenario():
        c = SimClock(compression=10, hold=1)
        release = asyncio.Event()

        async def actor():
            async with c.at(5):
                await release.wait()  # the server is slow to answer

        task = asyncio.create_task(actor())
        await asyncio.sleep(0)
        c.advance(1.0)  # would reach 10, but the action due at 5 has not finished
        await asyncio.sleep(0)
        assert c.now() == 6  # due + hold
        c.advance(1.0)
        assert c.now() == 6 and c.held_real == pytest.approx(1.4)  # 1.0 s lost + 0.4 s of the first second
        release.set()
        await task
        c.advance(0.1)
        assert c.now() == 7 and c.effective_compression == pytest.approx(7 / 2.1)

    run(scenario())


def test_an_action_late_to_start_holds_it_too():
    # due at 3 but its task has not run yet (a busy event loop): it may not fall more than hold behind
    async def scenario():
        c = SimClock(compression=100, hold=2)
        started = []

        async def actor():
            async with c.at(3):
                started.append(c.now())

        task = asyncio.create_task(actor())
        await asyncio.sleep(0)
        c.advance(1.0)
        assert c.now() == 5
        await task
        assert started == [5]

    run(scenario())


def test_a_look_halts_the_clock_after_everything_due_by_then():
    async def scenario():
        c = SimClock(compression=10, hold=50)
        done = []

        async def actor(due, work):
            async with c.at(due):
                await asyncio.sleep(work)
                done.append(due)

        tasks = [asyncio.create_task(actor(d, 0.01)) for d in (4, 9, 31)]
        await asyncio.sleep(0)
        ticker = asyncio.create_task(c.run())
        await c.look_at(10)
        assert c.now() == 10 and sorted(done) == [4, 9]  # the action due at 31 has not begun
        c.advance(5.0)  # real time passes during the look: the clock stays put
        assert c.now() == 10 and c.paused_real >= 5.0
        c.resume()
        await asyncio.gather(*tasks)
        ticker.cancel()
        assert done[-1] == 31 and c.now() >= 31

    run(scenario())


def test_bad_settings():
    with pytest.raises(ValueError):
        SimClock(compression=0)
