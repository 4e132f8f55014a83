"""Grading under load: 200 simulated graders against one server, then two replicas, on today's
path and the grouped one, in one run.

    python bench/bench_grading.py [--graders 200] [--seconds 60] [--items 40000] [--overlap 3]
                                  [--paths direct,grouped] [--replicas 1,2] [--open-seconds 5]

Each scenario (path × replicas; the paths alternate, so both see the same machine) runs the
closed-loop load (every grader loops NextAssignment → SubmitJudgement with no think time) and then
an open-loop load: judgements start at a constant rate (Next, then Submit, by whichever grader is
free), in steps of ×1.4 from ``--open-start`` per second, until a step's p99 of either call
reaches 100 ms, a call fails or the rate is not kept up; the last step that passed is the highest
rate served within 100 ms. ``direct`` is the grading path as it was (one Elasticsearch request
per read or write); ``grouped`` is group commit (``QRELAY_GRADING_ES_PATH``,
services.store.group_commit). Before the load, each scenario waits for the reporting worker's
one-time seeding of consensus documents, so the CPU figures are the steady state of grading.

Starts a throw-away local Elasticsearch (or uses QRELAY_ES_URL), seeds one evaluation in
GRADING, creates the graders through OperationsService (each signs in with its own
credential), and runs the load generator in separate processes (gRPC over loopback): each
simulated grader loops NextAssignment → SubmitJudgement. Reports judgements/s sustained and
p50/p99 latency of both calls, then audits Elasticsearch: acknowledged submits missing (must
be 0), duplicate judgements of one item by one grader (0), items judged beyond their overlap (0).
Also prints where the CPU went during the run: the server process(es), Elasticsearch (when it is a
local node), the load generator and the whole machine (other jobs included), in cores and in CPU
ms per acknowledged judgement. Note: the simulated graders have no think time, so by Little's law
the mean latency of a call is about graders / (2 × judgements/s).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPS_TOKEN = "bench-ops"


CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on this machine (all cores), from /proc/stat."""
    try:
        vals = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(vals[:8]) - vals[3] - vals[4]) / CLK  # minus idle and iowait


def es_pid(url: str) -> int | None:
    """The pid of the local Elasticsearch serving ``url`` (by its --http-port), if it is local."""
    m = re.search(r":(\d+)/?$", url)
    if not m:
        return None
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"--http-port" in cmd and cmd[cmd.index(b"--http-port") + 1:][:1] == [m.group(1).encode()]:
                return int(d.name)
    return None


@contextmanager
def server(es_url: str, prefix: str, log: Path, workers: int, extra_env: dict | None = None):
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": prefix, "QRELAY_PORT": "0",
           "QRELAY_TOKENS": f"{OPS_TOKEN}=bench:ops", "QRELAY_LOG_LEVEL": "WARNING",
           "QRELAY_MAX_WORKERS": str(workers), **(extra_env or {})}
    out = open(log, "w+")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve"], env=env, stdout=out, stderr=out, cwd=ROOT)
    address = None
    deadline = time.monotonic() + 90
    while address is None and time.monotonic() < deadline:
        if proc.poll() is not None:
            out.seek(0)
            raise RuntimeError(out.read())
        out.seek(0)
        m = re.search(r"serving gRPC on (\S+:\d+)", out.read())
        address = m.group(1) if m else None
        time.sleep(0.2)
    try:
        yield address, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        out.close()


