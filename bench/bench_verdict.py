"""Time to a verdict (issue 10, benchmark 3): from CreateEvaluation to the first report whose
headline difference is significant.

    python bench/bench_verdict.py                          # 5,000 queries, 100 graders, arm "today"
    python bench/bench_verdict.py --queries 200            # smoke run (a few minutes)
    python bench/bench_verdict.py --arm today,query-complete,adaptive   # one row per arm, same settings

Per arm, against a real ``qrelay serve`` and the local Elasticsearch (``QRELAY_ES_URL``):

1. **A history.** A team rarely starts from nothing: an earlier evaluation of
   ``--history-queries`` queries of the same logs is created, pre-judged and graded to the end
   by the same simulated graders (as fast as the server serves), so the model's calibration
   has human labels to learn from (``--history-queries 0``: a team's first evaluation, where
   nothing is automated).
2. **The evaluation.** ``CreateEvaluation`` on ``--queries`` queries sampled from the fixture
   logs (traffic-weighted, bands × locale, control vs treatment, pointwise at depth 10),
   ``qrelay prejudge`` (Ray, the packaged model; the embedding cache in Elasticsearch under
   the fixed ``--prefix`` survives between runs — the output says whether it was warm).
3. **Grading.** ``--graders`` simulated graders (:mod:`fixtures.graders`, driven over gRPC by
   :mod:`services.simulation.crowd`), each signed in with its own credential created through
   ``OperationsService``: log-normal think times (median ``--think-median`` s, sigma
   ``--think-sigma`` within a grader, ``--speed-sigma`` across graders), answers from the
   fixture's hidden grades with per-grader noise, ``--careless`` of them answering near-randomly
   and fast, skips now and then. Time is compressed ``--compression`` times on a clock that never
   runs ahead of the work (:mod:`services.simulation.clock`): it is held while an action is
   overdue by more than ``--hold`` simulated seconds and halted for every look.
4. **Looks.** Every ``--report-every`` simulated seconds the clock halts, the server's consensus
   catches up with every judgement acknowledged so far (``GetEvaluation``'s grading counts), and
   ``CompareRankers`` computes the headline: overall NDCG@10, treatment minus control. Two
   stopping rules are read at the same looks, one table row each: the first look where the
   randomisation test's p < 0.05 — with a fixed-sample test looked at again and again this is
   **optional stopping**, the chance of a false verdict somewhere along the looks is well above
   5% — and the first look where CompareRankers' anytime-valid confidence sequence of the
   headline (issue 12) decides a direction. Arms: "today" (items at random within priority and
   deadline, every item judged), "query-complete" (issue 12: whole queries in a random order within
   strata, and the server stops human work once the headline's anytime-valid sequence decides —
   the evaluation completes DECISION_REACHED), "adaptive" (that, plus the adaptive audit's fixed
   extra share), "verdict-audit" (that, with the audit share per stratum chosen for the fewest human
   judgements to the decision: ``QRELAY_ADAPTIVE_AUDIT=verdict``),
   "streamed" (query-complete and early stop, with streamed pre-judgement: graders start after
   the job's first wave while the rest is encoded). Every arm but "streamed" pre-judges with
   ``--no-stream`` before grading; ``--cold`` empties the embedding cache before each arm.
5. **Truth.** The fixture knows every hidden grade: the true NDCG@10 of both rankers over the
   sampled queries (the report's estimator with perfect labels on every query; lists from
   ``ExportEvaluation``) and over the whole comparable log population (every query both buckets
   served in the window, weighted by its events, from the generator itself) — does the verdict
   agree?

The run goes on after the verdicts until grading completes, or ``--max-hours`` simulated hours
(``--stop-at-verdict`` stops once both rules have one). Times: production and pre-judgement are machine
time (uncompressed); grading time is simulated. The load average is printed beside the figures:
on a shared machine they compare only within one run.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

LOG_SEED = 5  # the fixture world (Oracle(QueryUniverse(seed=5), DocumentCorpus()))
WINDOW = (dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 7, 15, tzinfo=dt.timezone.utc))
RANKERS = ("control", "treatment")  # baseline, candidate; bucket order of the generator
CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- arms ------------------------------------------------------------------------------------


def fixed_sample_verdict(c) -> bool:
    """The overall headline's randomisation p < 0.05 (a fixed-sample test)."""
    d = c.differences[0]
    return d.queries >= 2 and d.p_value_permutation < 0.05


def anytime_verdict(c) -> bool:
    """CompareRankers' anytime-valid confidence sequence of the headline decided a direction."""
    return c.sequential.decision == "decided" and c.sequential.verdict in ("candidate better", "baseline better")


@dataclass(frozen=True)
class Arm:
    """One way of running the same evaluation to a verdict: one row of the table."""

    name: str
    description: str
    # Why it cannot run on this branch yet ("" when it can).
    missing: str = ""
    # A change to the evaluation spec (e.g. a grading order).
    shape_spec: Callable = lambda spec: None
    # Streamed pre-judgement: start the graders while pre-judgement still runs (grading opens after
    # its first wave); the simulated clock then runs uncompressed until pre-judgement has finished
    # (machine time is not compressed). The other arms run `qrelay prejudge --no-stream` first.
    streamed_prejudge: bool = False
    # The verdict of one look (a RankerComparison).
    verdict: Callable = fixed_sample_verdict
    rule: str = "randomisation p < 0.05 at a look (fixed-sample test, optional stopping)"
    # Settings of the server for this arm (e.g. the adaptive audit's extra share).
    server_env: dict = field(default_factory=dict)


