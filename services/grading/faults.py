"""Test-only fault points: named places in the grading path where a test can make the server
process die (``kill``: SIGKILL, as a crash or ``kill -9`` would) or stall (``sleep:SECONDS``).

Off unless ``QRELAY_FAULT_POINTS`` names them (``submit.between_writes=kill,next.before_claim=sleep:1``),
which only tests set, in the environment of the server process they start. Each point marks a
window the code must survive: between the two writes of a submit, between reading slots and
claiming one.

>>> FaultPoints.parse("next.before_claim=sleep:0.5").actions
{'next.before_claim': ('sleep', 0.5)}
>>> FaultPoints.parse("nowhere=kill")
Traceback (most recent call last):
...
services.core.errors.ConfigError: QRELAY_FAULT_POINTS: unknown point 'nowhere' (known: next.before_claim, submit.between_writes)
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

from services.core.errors import ConfigError

POINTS = ("next.before_claim", "submit.between_writes")


@dataclass(frozen=True)
class FaultPoints:
    actions: dict[str, tuple[str, float]] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> "FaultPoints":
        actions = {}
        for entry in filter(None, (e.strip() for e in spec.split(","))):
            point, _, action = entry.partition("=")
            if point not in POINTS:
                raise ConfigError(f"QRELAY_FAULT_POINTS: unknown point {point!r} (known: {', '.join(POINTS)})")
            kind, _, arg = action.partition(":")
            if kind == "kill" and not arg:
                actions[point] = ("kill", 0.0)
            elif kind == "sleep":
                try:
                    actions[point] = ("sleep", float(arg))
                except ValueError:
                    raise ConfigError(f"QRELAY_FAULT_POINTS: {entry!r}: sleep takes seconds") from None
            else:
                raise ConfigError(f"QRELAY_FAULT_POINTS: {entry!r}: the action is kill or sleep:SECONDS")
        return cls(actions)

    def hit(self, point: str) -> None:
        action = self.actions.get(point)
        if action is None:
            return
        if action[0] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(action[1])


NONE = FaultPoints()
