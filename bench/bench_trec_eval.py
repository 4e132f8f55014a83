"""qrelay trec-eval beside its peers: wall and CPU seconds and peak RSS, each contender in its own process.

    python bench/bench_trec_eval.py                           # 10,000 and 100,000 queries
    python bench/bench_trec_eval.py --sizes 10000 100000 1000000 --dir /tmp/qb   # files generated once, reused

Every contender does the same work in its timed section — read both files,
parse them, compute ndcg_cut_10, P_10, recip_rank and map — and runs in a
process of its own (``proc s``: the whole process, imports included).
``qrelay`` is ``evaluate_paths`` (what ``qrelay trec-eval`` calls), its
compiled kernels loaded from numba's cache before the clock starts, as ranx
is warmed on a tiny input (run ``python -m evaluators.metrics`` once first so
that nothing compiles; loading and numba's start-up count in ``proc s``);
``qrelay parse only`` reads and checks both files the same way (every line,
score and judgement, on every core) but joins, ranks and computes nothing;
``wc -l`` reads both files once: the floor.  ``x pytrec`` is pytrec_eval's
time over the row's, for the timed section and for the whole process; the
load average of the machine is printed before and after each size (on a
busy machine the threads of a parallel contender wait for a core: compare
``x pytrec cpu`` too).  The peers hold every query in memory (pytrec_eval
2.3 GB at 100,000 queries): at 1,000,000 they stop at ``--mem-limit-gb``.
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
    "qrelay": """
import sys; sys.path.insert(0, ROOT)
from evaluators.metrics import evaluate
from services.cli.trec_eval import evaluate_paths
evaluate(b'1 0 a 1\\n', b'1 Q0 a 1 1 r\\n', MEASURES)  # loads the kernels from the cache (and numba), as ranx is warmed
t = time.perf_counter()
ev = evaluate_paths(Q, R, MEASURES)
T = time.perf_counter() - t
OUT = ev.mean['ndcg_cut_10']
""",
    "qrelay parse only": """
import sys; sys.path.insert(0, ROOT); sys.path.insert(0, ROOT + '/bench')
from bench_trec_eval import parse_files
parse_files(b'1 0 a 1\\n', b'1 Q0 a 1 1 r\\n')  # the first call loads the kernels from the cache, as in qrelay's row
t = time.perf_counter()
lines = parse_files(Q, R)
T = time.perf_counter() - t
OUT = float(lines)
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
    "wc -l (floor)": """
import subprocess
t = time.perf_counter()
out = subprocess.run(['wc', '-l', Q, R], capture_output=True, check=True).stdout.split()
T = time.perf_counter() - t
OUT = float(out[-2])
""",
}


def parse_files(qrels, run) -> int:
    """qrelay's reading alone, on every core: the qrels indexed and parsed window by window, the run's lines
    checked span by span (fields, scores) — no join, ranking or measures.  Returns the run's result lines."""
    import evaluators.metrics  # noqa: F401  (the package re-exports a function named evaluate)
    from evaluators.metrics.registry import parse_measures
    from evaluators.metrics.trec import SegmentReader, index_qrels
    from services.cli.trec_eval import _mapped

    qrels, run = (_mapped(f) if isinstance(f, str) else f for f in (qrels, run))
    ev = sys.modules["evaluators.metrics.evaluate"]
    index = index_qrels(qrels)
    engine = ev._Engine(index, 0, parse_measures(["map"]), ev.Options(), "<run>", "<qrels>")
    n_threads = ev._threads(None)
    lines = []

    def work(_, buf, task):
        judgements = ev.parse_window(index, task.lo, task.hi, task.data).arrays()
        out = engine.span(buf, task.a, task.b, judgements, 0, -1, check_only=True) if task.b > task.a else ev._Outcome()
        lines.append(out.content)
        return out

    def plan(buf, a, n, final):
        end, _, _ = ev.span_end(buf, a, n, final, ev._SPAN, engine.index)
        return end, [ev._Task(a, end, 0, -1, b"")]

    with ev.ThreadPoolExecutor(max(n_threads - 1, 1)) as pool:
        order = ev._InOrder(engine, pool, 4 * n_threads, work)
        reader, seg, lo = SegmentReader(qrels), index.segment, 0
        while lo < index.n_queries:  # windows of 8 MB
            hi = max(lo, int(ev.np.searchsorted(seg, seg[lo] + (1 << 23), side="right")) - 2)
            order.put(None, ev._Task(0, 0, lo, hi, reader.read(int(seg[lo]), int(seg[hi + 1]))))
            lo = hi + 1
            reader.release(int(seg[order.oldest().lo]))
        order.drain()
        ev._stream_spans(order, run, n_threads, plan)
    return sum(lines)