def seed(es, prefix: str, evaluation_id: str, n: int, overlap: int) -> None:
    from elasticsearch import helpers

    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    es.index(index=f"{prefix}evaluations", id=evaluation_id, refresh="wait_for", document={
        "evaluation_id": evaluation_id, "owner_team": "bench", "state": "GRADING", "create_time": now})
    rng = random.Random(7)

    def items():
        for i in range(n):
            yield {"_index": f"{prefix}items", "_id": f"{evaluation_id}-{i:07d}", "_source": {
                "item_id": f"{evaluation_id}-{i:07d}", "evaluation_id": evaluation_id, "kind": "pointwise",
                "query": f"query {i // 10}", "locale": "en-US", "overlap": overlap,
                "priority": rng.choice((30, 50, 70)), "needs_humans": True, "judgements": 0, "gold": False,
                "doc": {"doc_id": f"d{i}", "title": f"Title {i}", "snippet": "A snippet.", "url": f"https://x/{i}",
                        "position": 1 + i % 10}, "create_time": now}}

    helpers.bulk(es.options(request_timeout=120), items(), chunk_size=2000)
    es.indices.refresh(index=f"{prefix}items")


def settle(es, prefix: str, items: int, timeout: float = 120.0) -> None:
    """Wait for the reporting worker's one-time seeding of the evaluation's consensus documents
    (a cost of loading an evaluation, not of grading) before measuring."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            es.indices.refresh(index=f"{prefix}consensus")
            if es.count(index=f"{prefix}consensus")["count"] >= items:
                return
        except Exception:  # noqa: BLE001 - the index appears with the first pass
            pass
        time.sleep(1.0)


def create_graders(address: str, n: int) -> list[str]:
    import grpc

    from services._proto.qrelay.v1 import operations_pb2, operations_pb2_grpc

    from concurrent.futures import ThreadPoolExecutor

    with grpc.insecure_channel(address) as ch, ThreadPoolExecutor(16) as pool:
        stub = operations_pb2_grpc.OperationsServiceStub(ch)
        md = (("authorization", f"Bearer {OPS_TOKEN}"),)
        return list(pool.map(lambda i: stub.CreateGrader(operations_pb2.CreateGraderRequest(grader=operations_pb2.Grader(
            display_name=f"bench {i}", locales=["en-US"])), metadata=md).credential, range(n)))


def load_worker(addresses: list[str], credentials: list[str], seconds: float, start_at: float, out) -> None:
    """One load-generator process: one asyncio task per simulated grader."""
    import grpc

    from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc

    async def run():
        channels = [grpc.aio.insecure_channel(a) for a in addresses]
        stubs = [grading_pb2_grpc.GradingServiceStub(c) for c in channels]
        next_ms, submit_ms, acked, errors = [], [], [], Counter()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        end = time.time() + seconds
        cpu0 = time.process_time()

        async def grader(i, cred):
            stub = stubs[i % len(stubs)]
            md = (("authorization", f"Bearer {cred}"),)
            while time.time() < end:
                t = time.perf_counter()
                try:
                    a = await stub.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=md, timeout=30)
                except grpc.aio.AioRpcError as e:
                    errors[f"next {e.code().name}"] += 1
                    await asyncio.sleep(0.2)
                    continue
                next_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                for attempt in range(5):  # UNAVAILABLE/deadline: the same submit again is safe
                    try:
                        j = await stub.SubmitJudgement(grading_pb2.SubmitJudgementRequest(
                            name=a.name, grade=random.randint(0, 3)), metadata=md, timeout=30)
                        submit_ms.append((time.perf_counter() - t) * 1000)
                        acked.append(j.name.split("/", 1)[1])
                        break
                    except grpc.aio.AioRpcError as e:
                        errors[f"submit {e.code().name}"] += 1
                        if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                            break

        await asyncio.gather(*(grader(i, c) for i, c in enumerate(credentials)))
        cpu = time.process_time() - cpu0
        for c in channels:
            await c.close()
        return next_ms, submit_ms, acked, dict(errors), cpu

    out.send(asyncio.run(run()))
    out.close()


def open_worker(addresses: list[str], credentials: list[str], rate: float, seconds: float, start_at: float,
                out) -> None:
    """One open-loop load process: a judgement (Next, then Submit) starts every ``1/rate`` seconds
    by a free grader, whatever the answers' latency (constant arrivals)."""
    import grpc

    from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc

    async def run():
        channels = [grpc.aio.insecure_channel(a) for a in addresses]
        stubs = [grading_pb2_grpc.GradingServiceStub(c) for c in channels]
        free = list(range(len(credentials)))
        random.shuffle(free)
        ms, errors, done, dropped = [], Counter(), [0], [0]
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def judgement(i):
            stub, md = stubs[i % len(stubs)], (("authorization", f"Bearer {credentials[i]}"),)
            try:
                t = time.perf_counter()
                a = await stub.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=md, timeout=30)
                ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await stub.SubmitJudgement(grading_pb2.SubmitJudgementRequest(name=a.name, grade=random.randint(0, 3)),
                                           metadata=md, timeout=30)
                ms.append((time.perf_counter() - t) * 1000)
                done[0] += 1
            except grpc.aio.AioRpcError as e:
                errors[e.code().name] += 1
            finally:
                free.append(i)

        tasks = []
        t0 = time.perf_counter()
        k = 0
        while (due := t0 + k / rate) < t0 + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            k += 1
            if not free:
                dropped[0] += 1
                continue
            tasks.append(asyncio.ensure_future(judgement(free.pop())))
        await asyncio.gather(*tasks)
        for c in channels:
            await c.close()
        return ms, dict(errors), done[0], dropped[0], k

    out.send(asyncio.run(run()))
    out.close()


