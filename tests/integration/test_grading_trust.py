"""Grading you can trust (issue 11): each hole an independent read found, as a test against the
real server and a real Elasticsearch — blind side by side, hidden gold, no lost judgement, one
slot per grader and item, suspension without gaps, no starved graders, credentials that rotate."""
from __future__ import annotations

import hashlib
import signal
import threading
import time
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from services._proto.qrelay.v1 import operations_pb2 as ops_pb2
from services._proto.qrelay.v1 import operations_pb2_grpc
from services.grading import reconcile
from tests.integration import leakage
from tests.integration import test_grading_support as w
from tests.integration.serving import auth, qrelay_server
from tests.integration.test_grading import World, _drop, channel, server, world  # noqa: F401 - fixtures

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



def test_a_pointwise_task_shows_no_rank_that_could_mark_gold(world):
    """Found beside hole 2: a live item showed the best rank any ranker gave it (1..depth), a gold
    item the position its loader gave (LoadGoldItems defaults to 1) — gold stood out by its rank."""
    live = w.pointwise(world.eval_id, 3, locale=world.locale)
    for k, it in enumerate(live):
        it["doc"]["position"] = 3 + k  # what pooling stores for a doc ranked 3rd, 4th, 5th
    world.seed(live + w.gold(world.eval_id, 3, locale=world.locale))
    g = world.grader()
    shown = {g.next().task.pointwise.result.position for _ in range(6)}
    assert shown == {0}  # no rank on the wire: it would also bias the grade (position bias)

def _wait_for(probe, seconds: float = 90.0, every: float = 0.5):
    """Poll ``probe`` until it returns something truthy (or ``seconds`` pass: then its last answer)."""
    deadline = time.monotonic() + seconds
    while True:
        got = probe()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(every)


def test_a_judgement_committed_on_its_slot_survives_a_crash_before_its_append(es_url, es, tmp_path):
    """Hole 3: submit marks the slot SUBMITTED (with the judgement on it), then appends to
    `judgements`; a crash between the two left the item one judgement short forever."""
    prefix = f"qt-grading-kill-{uuid.uuid4().hex[:8]}-"
    try:
        with qrelay_server(es_url, prefix, tmp_path / "a.log",
                           {"QRELAY_FAULT_POINTS": "submit.between_writes=kill"}) as (address, proc), \
                grpc.insecure_channel(address) as ch:
            world = World(es, ch, prefix)
            world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
            g = world.grader()
            a = g.next()
            assert w.code_of(g.submit, a.name, grade=3, comment="kept") == grpc.StatusCode.UNAVAILABLE
            assert proc.wait(timeout=30) == -signal.SIGKILL
        es.indices.refresh(index=f"{prefix}assignments")
        [slot] = [h["_source"] for h in es.search(index=f"{prefix}assignments", query={"term": {
            "state": "SUBMITTED"}})["hits"]["hits"]]
        assert slot["grader"] == g.id and world.judgements() == []  # committed on the slot only
        # the grader moved on and never retries; another replica starts
        with qrelay_server(es_url, prefix, tmp_path / "b.log"):
            stored = _wait_for(world.judgements)
        assert [(j["grade"], j["grader"], j["comment"], j["judgement_id"]) for j in stored] == [
            (3, g.id, "kept", slot["judgement_id"])]
        # idempotent: more passes (any replica, any time) append nothing
        assert reconcile.run_once(es, prefix) == 0 and len(world.judgements()) == 1
    finally:
        _drop(es, prefix)


@pytest.fixture(scope="module")
def stalling(es_url, es, tmp_path_factory):
    """A server that stalls 2.5 s between reading an item's slots and claiming one (the window two
    NextAssignment calls of one grader, or a suspension, can race in), with at most 2 live leases
    per grader."""
    prefix = f"qt-grading-stall-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("stall") / "serve.log", {
            "QRELAY_FAULT_POINTS": "next.before_claim=sleep:2.5", "QRELAY_MAX_LIVE_LEASES": "2"}) as (address, _), \
            grpc.insecure_channel(address) as ch:
        yield World(es, ch, prefix)
    _drop(es, prefix)