def _limit_memory(gb: float):
    def apply():
        if gb > 0:
            limit = int(gb * (1 << 30))
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def run_contender(code: str, qrels: str, run: str, timeout: float, mem_gb: float = 0):
    """(timed wall s, process wall s, peak RSS MB, result, timed CPU s) or (None, why)."""
    # CPU seconds (user + system, children too: wc) of the timed section: on a shared machine wall time is noise
    code = (code.replace("t = time.perf_counter()", "t = time.perf_counter(); c0 = _cpu()")
            .replace("T = time.perf_counter() - t", "T = time.perf_counter() - t; C = _cpu() - c0"))
    prog = ("import time, json, resource\nROOT=%r\nQ=%r\nR=%r\nMEASURES=%r\n" % (ROOT, qrels, run, MEASURES)
            + "def _cpu():\n    r = resource.getrusage(resource.RUSAGE_SELF); c = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            + "    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime\n"
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


def _load() -> str:
    return "%.2f %.2f %.2f" % os.getloadavg()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 100000])
    ap.add_argument("--timeout", type=float, default=600, help="seconds per contender")
    ap.add_argument("--mem-limit-gb", type=float, default=8,
                    help="address-space limit per contender (0: none); the machine has 24 GB, shared")
    ap.add_argument("--only", nargs="*", help="contender name prefixes to run")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per contender; the one with the shortest timed section is shown (a busy machine "
                         "slows runs down, never speeds them up)")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "qrelay-bench"))
    a = ap.parse_args()
    print(f"{os.cpu_count()} cores; measures {' '.join(MEASURES)}")
    for n in a.sizes:
        d = os.path.join(a.dir, str(n))
        if not os.path.exists(os.path.join(d, "run.txt")):
            generate(n, d)
        q, r = os.path.join(d, "qrels.txt"), os.path.join(d, "run.txt")
        print(f"\n{n:,} queries: run {os.path.getsize(r) / 1e6:.0f} MB, qrels {os.path.getsize(q) / 1e6:.0f} MB; "
              f"best of {max(a.repeat, 1)}; load average before: {_load()}")
        rows = []
        for name, code in CONTENDERS.items():
            if a.only and not any(name.startswith(o) for o in a.only):
                continue
            runs = [run_contender(code, q, r, a.timeout, a.mem_limit_gb) for _ in range(max(a.repeat, 1))]
            res, why = min(runs, key=lambda rw: rw[0][0] if rw[0] else float("inf"))
            rows.append((name, res, why))
        ref = next((res for name, res, _ in rows if name.startswith("pytrec") and res), None)
        print(f"{'contender':28} {'time s':>7} {'cpu s':>7} {'proc s':>7} {'peak MB':>8} {'x pytrec':>8} "
              f"{'x pytrec cpu':>12} {'x pytrec proc':>13}  result")
        for name, res, why in rows:
            if res is None:
                print(f"{name:28} {why}")
                continue
            t, wall, rss, out, cpu = res
            ratio = f"{ref[0] / t:.1f}x" if ref else "-"
            cratio = f"{ref[4] / cpu:.1f}x" if ref and cpu > 0 else "-"
            pratio = f"{ref[1] / wall:.1f}x" if ref else "-"
            print(f"{name:28} {t:7.2f} {cpu:7.2f} {wall:7.2f} {rss:8.0f} {ratio:>8} {cratio:>12} {pratio:>13}  "
                  f"{out:.6g}")
        print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