def _today(spec) -> None:
    """Today's order and no early stop: items at random within priority and deadline, every item judged."""
    from services._proto.qrelay.v1 import evaluation_pb2 as ev

    spec.grading_order = ev.ITEM_RANDOM
    spec.stopping.grade_everything = True


ANYTIME = "CompareRankers' anytime-valid confidence sequence of the headline decides a direction"
ADAPTIVE_EXTRA = "0.1"  # the adaptive arm's extra audit share (QRELAY_ADAPTIVE_AUDIT_SHARE)
ARMS = {
    "today": Arm("today", "items by priority and deadline (random within), pre-judgement before grading, every "
                          "item judged", shape_spec=_today),
    # issue 12: the spec's defaults — whole queries in a random order within strata, and the server stops
    # human work (DECISION_REACHED) once the headline's anytime-valid sequence decides
    "query-complete": Arm("query-complete", "query-complete random order, anytime-valid early stop",
                          verdict=anytime_verdict, rule=ANYTIME),
    "adaptive": Arm("adaptive", f"query-complete random order, anytime-valid early stop, adaptive audit "
                                f"(+{ADAPTIVE_EXTRA} of settled items by Neyman's rule)",
                    verdict=anytime_verdict, rule=ANYTIME, server_env={"QRELAY_ADAPTIVE_AUDIT_SHARE": ADAPTIVE_EXTRA}),
    "verdict-audit": Arm("verdict-audit", "query-complete random order, anytime-valid early stop, adaptive audit "
                                          "for the verdict (each stratum's share of checks chosen for the fewest "
                                          "human judgements to the decision)",
                         verdict=anytime_verdict, rule=ANYTIME, server_env={"QRELAY_ADAPTIVE_AUDIT": "verdict"}),
    "streamed": Arm("streamed", "query-complete random order, streamed pre-judgement (graders start after the "
                                "first wave), anytime-valid early stop",
                    streamed_prejudge=True, verdict=anytime_verdict, rule=ANYTIME),
}


# --- small helpers ---------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLK


def load_avg() -> str:
    a = os.getloadavg()
    return f"{a[0]:.1f} {a[1]:.1f} {a[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores"