def _together(*calls) -> list:
    """Run the calls at the same time; each one's result or its status code."""
    out = [None] * len(calls)

    def run(i):
        try:
            out[i] = calls[i]()
        except grpc.RpcError as e:
            out[i] = e.code()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _fresh(world: World) -> World:
    """A new evaluation and locale on the same server."""
    return World(world.es, world.channel, world.prefix)


def test_one_grader_never_holds_two_slots_of_an_item(stalling):
    """Hole 4: "never the same item twice" was check-then-act across slots: two concurrent calls of
    one grader (two tabs, two replicas) each took a slot of the same item."""
    world = _fresh(stalling)
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale, overlap=2))
    g = world.grader()
    got = [x if isinstance(x, grpc.StatusCode) else "leased" for x in _together(g.next, g.next)]
    assert sorted(map(str, got)) == ["StatusCode.NOT_FOUND", "leased"]


def test_live_leases_per_grader_are_capped(stalling):
    """Hole 4: nothing capped how many tasks one grader could hold (QRELAY_MAX_LIVE_LEASES=2 here)."""
    world = _fresh(stalling)
    world.seed(w.pointwise(world.eval_id, 8, locale=world.locale))
    g = world.grader()
    first, second = g.next(), g.next()
    with pytest.raises(grpc.RpcError) as e:
        g.next()
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "2" in e.value.details()
    g.submit(first.name, grade=1)  # a submit frees a place
    assert g.next().name not in (first.name, second.name)
    # concurrent calls (two tabs) cannot overshoot the cap either
    h = world.grader()
    got = [x if isinstance(x, grpc.StatusCode) else "leased" for x in _together(h.next, h.next, h.next, h.next)]
    assert got.count("leased") == 2, got


def test_an_early_holder_is_never_served_the_item_again(world):
    """Hole 4: the slot kept only its last 20 holders, so the first of 22 was served the item again."""
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    first = world.grader()
    first.skip(first.next().name)
    for _ in range(21):
        other = world.grader()
        other.skip(other.next().name)
    assert w.code_of(first.next) == grpc.StatusCode.NOT_FOUND


def _ops(world: World):
    return operations_pb2_grpc.OperationsServiceStub(world.channel)


def _live_leases(es, prefix: str, grader_id: str) -> list[dict]:
    es.indices.refresh(index=f"{prefix}assignments")
    r = es.search(index=f"{prefix}assignments", query={"bool": {"filter": [
        {"term": {"grader": grader_id}}, {"term": {"state": "LEASED"}}]}})
    return [h["_source"] for h in r["hits"]["hits"]]


def test_a_suspended_partner_s_graders_lose_their_leases_and_cannot_submit_or_extend(world):
    """Hole 5: submit and extend did not check grader or partner status, and suspending a partner
    released none of its graders' leases."""
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    ops = _ops(world)
    partner = ops.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Vendor")),
                                metadata=auth("ops"))
    g, other = world.grader(partner=partner.name), world.grader()
    a = g.next()
    ops.UpdatePartner(ops_pb2.UpdatePartnerRequest(partner=ops_pb2.Partner(name=partner.name, status=ops_pb2.SUSPENDED),
                                                   update_mask=field_mask_pb2.FieldMask(paths=["status"])),
                      metadata=auth("ops"))
    assert w.code_of(g.extend, a.name) == grpc.StatusCode.PERMISSION_DENIED
    assert w.code_of(g.submit, a.name, grade=1) == grpc.StatusCode.PERMISSION_DENIED
    assert other.next().task.query == a.task.query  # released: back in the pool at once
    assert world.judgements() == []