def open_step(addresses: list[str], credentials: list[str], rate: float, seconds: float, processes: int) -> dict:
    """One open-loop step at ``rate`` judgements/s (split over the load processes)."""
    start_at = time.time() + 2
    ctx = mp.get_context("spawn")
    pipes, procs = [], []
    for k in range(processes):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=open_worker, args=(addresses, credentials[k::processes], rate / processes, seconds,
                                                  start_at, send))
        p.start()
        pipes.append(recv)
        procs.append(p)
    ms, errors, done, dropped, started = [], Counter(), 0, 0, 0
    for r in pipes:
        m, e, d, x, n = r.recv()
        ms += m
        errors.update(e)
        done += d
        dropped += x
        started += n
    for p in procs:
        p.join()
    p99 = float(np.percentile(ms, 99)) if ms else float("inf")
    ok = p99 < 100 and not errors and not dropped and done >= 0.95 * rate * seconds
    return {"rate": rate, "p99": p99, "errors": dict(errors), "dropped": dropped, "done": done, "ok": ok}


def open_loop(addresses: list[str], credentials: list[str], args) -> tuple[float, list[dict]]:
    """The highest constant rate (of the ×1.4 steps) whose p99 per call stays under 100 ms."""
    best, steps, rate = 0.0, [], args.open_start
    while rate <= args.open_max:
        step = open_step(addresses, credentials, rate, args.open_seconds, args.processes)
        steps.append(step)
        if not step["ok"]:
            break
        best = rate
        rate = round(rate * 1.4, 1)
    return best, steps


def run_load(addresses: list[str], credentials: list[str], seconds: float, processes: int) -> dict:
    start_at = time.time() + 2
    pipes, procs = [], []
    ctx = mp.get_context("spawn")
    for k in range(processes):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=load_worker, args=(addresses, credentials[k::processes], seconds, start_at, send))
        p.start()
        pipes.append(recv)
        procs.append(p)
    next_ms, submit_ms, acked, errors, cpu = [], [], [], Counter(), 0.0
    for r in pipes:
        n, s, a, e, c = r.recv()
        next_ms += n
        submit_ms += s
        acked += a
        errors.update(e)
        cpu += c
    for p in procs:
        p.join()
    return {"next_ms": np.array(next_ms), "submit_ms": np.array(submit_ms), "acked": acked, "errors": dict(errors),
            "cpu_load": cpu}


