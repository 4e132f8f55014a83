"""GradingService against the real server process and a real Elasticsearch: leases, routing,
blind side by side, gold, idempotent submits, expiry, suspension, replicas, outages."""
from __future__ import annotations

import threading
import time
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services._proto.qrelay.v1 import common_pb2, grading_pb2, grading_pb2_grpc, operations_pb2, operations_pb2_grpc
from tests.integration import test_grading_support as w
from tests.integration.serving import auth, qrelay_server


def _drop(es, prefix):
    names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all", allow_no_indices=True))
    if names:
        es.indices.delete(index=",".join(names), ignore_unavailable=True)
    tpl = es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*")
    for t in (tpl.body or {}).get("index_templates", []) if tpl.meta.status == 200 else []:
        es.indices.delete_index_template(name=t["name"])


@pytest.fixture(scope="module")
def server(es_url, es, tmp_path_factory):
    prefix = f"qt-grading-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("grading") / "serve.log") as (address, _):
        yield address, prefix
    _drop(es, prefix)


@pytest.fixture(scope="module")
def short_server(es_url, es, tmp_path_factory):
    """A server whose leases last 2 s."""
    prefix = f"qt-grading-short-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("grading-short") / "serve.log",
                       {"QRELAY_LEASE_SECONDS": "2"}) as (address, _):
        yield address, prefix
    _drop(es, prefix)