def test_a_lease_taken_while_its_grader_is_suspended_is_released_too(stalling):
    """Hole 5: release-by-search missed a lease being created at that moment (here: a
    NextAssignment that read the slots, stalls, and claims after the suspension's search)."""
    world = _fresh(stalling)
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g = world.grader()
    racing = threading.Thread(target=lambda: w.code_of(g.next))
    racing.start()
    time.sleep(0.2)  # the call has read the slots and stalls (2.5 s) before it claims
    _ops(world).SuspendGrader(ops_pb2.SuspendGraderRequest(name=g.name, reason="quality"), metadata=auth("ops"))
    racing.join()
    assert _live_leases(world.es, world.prefix, g.id) == []


def test_a_busy_grader_is_not_told_the_queue_is_empty_while_tasks_remain(es_url, es, tmp_path):
    """Hole 6: the queue search read a few pages of the best items and filtered what the grader
    had held afterwards, so a grader who had held them all heard "queue empty" while a lower
    priority task waited. Small pages here (pool 8, pages of 4) make 30 held items enough."""
    prefix = f"qt-grading-busy-{uuid.uuid4().hex[:8]}-"
    try:
        with qrelay_server(es_url, prefix, tmp_path / "serve.log", {
                "QRELAY_QUEUE_POOL_SIZE": "8", "QRELAY_QUEUE_CANDIDATES": "4"}) as (address, _), \
                grpc.insecure_channel(address) as ch:
            world = World(es, ch, prefix)
            world.seed(w.pointwise(world.eval_id, 30, locale=world.locale, overlap=2, priority=90, tag="hot")
                       + w.pointwise(world.eval_id, 1, locale=world.locale, priority=10, tag="cold"))
            g = world.grader()
            done = g.drain(grade=1)
            assert len(done) == 31 and done[-1].task.pointwise.result.doc_id == "dcold0"
    finally:
        _drop(es, prefix)


def _grading(world: World, credential: str):
    return w.GraderClient(world.channel, credential)


def _signs_in(world: World, credential: str) -> bool:
    return w.code_of(_grading(world, credential).stats) == grpc.StatusCode.OK


def test_create_grader_retried_returns_the_same_credential(world):
    """Hole 6: a retried CreateGrader returned the grader without its credential."""
    ops = _ops(world)
    req = ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(display_name="Retry", locales=[world.locale]),
                                      request_id=uuid.uuid4().hex)
    first = ops.CreateGrader(req, metadata=auth("ops"))
    again = ops.CreateGrader(req, metadata=auth("ops"))
    assert again.grader == first.grader and again.credential == first.credential != ""
    assert _signs_in(world, again.credential)


def test_credentials_rotate_with_a_grace_period_and_can_be_revoked(world):
    """Hole 6: credentials could be neither rotated nor revoked."""
    ops = _ops(world)
    g = ops.CreateGrader(ops_pb2.CreateGraderRequest(grader=ops_pb2.Grader(
        display_name="Rotating", locales=[world.locale])), metadata=auth("ops"))
    first = g.credential
    req = ops_pb2.RotateGraderCredentialRequest(name=g.grader.name, request_id=uuid.uuid4().hex)
    req.grace_period.FromSeconds(3600)
    second = ops.RotateGraderCredential(req, metadata=auth("ops"))
    assert second.credential not in ("", first) and second.grader.name == g.grader.name
    assert second.previous_expire_time.ToSeconds() > time.time() + 3500
    assert ops.RotateGraderCredential(req, metadata=auth("ops")).credential == second.credential  # a retry
    assert _signs_in(world, first) and _signs_in(world, second.credential)  # the old one, within its grace
    now = ops_pb2.RotateGraderCredentialRequest(name=g.grader.name)
    now.grace_period.FromSeconds(0)
    third = ops.RotateGraderCredential(now, metadata=auth("ops")).credential
    assert _signs_in(world, third) and not _signs_in(world, first) and not _signs_in(world, second.credential)
    ops.RevokeGraderCredentials(ops_pb2.RevokeGraderCredentialsRequest(name=g.grader.name, reason="leaked"),
                                metadata=auth("ops"))
    assert not _signs_in(world, third)
    fourth = ops.RotateGraderCredential(ops_pb2.RotateGraderCredentialRequest(name=g.grader.name),
                                        metadata=auth("ops")).credential
    assert _signs_in(world, fourth)