def audit(es, prefix: str, acked: list[str], overlap: int) -> dict:
    from elasticsearch import helpers

    from services.grading.handles import Handles
    from services.store import system

    # graders hold opaque handles; the deployment's secret turns them back into judgement ids
    handles = Handles(system.server_secret(es, prefix))
    acked = [handles.decode(a) for a in acked]
    es.indices.refresh(index=f"{prefix}judgements")
    stored = list(helpers.scan(es, index=f"{prefix}judgements", query={"query": {"match_all": {}}},
                               _source=["judgement_id", "item_id", "grader"], size=5000))
    ids = {h["_source"]["judgement_id"] for h in stored}
    per_pair = Counter((h["_source"]["item_id"], h["_source"]["grader"]) for h in stored)
    per_item = Counter(h["_source"]["item_id"] for h in stored)
    return {"stored": len(stored), "missing": sum(1 for a in acked if a not in ids),
            "duplicates": sum(c - 1 for c in per_pair.values() if c > 1),
            "beyond_overlap": sum(1 for c in per_item.values() if c > overlap)}


def scenario(es, es_url: str, replicas: int, path: str, args, tmp: Path) -> dict:
    from services.store import templates

    prefix = f"bench-grading-{path}-{replicas}-{os.getpid()}-"
    templates.install(es, prefix)
    seed(es, prefix, "bench", args.items, args.overlap)
    env = {"QRELAY_GRADING_ES_PATH": path}
    workers = args.workers if path == "direct" else args.grouped_workers
    with ExitStack() as stack:
        servers = [stack.enter_context(server(es_url, prefix, tmp / f"serve-{path}-{replicas}-{k}.log", workers, env))
                   for k in range(replicas)]
        addresses, pids = [a for a, _ in servers], [p for _, p in servers]
        credentials = create_graders(addresses[0], args.graders)
        settle(es, prefix, args.items)
        espid = es_pid(es_url)
        t = time.time()
        before = [cpu_seconds(p) for p in pids], cpu_seconds(espid) if espid else 0.0, machine_busy_seconds(), time.time()
        load = run_load(addresses, credentials, args.seconds, args.processes)
        after = [cpu_seconds(p) for p in pids], cpu_seconds(espid) if espid else 0.0, machine_busy_seconds(), time.time()
        wall = time.time() - t - 2
        loadavg = os.getloadavg()[0]
        best, steps = open_loop(addresses, credentials, args) if args.open_seconds > 0 else (float("nan"), [])
    span = after[3] - before[3]  # the CPU counters also cover the load generator's start-up and hand-back
    cpu = {"server": sum(a - b for a, b in zip(after[0], before[0])) / span,
           "es": (after[1] - before[1]) / span if espid else float("nan"),
           "load": load.pop("cpu_load") / args.seconds, "machine": (after[2] - before[2]) / span, "span": span}
    result = {"replicas": replicas, "path": path, **load, **audit(es, prefix, load["acked"], args.overlap),
              "rate": len(load["acked"]) / args.seconds, "wall": wall, "cpu": cpu, "loadavg": loadavg,
              "open_best": best, "open_steps": steps}
    for name in es.indices.get(index=f"{prefix}*"):
        es.indices.delete(index=name)
    for tpl in es.indices.get_index_template(name=f"{prefix}*")["index_templates"]:
        es.indices.delete_index_template(name=tpl["name"])
    return result


def pct(a: np.ndarray, q: float) -> str:
    return f"{np.percentile(a, q):.1f}" if len(a) else "–"