@pytest.fixture()
def channel(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield ch


class World:
    """One test's corner of the shared server: its own evaluation and locale, so tests never meet."""

    def __init__(self, es, channel, prefix):
        self.es, self.channel, self.prefix = es, channel, prefix
        self.eval_id = f"ev{uuid.uuid4().hex[:10]}"
        self.locale = f"en-T{uuid.uuid4().hex[:6]}"

    def seed(self, items, **kw):
        w.seed(self.es, self.prefix, self.eval_id, items, **kw)

    def grader(self, locales=None, **kw) -> w.GraderClient:
        name, cred = w.create_grader(self.channel, locales=locales or [self.locale], **kw)
        client = w.GraderClient(self.channel, cred)
        client.name, client.id = name, name.split("/")[1]
        return client

    def judgements(self, **terms):
        return w.judgements(self.es, self.prefix, evaluation_id=self.eval_id, **terms)


@pytest.fixture()
def world(es, channel, server):
    return World(es, channel, server[1])


def bad_request_fields(err: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(err)
    out = []
    for d in status.details:
        br = error_details_pb2.BadRequest()
        if d.Unpack(br):
            out += [v.field for v in br.field_violations]
    return out


def test_pointwise_task_is_served_with_scale_and_guidelines_and_judged(world):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g = world.grader()
    a = g.next()
    assert a.name.startswith("assignments/")
    assert a.task.scale == common_pb2.POINTWISE_0_3 and a.task.WhichOneof("body") == "pointwise"
    assert a.task.locale == world.locale and a.task.query == "running shoes 0"
    r = a.task.pointwise.result
    assert (r.title, r.url, r.snippet) == ("Result p0", "https://example.org/p0", "Snippet of result p0.")
    assert "Irrelevant" in a.guidelines and "Perfect" in a.guidelines
    assert a.lease_expire_time.ToSeconds() > time.time() + 500
    time.sleep(0.3)
    j = g.submit(a.name, grade=3, comment="spot on")
    assert j.grade == 3 and j.assignment == a.name and j.name == "judgements/" + a.name.split("/")[1]
    assert j.time_on_task.ToMilliseconds() >= 300
    [stored] = world.judgements()
    assert stored["grade"] == 3 and stored["grader"] == g.id and stored["comment"] == "spot on"
    assert stored["time_on_task_ms"] >= 300
    assert stored["gold"] is False and "gold_correct" not in stored


def test_submit_is_idempotent_a_retry_returns_the_first_result(world):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g = world.grader()
    a = g.next()
    first = g.submit(a.name, grade=1)
    again = g.submit(a.name, grade=3)  # a retry with another rating changes nothing
    assert again.grade == 1 and again.name == first.name and again.submit_time == first.submit_time
    assert [j["grade"] for j in world.judgements()] == [1]


def test_side_by_side_sides_are_randomised_and_stored_unrandomised(world, es):
    items = w.side_by_side(world.eval_id, 16, locale=world.locale)
    item_of = {it["query"]: it["item_id"] for it in items}
    world.seed(items)
    g = world.grader()
    flips = set()
    shown = {}
    for _ in range(16):
        a = g.next()
        assert a.task.scale == common_pb2.SIDE_BY_SIDE_MINUS3_PLUS3 and a.task.WhichOneof("body") == "side_by_side"
        assert "ranker-alpha" not in str(a) and "ranker-beta" not in str(a)  # never which ranker is which
        left = a.task.side_by_side.left
        flipped = left[0].doc_id.startswith("db")  # ranker_b's docs are "db{i}-k"
        flips.add(flipped)
        g.submit(a.name, preference=2)  # "right better" as shown
        shown[item_of[a.task.query]] = flipped
    assert flips == {True, False}  # 16 tasks: both orientations (a fair coin per lease, p(miss) = 2^-15)
    for j in world.judgements():
        assert j["shown_preference"] == 2 and j["flipped"] == shown[j["item_id"]]
        # positive: ranker_b better. Right shown = ranker_b unless flipped.
        assert j["preference"] == (-2 if shown[j["item_id"]] else 2)


def test_routing_priority_then_deadline_and_never_the_same_item_twice(world):
    items = (w.pointwise(world.eval_id, 1, locale=world.locale, priority=10, tag="low")
             + w.pointwise(world.eval_id, 1, locale=world.locale, priority=90, deadline=w.now_iso(7200), tag="late")
             + w.pointwise(world.eval_id, 1, locale=world.locale, priority=90, deadline=w.now_iso(3600), tag="soon"))
    for it in items:
        it["overlap"] = 2
    world.seed(items)
    g = world.grader()
    order = [g.next() for _ in range(3)]
    assert [a.task.pointwise.result.doc_id for a in order] == ["dsoon0", "dlate0", "dlow0"]
    for a in order:
        g.submit(a.name, grade=1)
    # overlap 2 leaves a slot on each item, but never for the same grader
    assert w.code_of(g.next) == grpc.StatusCode.NOT_FOUND
    h = world.grader()
    assert len(h.drain()) == 3
    assert w.code_of(world.grader().next) == grpc.StatusCode.NOT_FOUND  # overlap reached
    assert len(world.judgements()) == 6


def test_whole_queries_in_order_key_order_after_priority(world):
    """Issue 12: graders get whole queries (all their pooled items) one after another in the
    order of the queries' random keys; priority still comes first, items without a key last."""
    from services.evaluation import pooling

    keys = {"q0": 0.7, "q1": 0.2, "q2": 0.5}
    items = []
    for q, key in keys.items():
        lists = {"A": [w.doc(k, f"{q}-") for k in range(3)]}
        made = pooling.pointwise_items(world.eval_id, w._query(q, 0, world.locale, lists), ["A"],
                                       w._common(world.eval_id, 1, 50, None))
        items += [{**it, "order_key": key} for it in made]
    urgent = w.pointwise(world.eval_id, 1, locale=world.locale, priority=90, tag="urgent")
    unkeyed = w.pointwise(world.eval_id, 1, locale=world.locale, tag="unkeyed")
    world.seed(items + urgent + unkeyed)
    g = world.grader()
    served = [a.task.pointwise.result.doc_id for a in g.drain()]
    assert served[0] == "durgent0" and served[-1] == "dunkeyed0"
    assert [d.split("-")[0] for d in served[1:-1]] == ["dq1"] * 3 + ["dq2"] * 3 + ["dq0"] * 3


def test_never_more_live_leases_than_overlap(world):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale, overlap=2))
    graders = [world.grader() for _ in range(3)]
    assert graders[0].next() and graders[1].next()
    err = w.code_of(graders[2].next)
    assert err == grpc.StatusCode.NOT_FOUND


