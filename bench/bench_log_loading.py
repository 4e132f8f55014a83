"""Loading fixture search logs into Elasticsearch: our loader beside a naive ``es.index`` loop.

    python bench/bench_log_loading.py                 # starts a throw-away local node
    python bench/bench_log_loading.py --events 1000000 --naive-events 20000 --es-url http://127.0.0.1:9200

Ours: ``fixtures.logs.loader.load_events`` (parallel_bulk, orjson bodies, refresh off during
the load) on ``--events`` events streamed straight from the generator (memory stays flat: the
peak RSS is printed). Naive: one ``es.index`` call per event on a ``--naive-events`` slice,
run first, so it never meets the merges that follow the big load.
Prints a table with events/s and the ratio.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from elasticsearch import Elasticsearch  # noqa: E402

from fixtures.logs import loader  # noqa: E402
from fixtures.logs.generator import GeneratorConfig, LogGenerator  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(es: Elasticsearch, n: int, n_naive: int, threads: int, chunk: int, keep: str | None = None) -> None:
    gen = LogGenerator(GeneratorConfig(seed=1))
    prefix = f"bench-logs-{os.getpid()}"
    t = time.perf_counter()
    n_gen = sum(1 for _ in gen.events(min(n, 200_000)))
    gen_rate = n_gen / (time.perf_counter() - t)
    print(f"generator alone: {gen_rate:,.0f} events/s ({n_gen:,} events), peak RSS {_rss_mb():.0f} MB", flush=True)

    # The naive loop runs first, on a quiet node: after the big load, merges would slow it down
    # and inflate the ratio.
    naive_index = f"{prefix}-naive"
    loader.ensure_index(es, naive_index, loader.log_mappings(), replicas=0)
    t = time.perf_counter()
    for e in gen.events(n_naive):
        es.index(index=naive_index, id=e["event_id"], document=e)
    es.indices.refresh(index=naive_index)
    naive_s = time.perf_counter() - t
    assert es.count(index=naive_index)["count"] == n_naive

    ours = loader.load_events(es, gen.events(n), f"{prefix}-ours", threads=threads, chunk_size=chunk,
                              progress=lambda r: print(f"  ours: {r.total:,} ({r.total / (time.perf_counter() - t0):,.0f}/s, "
                                                       f"RSS {_rss_mb():.0f} MB)", flush=True),
                              progress_every=100_000) if (t0 := time.perf_counter()) else None
    assert ours.ok, ours.summary()
    rss_after_ours = _rss_mb()

    rows = [
        ("qrelay loader (parallel_bulk)", ours.total, ours.seconds, ours.per_second),
        ("naive es.index loop", n_naive, naive_s, n_naive / naive_s),
    ]
    print()
    print(f"{'loader':32} {'events':>10} {'seconds':>9} {'events/s':>10} {'ratio':>7}")
    for name, count, secs, rate in rows:
        print(f"{name:32} {count:>10,} {secs:>9.1f} {rate:>10,.0f} {rate / rows[1][3]:>6.1f}x")
    print(f"\npeak RSS of this process: {rss_after_ours:.0f} MB after {ours.total:,} events "
          f"(threads={threads}, chunk={chunk}, orjson={'orjson' in sys.modules})")
    es.indices.delete(index=naive_index, ignore_unavailable=True)
    if keep:  # e.g. for bench/bench_evaluation.py, which samples from 1M events
        es.indices.put_settings(index=f"{prefix}-ours", settings={"index.blocks.write": True})
        es.indices.clone(index=f"{prefix}-ours", target=keep)
        print(f"kept the loaded events as {keep}")
    es.indices.delete(index=f"{prefix}-ours", ignore_unavailable=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--naive-events", type=int, default=20_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--chunk-size", type=int, default=1000)
    p.add_argument("--es-url", default=os.environ.get("QRELAY_ES_URL"))
    p.add_argument("--heap", default="2g", help="heap of the throw-away node")
    p.add_argument("--keep", metavar="INDEX", help="with --es-url: keep the loaded events under this index name")
    args = p.parse_args()
    if args.es_url:
        es = Elasticsearch(args.es_url, request_timeout=120)
        run(es, args.events, args.naive_events, args.threads, args.chunk_size, args.keep)
        return 0
    from fixtures.elasticsearch.testing import running_elasticsearch

    with tempfile.TemporaryDirectory(prefix="qrelay-bench-es-") as data, running_elasticsearch(data, heap=args.heap) as url:
        es = Elasticsearch(url, request_timeout=120)
        print(f"local node {url} ({es.info()['version']['number']})", flush=True)
        run(es, args.events, args.naive_events, args.threads, args.chunk_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