def hms(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


# --- the logs and the truth of the whole population -----------------------------------------


def ensure_logs(es, index: str, events: int) -> float:
    """Load ``events`` fixture events (seed 5) into ``index`` unless it already holds them;
    returns the seconds the load took (0 when kept)."""
    from fixtures.logs import loader
    from fixtures.logs.generator import generate_events

    if es.indices.exists(index=index):
        es.indices.refresh(index=index)
        if es.count(index=index)["count"] == events:
            return 0.0
        es.indices.delete(index=index)
    t = time.perf_counter()
    report = loader.load_events(es, generate_events(events, seed=LOG_SEED), index)
    if not report.ok:
        raise SystemExit(f"loading the fixture logs failed: {report.summary()}")
    es.indices.refresh(index=index)
    return time.perf_counter() - t


@dataclass
class Truth:
    """True NDCG@10 of both rankers (hidden grades, the pool of both lists as ideal)."""

    control: float
    treatment: float
    queries: int
    what: str

    @property
    def difference(self) -> float:
        return self.treatment - self.control


def true_ndcg(lists: dict, grade: Callable[[str, str], int | None]) -> tuple[np.ndarray, list]:
    """Per-query NDCG@10 of both rankers, ``(values (2, queries), query keys)``, with the report's
    kernel (:func:`evaluators.reporting.per_query_values`): ``lists[key] = (query text,
    {ranker: [doc ids in rank order]})``; every pooled document labelled with its hidden grade."""
    from evaluators.reporting import per_query_values

    keys = list(lists)
    query, label, ranks = [], [], []
    for qi, key in enumerate(keys):
        text, by_ranker = lists[key]
        pool: dict[str, list[int]] = {}
        for r, ranker in enumerate(RANKERS):
            for rank, doc in enumerate(by_ranker.get(ranker, []), start=1):
                pool.setdefault(doc, [0] * len(RANKERS))[r] = rank
        for doc, rk in pool.items():
            query.append(qi)
            label.append(grade(text, doc) or 0)
            ranks.append(rk)
    pm = per_query_values(np.array(query), np.array(label), np.array(ranks).T, len(keys), ["ndcg_cut.10"])
    return np.nan_to_num(pm.values["ndcg_cut_10"]), keys


def population_truth(events: int) -> Truth:
    """Over every comparable query of the loaded logs (both buckets served it in the window,
    hygiene passed), weighted by its events: regenerated from the generator, not read back."""
    from fixtures.logs.generator import GeneratorConfig, LogGenerator, generate_events
    from fixtures.logs.truth import Oracle
    from services.core.querynorm import normalize_query
    from services.evaluation import hygiene

    count: dict[tuple[str, str], int] = defaultdict(int)
    buckets: dict[tuple[str, str], set] = defaultdict(set)
    for e in generate_events(events, seed=LOG_SEED):
        key = (normalize_query(e.get("query") or ""), e.get("locale") or "")
        count[key] += 1
        buckets[key].add(e.get("bucket"))
    g = LogGenerator(GeneratorConfig(seed=LOG_SEED))
    oracle = Oracle(g.queries, g.corpus)
    lists, weight = {}, []
    for key, n in count.items():
        if len(buckets[key]) < len(RANKERS) or hygiene.rejection(key[0]):
            continue
        qi = oracle.query(key[0])
        if qi is None:
            continue
        lists[key] = (key[0], {r: [g.corpus.doc_id[d] for d in g.ranked(qi, b)[0]] for b, r in enumerate(RANKERS)})
        weight.append(n)
    values, _ = true_ndcg(lists, oracle.grade)
    w = np.array(weight, dtype=float) / sum(weight)
    return Truth(float(values[0] @ w), float(values[1] @ w), len(weight),
                 f"log population: {len(weight):,} comparable queries, weighted by their events")


# --- one arm ---------------------------------------------------------------------------------


@dataclass
class Look:
    t_sim: float  # simulated seconds of grading
    real: float  # real seconds since CreateEvaluation
    judgements: int
    queries: int  # complete (paired) queries behind the headline
    difference: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    p_t: float = float("nan")
    p_perm: float = float("nan")
    state: str = ""
    seconds: float = 0.0  # real seconds the look took (consensus catch-up + CompareRankers)
    # the anytime-valid sequence of the headline (CompareRankers.sequential) at this look
    seq_decision: str = ""
    seq_verdict: str = ""
    seq_low: float = float("nan")
    seq_high: float = float("nan")
    # the number the comparison says to quote ("ppi", "human" or "labels") and its difference and p
    lead: str = ""
    lead_difference: float = float("nan")
    lead_p: float = float("nan")
    cmp: object = field(default=None, repr=False)  # the RankerComparison (None: no complete query yet)


@dataclass
class ArmResult:
    arm: Arm
    queries: int = 0
    items: int = 0
    for_humans: int = 0
    auto_judged: int = 0
    automation: float = float("nan")
    production_s: float = 0.0
    prejudge_s: float = 0.0
    prejudge: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    looks: list = field(default_factory=list)
    verdict: Look | None = None
    anytime: Look | None = None  # the first look where the anytime-valid sequence decided a direction
    complete: Look | None = None
    tally: object = None
    offered: float = float("nan")  # judgements per simulated second, everyone busy
    clock: dict = field(default_factory=dict)
    sampled_truth: Truth | None = None
    completion: str = ""  # how the evaluation completed (reason: message), "" when it did not within the run
    server_cpu_s: float = float("nan")
    grading_real_s: float = float("nan")
    load: str = ""
    note: str = ""


def spec_for(log_index: str, size: int, seed: int, overlap: int, sxs: bool):
    from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev

    kinds = [common_pb2.POINTWISE] + ([common_pb2.SIDE_BY_SIDE] if sxs else [])
    s = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=log_index),
        rankers=[ev.Ranker(id=r, log_bucket=ev.LogBucket(bucket=r)) for r in RANKERS],
        kinds=kinds, depth=10, overlap=overlap, owner_team="search-quality",
        sample_plan=ev.SamplePlan(size=size, unit=ev.TRAFFIC_WEIGHTED, seed=seed, stratify_by=["locale"],
                                  bands=ev.FrequencyBands(traffic_share=ev.CutPoints(points=[0.5, 0.8]))))
    s.log_source.window.start_time.FromDatetime(WINDOW[0])
    s.log_source.window.end_time.FromDatetime(WINDOW[1])
    return s


def wipe(es, prefix: str, log_index: str, cold: bool = False) -> None:
    """Every index of the prefix except the logs and — unless ``cold`` — the embedding cache
    (kept across runs on purpose)."""
    keep = {log_index} | (set() if cold else {f"{prefix}embeddings"})
    names = [n for n in es.indices.get(index=f"{prefix}*", expand_wildcards="all") if n not in keep]
    if names:
        es.indices.delete(index=",".join(names))


