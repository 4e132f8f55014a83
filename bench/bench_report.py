"""GetEvaluationReport latency, cold and warm, on a full-size evaluation; peak RSS of the server.

    python bench/bench_report.py [--queries 5000] [--overlap 3] [--warm 5] [--keep]

The evaluation: ``--queries`` queries sampled from the fixture's query universe (bands within
each locale, traffic weights) × the fixture's two rankers' top 10, pooled as their lists overlap
(about 16 items per query), one side-by-side item per query, ``--overlap`` simulated judgements
per item — written the way the consensus worker and the grading service write them
(fixtures/evaluations/labelled.py): an evaluation document, one consensus document per item,
the judgements. Uses QRELAY_ES_URL, else starts a throw-away local node; ``--keep`` leaves the
indices (prefix ``qb-report-``) for the next run, which then skips the load.

Measured against a real ``qrelay serve`` over gRPC:

* **cold**: the first report of the server process (every consensus document read with one
  point-in-time stream, per-query values, estimates per segment), by locale;
* **warm**: the same request again (the label-set version is unchanged: one small aggregation,
  the grading aggregation, the answer from the cache), median of ``--warm``;
* **new label**: after one consensus document changed (a new version: read again);
* **compare** cold and warm (randomisation tests, 10,000 sign patterns per segment);
* beside them, what a report without the consensus index would have to read first: every
  judgement of the evaluation, streamed the same way (the naive path, reading only).

Prints the load average next to the figures: on a shared machine they compare only within one run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVALUATION = "bench-report"


CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_mb(pid: int, what: str) -> float:
    """``VmRSS:`` (now) or ``VmHWM:`` (peak) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(what):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(es, prefix: str, queries: int, overlap: int, keep: bool) -> tuple[int, int, float]:
    """Write the evaluation unless a kept one of the same size is there; ``(items, judgements, seconds)``."""
    from fixtures.evaluations import labelled
    from services.store import consensus, judgements

    if keep and es.indices.exists(index=consensus.index(prefix)):
        n = consensus.state(es, prefix, EVALUATION)["items"]
        j = judgements.summary(es, prefix, EVALUATION)["judgements"]
        doc = es.options(ignore_status=404).get(index=f"{prefix}evaluations", id=EVALUATION)
        if n and doc.get("found") and doc["_source"]["counts"]["queries"] == queries:
            return n, j, 0.0
    t = time.perf_counter()
    lab = labelled.build(EVALUATION, queries, overlap=overlap, state="COMPLETE")
    labelled.write(es, prefix, lab)
    return len(lab.consensus), len(lab.judgements), time.perf_counter() - t


