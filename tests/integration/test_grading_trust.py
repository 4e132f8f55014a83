"""Grading you can trust (issue 11): each hole an independent read found, as a test against the
real server and a real Elasticsearch — blind side by side, hidden gold, no lost judgement, one
slot per grader and item, suspension without gaps, no starved graders, credentials that rotate."""
from __future__ import annotations

import hashlib

from tests.integration import leakage
from tests.integration import test_grading_support as w
from tests.integration.test_grading import World, channel, server, world  # noqa: F401 - fixtures

ALPHA = 1e-4  # a test fails by chance once in 10,000 runs


def _shown_flipped(a) -> bool:
    """Whether ranker_b's list is on the left, read from the content (the test knows its items)."""
    return a.task.side_by_side.left[0].doc_id.startswith("db")


def test_sxs_side_is_not_computable_from_the_assignment_name(world):
    """Hole 1: the side was sha256(assignment id)'s low bit, and the id is sent to the client."""
    n = 60
    world.seed(w.side_by_side(world.eval_id, n, locale=world.locale))
    g = world.grader()
    guesses, truth = [], []
    for _ in range(n):
        a = g.next()
        handle = a.name.split("/", 1)[1]
        guesses.append(hashlib.sha256(handle.encode()).digest()[0] & 1 == 1)
        truth.append(_shown_flipped(a))
        g.submit(a.name, preference=0)
    correct, n = leakage.accuracy(guesses, truth)
    assert not leakage.better_than_chance(correct, n, ALPHA), f"side predicted from the name in {correct} of {n} tasks"