class Session:
    """One arm against one server: the gRPC calls the bench makes as engineer and ops."""

    def __init__(self, channel, env: dict, args):
        from services._proto.qrelay.v1 import evaluation_pb2_grpc, reporting_pb2_grpc
        from tests.integration.serving import auth

        self.evals = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        self.reporting = reporting_pb2_grpc.ReportingServiceStub(channel)
        self.md = auth("engineer")
        self.env, self.args = env, args

    async def create(self, display: str, spec, request_id: str) -> str:
        from services._proto.qrelay.v1 import evaluation_pb2 as ev

        e = await self.evals.CreateEvaluation(ev.CreateEvaluationRequest(
            evaluation=ev.Evaluation(display_name=display, spec=spec), request_id=request_id), metadata=self.md,
            timeout=60)
        return e.name

    async def get(self, name: str):
        from services._proto.qrelay.v1 import evaluation_pb2 as ev

        return await self.evals.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=self.md, timeout=60)

    async def wait_state(self, name: str, states: set[str], timeout: float = 3600):
        from services._proto.qrelay.v1 import evaluation_pb2 as ev

        deadline = time.monotonic() + timeout
        while True:
            e = await self.get(name)
            state = ev.EvaluationState.Name(e.state)
            if state in states:
                return e
            if state in ("FAILED", "CANCELLED") or time.monotonic() > deadline:
                raise SystemExit(f"{name} is {state} ({e.state_reason}) while waiting for {sorted(states)}")
            await asyncio.sleep(0.5)

    async def prejudge(self, name: str, stream: bool = False) -> dict:
        """``qrelay prejudge`` as a user runs it; its JSON summary."""
        argv = [sys.executable, "-m", "services.cli", "prejudge", name.split("/")[1], "--json", "--quiet"]
        if not stream:
            argv.append("--no-stream")
        if self.args.actors:
            argv += ["--actors", str(self.args.actors)]
        if self.args.audit_share is not None:
            argv += ["--audit-share", str(self.args.audit_share)]
        p = await asyncio.create_subprocess_exec(*argv, env=self.env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.PIPE)
        out, err = await p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"qrelay prejudge failed: {err.decode()[-3000:]}")
        return json.loads(out.decode().strip().splitlines()[-1])

    async def compare(self, name: str):
        import grpc

        from services._proto.qrelay.v1 import reporting_pb2 as rp

        try:
            return await self.reporting.CompareRankers(rp.CompareRankersRequest(
                name=name, baseline=RANKERS[0], candidate=RANKERS[1], measures=["ndcg_cut_10"]),
                metadata=self.md, timeout=600)
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.FAILED_PRECONDITION:  # no complete query yet
                return None
            raise

    async def export_runs(self, name: str) -> list[dict]:
        from services._proto.qrelay.v1 import reporting_pb2 as rp

        data = bytearray()
        async for chunk in self.reporting.ExportEvaluation(rp.ExportEvaluationRequest(
                name=name, content=rp.RUNS, format=rp.JSONL), metadata=self.md, timeout=600):
            data += chunk.data
        return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


async def grade_history(session: Session, crowd_factory, name: str) -> dict:
    """Grade an evaluation to the end as fast as the server serves (no think time)."""
    from services._proto.qrelay.v1 import evaluation_pb2 as ev

    t = time.perf_counter()
    judged = 0
    # a grader stops at its first "queue empty": skipped items, or audits the adaptive audit adds
    # once it has seen the labels, need another round
    for _ in range(20):
        tally = await crowd_factory().run()
        judged += tally.judgements
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            e = await session.get(name)
            if e.state == ev.COMPLETE or e.grading.items_done < e.grading.items_for_humans:
                break
            await asyncio.sleep(1)
        if e.state == ev.COMPLETE:
            break
    e = await session.wait_state(name, {"COMPLETE"}, timeout=600)
    return {"judgements": judged, "seconds": time.perf_counter() - t, "items": e.grading.items,
            "for_humans": e.grading.items_for_humans}


