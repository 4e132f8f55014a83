"""``qrelay aggregate``: aggregate crowd labels from a CSV file.

    qrelay aggregate --method dawid-skene [--gold GOLD.csv] [--seed N] [-o OUT.csv] LABELS.csv

LABELS.csv has a header with columns ``item``, ``worker``, ``label`` (others are
ignored); GOLD.csv has ``item``, ``label``. ``-`` reads standard input. Labels that
are all integers are treated as integer grades (so 10 sorts after 9); otherwise as
strings. Writes ``item,label,confidence`` (confidence = posterior probability of
the chosen label, or the vote share for majority) to stdout or ``-o``. When a model's
labels move far from majority vote's (a likely degenerate fit) it says so on stderr
and writes the majority-vote labels instead.
CSV handling lives here; the computation is ``evaluators.aggregation``.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
import warnings

import numpy as np

from services.cli import CommandError
from services.cli.output import add_json_flag

METHODS = ("majority", "dawid-skene", "one-coin", "ordinal-ds")
GRADED = ("ordinal-ds",)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "aggregate",
        help="aggregate crowd labels (item,worker,label CSV) into one label per item",
        description=__doc__.split("\n\n")[2] if __doc__ else None,
    )
    p.add_argument("labels", metavar="LABELS.csv", help="CSV with header item,worker,label ('-' for stdin)")
    p.add_argument("--method", choices=METHODS, default="dawid-skene",
                   help="aggregation model (default: dawid-skene)")
    p.add_argument("--gold", metavar="GOLD.csv", help="CSV with header item,label: known labels clamped during fitting")
    p.add_argument("--seed", type=int, default=None, help="majority: break ties at random with this seed (default: the median "
                        "tied grade for integer labels, else the lowest label)")
    p.add_argument("-o", "--output", metavar="OUT.csv", help="write here instead of stdout")
    add_json_flag(p, '{"method", "converged", "guard", "labels": [{"item", "label", "confidence"}]} instead of CSV')
    p.set_defaults(func=run)


def _open(path: str):
    if path == "-":
        return sys.stdin
    try:
        return open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None


def read_columns(path: str, required: tuple[str, ...]) -> dict[str, list[str]]:
    """Read the ``required`` columns of a CSV with a header; CommandError with ``file:line`` on bad rows."""
    name = "<stdin>" if path == "-" else path
    handle = _open(path)
    try:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CommandError(f"{name}:1: {exc}") from None
        if header is None or not any(h.strip() for h in header):
            raise CommandError(f"{name}: empty file (expected a header with columns {','.join(required)})")
        header = [h.strip().lstrip("\ufeff").lower() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            raise CommandError(f"{name}:1: header lacks column(s) {', '.join(missing)} "
                               f"(expected {','.join(required)}, got {','.join(header)})")
        index = [header.index(c) for c in required]
        out: dict[str, list[str]] = {c: [] for c in required}
        lines: list[int] = []
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue  # blank line
                if len(row) != len(header):
                    raise CommandError(f"{name}:{line}: expected {len(header)} fields, got {len(row)}")
                for c, i in zip(required, index):
                    value = row[i].strip()
                    if not value:
                        raise CommandError(f"{name}:{line}: empty {c}")
                    out[c].append(value)
                lines.append(line)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CommandError(f"{name}:{reader.line_num}: {exc}") from None
        if not lines:
            raise CommandError(f"{name}: no rows after the header")
        out["_line"] = lines  # type: ignore[assignment]
        return out
    finally:
        if handle is not sys.stdin:
            handle.close()


def _as_labels(values: list[str], lines: list[int], name: str, graded: bool) -> np.ndarray:
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    if graded:
        for v, line in zip(values, lines):
            try:
                int(v)
            except ValueError:
                raise CommandError(f"{name}:{line}: label {v!r} is not an integer grade") from None
    return np.array(values, dtype=str)


def _model(method: str, seed: int | None, integer_labels: bool):
    from evaluators.aggregation import DawidSkene, MajorityVote, OneCoinDawidSkene, OrdinalDawidSkene

    if method == "majority":
        # Ties: random with --seed; otherwise the median grade for integer labels, the lowest label else.
        tie = "random" if seed is not None else ("median" if integer_labels else "lowest")
        return MajorityVote(tie=tie, seed=seed)
    if method == "dawid-skene":
        return DawidSkene()
    if method == "one-coin":
        return OneCoinDawidSkene()
    return OrdinalDawidSkene()


def run(args: argparse.Namespace) -> int:
    name = "<stdin>" if args.labels == "-" else args.labels
    cols = read_columns(args.labels, ("item", "worker", "label"))
    graded = args.method in GRADED
    labels = _as_labels(cols["label"], cols["_line"], name, graded)
    if graded and (labels < 0).any():
        line = cols["_line"][int(np.flatnonzero(labels < 0)[0])]
        raise CommandError(f"{name}:{line}: grades must be non-negative")
    gold = None
    if args.gold:
        g = read_columns(args.gold, ("item", "label"))
        g_labels = _as_labels(g["label"], g["_line"], args.gold, graded)
        if g_labels.dtype.kind != labels.dtype.kind:
            # One side parsed as integers, the other not: compare as strings.
            labels, g_labels = labels.astype(str), g_labels.astype(str)
        gold = {}
        for item, label, line in zip(g["item"], g_labels.tolist(), g["_line"]):
            if item in gold and gold[item] != label:
                raise CommandError(f"{args.gold}:{line}: item {item!r} has two different gold labels")
            gold[item] = label
    model = _model(args.method, args.seed, labels.dtype.kind == "i")
    from evaluators.aggregation import AggregationWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AggregationWarning)
            model.fit({"item": np.array(cols["item"], dtype=str), "worker": np.array(cols["worker"], dtype=str),
                       "label": labels}, gold=gold)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    for w in caught:
        # The majority-vote guard (a likely degenerate fit): say so, the output is still written.
        if issubclass(w.category, AggregationWarning):
            print(f"qrelay aggregate: warning: {w.message}", file=sys.stderr)
    rows = zip(model.items_.tolist(), model.labels_.tolist(), model.confidence_.tolist())
    buf = io.StringIO()
    if args.json:
        guard = getattr(model, "guard_", None)
        json.dump({"method": args.method, "converged": getattr(model, "converged_", None),
                   "guard": dataclasses.asdict(guard) if guard is not None else None,
                   "labels": [{"item": i, "label": lab, "confidence": round(c, 6)} for i, lab, c in rows]},
                  buf, default=str)
        buf.write("\n")
    else:
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(("item", "label", "confidence"))
        for item, label, conf in rows:
            writer.writerow((item, label, f"{conf:.6f}"))
    if args.output:
        try:
            with open(args.output, "w", newline="", encoding="utf-8") as fh:
                fh.write(buf.getvalue())
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(buf.getvalue())
    return 0
