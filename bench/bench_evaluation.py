"""Producing an evaluation from search logs: qrelay (aggregations in Elasticsearch) beside a
naive baseline that scrolls every event into Python and samples there.

    python bench/bench_evaluation.py --es-url http://127.0.0.1:9200 \\
        --index search-logs-200k --index search-logs-1m --size 5000

Each index must hold fixture logs (``qrelay fixtures load --events N --index NAME``). For each
index both contenders produce the same 5,000-query stratified (head/torso/tail × locale)
pointwise + side-by-side evaluation (k = 10, control vs treatment) and write its items; each
runs in its own process, so the peak RSS printed is that contender's alone. qrelay's memory
follows distinct queries, the baseline's follows events: compare the RSS columns across sizes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

START, END = "2024-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"


def spec_proto(index: str, size: int):
    from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev

    spec = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=index),
        rankers=[ev.Ranker(id="control", log_bucket=ev.LogBucket(bucket="control")),
                 ev.Ranker(id="treatment", log_bucket=ev.LogBucket(bucket="treatment"))],
        kinds=[common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE], depth=10, overlap=1,
        sample_plan=ev.SamplePlan(size=size, unit=ev.TRAFFIC_WEIGHTED, seed=1, stratify_by=["locale"],
                                  bands=ev.FrequencyBands(traffic_share=ev.CutPoints(points=[0.5, 0.8]))))
    spec.log_source.window.start_time.FromDatetime(dt.datetime.fromisoformat(START))
    spec.log_source.window.end_time.FromDatetime(dt.datetime.fromisoformat(END))
    return ev.Evaluation(display_name="bench", spec=spec)


def worker_qrelay(es, index: str, size: int) -> dict:
    from services.core import clock
    from services.evaluation.production import Producer
    from services.evaluation.spec import to_json
    from services.core.logmapping import LogFieldMapping
    from services.store import evaluations, templates

    prefix = f"bench-q-{uuid.uuid4().hex[:6]}-"
    templates.install(es, prefix)
    eid = uuid.uuid4().hex[:20]
    now = clock.now_iso()
    evaluations.create(es, prefix, eid, {"evaluation_id": eid, "state": "PENDING", "spec": to_json(spec_proto(index, size)),
                                         "display_name": "bench", "create_time": now, "update_time": now, "counts": {}})
    t = time.perf_counter()
    Producer(es, prefix, LogFieldMapping()).run(eid)
    seconds = time.perf_counter() - t
    doc = evaluations.get(es, prefix, eid)
    assert doc["state"] == "PREJUDGING", doc.get("state_reason")
    return {"seconds": seconds, "queries": doc["counts"]["queries"], "items": doc["counts"]["items"], "prefix": prefix}


def worker_naive(es, index: str, size: int) -> dict:
    """What one writes without the aggregations: scroll every event, group, sample, pool, write."""
    import numpy as np
    from elasticsearch import helpers

    from evaluators.sampling import frequency_bands, stratified_sample
    from services.core.querynorm import normalize_query
    from services.evaluation import hygiene
    from services.evaluation.pooling import QueryResults, pointwise_items, side_by_side_items
    from services.store import items, templates

    prefix = f"bench-n-{uuid.uuid4().hex[:6]}-"
    templates.install(es, prefix)
    t = time.perf_counter()
    events = list(helpers.scan(es, index=index, size=5000, query={"query": {"range": {"timestamp": {"gte": START, "lt": END}}}},
                               _source=["query", "locale", "bucket", "results", "timestamp"]))
    units: dict = {}
    for e in events:
        src = e["_source"]
        key = (normalize_query(src["query"]), src["locale"])
        u = units.setdefault(key, {"count": 0, "buckets": {}})
        u["count"] += 1
        prev = u["buckets"].get(src["bucket"])
        if prev is None or src["timestamp"] > prev["timestamp"]:
            u["buckets"][src["bucket"]] = src
    kept = sorted((k, u) for k, u in units.items()
                  if hygiene.rejection(k[0]) is None and {"control", "treatment"} <= set(u["buckets"]))
    counts = np.array([u["count"] for _, u in kept])
    groups = sorted({k[1] for k, _ in kept})
    g_of = np.array([groups.index(k[1]) for k, _ in kept])
    band = np.zeros(len(kept), dtype=np.int64)
    for gi in range(len(groups)):
        m = np.flatnonzero(g_of == gi)
        band[m] = frequency_bands(counts[m], traffic_share=np.array([0.5, 0.8]))
    drawn = stratified_sample(counts, g_of * 3 + band, 3 * len(groups), size, traffic_weighted=True, seed=1)
    batch = []
    eid = uuid.uuid4().hex[:20]
    for i in drawn.chosen:
        (norm, locale), u = kept[i]
        q = QueryResults(norm, norm, locale, "", group=(locale,))
        for b in ("control", "treatment"):
            q.lists[b] = sorted(u["buckets"][b]["results"], key=lambda r: r["position"])[:10]
        batch += pointwise_items(eid, q, ["control", "treatment"], {"evaluation_id": eid})
        batch += side_by_side_items(eid, q, ["control", "treatment"], {"evaluation_id": eid})
    items.write(es, prefix, batch)
    return {"seconds": time.perf_counter() - t, "queries": len(drawn.chosen), "items": len(batch), "prefix": prefix,
            "events_in_python": len(events)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--es-url", required=True)
    p.add_argument("--index", action="append", required=True, help="a fixture log index (repeat: e.g. 200k and 1M events)")
    p.add_argument("--size", type=int, default=5000, help="queries to sample (default 5000)")
    p.add_argument("--worker", choices=("qrelay", "naive"), help=argparse.SUPPRESS)
    p.add_argument("--keep", action="store_true", help="keep the item indices the contenders wrote")
    args = p.parse_args()

    from elasticsearch import Elasticsearch

    es = Elasticsearch(args.es_url, request_timeout=600)
    if args.worker:
        out = (worker_qrelay if args.worker == "qrelay" else worker_naive)(es, args.index[0], args.size)
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return 0

    rows = []
    for index in args.index:
        events = es.count(index=index)["count"]
        for who in ("qrelay", "naive"):
            r = subprocess.run([sys.executable, __file__, "--worker", who, "--es-url", args.es_url, "--index", index,
                                "--size", str(args.size)], capture_output=True, text=True)
            if r.returncode:
                rows.append((index, events, who, None, None, None, r.stderr.strip().splitlines()[-1]))
                continue
            out = json.loads(r.stdout.strip().splitlines()[-1])
            rows.append((index, events, who, out["seconds"], out["rss_mb"], out["items"], ""))
            if not args.keep:
                for name in es.indices.get(index=f"{out['prefix']}*").body:
                    es.indices.delete(index=name)
            print(f"  {index} {who}: {out['seconds']:.1f} s, {out['rss_mb']:.0f} MB, {out['items']} items", flush=True)
    print(f"\n{'index':24} {'events':>9} {'contender':9} {'time s':>8} {'peak RSS MB':>12} {'items':>7} {'naive/qrelay':>13}")
    for index, events, who, secs, rss, n, err in rows:
        if secs is None:
            print(f"{index:24} {events:>9,} {who:9} n/a: {err}")
            continue
        base = next((r for r in rows if r[0] == index and r[2] == "qrelay" and r[3]), None)
        ratio = f"{secs / base[3]:.1f}x" if who == "naive" and base else ""
        print(f"{index:24} {events:>9,} {who:9} {secs:8.1f} {rss:12.0f} {n:7} {ratio:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
