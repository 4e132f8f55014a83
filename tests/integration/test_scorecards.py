"""Grader and partner scorecards against a real Elasticsearch and a real ``qrelay serve``: four
graders of two partners judge a seeded evaluation through GradingService over gRPC — three
careful ones (one of whom turns careless halfway) and one careless — and ops read the cards.
"""
from __future__ import annotations

import datetime as dt
import random
import time
import uuid

import grpc
import pytest

from services._proto.qrelay.v1 import operations_pb2 as ops_pb2, operations_pb2_grpc
from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
from services.core import clock
from tests.integration import test_grading_support as w
from tests.integration.serving import auth, qrelay_server
from tests.integration.test_grading import _drop, bad_request_fields

LIVE, GOLD = 40, 12


@pytest.fixture(scope="module")
def server(es_url, es, tmp_path_factory):
    prefix = f"qt-cards-{uuid.uuid4().hex[:8]}-"
    with qrelay_server(es_url, prefix, tmp_path_factory.mktemp("cards") / "serve.log") as (address, _):
        yield address, prefix
    _drop(es, prefix)


def _truth(query: str) -> int:
    """The true grade of item ``running shoes i`` / gold ``tennis racket i``: i mod 4."""
    return int(query.rsplit(" ", 1)[1]) % 4


@pytest.fixture(scope="module")
def graded(server, es):
    """The world after grading: names of partners and graders, and the window to ask about."""
    address, prefix = server
    team = f"cards-{uuid.uuid4().hex[:6]}"
    ev_id = f"ev{uuid.uuid4().hex[:10]}"
    locale = "en-US"
    with grpc.insecure_channel(address) as ch:
        ops = operations_pb2_grpc.OperationsServiceStub(ch)
        with pytest.raises(grpc.RpcError) as e:
            ops.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(
                display_name="no currency", price_per_judgement=0.1)), metadata=auth("ops"))
        assert bad_request_fields(e.value) == ["partner.currency"]
        acme = ops.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(
            display_name="Acme", price_per_judgement=0.10, currency="USD")), metadata=auth("ops"))
        assert (acme.price_per_judgement, acme.currency) == (pytest.approx(0.10), "USD")
        beta = ops.CreatePartner(ops_pb2.CreatePartnerRequest(partner=ops_pb2.Partner(display_name="Beta")),
                                 metadata=auth("ops"))
        prog = ops.CreateProgramme(ops_pb2.CreateProgrammeRequest(programme=ops_pb2.Programme(
            display_name="cards", owner_teams=[team], locales=[locale], price_per_judgement=0.05, currency="EUR",
            sla_hours=24)), metadata=auth("ops"))
        now = clock.now()
        es.index(index=f"{prefix}evaluations", id=ev_id, refresh="wait_for", document={
            "evaluation_id": ev_id, "display_name": ev_id, "owner_team": team, "state": "GRADING",
            "deadline": clock.iso(now + dt.timedelta(days=1)), "grading_start_time": clock.iso(now),
            "create_time": clock.iso(now - dt.timedelta(hours=1)), "update_time": clock.iso(now)})
        items = w.pointwise(ev_id, LIVE, locale=locale, overlap=3) + [
            {**g, "gold_label": _truth(g["query"]), "overlap": 4} for g in w.gold(ev_id, GOLD, locale=locale)]
        for it in items:
            it.pop("gold_id", None)
            es.index(index=f"{prefix}items", id=it["item_id"], document=it)
        es.indices.refresh(index=f"{prefix}items")

        names, clients = {}, {}
        for who, partner in (("good1", acme), ("good2", acme), ("turncoat", acme), ("careless", beta)):
            name, cred = w.create_grader(ch, locales=[locale], programmes=[prog.name], partner=partner.name, name=who)
            names[who], clients[who] = name, w.GraderClient(ch, cred)
        rng = random.Random(7)
        turned = [False]

        def answer(who: str, query: str) -> int:
            true = _truth(query)
            careless = who == "careless" or (who == "turncoat" and turned[0])
            return (true + rng.choice([1, 2, 3])) % 4 if careless else true

        first = clock.now()
        skipped = 0
        active = list(clients)
        done = 0
        total = LIVE * 3 + GOLD * 4
        change = None
        while active:
            for who in list(active):
                try:
                    a = clients[who].next()
                except grpc.RpcError as err:
                    assert err.code() == grpc.StatusCode.NOT_FOUND, err
                    active.remove(who)
                    continue
                if who == "good2" and skipped < 2 and a.task.query.startswith("running shoes"):
                    # a live item (a skipped gold item could never get its 4th judgement)
                    clients[who].skip(a.name)
                    skipped += 1
                    continue
                clients[who].submit(a.name, grade=answer(who, a.task.query))
                done += 1
                if change is None and done >= total // 2:
                    time.sleep(0.05)
                    change = clock.now()  # the turncoat turns careless from here on
                    turned[0] = True
                    time.sleep(0.05)
        last = clock.now()
    es.indices.refresh(index=f"{prefix}judgements,{prefix}assignments")  # scorecards read what is searchable
    # the window's midpoint is the turn, so the drift test compares before with after
    half = max(change - first, last - change) + dt.timedelta(seconds=1)
    return {"prefix": prefix, "graders": names, "acme": acme.name, "beta": beta.name, "ev": ev_id,
            "start": change - half, "end": change + half, "judged": done}


