"""qrelay trec-eval beside its peers: wall time and peak RSS, each contender in its own process.

    python bench/bench_trec_eval.py                 # 10,000 and 100,000 queries
    python bench/bench_trec_eval.py --sizes 10000 --million
    python bench/bench_trec_eval.py --sizes 1000000 --timeout 300 --dir /tmp/qb   # files generated once, reused

The first qrelay run ever also compiles its scanners (numba, cached on disk afterwards):
run it once before timing, as ranx is warmed.
Measures: ndcg_cut_10, P_10, recip_rank, map.

``qrelay (parse+compute)`` is ``qrelay trec-eval``: both files streamed side by side
(memory bounded whatever the number of queries).  ``qrelay (files in memory)`` reads both
files whole first and times parsing + computing on the bytes (so its peak grows with the
files).  ``time s`` is wall time of the timed section, ``cpu s`` its user + system CPU
time (steadier on a shared machine), ``proc s`` the whole process.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from gen_trec import generate  # noqa: E402

MEASURES = ["ndcg_cut.10", "P.10", "recip_rank", "map"]

CONTENDERS = {
    "qrelay (parse+compute)": """
import sys; sys.path.insert(0, ROOT)
from evaluators.metrics import evaluate_files
t = time.perf_counter(); ev = evaluate_files(Q, R, MEASURES); T = time.perf_counter() - t
OUT = ev.mean['ndcg_cut_10']
""",
    "qrelay (files in memory)": """
import sys; sys.path.insert(0, ROOT)
from evaluators.metrics import evaluate, parse_qrels, read_bytes
qr = parse_qrels(read_bytes(Q)); data = read_bytes(R)
t = time.perf_counter(); ev = evaluate(qr, data, MEASURES); T = time.perf_counter() - t
OUT = ev.mean['ndcg_cut_10']
""",
    "pytrec_eval + python loader": """
import pytrec_eval
t = time.perf_counter()
qrel, run = {}, {}
for line in open(Q):
    a = line.split(); qrel.setdefault(a[0], {})[a[2]] = int(a[3])
for line in open(R):
    a = line.split(); run.setdefault(a[0], {})[a[2]] = float(a[4])
res = pytrec_eval.RelevanceEvaluator(qrel, set(MEASURES)).evaluate(run)
T = time.perf_counter() - t
OUT = sum(v['ndcg_cut_10'] for v in res.values()) / len(res)
""",
    "ir_measures": """
import ir_measures
from ir_measures import nDCG, P, RR, AP
t = time.perf_counter()
agg = ir_measures.calc_aggregate([nDCG@10, P@10, RR, AP], ir_measures.read_trec_qrels(Q), ir_measures.read_trec_run(R))
T = time.perf_counter() - t
OUT = agg[nDCG@10]
""",
    "ranx (warm numba)": """
from ranx import Qrels, Run, evaluate
import tempfile, os
d = tempfile.mkdtemp()
open(os.path.join(d, 'q'), 'w').write('1 0 a 1\\n1 0 b 0\\n'); open(os.path.join(d, 'r'), 'w').write('1 Q0 a 1 2 x\\n1 Q0 b 2 1 x\\n')
evaluate(Qrels.from_file(os.path.join(d, 'q'), kind='trec'), Run.from_file(os.path.join(d, 'r'), kind='trec'), ['ndcg@10', 'precision@10', 'mrr', 'map'])
t = time.perf_counter()
res = evaluate(Qrels.from_file(Q, kind='trec'), Run.from_file(R, kind='trec'), ['ndcg@10', 'precision@10', 'mrr', 'map'])
T = time.perf_counter() - t
OUT = res['ndcg@10']
""",
}


def _limit_memory(gb: float):
    def apply():
        if gb > 0:
            limit = int(gb * (1 << 30))
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def run_contender(code: str, qrels: str, run: str, timeout: float, mem_gb: float = 0):
    # CPU seconds (user + system) of the timed section too: on a shared machine wall time is noise
    code = (code.replace("t = time.perf_counter()", "t = time.perf_counter(); c0 = _cpu()")
            .replace("T = time.perf_counter() - t", "T = time.perf_counter() - t; C = _cpu() - c0"))
    prog = ("import time, json, resource\nROOT=%r\nQ=%r\nR=%r\nMEASURES=%r\n" % (ROOT, qrels, run, MEASURES)
            + "def _cpu():\n    r = resource.getrusage(resource.RUSAGE_SELF)\n    return r.ru_utime + r.ru_stime\n"
            + code + "\nprint('RESULT', json.dumps([T, OUT, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, C]))\n")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout,
                           preexec_fn=_limit_memory(mem_gb))
    except subprocess.TimeoutExpired:
        return None, f"n/a: timeout after {timeout:.0f} s"
    wall = time.perf_counter() - t0
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            t, out, rss, cpu = json.loads(line[7:])
            return (t, wall, rss / 1024, out, cpu), None
    err = (p.stderr.strip().splitlines() or ["?"])[-1]
    oom = p.returncode in (-9, 137) or "MemoryError" in err or "bad_alloc" in p.stderr
    return None, (f"n/a: out of memory (limit {mem_gb:g} GB)" if oom and mem_gb else
                  f"n/a: exit {p.returncode} ({err[:80]})" + (" (OOM?)" if oom else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 100000])
    ap.add_argument("--million", action="store_true", help="also run 1,000,000 queries")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per contender")
    ap.add_argument("--mem-limit-gb", type=float, default=16,
                    help="address-space limit per contender (0: none); the machine has 24 GB")
    ap.add_argument("--only", nargs="*", help="contender name prefixes to run")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "qrelay-bench"))
    a = ap.parse_args()
    sizes = a.sizes + ([1_000_000] if a.million else [])
    for n in sizes:
        d = os.path.join(a.dir, str(n))
        if not os.path.exists(os.path.join(d, "run.txt")):
            generate(n, d)
        q, r = os.path.join(d, "qrels.txt"), os.path.join(d, "run.txt")
        mb = os.path.getsize(r) / 1e6
        print(f"\n{n:,} queries, run {mb:.0f} MB; times: measured in-process (process wall incl. imports)")
        rows = []
        for name, code in CONTENDERS.items():
            if a.only and not any(name.startswith(o) for o in a.only):
                continue
            res, why = run_contender(code, q, r, a.timeout, a.mem_limit_gb)
            rows.append((name, res, why))
        peers = [res[0] for name, res, _ in rows if res and not name.startswith("qrelay")]
        best = min(peers) if peers else None
        print(f"{'contender':30} {'time s':>8} {'cpu s':>8} {'proc s':>8} {'peak MB':>8} {'x fastest peer':>14} "
              f"{'mean nDCG@10':>13}")
        for name, res, why in rows:
            if res is None:
                print(f"{name:30} {why}")
                continue
            t, wall, rss, out, cpu = res
            ratio = f"{best / t:.1f}x" if best else "-"
            print(f"{name:30} {t:8.2f} {cpu:8.2f} {wall:8.2f} {rss:8.0f} {ratio:>14} {out:13.6f}")


if __name__ == "__main__":
    main()