def ms_per_judgement(r: dict, part: str) -> float:
    c = r["cpu"]
    return c[part] * c["span"] * 1000 / max(1, len(r["acked"]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graders", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--items", type=int, default=40_000)
    p.add_argument("--overlap", type=int, default=3)
    p.add_argument("--processes", type=int, default=2, help="load-generator processes")
    p.add_argument("--workers", type=int, default=32, help="gRPC worker threads per server, direct path")
    p.add_argument("--grouped-workers", type=int, default=128, help="gRPC worker threads per server, grouped path")
    p.add_argument("--replicas", default="1,2", help="scenarios: server replica counts")
    p.add_argument("--paths", default="direct,grouped", help="scenarios: grading paths (QRELAY_GRADING_ES_PATH)")
    p.add_argument("--open-seconds", type=float, default=5, help="length of each open-loop step (0: none)")
    p.add_argument("--open-start", type=float, default=5, help="first open-loop rate, judgements/s")
    p.add_argument("--open-max", type=float, default=2000, help="highest open-loop rate tried")
    args = p.parse_args()

    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch

    paths = args.paths.split(",")
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-grading-")))
        url = os.environ.get("QRELAY_ES_URL") or stack.enter_context(running_elasticsearch(tmp / "es"))
        es = Elasticsearch(url, request_timeout=120)
        results = [scenario(es, url, int(r), path, args, tmp) for r in args.replicas.split(",") for path in paths]

    print(f"\n{args.graders} graders, {args.seconds:.0f} s closed loop, {args.items} items × overlap {args.overlap}; "
          f"machine: {os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}")
    head = ("path", "replicas", "judgements/s", "Next p50 ms", "Next p99 ms", "Submit p50 ms", "Submit p99 ms",
            "acked", "missing", "duplicates", "beyond overlap", "errors")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in results:
        print(" | ".join(str(x) for x in (
            r["path"], r["replicas"], f"{r['rate']:.1f}", pct(r["next_ms"], 50), pct(r["next_ms"], 99),
            pct(r["submit_ms"], 50), pct(r["submit_ms"], 99), len(r["acked"]), r["missing"], r["duplicates"],
            r["beyond_overlap"], ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none")))

    print("\nCost: CPU ms per acknowledged judgement (closed loop), cores busy during it, and the highest "
          "open-loop rate with p99 per call < 100 ms; load average (1 min) when the closed loop ended")
    head = ("path", "replicas", "server ms/j", "ES ms/j", "server+ES ms/j", "load gen ms/j", "cores server/ES/machine", "closed-loop j/s", "open-loop j/s @ p99<100ms", "load avg")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in results:
        c = r["cpu"]
        print(" | ".join(str(x) for x in (
            r["path"], r["replicas"], f"{ms_per_judgement(r, 'server'):.2f}", f"{ms_per_judgement(r, 'es'):.2f}",
            f"{ms_per_judgement(r, 'server') + ms_per_judgement(r, 'es'):.2f}",
            f"{c['load'] * args.seconds * 1000 / max(1, len(r['acked'])):.2f}",
            f"{c['server']:.2f}/{c['es']:.2f}/{c['machine']:.2f}", f"{r['rate']:.1f}", f"{r['open_best']:.0f}",
            f"{r['loadavg']:.1f}")))
    for r in results:
        steps = ", ".join(f"{s['rate']:.0f}/s: p99 {s['p99']:.0f} ms" + ("" if s["ok"] else " ✗") +
                          (f" dropped {s['dropped']}" if s["dropped"] else "") +
                          (f" errors {s['errors']}" if s["errors"] else "") for s in r["open_steps"])
        print(f"open loop, {r['path']} × {r['replicas']}: {steps}")

    if len(paths) == 2:
        base, new = paths
        print(f"\nRatios {new} / {base} (same run): judgements per CPU-second of server+ES, closed-loop "
              "judgements/s, open-loop rate")
        for reps in args.replicas.split(","):
            a = next(r for r in results if r["path"] == base and r["replicas"] == int(reps))
            b = next(r for r in results if r["path"] == new and r["replicas"] == int(reps))
            cost_a = ms_per_judgement(a, "server") + ms_per_judgement(a, "es")
            cost_b = ms_per_judgement(b, "server") + ms_per_judgement(b, "es")
            open_ratio = f"{b['open_best'] / a['open_best']:.2f}×" if a["open_best"] else "–"
            print(f"replicas {reps}: {cost_a / cost_b:.2f}× judgements per CPU-second "
                  f"({cost_a:.2f} → {cost_b:.2f} ms), {b['rate'] / max(a['rate'], 1e-9):.2f}× closed-loop judgements/s, "
                  f"{open_ratio} open-loop rate")
    bad = any(r["missing"] or r["duplicates"] or r["beyond_overlap"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