async def run_arm(arm: Arm, args, address: str, server_pid: int, env: dict) -> ArmResult:
    import grpc

    from fixtures.graders import draw_workforce, offered_rate
    from fixtures.logs.documents import DocumentCorpus
    from fixtures.logs.queries import QueryUniverse
    from fixtures.logs.truth import Oracle
    from fixtures.logs.vocabulary import LOCALE_TRAFFIC
    from services._proto.qrelay.v1 import evaluation_pb2 as ev
    from services.simulation.clock import SimClock
    from services.simulation.crowd import Crowd, create_graders
    from tests.integration.serving import TOKENS

    out = ArmResult(arm)
    oracle = Oracle(QueryUniverse(seed=LOG_SEED), DocumentCorpus())
    wspec = workforce_spec(args)
    # hired per locale in proportion to the traffic (the work follows it in a traffic-weighted sample)
    profiles = draw_workforce(wspec, LOCALE_TRAFFIC, seed=args.seed)
    out.offered = offered_rate(profiles, wspec, sxs_share=0.06 if args.sxs else 0.0)
    async with grpc.aio.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)]) as ch:
        session = Session(ch, env, args)
        credentials = await create_graders(ch, profiles, TOKENS["ops"])
        members = list(zip(profiles, credentials))

        if args.history_queries:
            history = spec_for(args.log_index, args.history_queries, args.seed + 1000, 1, False)
            history.stopping.grade_everything = True  # graded to the end: the calibration's labels
            name = await session.create("history", history, f"history-{arm.name}")
            await session.wait_state(name, {"PREJUDGING"})
            await session.prejudge(name)
            await session.wait_state(name, {"GRADING", "COMPLETE"})
            out.history = await grade_history(session, lambda: Crowd(ch, members, wspec, oracle, seed=args.seed + 1), name)

        spec = spec_for(args.log_index, args.queries, args.seed, args.overlap, args.sxs)
        arm.shape_spec(spec)
        t0 = time.monotonic()
        name = await session.create(f"verdict {arm.name}", spec, f"verdict-{arm.name}")
        produced = await session.wait_state(name, {"PREJUDGING"})
        out.production_s = time.monotonic() - t0
        out.queries = produced.counts.queries

        clock = SimClock(args.compression, hold=args.hold)
        prejudge = asyncio.create_task(session.prejudge(name, stream=arm.streamed_prejudge))
        if not arm.streamed_prejudge:
            out.prejudge = await prejudge
            out.prejudge_s = time.monotonic() - t0 - out.production_s
            await session.wait_state(name, {"GRADING", "COMPLETE"})
        else:
            clock.compression = 1.0  # machine time runs while pre-judgement works

        stop = asyncio.Event()
        crowd = Crowd(ch, members, wspec, oracle, clock=clock, seed=args.seed)
        cpu0, grading_t0 = cpu_seconds(server_pid), time.monotonic()
        ticker = asyncio.create_task(clock.run())
        working = asyncio.create_task(crowd.run(stop))
        k = 1
        try:
            while True:
                if arm.streamed_prejudge and prejudge.done() and clock.compression == 1.0:
                    out.prejudge = prejudge.result()
                    out.prejudge_s = time.monotonic() - t0 - out.production_s
                    clock.compression = args.compression
                await clock.look_at(k * args.report_every)
                if working.done():
                    working.result()  # a grader crashed: say why
                look = await take_look(session, name, clock, crowd.tally.judgements, t0)
                out.looks.append(look)
                if out.verdict is None and look.queries and arm.verdict(look.cmp):
                    out.verdict = look
                    print(f"  [{arm.name}] verdict at {hms(look.t_sim)} simulated: {look.difference:+.4f} "
                          f"[{look.low:+.4f}, {look.high:+.4f}], p={look.p_perm:.4f}, {look.queries} queries, "
                          f"{look.judgements:,} judgements", flush=True)
                if out.anytime is None and look.queries and anytime_verdict(look.cmp):
                    out.anytime = look
                    print(f"  [{arm.name}] anytime-valid sequence decided at {hms(look.t_sim)} simulated: "
                          f"{look.seq_verdict}, [{look.seq_low:+.4f}, {look.seq_high:+.4f}], {look.queries} queries, "
                          f"{look.judgements:,} judgements", flush=True)
                if look.state == "COMPLETE":
                    out.complete = look
                if len(out.looks) % args.progress_every == 0:
                    print(f"  [{arm.name}] {hms(look.t_sim)} simulated, {hms(look.real)} real: {look.judgements:,} "
                          f"judgements, {look.queries} complete queries, p={look.p_perm:.3g}; "
                          f"clock ×{clock.effective_compression:.1f}; load {os.getloadavg()[0]:.1f}", flush=True)
                if (out.complete or (out.verdict and out.anytime and args.stop_at_verdict)
                        or look.t_sim >= args.max_hours * 3600):
                    break
                clock.resume()
                k += 1
        finally:
            stop.set()
            await asyncio.gather(working, return_exceptions=True)
            ticker.cancel()
            if not prejudge.done():
                prejudge.cancel()
        out.grading_real_s = time.monotonic() - grading_t0
        out.server_cpu_s = cpu_seconds(server_pid) - cpu0
        out.tally = crowd.tally
        out.clock = {"nominal": args.compression, "effective": clock.effective_compression,
                     "running_real": clock.running_real, "held_real": clock.held_real,
                     "paused_real": clock.paused_real, "sim": clock.now()}
        e = await session.get(name)
        out.items, out.for_humans = e.grading.items, e.grading.items_for_humans
        if e.HasField("completion"):
            out.completion = f"{ev.CompletionReason.Name(e.completion.reason)}: {e.completion.message}"
        pj = out.prejudge
        out.auto_judged = int(pj.get("auto_judged", 0))
        # settled by the model alone (the audit share goes to humans too), as the evaluation reports it
        out.automation = (out.auto_judged - int(pj.get("audit", 0))) / max(int(pj.get("items", 0)), 1)
        out.sampled_truth = await sampled_truth(session, name, e, oracle)
    out.load = load_avg()
    return out


async def take_look(session: Session, name: str, clock, acked: int, t0: float) -> Look:
    """With the clock halted: wait until the consensus has every acknowledged judgement, then compare."""
    from services._proto.qrelay.v1 import evaluation_pb2 as ev

    t = time.monotonic()
    deadline = t + 300
    while True:
        e = await session.get(name)
        if e.grading.judgements >= acked or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    c = await session.compare(name)
    look = Look(clock.now(), time.monotonic() - t0, acked, 0, state=ev.EvaluationState.Name(e.state), cmp=c)
    if c is not None and c.differences:
        d = c.differences[0]
        look.queries, look.difference, look.p_t, look.p_perm = d.queries, d.difference, d.p_value_t, d.p_value_permutation
        look.low, look.high = d.interval.low, d.interval.high
        q = c.sequential
        look.seq_decision, look.seq_verdict = q.decision, q.verdict
        look.seq_low, look.seq_high = q.interval.low, q.interval.high
        # "labels": the comparison leads with `difference` itself (neither PPI nor human-only is valid)
        look.lead, look.lead_difference, look.lead_p = d.lead, d.difference, d.p_value_t
        for est in d.estimates:
            if est.kind == d.lead and est.available:
                look.lead_difference = est.value
                look.lead_p = est.p_value if est.HasField("p_value") else float("nan")
    look.seconds = time.monotonic() - t
    return look


async def sampled_truth(session: Session, name: str, e, oracle) -> Truth:
    """The report's estimator with every pooled document of every sampled query labelled by its
    hidden grade: per-query NDCG@10, stratified means re-weighted with the sampler's weights."""
    from evaluators.reporting import stratified

    lists: dict[str, tuple[str, dict]] = {}
    stratum_of: dict[str, str] = {}
    for row in sorted(await session.export_runs(name), key=lambda r: (r["query_id"], r["ranker"], r["rank"])):
        q = lists.setdefault(row["query_id"], (row["query_norm"], {}))
        q[1].setdefault(row["ranker"], []).append(row["doc_id"])
        stratum_of[row["query_id"]] = row["stratum"]
    values, keys = true_ndcg(lists, oracle.grade)
    strata = [s.key for s in e.strata]
    index = {k: i for i, k in enumerate(strata)}
    s = np.array([index[stratum_of[k]] for k in keys])
    w = np.array([x.weight for x in e.strata])
    means = [stratified(values[r], s, w).mean for r in range(len(RANKERS))]
    return Truth(means[0], means[1], len(keys), f"sampled queries: {len(keys):,}, the report's estimator, "
                                                "every pooled document labelled")


