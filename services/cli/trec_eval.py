"""``qrelay trec-eval``: trec_eval-compatible evaluation of a TREC run file.

    qrelay trec-eval [-q] [-c] [-J] [-l LEVEL] [-M DEPTH] -m MEASURE ... QRELS RUN

Prints ``measure<TAB>qid<TAB>value`` lines in trec_eval's format.  Only parses
arguments and calls :mod:`evaluators.metrics` (both files streamed, every
core busy; the very first run compiles its kernels for about a minute, every
later one loads them from numba's cache: ``python -m evaluators.metrics``
does that ahead, see :mod:`evaluators.metrics.jit`).
"""
from __future__ import annotations

import argparse
import gc
import mmap
import sys

from services.cli import CommandError
from services.cli.output import add_json_flag, print_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "trec-eval",
        help="evaluate a TREC run against qrels (trec_eval-compatible output)",
        description="Evaluate a TREC run file against qrels exactly as trec_eval does. Measures: "
        "map, Rprec, recip_rank, P.k, recall.k, ndcg, ndcg_cut.k, and (not in trec_eval) "
        "ndcg_exp_cut.k, err_cut.k, judged.k; cutoffs as 'P.5,10' or 'P_10'.",
    )
    p.add_argument("-q", dest="per_query", action="store_true", help="also print per-query values")
    p.add_argument("-c", dest="complete", action="store_true",
                   help="average over all qrels queries (missing ones count 0)")
    p.add_argument("-J", dest="judged_only", action="store_true",
                   help="condensed lists: drop unjudged documents before computing")
    p.add_argument("-l", dest="level", type=int, default=1,
                   help="minimum grade counted relevant by binary measures (default 1)")
    p.add_argument("-M", dest="depth", type=int, default=None, help="use at most DEPTH docs per query")
    p.add_argument("-m", dest="measures", action="append", default=None, metavar="MEASURE",
                   help="measure to compute (repeatable; default: map P.10 ndcg_cut.10 recip_rank)")
    p.add_argument("qrels", metavar="QRELS")
    p.add_argument("run", metavar="RUN")
    add_json_flag(p, '{"queries": N, "mean": {measure: value}} (with -q also "per_query": {measure: {qid: value}}), '
                     "at full precision")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # One evaluation and out: the cyclic garbage collector would only walk the objects numba creates as it
    # starts (about 0.1 s of a run); reference counting still frees everything else.
    collecting = gc.isenabled()
    gc.disable()
    try:
        ev = _evaluate(args)
    finally:
        if collecting:
            gc.enable()
    if args.json:
        doc = {"queries": ev.n_queries, "mean": {str(m): ev.mean[str(m)] for m in ev.measures}}
        if args.per_query:
            doc["per_query"] = {str(m): dict(zip(ev.qids, ev.per_query[str(m)].tolist())) for m in ev.measures}
        print_json(doc)
        return 0
    sys.stdout.write("\n".join(ev.lines(per_query=args.per_query)) + "\n")
    return 0


def _evaluate(args: argparse.Namespace):
    from evaluators.metrics import Options, TrecFormatError

    measures = args.measures or ["map", "P.10", "ndcg_cut.10", "recip_rank"]
    try:
        options = Options(relevance_level=args.level, max_depth=args.depth,
                          judged_only=args.judged_only, complete=args.complete)
        return evaluate_paths(args.qrels, args.run, measures, options)
    except TrecFormatError as exc:
        raise CommandError(str(exc)) from None
    except FileNotFoundError as exc:
        raise CommandError(f"cannot read {exc.filename}: no such file") from None
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None


def evaluate_paths(qrels_path, run_path, measures, options=None, threads: int | None = None):
    """Evaluate the TREC files at these paths, each memory-mapped (read in place, in bounded memory).

    A file that cannot be mapped (empty, or not a regular file: a pipe) is read whole.
    """
    from evaluators.metrics import evaluate

    return evaluate(_mapped(qrels_path), _mapped(run_path), measures, options, source=str(run_path),
                    qrels_source=str(qrels_path), threads=threads)


def _mapped(path):
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            return fh.read()