@pytest.fixture()
def reporting(server):
    with grpc.insecure_channel(server[0]) as ch:
        yield reporting_pb2_grpc.ReportingServiceStub(ch)


def _window(req, g):
    req.window.start_time.FromDatetime(g["start"])
    req.window.end_time.FromDatetime(g["end"])
    return req


def test_grader_scorecards_flag_the_careless_grader_with_the_evidence(reporting, graded):
    names = graded["graders"]
    cards = {}
    for who, name in names.items():
        cards[who] = reporting.GetGraderScorecard(_window(rp.GetGraderScorecardRequest(grader=name), graded),
                                                  metadata=auth("ops"))
    assert sum(c.judgements for c in cards.values()) == graded["judged"] == LIVE * 3 + GOLD * 4
    careless, good = cards["careless"], cards["good1"]
    assert careless.subject == names["careless"] and careless.display_name == "careless"
    assert careless.partner == graded["beta"] and good.partner == graded["acme"]
    # every grader judged every gold item (gold overlap 4), the careless one never right
    assert [c.gold_judgements for c in cards.values()] == [GOLD] * 4
    assert careless.gold_accuracy == 0 and careless.gold_accuracy_interval.high < 0.7
    assert good.gold_accuracy == 1 and good.gold_accuracy_interval.low > 0.7
    assert careless.consensus_agreement < 0.3 < 0.8 < good.consensus_agreement
    assert careless.consensus_judgements > 0 and good.consensus_judgements > 0
    assert careless.reliability < 0.4 < 0.7 < good.reliability  # Dawid–Skene with Laplace smoothing shrinks both
    assert careless.flagged and not good.flagged and not cards["good2"].flagged
    kinds = {f.kind: f for f in careless.flags}
    assert {"gold_accuracy", "consensus_agreement", "reliability"} <= set(kinds)
    gold = kinds["gold_accuracy"]
    assert gold.n == GOLD and gold.threshold == pytest.approx(0.7) and gold.value == 0
    assert gold.message.startswith("gold accuracy 0.00 [0.00, ") and f"on {GOLD} gold items, bar 0.70" in gold.message
    assert "dawid-skene over the window" in kinds["reliability"].message
    # the turncoat's second half is worse than its first: drift, with both halves' counts
    turncoat = cards["turncoat"]
    assert turncoat.drifting and turncoat.drift_p_value < 0.01
    drift = next(f for f in turncoat.flags if f.kind == "drift")
    assert drift.value < -0.3 and " in the window's first half to " in drift.message
    # on gold when it judged gold in both halves (it did, unless the queue served all its gold early)
    assert drift.message.startswith(("gold accuracy fell from 1.00", "agreement with consensus fell from"))
    assert good.HasField("drift_p_value") is False or good.drift_p_value > 0.01
    # throughput, time on task, skips
    assert good.active_hours >= 1 and good.throughput_per_hour == pytest.approx(good.judgements / good.active_hours)
    assert good.median_seconds_on_task > 0
    assert (cards["good2"].skips, careless.skips) == (2, 0)
    assert cards["good2"].skip_rate == pytest.approx(2 / (2 + cards["good2"].judgements))
    # cost: Acme's own price in USD; Beta has none, so the programme's EUR price
    assert (good.currency, good.cost_per_judgement) == ("USD", pytest.approx(0.10))
    assert good.cost == pytest.approx(0.10 * good.judgements)
    assert good.cost_per_reliable_judgement == pytest.approx(0.10 / good.reliability)
    assert (careless.currency, careless.cost) == ("EUR", pytest.approx(0.05 * careless.judgements))
    # SLA: before the deadline and within 24 h of entering GRADING
    assert (good.sla_judgements, good.sla_met_share) == (good.judgements, 1.0)