# --- the wire-level test -------------------------------------------------------------------

WIRE_TASKS = 800  # per label: 800 SxS tasks, and 800 pointwise (400 gold, 400 live)
WIRE_ALPHA = 1e-3  # for the whole family of predictors (Bonferroni)


def _bulk_seed(world: World, items: list[dict]) -> None:
    from elasticsearch import helpers

    w.seed(world.es, world.prefix, world.eval_id, [])
    helpers.bulk(world.es, ({"_index": f"{world.prefix}items", "_id": it["item_id"], "_source": it} for it in items))
    world.es.indices.refresh(index=f"{world.prefix}items")


def _observe(world: World, graders: int = 8) -> list[dict]:
    """Graders drain the queue as any client would; per task, everything that came over the wire."""
    out: list[dict] = []
    lock = threading.Lock()

    def work(g: w.GraderClient):
        seq = 0
        while True:
            t0 = time.perf_counter()
            try:
                a = g.next()
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e
                return
            t1 = time.perf_counter()
            pointwise = a.task.WhichOneof("body") == "pointwise"
            j = g.submit(a.name, **({"grade": 2} if pointwise else {"preference": 1}))
            t2 = time.perf_counter()
            stats = g.stats() if pointwise else None
            with lock:
                out.append({"a": a, "j": j, "seq": seq, "grader": g, "next_s": t1 - t0, "submit_s": t2 - t1,
                            "stats": stats})
            seq += 1

    clients = [world.grader() for _ in range(graders)]
    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # per grader, whether the gold count moved since that grader's previous pointwise task
    last: dict[int, int] = {}
    for o in sorted(out, key=lambda o: (id(o["grader"]), o["seq"])):
        if o["stats"] is not None:
            key = id(o["grader"])
            o["gold_moved"] = o["stats"].gold_judged > last.get(key, 0)
            last[key] = o["stats"].gold_judged
    return out


def _handle_bytes(name: str) -> bytes:
    import base64

    h = name.split("/", 1)[1]
    return base64.urlsafe_b64decode(h + "=" * (-len(h) % 4))


