"""Incremental consensus beside a recompute from scratch, after 1,000 new judgements.

    .venv/bin/python bench/bench_consensus.py [--queries 5000] [--depth 10] [--overlap 3]
        [--new 1000] [--graders 100] [--keep]

Builds an evaluation of ``--queries`` queries × 2 rankers × top-``--depth`` results (the two
lists share about half their documents, so a query pools ~15 pointwise items) plus one
side-by-side item per query, every item with ``--overlap`` judgements from ``--graders``
simulated graders of mixed reliability (10% spammers), in Elasticsearch (``QRELAY_ES_URL``, else
a throw-away local node). Consensus is brought up to date once, then ``--new`` more judgements
arrive and, in one run, it prints the time to bring consensus up to date

* incrementally (what the server's worker does: read the judgements past the watermark, recompute
  the touched items from their own judgements with the current reliability model, write the
  changed documents),
* incrementally with a refit of the reliability model (what happens every N judgements),
* from scratch (read every judgement, fit, recompute every item, write every document),

with the ratio to the incremental time, the phases of each, the load average, and a check that
the incremental state equals the recompute with the same model. The report's update time is
printed once the report (engineer B's) is on main.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import pathlib
import sys
import tempfile
import time
import uuid

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from services.core import clock  # noqa: E402
from services.reporting import consensus as updater  # noqa: E402
from services.reporting.config import ReportingConfig  # noqa: E402
from services.store import consensus, evaluations, judgements, templates  # noqa: E402
from services.store import items as items_store  # noqa: E402


def build(args, evaluation_id: str):
    """Items (with a hidden true grade / preference sign) and the graders' judgements of them."""
    rng = np.random.default_rng(args.seed)
    now = clock.now()
    items, truth = [], []
    for q in range(args.queries):
        shared = rng.binomial(args.depth, 0.5)
        control = [f"q{q}d{i}" for i in range(args.depth)]
        treatment = control[:shared] + [f"q{q}t{i}" for i in range(args.depth - shared)]
        rng.shuffle(treatment)
        ranks: dict[str, dict[str, int]] = {}
        for ranker, docs in (("control", control), ("treatment", treatment)):
            for r, d in enumerate(docs, 1):
                ranks.setdefault(d, {})[ranker] = r
        base = {"evaluation_id": evaluation_id, "query": f"query {q}", "query_norm": f"query {q}",
                "locale": ("en-US", "es-MX", "de-DE")[q % 3], "stratum": ("head", "torso", "tail")[q % 3],
                **({"query_traffic": int(rng.integers(1, 500))} if "query_traffic" in items_store.FAMILY.properties else {}),
                "overlap": args.overlap, "needs_humans": True,
                "audit": False, "gold": False, "judgements": 0, "create_time": clock.iso(now)}
        for d, rk in ranks.items():
            items.append({**base, "item_id": f"{evaluation_id}-{d}", "kind": "pointwise",
                          "doc": {"doc_id": d, "title": d, "snippet": "", "url": "", "position": min(rk.values())},
                          "rankers": sorted(rk), "ranks": rk})
            truth.append(int(rng.integers(0, 4)))
        identical = shared == args.depth and control == treatment
        items.append({**base, "item_id": f"{evaluation_id}-q{q}-sxs", "kind": "side_by_side", "ranker_a": "control",
                      "ranker_b": "treatment", "identical": identical, "needs_humans": not identical,
                      "left": [], "right": []})
        truth.append(int(rng.choice([-1, 0, 1])))
    # graders: accuracy from 0.55 to 0.95, one in ten a spammer answering at random
    accuracy = rng.uniform(0.55, 0.95, args.graders)
    accuracy[rng.random(args.graders) < 0.1] = 0.0
    rows = []
    for it, t in zip(items, truth):
        if not it["needs_humans"]:
            continue
        for slot, g in enumerate(rng.choice(args.graders, args.overlap, replace=False)):
            right = rng.random() < accuracy[g]
            j = {"judgement_id": f"{it['item_id']}:{slot}", "assignment_id": f"{it['item_id']}:{slot}",
                 "item_id": it["item_id"], "evaluation_id": evaluation_id, "grader": f"g{g:03d}",
                 "locale": it["locale"], "kind": it["kind"], "gold": False}
            if it["kind"] == "pointwise":
                j["grade"] = t if right else int(rng.integers(0, 4))
            else:
                j["preference"] = int(t * rng.integers(1, 4)) if right else int(rng.integers(-3, 4))
            rows.append(j)
    order = rng.permutation(len(rows))
    return items, [rows[i] for i in order]


def write(es, index: str, docs, op: str = "index") -> None:
    from elasticsearch import helpers

    ok, errors = helpers.bulk(es.options(request_timeout=300), (
        {"_op_type": op, "_index": index, "_id": d.get("judgement_id") or d["item_id"], "_source": d} for d in docs),
        chunk_size=5000, raise_on_error=False)
    if errors:
        raise RuntimeError(f"{len(errors)} bulk errors, first: {errors[0]}")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=5000)
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--overlap", type=int, default=3)
    p.add_argument("--new", type=int, default=1000, help="judgements arriving after consensus was current")
    p.add_argument("--graders", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the indices (prefix printed)")
    args = p.parse_args()

    from elasticsearch import Elasticsearch

    from fixtures.elasticsearch.testing import running_elasticsearch

    url = os.environ.get("QRELAY_ES_URL")
    with tempfile.TemporaryDirectory(prefix="bench-consensus-es-") as data, \
            (contextlib.nullcontext(url) if url else running_elasticsearch(data, heap="1g")) as url:
        es = Elasticsearch(url, request_timeout=120)
        prefix = f"bench-consensus-{uuid.uuid4().hex[:6]}-"
        evaluation_id = "bench"
        try:
            return run(es, prefix, evaluation_id, args)
        finally:
            if not args.keep:
                names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all", allow_no_indices=True))
                if names:
                    es.indices.delete(index=",".join(names), ignore_unavailable=True)
                for t in es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*").body.get(
                        "index_templates", []):
                    es.indices.delete_index_template(name=t["name"])
            else:
                print(f"# kept indices {prefix}*")