def test_partner_scorecards_and_the_workforce_list(reporting, graded, es):
    acme = reporting.GetPartnerScorecard(_window(rp.GetPartnerScorecardRequest(partner=graded["acme"]), graded),
                                         metadata=auth("admin"))
    beta = reporting.GetPartnerScorecard(_window(rp.GetPartnerScorecardRequest(partner=graded["beta"]), graded),
                                         metadata=auth("ops"))
    assert acme.display_name == "Acme" and acme.judgements + beta.judgements == graded["judged"]
    assert acme.gold_judgements == 3 * GOLD and beta.gold_judgements == GOLD
    assert beta.flagged and "gold_accuracy" in {f.kind for f in beta.flags}
    assert acme.gold_accuracy > 0.7 and acme.cost == pytest.approx(0.10 * acme.judgements) and acme.currency == "USD"
    assert acme.skips == 2 and 0 < acme.reliability < 1

    graders = reporting.ListScorecards(_window(rp.ListScorecardsRequest(subject=rp.GRADERS), graded),
                                       metadata=auth("ops")).scorecards
    assert len(graders) == 4  # flagged first, then by judgements
    assert [(not c.flagged, -c.judgements) for c in graders] == sorted((not c.flagged, -c.judgements) for c in graders)
    assert {c.subject for c in graders if c.flagged} == {graded["graders"][g] for g in ("careless", "turncoat")}
    of_acme = reporting.ListScorecards(_window(rp.ListScorecardsRequest(subject=rp.GRADERS, partner=graded["acme"]),
                                               graded), metadata=auth("ops")).scorecards
    assert {c.subject for c in of_acme} == {graded["graders"][g] for g in ("good1", "good2", "turncoat")}
    by_partner = reporting.ListScorecards(_window(rp.ListScorecardsRequest(subject=rp.PARTNERS), graded),
                                          metadata=auth("ops")).scorecards
    assert {c.subject for c in by_partner} == {graded["acme"], graded["beta"]}
    assert [(not c.flagged, -c.judgements) for c in by_partner] == sorted((not c.flagged, -c.judgements)
                                                                         for c in by_partner)
    assert "gold_accuracy" not in {f.kind for f in acme.flags}  # (its turncoat's drift may flag it)

    # the SLA clock starts when the evaluation entered GRADING: two days ago, 24 h SLA → all late
    es.update(index=f"{graded['prefix']}evaluations", id=graded["ev"], refresh="wait_for",
              doc={"grading_start_time": clock.iso(clock.now() - dt.timedelta(days=2))})
    late = reporting.GetPartnerScorecard(_window(rp.GetPartnerScorecardRequest(partner=graded["acme"]), graded),
                                         metadata=auth("ops"))
    assert (late.sla_judgements, late.sla_met_share) == (acme.judgements, 0.0)

    # once the consensus worker's reliability model covers the grader's work, the scorecard takes it
    # from there; a model fitted on fewer of its judgements than the window holds is not used
    careless = graded["graders"]["careless"]

    def with_model(judged: int):
        es.update(index=f"{graded['prefix']}evaluations", id=graded["ev"], refresh="wait_for", doc={"consensus": {
            "reliability": {"pointwise": {"graders": [careless.split("/")[1]], "skill": [0.35],
                                          "judgements": [judged]}, "side_by_side": None}}})
        return reporting.GetGraderScorecard(_window(rp.GetGraderScorecardRequest(grader=careless), graded),
                                            metadata=auth("ops"))

    card = with_model(1000)
    flag = next(f for f in card.flags if f.kind == "reliability")
    assert card.reliability == pytest.approx(0.35) and flag.n == 1000 and "consensus model" in flag.message
    card = with_model(5)
    assert "dawid-skene over the window" in next(f for f in card.flags if f.kind == "reliability").message