def test_locales_skills_programmes_and_evaluation_state_route_tasks(world, channel, es):
    world.seed(w.pointwise(world.eval_id, 2, locale=world.locale) + w.side_by_side(world.eval_id, 2, locale=world.locale),
               owner_team="team-x")
    # no matching locale: an empty queue, clearly
    with pytest.raises(grpc.RpcError) as e:
        world.grader(locales=["fr-FR"]).next()
    assert e.value.code() == grpc.StatusCode.NOT_FOUND and "fr-FR" in e.value.details()
    # skills name the kinds a grader does
    sxs_only = world.grader(skills=["side_by_side"])
    assert {sxs_only.next().task.WhichOneof("body") for _ in range(2)} == {"side_by_side"}
    assert w.code_of(sxs_only.next) == grpc.StatusCode.NOT_FOUND
    # a kind asked for
    assert world.grader().next(kind=common_pb2.POINTWISE).task.WhichOneof("body") == "pointwise"
    # programmes: only the owner teams they cover
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    other = ops.CreateProgramme(operations_pb2.CreateProgrammeRequest(programme=operations_pb2.Programme(
        display_name="other", owner_teams=["team-y"])), metadata=auth("ops"))
    mine = ops.CreateProgramme(operations_pb2.CreateProgrammeRequest(programme=operations_pb2.Programme(
        display_name="mine", owner_teams=["team-x"])), metadata=auth("ops"))
    assert w.code_of(world.grader(programmes=[other.name]).next) == grpc.StatusCode.NOT_FOUND
    assert world.grader(programmes=[mine.name]).next().task.locale == world.locale
    # an evaluation not in GRADING serves nothing
    es.update(index=f"{world.prefix}evaluations", id=world.eval_id, doc={"state": "CANCELLED"}, refresh="wait_for")
    time.sleep(2.2)
    assert w.code_of(world.grader().next) == grpc.StatusCode.NOT_FOUND


def test_gold_is_served_like_live_and_scored_silently_and_fed_back_in_blocks(world, es):
    # two gold tasks first (priority 90), then 18 live ones: gold feedback comes with the 20th judgement
    world.seed(w.gold(world.eval_id, 2, label=2, locale=world.locale)
               + w.pointwise(world.eval_id, 18, locale=world.locale, priority=10))
    for it in w.gold(world.eval_id, 2, label=2, locale=world.locale):
        es.update(index=f"{world.prefix}items", id=it["item_id"], doc={"priority": 90}, refresh="wait_for")
    g = world.grader()
    a1, a2 = g.next(), g.next()
    assert "gold" not in str(a1).lower()
    g.submit(a1.name, grade=2)
    g.submit(a2.name, grade=0)
    assert sorted(j["gold_correct"] for j in world.judgements()) == [False, True]  # (refreshes the index)
    s = g.stats()
    assert (s.done_total, s.gold_judged, s.gold_feedback_judgements) == (2, 0, 0)  # held back: not a block yet
    assert len(g.drain(grade=1)) == 18
    es.indices.refresh(index=f"{world.prefix}judgements")
    s = g.stats()
    assert (s.done_today, s.done_total, s.gold_judged, s.gold_accuracy, s.streak_days,
            s.gold_feedback_judgements) == (20, 20, 2, 0.5, 1, 20)


def test_skip_with_reason_gives_the_task_to_someone_else(world):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g, h = world.grader(), world.grader()
    a = g.next()
    assert w.code_of(g.skip, a.name, reason=grading_pb2.SKIP_REASON_UNSPECIFIED) == grpc.StatusCode.INVALID_ARGUMENT
    assert w.code_of(g.skip, a.name, comment="x" * 2001) == grpc.StatusCode.INVALID_ARGUMENT
    g.skip(a.name, reason=grading_pb2.WRONG_LANGUAGE, comment="cannot read it")
    g.skip(a.name, reason=grading_pb2.WRONG_LANGUAGE)  # a retry is fine
    assert w.code_of(g.next) == grpc.StatusCode.NOT_FOUND  # not back to the one who skipped
    b = h.next()
    assert b.task.query == a.task.query and b.name != a.name
    assert w.code_of(g.submit, a.name, grade=1) == grpc.StatusCode.FAILED_PRECONDITION
    assert world.judgements() == []


