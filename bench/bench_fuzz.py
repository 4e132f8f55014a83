"""Wire fuzzing at full size: every RPC the server reflects gets ≥ 10,000 generated or mutated
requests (services.wirefuzz), and the table shows what came back, by status code per RPC.

    python bench/bench_fuzz.py [--examples 10000] [--processes 2] [--only GetEvaluation,ListGraders]

Starts a throw-away local Elasticsearch (or uses QRELAY_ES_URL) and one `qrelay serve`, seeds an
evaluation in GRADING and a spare evaluation and grader the fuzzer may name (and wreck), then
fuzzes each implemented RPC (one answering UNIMPLEMENTED is listed, not fuzzed). Findings —
UNKNOWN/INTERNAL, RESOURCE_EXHAUSTED that is not a rate limit, error details that do not reach
the client intact, a server that went away — are printed with the first payloads, and make the
exit status 1. Not a test: CI runs tests/integration/test_fuzz.py at a small count.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_grading import OPS_TOKEN, seed, server  # noqa: E402

TOKENS = {"engineer": "fuzz-engineer", "ops": OPS_TOKEN, "admin": "fuzz-admin"}
SPEC = f"{TOKENS['engineer']}=eve:engineer,{OPS_TOKEN}=bench:ops,{TOKENS['admin']}=ada:admin"


def world(address: str) -> tuple[dict[str, str], list[str]]:
    """A grader with two live leases; returns (tokens by role, names the fuzzer may use)."""
    import grpc

    from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc, operations_pb2, operations_pb2_grpc

    with grpc.insecure_channel(address) as ch:
        ops = operations_pb2_grpc.OperationsServiceStub(ch)
        md = (("authorization", f"Bearer {OPS_TOKEN}"),)

        def grader(name: str):
            return ops.CreateGrader(operations_pb2.CreateGraderRequest(grader=operations_pb2.Grader(
                display_name=name, locales=["en-US"])), metadata=md)

        me, spare = grader("fuzzer"), grader("spare")
        partner = ops.CreatePartner(operations_pb2.CreatePartnerRequest(
            partner=operations_pb2.Partner(display_name="spare partner")), metadata=md)
        stub = grading_pb2_grpc.GradingServiceStub(ch)
        leased = [stub.NextAssignment(grading_pb2.NextAssignmentRequest(),
                                      metadata=(("authorization", f"Bearer {me.credential}"),)).name for _ in range(2)]
    return {**TOKENS, "grader": me.credential}, ["evaluations/spare", spare.grader.name, partner.name, *leased]


def fuzz_some(address: str, paths: list[str], examples: int, tokens: dict, names: list[str], pid: int, out) -> None:
    import grpc

    from services import wirefuzz

    with grpc.insecure_channel(address) as ch:
        methods = {m.path: m for m in wirefuzz.discover(ch)}
        probes = wirefuzz.probe(ch, [methods[p] for p in paths], tokens)
        report = wirefuzz.Report()
        for i, path in enumerate(paths):
            m = methods[path]
            wirefuzz.fuzz_method(ch, m, examples, tokens, probes[path].roles, names, report, seed=i,
                                 alive=lambda: _alive(pid))
            print(f"  {m.service}.{m.name}: {dict(report.counts[f'{m.service}.{m.name}'])}", flush=True)
    out.send((dict(report.counts), dict(report.findings), report.seconds))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=10_000, help="requests per RPC (default 10000)")
    p.add_argument("--processes", type=int, default=2, help="fuzzing processes (RPCs are split between them)")
    p.add_argument("--only", default="", help="comma-separated method names (default: every RPC)")
    args = p.parse_args()

    import grpc
    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch
    from services import wirefuzz
    from services.store import templates

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-fuzz-")))
        url = os.environ.get("QRELAY_ES_URL") or stack.enter_context(running_elasticsearch(tmp / "es"))
        es = Elasticsearch(url, request_timeout=120)
        prefix = f"bench-fuzz-{os.getpid()}-"
        templates.install(es, prefix)
        seed(es, prefix, "fuzz", 2_000, 3)
        seed(es, prefix, "spare", 50, 1)
        # rate limits off: the fuzzer's principals call far faster than any person, and a limited
        # call exercises nothing behind the edge (tests/integration/test_abuse.py covers the limits)
        address, pid = stack.enter_context(server(url, prefix, tmp / "serve.log", 32, {
            "QRELAY_TOKENS": SPEC, "QRELAY_GRADING_CACHE_SECONDS": "0.1",
            "QRELAY_RATE_LIMITS": "grader=0,engineer=0,ops=0,admin=0"}))
        time.sleep(0.3)
        tokens, names = world(address)
        with grpc.insecure_channel(address) as ch:
            methods = wirefuzz.discover(ch)
            probes = wirefuzz.probe(ch, methods, tokens)
        wanted = set(filter(None, args.only.split(",")))
        todo = [m for m in methods if probes[m.path].implemented and (not wanted or m.name in wanted)]
        idle = [m for m in methods if not probes[m.path].implemented]
        print(f"fuzzing {len(todo)} RPCs × {args.examples} requests in {args.processes} processes", flush=True)
        start = time.monotonic()
        procs, pipes = [], []
        for k in range(args.processes):
            recv, send = mp.Pipe(duplex=False)
            share = [m.path for m in todo[k::args.processes]]
            proc = mp.Process(target=fuzz_some, args=(address, share, args.examples, tokens, names, pid, send))
            proc.start()
            procs.append(proc)
            pipes.append(recv)
        report = wirefuzz.Report()
        for r in pipes:
            counts, findings, seconds = r.recv()
            for key, c in counts.items():
                report.counts[key].update(c)
            for key, f in findings.items():
                report.findings[key] += f
        for proc in procs:
            proc.join()
        wall = time.monotonic() - start
        up = _alive(pid)
        errors = wirefuzz.logged_errors((tmp / "serve.log").read_text())
        for name in es.indices.get(index=f"{prefix}*"):
            es.indices.delete(index=name)
        for tpl in es.indices.get_index_template(name=f"{prefix}*")["index_templates"]:
            es.indices.delete_index_template(name=tpl["name"])

    total = sum(sum(c.values()) for c in report.counts.values())
    print(f"\n{total:,} requests to {len(report.counts)} RPCs in {wall:.0f} s ({total / wall:.0f}/s); "
          f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(report.table())
    print("not implemented yet (not fuzzed): " + (", ".join(m.name for m in idle) or "none"))
    print(f"server still up: {'yes' if up else 'NO'}; ERROR lines in its log: {sum(errors.values())}")
    for line, n in errors.most_common(10):
        print(f"  {n} × {line}")
    if report.findings:
        print("\nFINDINGS")
        for key, items in sorted(report.findings.items()):
            for why, payload in items[:5]:
                print(f"  {key}: {why}  payload {payload[:64]!r}")
    else:
        print("findings: none")
    return 1 if report.findings or errors or not up else 0


if __name__ == "__main__":
    sys.exit(main())