def timed(fn, pid: int | None = None) -> tuple[float, object, float]:
    """``(wall seconds, result, CPU seconds of process pid meanwhile)``."""
    c = cpu_seconds(pid) if pid else 0.0
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r, (cpu_seconds(pid) - c if pid else float("nan"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queries", type=int, default=5000)
    ap.add_argument("--overlap", type=int, default=3, help="judgements per item")
    ap.add_argument("--warm", type=int, default=5, help="warm repetitions (median printed)")
    ap.add_argument("--keep", action="store_true", help="keep the indices (prefix qb-report-) and reuse them")
    args = ap.parse_args()

    import grpc
    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch
    from tests.integration.serving import auth, qrelay_server
    from services._proto.qrelay.v1 import reporting_pb2 as rp, reporting_pb2_grpc
    from services.store import consensus, judgements

    prefix = "qb-report-" if args.keep else f"qb-report-{os.getpid()}-"
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-report-")))
        url = os.environ.get("QRELAY_ES_URL") or stack.enter_context(running_elasticsearch(tmp / "es"))
        es = Elasticsearch(url, request_timeout=300)
        if not args.keep:
            stack.callback(lambda: [es.indices.delete(index=i) for i in es.indices.get(index=f"{prefix}*").body])
        items, n_judgements, load_s = load(es, prefix, args.queries, args.overlap, args.keep)
        print(f"evaluation: {args.queries:,} queries, {items:,} items (pointwise pooled + side by side), "
              f"{n_judgements:,} judgements" + (f"; built and loaded in {load_s:.0f} s" if load_s else "; kept from "
                                                                                                   "an earlier run"))

        # the naive path's first step: every judgement of the evaluation, streamed
        me = os.getpid()
        naive = timed(lambda: sum(1 for _ in judgements.of_evaluation(
            es, prefix, EVALUATION, ["item_id", "grader", "grade", "preference"])), me)
        pit = timed(lambda: sum(1 for _ in consensus.of_evaluation(es, prefix, EVALUATION)), me)

        name = f"evaluations/{EVALUATION}"
        md = auth("engineer")
        report_req = rp.GetEvaluationReportRequest(name=name, segment_by=["locale"])
        compare_req = rp.CompareRankersRequest(name=name, baseline="control", candidate="treatment",
                                               segment_by=["locale", "band"])
        with qrelay_server(url, prefix, tmp / "serve.log", {"QRELAY_LOG_LEVEL": "WARNING"}) as (address, proc), \
                grpc.insecure_channel(address) as ch:
            pid = proc.pid
            rss_start = rss_mb(pid, "VmRSS:")
            stub = reporting_pb2_grpc.ReportingServiceStub(ch)
            report = lambda: stub.GetEvaluationReport(report_req, metadata=md, timeout=600)  # noqa: E731
            compare = lambda: stub.CompareRankers(compare_req, metadata=md, timeout=600)  # noqa: E731
            cold = timed(report, pid)
            r = cold[1]
            warm = [timed(report, pid) for _ in range(args.warm)]
            compare_cold = timed(compare, pid)
            c = compare_cold[1]
            compare_warm = [timed(compare, pid) for _ in range(args.warm)]
            # one label changes: a new label-set version, read again
            doc = next(consensus.of_evaluation(es, prefix, EVALUATION, kind="pointwise"))
            doc["label"] = 3 - int(doc.get("label") or 0)
            doc["update_time"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            consensus.write(es, prefix, [doc], refresh="wait_for")
            changed = timed(report, pid)
            r2 = changed[1]
            rss = rss_mb(pid, "VmHWM:")
        load_avg = os.getloadavg()
        assert r2.label_set.version != r.label_set.version

    overall = r.segments[0]
    ndcg = {rk.ranker: rk.metrics[0] for rk in overall.rankers}
    print(f"report: {len(r.segments) - 1} locale segments; NDCG@10 control {ndcg['control'].mean:.4f} "
          f"treatment {ndcg['treatment'].mean:.4f} over {ndcg['control'].queries:,} queries; "
          f"alpha {r.agreement.krippendorff_alpha:.3f} over {r.agreement.units:,} items")
    print(f"compare: {len(c.differences)} differences (locale x band); {c.summary[:160]}…")
    print()
    def median(runs):
        return (statistics.median(x[0] for x in runs), None, statistics.median(x[2] for x in runs))

    rows = [
        ("GetEvaluationReport, cold (first call: PIT read of every consensus doc)", cold),
        (f"GetEvaluationReport, warm (median of {args.warm})", median(warm)),
        ("GetEvaluationReport after one label changed (new version)", changed),
        ("CompareRankers, cold (label set cached; randomisation tests)", compare_cold),
        (f"CompareRankers, warm (median of {args.warm})", median(compare_warm)),
        (f"bench process: PIT stream of the {items:,} consensus docs alone", pit),
        (f"naive path, reading only: PIT stream of all {naive[1]:,} judgements", naive),
    ]
    width = max(len(a) for a, _ in rows)
    print(f"{'what':{width}}  {'wall s':>8}  {'CPU s':>7}   (CPU: the server's, or the bench process's for the last two)")
    for what, (wall, _, cpu) in rows:
        print(f"{what:{width}}  {wall:8.3f}  {cpu:7.3f}")
    print(f"{'RSS of the server when it started serving / peak (VmHWM)':{width}}  {rss_start:4.0f} / {rss:.0f} MB")
    print(f"cold / warm (wall): {cold[0] / median(warm)[0]:.0f}x;  naive read / cold report (wall): {naive[0] / cold[0]:.1f}x")
    print(f"load average (1, 5, 15 min): {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
