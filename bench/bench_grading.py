"""Grading under load: 200 simulated graders against one server, then two replicas.

    python bench/bench_grading.py [--graders 200] [--seconds 60] [--items 40000] [--overlap 3]

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


def scenario(es, es_url: str, replicas: int, args, tmp: Path) -> dict:
    from services.store import templates

    prefix = f"bench-grading-{replicas}-{os.getpid()}-"
    templates.install(es, prefix)
    seed(es, prefix, "bench", args.items, args.overlap)
    with ExitStack() as stack:
        servers = [stack.enter_context(server(es_url, prefix, tmp / f"serve-{replicas}-{k}.log", args.workers))
                   for k in range(replicas)]
        addresses, pids = [a for a, _ in servers], [p for _, p in servers]
        credentials = create_graders(addresses[0], args.graders)
        espid = es_pid(es_url)
        t = time.time()
        before = [cpu_seconds(p) for p in pids], cpu_seconds(espid) if espid else 0.0, machine_busy_seconds(), time.time()
        load = run_load(addresses, credentials, args.seconds, args.processes)
        after = [cpu_seconds(p) for p in pids], cpu_seconds(espid) if espid else 0.0, machine_busy_seconds(), time.time()
        wall = time.time() - t - 2
    span = after[3] - before[3]  # the CPU counters also cover the load generator's start-up and hand-back
    cpu = {"server": sum(a - b for a, b in zip(after[0], before[0])) / span,
           "es": (after[1] - before[1]) / span if espid else float("nan"),
           "load": load.pop("cpu_load") / args.seconds, "machine": (after[2] - before[2]) / span, "span": span}
    result = {"replicas": replicas, **load, **audit(es, prefix, load["acked"], args.overlap),
              "rate": len(load["acked"]) / args.seconds, "wall": wall, "cpu": cpu}
    for name in es.indices.get(index=f"{prefix}*"):
        es.indices.delete(index=name)
    for tpl in es.indices.get_index_template(name=f"{prefix}*")["index_templates"]:
        es.indices.delete_index_template(name=tpl["name"])
    return result


def pct(a: np.ndarray, q: float) -> str:
    return f"{np.percentile(a, q):.1f}" if len(a) else "–"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graders", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--items", type=int, default=40_000)
    p.add_argument("--overlap", type=int, default=3)
    p.add_argument("--processes", type=int, default=2, help="load-generator processes")
    p.add_argument("--workers", type=int, default=32, help="gRPC worker threads per server")
    p.add_argument("--replicas", default="1,2", help="scenarios: server replica counts")
    args = p.parse_args()

    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-grading-")))
        url = os.environ.get("QRELAY_ES_URL") or stack.enter_context(running_elasticsearch(tmp / "es"))
        es = Elasticsearch(url, request_timeout=120)
        results = [scenario(es, url, int(r), args, tmp) for r in args.replicas.split(",")]

    print(f"\n{args.graders} graders, {args.seconds:.0f} s, {args.items} items × overlap {args.overlap}; "
          f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    head = ("replicas", "judgements/s", "Next p50 ms", "Next p99 ms", "Submit p50 ms", "Submit p99 ms",
            "acked", "missing", "duplicates", "beyond overlap", "errors")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in results:
        print(" | ".join(str(x) for x in (
            r["replicas"], f"{r['rate']:.1f}", pct(r["next_ms"], 50), pct(r["next_ms"], 99), pct(r["submit_ms"], 50),
            pct(r["submit_ms"], 99), len(r["acked"]), r["missing"], r["duplicates"], r["beyond_overlap"],
            ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none")))
    print("\nCPU in cores (of %d) during the run: server process(es) | Elasticsearch | load generator | "
          "whole machine (incl. other jobs); CPU ms per judgement: server | ES | load" % os.cpu_count())
    for r in results:
        c, n = r["cpu"], max(1, len(r["acked"]))
        print(f"replicas {r['replicas']}: {c['server']:.2f} | {c['es']:.2f} | {c['load']:.2f} | {c['machine']:.2f}; "
              f"{c['server'] * c['span'] * 1000 / n:.1f} | {c['es'] * c['span'] * 1000 / n:.1f} | "
              f"{c['load'] * args.seconds * 1000 / n:.1f}")
    bad = any(r["missing"] or r["duplicates"] or r["beyond_overlap"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
