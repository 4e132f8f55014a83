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


def _live_item_id(evaluation_id: str, a) -> str:
    """What a client can recompute for a live pointwise task from what it is shown: production's id
    of a (normalised query, locale group, doc) item."""
    from services.core.querynorm import normalize_query
    from services.evaluation import pooling

    return pooling.item_id(evaluation_id, "pointwise", normalize_query(a.task.query), a.task.locale,
                           a.task.pointwise.result.doc_id)


def _gold_world(world, n: int):
    """``n`` live and ``n`` gold pointwise tasks of one evaluation, alike in shape and size."""
    world.seed(w.pointwise(world.eval_id, n, locale=world.locale, query="running shoes", tag="p")
               + w.gold(world.eval_id, n, locale=world.locale, query="tennis racket", tag="g"))


def _is_gold(a) -> bool:
    return a.task.pointwise.result.doc_id.startswith("dg")


def test_assignment_names_carry_no_item_id(world):
    """Hole 2: the item id sat in the assignment name, and a live item's id is a hash of what the
    grader sees — recomputing it told gold (whose id does not match) from live work."""
    n = 30
    _gold_world(world, n)
    g = world.grader()
    guesses, truth, names = [], [], []
    for _ in range(2 * n):
        a = g.next()
        names.append(a.name)
        handle = a.name.split("/", 1)[1]
        recomputed = _live_item_id(world.eval_id, a).rpartition("-")[2]
        guesses.append(recomputed not in handle)
        truth.append(_is_gold(a))
        g.submit(a.name, grade=2)
    correct, n = leakage.accuracy(guesses, truth)
    assert not leakage.better_than_chance(correct, n, ALPHA), f"gold told apart by its name in {correct} of {n} tasks"
    assert not [x for x in names if world.eval_id in x]


def test_gold_feedback_cannot_be_tied_to_one_task(world, es):
    """Hole 2: stats refreshed after every submit (as the web app does) showed a jump in gold
    counts right after a gold task — and whether it was answered right."""
    n = 30
    _gold_world(world, n)
    g = world.grader()
    guesses, truth = [], []
    before = g.stats()
    for done in range(1, 2 * n + 1):
        a = g.next()
        g.submit(a.name, grade=2)
        es.indices.refresh(index=f"{world.prefix}judgements")  # a patient client: the write is searchable
        after = g.stats()
        assert after.done_total == done
        guesses.append(after.gold_judged > before.gold_judged)
        truth.append(_is_gold(a))
        before = after
    correct, n = leakage.accuracy(guesses, truth)
    assert not leakage.better_than_chance(correct, n, ALPHA), f"gold told apart by its stats in {correct} of {n} tasks"