def test_bad_input_gets_the_right_code_and_writes_nothing(world, channel):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale) + w.side_by_side(world.eval_id, 1, locale=world.locale))
    g, other = world.grader(), world.grader()
    p = g.next(kind=common_pb2.POINTWISE)
    s = g.next(kind=common_pb2.SIDE_BY_SIDE)
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    for name, kw, field in [
        (p.name, {"grade": 4}, "grade"), (p.name, {"grade": -1}, "grade"),
        (p.name, {"preference": 1}, "preference"),  # wrong scale
        (p.name, {}, "grade"),  # no rating
        (s.name, {"preference": 4}, "preference"), (s.name, {"preference": -4}, "preference"),
        (s.name, {"grade": 2}, "grade"),
        (p.name, {"grade": 2, "comment": "x" * 2001}, "comment"),
        ("judgements/x", {"grade": 1}, "name"),
    ]:
        with pytest.raises(grpc.RpcError) as e:
            g.submit(name, **kw)
        assert e.value.code() == invalid, (kw, e.value)
        assert field in bad_request_fields(e.value), (kw, bad_request_fields(e.value))
    assert w.code_of(g.submit, "assignments/nope", grade=1) == grpc.StatusCode.NOT_FOUND
    forged = p.name[:-4] + ("AAAA" if not p.name.endswith("AAAA") else "BBBB")  # a handle this server never issued
    assert w.code_of(g.submit, forged, grade=1) == grpc.StatusCode.NOT_FOUND
    # someone else's assignment
    for call in (lambda: other.submit(p.name, grade=1), lambda: other.skip(p.name), lambda: other.extend(p.name)):
        assert w.code_of(call) == grpc.StatusCode.PERMISSION_DENIED
    assert world.judgements() == []
    # a comment of exactly 2,000 characters is fine, and flags are kept
    g.submit(p.name, grade=0, comment="y" * 2000, flagged=True)
    [j] = world.judgements()
    assert j["flagged"] is True and len(j["comment"]) == 2000


def test_tokens_and_roles(world, channel):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    stub = grading_pb2_grpc.GradingServiceStub(channel)
    req = grading_pb2.NextAssignmentRequest()
    assert w.code_of(stub.NextAssignment, req) == grpc.StatusCode.UNAUTHENTICATED
    assert w.code_of(stub.NextAssignment, req, metadata=w.bearer("qrg.g-nope.0123")) == grpc.StatusCode.UNAUTHENTICATED
    assert w.code_of(stub.NextAssignment, req, metadata=w.bearer("garbage")) == grpc.StatusCode.UNAUTHENTICATED
    assert w.code_of(stub.NextAssignment, req, metadata=auth("engineer")) == grpc.StatusCode.PERMISSION_DENIED
    assert w.code_of(stub.NextAssignment, req, metadata=auth("ops")) == grpc.StatusCode.PERMISSION_DENIED
    # a configured grader token without a grader profile: told what is missing
    with pytest.raises(grpc.RpcError) as e:
        stub.NextAssignment(req, metadata=auth("grader"))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "CreateGrader" in e.value.details()
    # a grader credential cannot call operations
    g = world.grader()
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    assert w.code_of(ops.ListGraders, operations_pb2.ListGradersRequest(), metadata=g.md) == grpc.StatusCode.PERMISSION_DENIED
    # a tampered credential of a real grader
    bad = g.md[0][1][len("Bearer "):][:-4] + "0000"
    assert w.code_of(stub.GetMyStats, grading_pb2.GetMyStatsRequest(), metadata=w.bearer(bad)) == grpc.StatusCode.UNAUTHENTICATED


def test_extend_lease(world):
    world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
    g = world.grader()
    a = g.next()
    b = g.extend(a.name, seconds=3000)
    assert b.name == a.name and b.task == a.task
    assert b.lease_expire_time.ToSeconds() >= time.time() + 2990
    c = g.extend(a.name, seconds=10**6)  # capped by the server's maximum
    assert c.lease_expire_time.ToSeconds() <= time.time() + 3601


def test_suspended_grader_gets_no_tasks_and_loses_live_leases(world, channel):
    world.seed(w.pointwise(world.eval_id, 2, locale=world.locale))
    g, h = world.grader(), world.grader()
    a = g.next()
    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    r = ops.SuspendGrader(operations_pb2.SuspendGraderRequest(name=g.name, reason="quality"), metadata=auth("ops"))
    assert r.status == operations_pb2.SUSPENDED
    with pytest.raises(grpc.RpcError) as e:
        g.next()
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED and "suspended" in e.value.details()
    assert w.code_of(g.submit, a.name, grade=1) == grpc.StatusCode.PERMISSION_DENIED
    assert len(h.drain()) == 2  # the released task went back to the pool
    assert len(world.judgements()) == 2


def test_expired_lease_is_refused_and_the_task_returns_to_the_pool(short_server, es):
    address, prefix = short_server
    with grpc.insecure_channel(address) as ch:
        world = World(es, ch, prefix)
        world.seed(w.pointwise(world.eval_id, 1, locale=world.locale))
        g, h = world.grader(), world.grader()
        a = g.next()
        time.sleep(2.3)
        with pytest.raises(grpc.RpcError) as e:
            g.submit(a.name, grade=2)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "expired" in e.value.details()
        assert w.code_of(g.extend, a.name) == grpc.StatusCode.FAILED_PRECONDITION
        b = h.next()  # reclaimed by optimistic concurrency
        assert b.task.query == a.task.query
        assert w.code_of(g.submit, a.name, grade=2) == grpc.StatusCode.FAILED_PRECONDITION
        h.submit(b.name, grade=1)
        assert [j["grader"] for j in world.judgements()] == [h.id]