def workforce_spec(args):
    from fixtures.graders import WorkforceSpec

    return WorkforceSpec(graders=args.graders, think_median_s=args.think_median, think_sigma=args.think_sigma,
                         speed_sigma=args.speed_sigma, careless_share=args.careless, skip_rate=args.skip_rate,
                         noise=args.noise)


# --- output ----------------------------------------------------------------------------------


def print_arm(r: ArmResult, args) -> None:
    t = r.tally
    print(f"\n## arm {r.arm.name}: {r.arm.description}")
    print(f"verdict rule: {r.arm.rule}")
    if r.history:
        h = r.history
        print(f"history: an earlier evaluation of {args.history_queries} queries, {h['items']:,} items, graded to the "
              f"end ({h['judgements']:,} judgements in {h['seconds']:.0f} s real) — the calibration's human labels")
    pj = r.prejudge
    enc, hits = int(pj.get("encoded", 0)), int(pj.get("cache_hits", 0))
    warm = "warm" if enc == 0 else ("cold" if hits == 0 else f"partly warm ({hits / (enc + hits):.0%} hits)")
    print(f"evaluation: {r.queries:,} queries, {r.items:,} items, {r.auto_judged:,} auto-judged, {r.for_humans:,} "
          f"for humans (overlap {args.overlap}); automation rate {r.automation:.1%}")
    sec = pj.get("seconds") or {}
    waves = (f" in {pj.get('waves')} waves, grading open after {sec.get('to_grading', float('nan')):.0f} s "
             f"(signals {sec.get('signals', float('nan')):.0f} s, first wave {sec.get('wave 0', float('nan')):.0f} s)"
             if r.arm.streamed_prejudge else "")
    print(f"production {r.production_s:.0f} s; pre-judgement {r.prejudge_s:.0f} s{waves}, embedding cache {warm} "
          f"({hits:,} texts from the cache, {enc:,} encoded)")
    c = r.clock
    # the rate while every grader has work: up to the verdict, the first "queue empty" or the end
    # (from two median think times on: graders start within one think time of each other)
    ends = [x for x in (r.verdict.t_sim if r.verdict else None, t.first_empty, c["sim"]) if x is not None]
    window = max(min(ends), 1e-9)
    start = min(2 * args.think_median, window / 2)
    acked = int(np.diff(np.searchsorted(np.sort(t.ack_times), [start, window], side="right"))[0])
    achieved = acked / max(window - start, 1e-9)
    print(f"clock: ×{c['nominal']:.0f} nominal, ×{c['effective']:.1f} effective; held by unfinished work "
          f"{c['held_real'] / max(c['running_real'], 1e-9):.1%} of the running time; halted for {len(r.looks)} looks "
          f"{c['paused_real']:.0f} s real (median look {np.median([x.seconds for x in r.looks]) if r.looks else 0:.1f} s)")
    print(f"rate from {hms(start)} to {hms(window)} simulated (every grader with work): offered {r.offered:.2f} "
          f"judgements/simulated s, achieved {achieved:.2f} ({acked:,} judgements); in real time "
          f"{achieved * c['effective']:.1f}/s achieved vs {r.offered * c['nominal']:.1f}/s offered at ×{c['nominal']:.0f}")
    print(f"RPC latency (real ms): NextAssignment p50 {pct(t.next_ms, 50):.0f} p99 {pct(t.next_ms, 99):.0f}, "
          f"SubmitJudgement p50 {pct(t.submit_ms, 50):.0f} p99 {pct(t.submit_ms, 99):.0f}; errors after retries: "
          f"{dict(t.errors) or 'none'}; skips {t.skips:,}; 'queue empty' answers {t.empty:,}")
    print(f"graders: {len(t.graders)} submitted; {t.careless:,} judgements by careless graders "
          f"({t.careless / max(t.judgements, 1):.0%}); {t.matched / max(t.judgements, 1):.0%} of all judgements equal "
          f"the hidden grade")
    print(f"completion: {r.completion or 'not within the run'}; {t.judgements:,} human judgements in all")
    print(f"server CPU {r.server_cpu_s:.0f} s over {r.grading_real_s:.0f} s real grading; load average at the end "
          f"{r.load}")
    print("\nlooks: simulated time, judgements, complete queries, NDCG@10 difference [95% t interval], p t / "
          "randomisation | anytime-valid sequence of the headline | the estimate the comparison leads with")
    shown = set()
    with_q = [x for x in r.looks if x.queries]
    picks = ([with_q[0]] if with_q else []) + [r.looks[int(len(r.looks) * f)] for f in (0.25, 0.5, 0.75)
                                                 if len(r.looks) > 4]
    picks += [x for x in (r.verdict, r.anytime, r.complete, r.looks[-1] if r.looks else None) if x]
    for x in sorted(picks, key=lambda x: x.t_sim):
        if id(x) in shown:
            continue
        shown.add(id(x))
        marks = [m for m, y in (("verdict", r.verdict), ("anytime", r.anytime), ("complete", r.complete)) if x is y]
        print(f"  {hms(x.t_sim):>8}  {x.judgements:>7,}  {x.queries:>5}  {x.difference:+.4f} [{x.low:+.4f}, "
              f"{x.high:+.4f}]  p {x.p_t:.4f} / {x.p_perm:.4f} | [{x.seq_low:+.3f}, {x.seq_high:+.3f}] "
              f"{x.seq_decision or '–'} | {x.lead or '–'} {x.lead_difference:+.4f} p {x.lead_p:.4f}"
              + (f"  ← {', '.join(marks)}" if marks else ""))