def _predictors(obs: list[dict], evaluation_id: str, kind: str) -> dict[str, list[bool]]:
    """Yes/no guesses per task from what the client received — ids, bytes of the handle, sizes,
    times, order, the gold counter — each split at its (label-free) median when it is a number."""
    from services.evaluation import pooling

    def split(values):
        m = sorted(values)[len(values) // 2]
        return [v > m for v in values]

    def recomputed(o) -> bool:
        a = o["a"]
        q = a.task.query.lower()
        if kind == "pointwise":
            item = pooling.item_id(evaluation_id, "pointwise", q, a.task.locale, a.task.pointwise.result.doc_id)
        else:
            item = pooling.item_id(evaluation_id, "side_by_side", q, a.task.locale, "ranker-alpha", "ranker-beta")
        return item.rpartition("-")[2] in a.name

    p = {
        "sha256(name) low bit": [hashlib.sha256(o["a"].name.encode()).digest()[0] & 1 == 1 for o in obs],
        "handle first byte low bit": [_handle_bytes(o["a"].name)[0] & 1 == 1 for o in obs],
        "handle last byte low bit": [_handle_bytes(o["a"].name)[-1] & 1 == 1 for o in obs],
        "handle length": split([len(o["a"].name) for o in obs]),
        "item id recomputed from the content is in the name": [recomputed(o) for o in obs],
        "assignment size": split([o["a"].ByteSize() for o in obs]),
        "judgement answer size": split([o["j"].ByteSize() for o in obs]),
        "lease end sub-second": split([o["a"].lease_expire_time.nanos for o in obs]),
        "time on task": split([o["j"].time_on_task.ToNanoseconds() for o in obs]),
        "NextAssignment latency": split([o["next_s"] for o in obs]),
        "SubmitJudgement latency": split([o["submit_s"] for o in obs]),
        "order: odd position in the grader's sequence": [o["seq"] % 2 == 1 for o in obs],
    }
    if kind == "pointwise":
        p["gold count moved after the submit"] = [o["gold_moved"] for o in obs]
    return p


def test_wire_level_neither_the_sxs_side_nor_gold_is_predictable_better_than_chance(world):
    """Everything a client receives — names, handle bytes, sizes, lease times, latencies, order,
    the stats counters — tried as a predictor of the SxS side and of gold-ness, on 800 tasks each.
    Bonferroni over all predictors at 1e-3; at this size the test catches a 60%-accurate predictor
    with probability ≥ 0.93 (the planted control below is caught)."""
    import random

    half = WIRE_TASKS // 2
    seeded = (w.side_by_side(world.eval_id, WIRE_TASKS, locale=world.locale)
              + w.pointwise(world.eval_id, half, locale=world.locale, query="running shoes", tag="p")
              + w.gold(world.eval_id, half, locale=world.locale, query="tennis racket", tag="g"))
    # the query-complete order as production writes it (issue 12): live queries a random permutation
    # (query_order), gold queries a key from their text (gold_order_key) — the order must not tell them apart
    from evaluators.sampling import query_order
    from services.evaluation.production import gold_order_key

    live = sorted({it["query_norm"] for it in seeded if not it.get("gold")})
    key = dict(zip(live, query_order(["head"] * len(live), seed=3).tolist()))
    for it in seeded:
        it["order_key"] = gold_order_key(3, it["query_norm"]) if it.get("gold") else key[it["query_norm"]]
    _bulk_seed(world, seeded)
    obs = _observe(world)
    sxs = [o for o in obs if o["a"].task.WhichOneof("body") == "side_by_side"]
    pw = [o for o in obs if o["a"].task.WhichOneof("body") == "pointwise"]
    assert len(sxs) == WIRE_TASKS and len(pw) == WIRE_TASKS
    labels = {"SxS side": ([_shown_flipped(o["a"]) for o in sxs], _predictors(sxs, world.eval_id, "side_by_side")),
              "gold": ([_is_gold(o["a"]) for o in pw], _predictors(pw, world.eval_id, "pointwise"))}
    n_tests = sum(len(p) for _, p in labels.values())
    alpha = WIRE_ALPHA / n_tests
    bound = leakage.chance_bound(WIRE_TASKS, alpha)
    rng = random.Random(11)  # the planted control: a predictor right 60% of the time
    lines, leaks = [], []
    for label, (truth, predictors) in labels.items():
        predictors["(control: right 60% of the time)"] = [t if rng.random() < 0.6 else not t for t in truth]
        for name, guesses in predictors.items():
            correct, n = leakage.accuracy(guesses, truth)
            acc = max(correct, n - correct) / n
            caught = leakage.better_than_chance(correct, n, alpha)
            lines.append(f"{label:8} {name:52} {acc:6.3f}{'  CAUGHT' if caught else ''}")
            if caught and not name.startswith("(control"):
                leaks.append((label, name, acc))
            if name.startswith("(control"):
                assert caught, "the test has too little power to catch a 60% predictor"
    print(f"\nwire-level predictability, {WIRE_TASKS} tasks per label; chance bound {bound:.3f} "
          f"(two-sided, α = {WIRE_ALPHA:g} over {n_tests} predictors; power at 60%: "
          f"{leakage.power(WIRE_TASKS, alpha, 0.6):.2f})\n" + "\n".join(lines))
    assert leaks == []