def test_an_evaluation_opened_a_moment_ago_is_served_at_once(es_url, es, tmp_path):
    """A grader who found the queue empty asks again just after an evaluation opened: the server's
    cache of evaluations in GRADING (here an hour long) must not answer "no tasks" — the web app
    would only look again 30 s later."""
    prefix = f"qt-grading-cache-{uuid.uuid4().hex[:8]}-"
    try:
        with qrelay_server(es_url, prefix, tmp_path / "serve.log", {"QRELAY_GRADING_CACHE_SECONDS": "3600"}) as (
                address, _), grpc.insecure_channel(address) as ch:
            first = World(es, ch, prefix)
            first.seed(w.pointwise(first.eval_id, 1, locale=first.locale))
            g = first.grader()
            g.submit(g.next().name, grade=1)
            assert w.code_of(g.next) == grpc.StatusCode.NOT_FOUND  # the cache now holds [first]
            second = World(es, ch, prefix)
            second.seed(w.pointwise(second.eval_id, 2, locale=first.locale))
            assert g.next().task.locale == first.locale
    finally:
        _drop(es, prefix)


def test_two_replicas_never_double_lease(es_url, es, tmp_path):
    prefix = f"qt-grading-rep-{uuid.uuid4().hex[:8]}-"
    try:
        with qrelay_server(es_url, prefix, tmp_path / "a.log") as (a_addr, _), \
                qrelay_server(es_url, prefix, tmp_path / "b.log") as (b_addr, _):
            chans = [grpc.insecure_channel(a_addr), grpc.insecure_channel(b_addr)]
            world = World(es, chans[0], prefix)
            n_items, overlap, n_graders = 30, 2, 12
            world.seed(w.pointwise(world.eval_id, n_items, locale=world.locale, overlap=overlap))
            creds = [w.create_grader(chans[0], locales=[world.locale])[1] for _ in range(n_graders)]
            leased: list[tuple[str, str]] = []
            lock = threading.Lock()

            def work(i):
                g = w.GraderClient(chans[i % 2], creds[i])
                for a in g.drain(grade=1):
                    with lock:
                        leased.append((a.task.pointwise.result.doc_id, creds[i]))

            threads = [threading.Thread(target=work, args=(i,)) for i in range(n_graders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            js = world.judgements()
            per_item: dict[str, list[str]] = {}
            for j in js:
                per_item.setdefault(j["item_id"], []).append(j["grader"])
            assert len(js) == n_items * overlap == len(leased)
            assert all(len(v) == overlap and len(set(v)) == overlap for v in per_item.values())
            for c in chans:
                c.close()
    finally:
        _drop(es, prefix)


@pytest.mark.local_node
def test_elasticsearch_down_is_unavailable_and_the_submit_can_be_retried(tmp_path):
    """A dedicated node: stop it under a running server, then start it again on the same data."""
    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch import launcher
    from fixtures.elasticsearch.testing import running_elasticsearch

    port = launcher.free_port()
    data = tmp_path / "es"
    prefix = "qt-outage-"
    with running_elasticsearch(data, port=port) as url:
        es = Elasticsearch(url, request_timeout=30)
        with qrelay_server(url, prefix, tmp_path / "serve.log") as (address, _), grpc.insecure_channel(address) as ch:
            world = World(es, ch, prefix)
            world.seed(w.pointwise(world.eval_id, 2, locale=world.locale))
            g = world.grader()
            a = g.next()
            launcher.stop(data)
            with pytest.raises(grpc.RpcError) as e:
                g.submit(a.name, grade=2)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
            assert w.code_of(g.next) == grpc.StatusCode.UNAVAILABLE
            launcher.start(port=port, data_dir=data)
            es.cluster.health(wait_for_status="yellow", timeout="60s")
            j = g.submit(a.name, grade=2)  # the same submit, retried
            again = g.submit(a.name, grade=2)
            assert j.grade == 2 and again.name == j.name
            assert [x["grade"] for x in world.judgements()] == [2]
        es.close()