def print_table(results: list[ArmResult], population: Truth | None) -> None:
    """One row per arm and stopping rule, both rules read at the same looks."""
    print("\n| arm | stopping rule | time to verdict (simulated) | of which grading | wall time | human judgements | "
          "looks | automation | verdict | agrees with truth (sampled / population) | interval covers the sampled truth "
          "| grading complete (simulated) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        # streamed: grading (on the uncompressed clock) ran while pre-judgement did, and counts in t_sim
        pre = r.production_s + (0.0 if r.arm.streamed_prejudge else r.prejudge_s)
        done = (f"{hms(pre + r.complete.t_sim)}, {r.complete.judgements:,} judgements, "
                f"{r.completion.split(':')[0]}" if r.complete else f"not within the run ({hms(r.clock['sim'])} graded)")
        for rule, v in (("fixed-sample: randomisation p < 0.05", r.verdict),
                        ("anytime-valid sequence decides", r.anytime)):
            if v is None:
                print(f"| {r.arm.name} | {rule} | – | – | – | {r.tally.judgements:,} (all of the run) | {len(r.looks)} "
                      f"| {r.automation:.1%} | none by the end of the run | – | – | {done} |")
                continue
            truth = r.sampled_truth
            if rule.startswith("anytime"):
                sign = 1 if v.seq_verdict == "candidate better" else -1
                said = f"{v.seq_verdict}: sequence [{v.seq_low:+.4f}, {v.seq_high:+.4f}], n={v.queries}"
                low, high = v.seq_low, v.seq_high
            else:
                sign = np.sign(v.difference)
                said = (f"{v.difference:+.4f} [{v.low:+.4f}, {v.high:+.4f}], randomisation p={v.p_perm:.4f} "
                        f"(t p={v.p_t:.4f}), n={v.queries}")
                low, high = v.low, v.high
            # a direction can agree while the interval misses: the bench found the sequence's ordering
            # bug that way (an interval too narrow for its data)
            covers = "yes" if low <= truth.difference <= high else "NO"
            agree = (f"{'yes' if sign == np.sign(truth.difference) else 'NO'} / "
                     f"{('yes' if sign == np.sign(population.difference) else 'NO') if population else '–'}")
            print(f"| {r.arm.name} | {rule} | {hms(pre + v.t_sim)} | {hms(v.t_sim)} | {hms(v.real)} | "
                  f"{v.judgements:,} | {r.looks.index(v) + 1} | {r.automation:.1%} | {said} | {agree} | {covers} "
                  f"| {done} |")
    for r in results:
        t = r.sampled_truth
        print(f"truth ({r.arm.name}), {t.what}: control {t.control:.4f}, treatment {t.treatment:.4f}, "
              f"difference {t.difference:+.4f}")
    if population:
        print(f"truth, {population.what}: control {population.control:.4f}, treatment {population.treatment:.4f}, "
              f"difference {population.difference:+.4f}")
    print("time to verdict = production + pre-judgement (machine time, uncompressed) + simulated grading time "
          "(streamed: production + simulated time from the first wave, on an uncompressed clock while "
          "pre-judgement runs); "
          "wall time = real time from CreateEvaluation to the verdict's look (looks halt the clock).")
    print("Note: a fixed-sample test read at every look is optional stopping: its false-verdict rate over the looks "
          "exceeds the nominal 5%. The anytime-valid sequence (issue 12) covers every look at once; it "
          "assumes the queries complete in a random order, which today's item order does not give (queries with "
          "few pooled items complete first) and the query-complete order does.")


# --- main ------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=5000, help="queries of the evaluation (smoke: 200)")
    ap.add_argument("--arm", default="today", help=f"comma-separated arms, one row each: {', '.join(ARMS)}")
    ap.add_argument("--graders", type=int, default=100)
    # ×5: on this 2-core machine (load average 8-10 from other work) ×10 held the clock 9% of the time
    # on 1,000 queries (47 of 55 judgements/s offered); the server's ceiling without think time was
    # ~90 judgements/s, so ×5 (~28/s offered) leaves it room as the evaluation grows to 5,000 queries
    ap.add_argument("--compression", type=float, default=5.0,
                    help="simulated seconds per real second (the clock never runs ahead of the work)")
    ap.add_argument("--hold", type=float, default=2.0,
                    help="simulated seconds an action may be overdue before the clock waits for it")
    ap.add_argument("--think-median", type=float, default=20.0, help="median seconds per pointwise judgement")
    ap.add_argument("--think-sigma", type=float, default=0.6, help="log-normal sigma of a grader's think times")
    ap.add_argument("--speed-sigma", type=float, default=0.35, help="log-normal sigma of graders' speeds")
    ap.add_argument("--careless", type=float, default=0.10, help="share of careless graders")
    ap.add_argument("--noise", type=float, default=0.12, help="mean chance an honest answer is off by one")
    ap.add_argument("--skip-rate", type=float, default=0.02, help="mean share of tasks skipped")
    ap.add_argument("--overlap", type=int, default=1, help="judgements per item (the spec's default: 1)")
    ap.add_argument("--sxs", action="store_true", help="side-by-side items too (not part of the headline)")
    ap.add_argument("--report-every", type=float, default=30.0, help="simulated seconds between looks")
    ap.add_argument("--max-hours", type=float, default=12.0, help="cap on simulated grading hours")
    ap.add_argument("--stop-at-verdict", action="store_true",
                    help="stop once both stopping rules have a verdict, not at completion")
    ap.add_argument("--history-queries", type=int, default=300,
                    help="an earlier evaluation graded to the end first (0: the team's first evaluation)")
    ap.add_argument("--events", type=int, default=150_000, help="fixture log events to load")
    ap.add_argument("--log-index", default=None, help="log index (default qb-logs-verdict-EVENTS-s5, kept)")
    ap.add_argument("--prefix", default="qb-verdict-",
                    help="index prefix, fixed so the embedding cache survives between runs (everything else "
                         "under it is deleted at the start)")
    ap.add_argument("--cold", action="store_true",
                    help="every arm starts with an empty embedding cache (pre-judgement encodes everything: what "
                         "streaming hides); default: the cache is kept, so arms after the first find it warm")
    ap.add_argument("--actors", type=int, default=None, help="pre-judgement encoder actors (default: one per CPU)")
    ap.add_argument("--audit-share", type=float, default=None,
                    help="share of the model's settled items humans still check (default: qrelay prejudge's, 0.05); "
                         "the prediction-powered values' variance, so the anytime sequence's width, grows as 1/share")
    ap.add_argument("--reporting-seconds", type=float, default=1.0, help="the server's consensus worker interval")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--progress-every", type=int, default=20, help="print a progress line every N looks")
    ap.add_argument("--no-population", action="store_true", help="skip the log population's truth")
    ap.add_argument("--json", metavar="FILE", help="write every look of every arm as JSON")
    args = ap.parse_args()
    args.log_index = args.log_index or f"qb-logs-verdict-{args.events}-s{LOG_SEED}"
    arms = []
    for a in args.arm.split(","):
        if a not in ARMS:
            ap.error(f"unknown arm {a!r}; arms: {', '.join(ARMS)}")
        if ARMS[a].missing:
            ap.error(f"arm {a} cannot run yet: {ARMS[a].missing}")
        arms.append(ARMS[a])

    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch
    from tests.integration.serving import TOKENS, qrelay_server

    print(f"load average at the start: {load_avg()}", flush=True)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-verdict-")))
        url = os.environ.get("QRELAY_ES_URL")
        if not url:
            print("QRELAY_ES_URL is not set: a throw-away node, so the embedding cache starts cold", flush=True)
            url = stack.enter_context(running_elasticsearch(tmp / "es"))
        es = Elasticsearch(url, request_timeout=300)
        loaded = ensure_logs(es, args.log_index, args.events)
        print(f"fixture logs: {args.events:,} events (seed {LOG_SEED}) in {args.log_index}"
              + (f", loaded in {loaded:.0f} s" if loaded else ", kept from an earlier run"), flush=True)
        population = None
        if not args.no_population:
            t = time.perf_counter()
            population = population_truth(args.events)
            print(f"truth, {population.what} ({time.perf_counter() - t:.0f} s): control {population.control:.4f}, "
                  f"treatment {population.treatment:.4f}, difference {population.difference:+.4f}", flush=True)
        w = workforce_spec(args)
        print(f"graders: {w.graders}, think time log-normal (median {w.think_median_s:.0f} s, sigma {w.think_sigma} "
              f"within, {w.speed_sigma} across graders), careless {w.careless_share:.0%} (random {w.careless_random:.0%} "
              f"of the time, {w.careless_speed:.0%} of the time taken), honest error rate ~{w.noise:.0%}, skips "
              f"~{w.skip_rate:.0%}; compression ×{args.compression:.0f}, hold {args.hold:.0f} s, a look every "
              f"{args.report_every:.0f} simulated s; audit share "
              f"{'0.05 (qrelay prejudge default)' if args.audit_share is None else args.audit_share}", flush=True)
        results = []
        for arm in arms:
            wipe(es, args.prefix, args.log_index, cold=args.cold)
            env = {**os.environ, "QRELAY_ES_URL": url, "QRELAY_INDEX_PREFIX": args.prefix,
                   "QRELAY_TOKEN": TOKENS["engineer"]}
            with qrelay_server(url, args.prefix, tmp / f"serve-{arm.name}.log",
                               {"QRELAY_REPORTING_SECONDS": str(args.reporting_seconds),
                                "QRELAY_LOG_LEVEL": "WARNING", **arm.server_env}) as (address, proc):
                env["QRELAY_ADDRESS"] = address
                print(f"\narm {arm.name}: server {address}", flush=True)
                results.append(asyncio.run(run_arm(arm, args, address, proc.pid, env)))
            print_arm(results[-1], args)
        print_table(results, population)
        if args.json:
            Path(args.json).write_text(json.dumps({r.arm.name: [
                {k: v for k, v in vars(x).items() if k != "cmp"} for x in r.looks] for r in results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