def test_agreement_is_with_the_consensus_index_where_it_is_up_to_date(reporting, graded, es):
    prefix, good = graded["prefix"], graded["graders"]["good1"]
    before = reporting.GetGraderScorecard(_window(rp.GetGraderScorecardRequest(grader=good), graded),
                                          metadata=auth("ops"))
    # (COMPLETE first, so no consensus worker rewrites the documents meanwhile)
    es.update(index=f"{prefix}evaluations", id=graded["ev"], doc={"state": "COMPLETE"}, refresh="wait_for")
    judged = w.judgements(es, prefix, evaluation_id=graded["ev"], gold=False)
    per_item: dict[str, int] = {}
    for j in judged:
        per_item[j["item_id"]] = per_item.get(j["item_id"], 0) + 1
    truth = {h["_id"]: _truth(h["_source"]["query"]) for h in es.search(
        index=f"{prefix}items", size=1000, query={"term": {"evaluation_id": graded["ev"]}})["hits"]["hits"]}
    # a consensus that says every item is one grade better than it is: the careful grader never agrees
    docs = [{"item_id": i, "evaluation_id": graded["ev"], "kind": "pointwise", "label": (truth[i] + 1) % 4,
             "source": "human", "judgements": n, "update_time": clock.now_iso()} for i, n in per_item.items()]
    for d in docs:
        es.index(index=f"{prefix}consensus", id=d["item_id"], document=d)
    es.indices.refresh(index=f"{prefix}consensus")
    after = reporting.GetGraderScorecard(_window(rp.GetGraderScorecardRequest(grader=good), graded),
                                         metadata=auth("ops"))
    assert before.consensus_agreement > 0.8 and after.consensus_agreement == 0
    assert after.consensus_judgements == before.consensus_judgements > 0


def test_scorecards_refuse_bad_input(reporting, graded):
    def code(call, req, role="ops"):
        return w.code_of(call, req, metadata=auth(role))

    def fields(call, req):
        with pytest.raises(grpc.RpcError) as e:
            call(req, metadata=auth("ops"))
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value
        return bad_request_fields(e.value)

    inverted = rp.GetGraderScorecardRequest(grader=graded["graders"]["good1"])
    inverted.window.start_time.FromDatetime(graded["end"])
    inverted.window.end_time.FromDatetime(graded["start"])
    assert fields(reporting.GetGraderScorecard, inverted) == ["window"]
    long = rp.ListScorecardsRequest(subject=rp.GRADERS)
    long.window.start_time.FromDatetime(graded["end"] - dt.timedelta(days=400))
    assert fields(reporting.ListScorecards, long) == ["window"]
    assert fields(reporting.GetGraderScorecard, rp.GetGraderScorecardRequest(grader="partners/x")) == ["grader"]
    assert fields(reporting.ListScorecards, rp.ListScorecardsRequest()) == ["subject"]
    assert fields(reporting.ListScorecards, rp.ListScorecardsRequest(subject=rp.PARTNERS, partner=graded["acme"])) == [
        "partner"]
    assert code(reporting.GetGraderScorecard, rp.GetGraderScorecardRequest(grader="graders/nobody")) == \
        grpc.StatusCode.NOT_FOUND
    assert code(reporting.GetPartnerScorecard, rp.GetPartnerScorecardRequest(partner="partners/nobody")) == \
        grpc.StatusCode.NOT_FOUND
    for role in ("engineer", "grader"):
        assert code(reporting.ListScorecards, rp.ListScorecardsRequest(subject=rp.GRADERS), role) == \
            grpc.StatusCode.PERMISSION_DENIED
    # an idle grader has an empty card, not an error
    idle = reporting.GetGraderScorecard(rp.GetGraderScorecardRequest(grader=graded["graders"]["good1"],
                                                                     window=_empty_window()), metadata=auth("ops"))
    assert (idle.judgements, idle.flagged, idle.throughput_per_hour) == (0, False, 0.0)


def _empty_window():
    from services._proto.qrelay.v1 import common_pb2

    win = common_pb2.TimeWindow()
    win.start_time.FromDatetime(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    win.end_time.FromDatetime(dt.datetime(2020, 1, 8, tzinfo=dt.timezone.utc))
    return win