def run(es, prefix: str, evaluation_id: str, args) -> int:
    cfg = ReportingConfig()
    templates.install(es, prefix)
    t0 = time.perf_counter()
    items, rows = build(args, evaluation_id)
    old, new = rows[:-args.new], rows[-args.new:]
    start = clock.now() - dt.timedelta(hours=6)
    for k, j in enumerate(old):  # graded over the last six hours
        j["submit_time"] = clock.iso(start + dt.timedelta(seconds=k * 6 * 3600 / len(old)))
    es.index(index=evaluations.index(prefix), id=evaluation_id, refresh=True, document={
        "evaluation_id": evaluation_id, "state": "GRADING", "owner_team": "bench",
        "create_time": clock.iso(start), "update_time": clock.iso(start)})
    write(es, f"{prefix}items", items)
    write(es, judgements.index(prefix), old, op="create")
    es.indices.refresh(index=f"{prefix}items,{judgements.index(prefix)}")
    print(f"# {args.queries} queries -> {len(items):,} items ({sum(i['kind'] == 'pointwise' for i in items):,} "
          f"pointwise), {len(rows):,} judgements by {args.graders} graders; written in {time.perf_counter() - t0:.0f} s",
          flush=True)

    state = updater.State()
    seen: dict[str, str] = {}
    n_seeded, t_seed = timed(lambda: updater.seed(es, prefix, evaluation_id))
    state.seeded, state.items = True, n_seeded
    es.indices.refresh(index=consensus.index(prefix))
    first, t_first = timed(lambda: updater.update(es, prefix, evaluation_id, state, cfg, seen=seen))
    print(f"# seeded {n_seeded:,} consensus documents in {t_seed:.1f} s; first pass over {state.judgements:,} "
          f"judgements (refit) in {t_first:.1f} s", flush=True)

    now = clock.now()
    for k, j in enumerate(new):
        j["submit_time"] = clock.iso(now + dt.timedelta(seconds=k * 0.01))
    write(es, judgements.index(prefix), new, op="create")
    es.indices.refresh(index=judgements.index(prefix))
    load_before = os.getloadavg()

    snapshot = updater.State.from_doc(state.to_doc())
    inc, t_inc = timed(lambda: updater.update(es, prefix, evaluation_id, state, cfg, seen=seen))
    assert not inc.refit and inc.new == args.new, (inc.refit, inc.new)
    es.indices.refresh(index=consensus.index(prefix))
    # the incremental state is what a recompute of every item with the same model gives
    models = state.models()
    stored = {d["item_id"]: d for d in consensus.of_evaluation(es, prefix, evaluation_id)}
    expect, t_same = timed(lambda: updater.recompute_all(es, prefix, evaluation_id, models))
    differ = len(updater.changed(expect, stored))

    again = updater.State.from_doc(snapshot.to_doc())
    refit, t_refit = timed(lambda: updater.update(es, prefix, evaluation_id, again, cfg, seen=dict(seen),
                                                  force_refit=True))

    def scratch():
        labels = updater.recompute_all(es, prefix, evaluation_id)
        now_iso = clock.now_iso()
        written, errors = consensus.update(es, prefix, ((i, {**d, "update_time": now_iso}) for i, d in labels.items()))
        assert not errors
        return written
    written, t_scratch = timed(scratch)
    load_after = os.getloadavg()

    print()
    print(f"Consensus up to date after {args.new:,} new judgements ({state.judgements:,} in all, "
          f"{len(items):,} items); one run, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} cores)")
    print()
    print(f"| {'path':48} | {'seconds':>8} | {'× incremental':>13} | items recomputed | documents written |")
    print(f"|{'-' * 50}|{'-' * 10}|{'-' * 15}|{'-' * 18}|{'-' * 19}|")
    for name, secs, res_recomputed, res_written in (
            ("incremental (worker pass)", t_inc, inc.recomputed, inc.written),
            ("incremental with a refit of the model", t_refit, refit.recomputed, refit.written),
            ("from scratch (read all, fit, recompute, write)", t_scratch, len(expect), written)):
        print(f"| {name:48} | {secs:8.2f} | {secs / t_inc:13.1f} | {res_recomputed:16,} | {res_written:17,} |")
    print()
    print("phases (s): incremental " + ", ".join(f"{k} {v:.2f}" for k, v in inc.seconds.items()))
    print("            with refit  " + ", ".join(f"{k} {v:.2f}" for k, v in refit.seconds.items()))
    print(f"incremental state vs a recompute of all {len(expect):,} judged items with the same model: "
          f"{differ} differ (recompute took {t_same:.1f} s)")
    print("report: not measured (GetEvaluationReport is not on main yet)")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
