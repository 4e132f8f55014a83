"""``qrelay report`` and ``qrelay compare``: ReportingService for search engineers, as tables.

Every number is printed with the count behind it; ``--json`` prints the message instead. Each
number is quoted as the report leads with it (prediction-powered, human-only, or the label
set's), beside the others, and the label set is named with its lineage.
"""
from __future__ import annotations

import argparse
import math

from services._proto.qrelay.v1 import evaluation_pb2, reporting_pb2 as rp, reporting_pb2_grpc
from services.cli.client import add_connection_flags, channel, metadata
from services.cli.eval import STOPPING_RULE_HELP, STOPPING_RULES
from services.cli.output import add_json_flag, print_json


def _common(p: argparse.ArgumentParser, measures_help: str) -> None:
    add_connection_flags(p)
    p.add_argument("evaluation", help="evaluations/ID or ID")
    p.add_argument("--measure", "-m", action="append", default=[], metavar="M",
                   help=f"{measures_help} (repeatable; trec_eval names: ndcg_cut_10, P_10, recip_rank, map, "
                        "err_cut_10, ...)")
    p.add_argument("--segment-by", action="append", default=[], metavar="FIELD",
                   help="break down by a field the evaluation was stratified by: band, locale, device, ... "
                        "(repeatable: fields cross)")
    p.add_argument("--segment", action="append", default=[], metavar="KEY",
                   help="only this segment, e.g. locale=es-MX,band=tail (repeatable)")
    p.add_argument("--confidence", type=float, default=0.0, help="confidence level of intervals (default 0.95)")
    p.add_argument("--relabel-with", default="", metavar="EVAL",
                   help="re-score this evaluation's runs with another (newer) evaluation's label set: pooled items "
                        "take the labels that evaluation gives the same query, locale and document, so a change "
                        "against the plain report is a label change only")
    add_json_flag(p, "the answer (the message's JSON mapping)")


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="metrics per ranker and segment with intervals, coverage and grading work",
                       description="An evaluation's report: per ranker and segment, each measure's traffic-weighted "
                                   "mean with its interval and query count, the unweighted mean (what trec_eval "
                                   "prints on the export) and the judged share; coverage, automation, inter-rater "
                                   "agreement, grading time and cost. Example: qrelay report EVAL --segment-by locale")
    _common(r, "measure to report (default ndcg_cut_10, P_10, recip_rank, map)")
    r.set_defaults(func=report)
    c = sub.add_parser("compare", help="candidate minus baseline with intervals, p-values and a plain sentence",
                       description="Compare two rankers of an evaluation: per measure and segment the paired "
                                   "difference with its interval, t-test and randomisation p-values (Holm across "
                                   "segments), the side-by-side verdict, and one sentence for a launch review. "
                                   "Example: qrelay compare EVAL --baseline control --candidate treatment "
                                   "--segment-by locale --segment-by band")
    _common(c, "measure to compare (default ndcg_cut_10; the first is the headline)")
    c.add_argument("--baseline", required=True, help="baseline ranker id")
    c.add_argument("--candidate", required=True, help="candidate ranker id")
    c.add_argument("--min-effect", type=float, default=0.0, metavar="D",
                   help="smallest headline difference that matters (e.g. 0.01 for NDCG@10): the anytime-valid "
                        "decision also stops once the difference is shown to be smaller; with --stopping-rule "
                        "excludes-min-effect, the gain the candidate must show")
    c.add_argument("--stopping-rule", choices=list(STOPPING_RULES), default="sign-or-equivalence",
                   help=f"{STOPPING_RULE_HELP}; pass the evaluation's own rule and --min-effect to see the decision "
                        "its early stop watches")
    c.set_defaults(func=compare)


def _name(text: str) -> str:
    return text if text.startswith("evaluations/") else f"evaluations/{text}"


def _f(x: float, digits: int = 4, signed: bool = False) -> str:
    if not math.isfinite(x):
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _ci(i, digits: int = 4, signed: bool = False) -> str:
    if not (math.isfinite(i.low) and math.isfinite(i.high)):
        return "—"
    return f"[{_f(i.low, digits, signed)}, {_f(i.high, digits, signed)}]"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "—"
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(header)] + [line(r) for r in rows]


def _segment(key: str) -> str:
    return key or "overall"


def _show(args, method: str, request, lines) -> int:
    """Call ``method`` and print its answer: a table (``lines(answer)``) or, with --json, the message."""
    with channel(args) as ch:
        r = getattr(reporting_pb2_grpc.ReportingServiceStub(ch), method)(request, metadata=metadata(args),
                                                                           timeout=args.timeout)
    if args.json:
        print_json(r)
    else:
        print("\n".join(lines(r)))
    return 0


def report(args: argparse.Namespace) -> int:
    return _show(args, "GetEvaluationReport", rp.GetEvaluationReportRequest(
        name=_name(args.evaluation), measures=args.measure, segment_by=args.segment_by, segments=args.segment,
        confidence=args.confidence, relabel_with=_name(args.relabel_with) if args.relabel_with else ""), report_lines)


def _estimate(e, digits: int = 4, signed: bool = False) -> str:
    """``value [low, high]``, or why there is none."""
    if not e.available:
        return "n/a"
    return f"{_f(e.value, digits, signed)} {_ci(e.interval, digits, signed)}" if e.HasField("interval") else \
        _f(e.value, digits, signed)


def _lead(msg, label_value: float, label_interval, digits: int = 4, signed: bool = False) -> tuple[str, str, str]:
    """``(quoted value, its interval, by whom)`` of a message with ``estimates`` and ``lead``."""
    e = next((x for x in msg.estimates if x.kind == msg.lead), None)
    if e is None or not e.HasField("interval"):
        return _f(label_value, digits, signed), _ci(label_interval, digits, signed), "labels"
    return _f(e.value, digits, signed), _ci(e.interval, digits, signed), msg.lead


def _others(msg, digits: int = 4, signed: bool = False) -> list[str]:
    by = {e.kind: e for e in msg.estimates}
    return [_estimate(by[k], digits, signed) if k in by else "—" for k in ("human", "model", "ppi")]


def lineage_lines(ls: rp.LabelSet) -> list[str]:
    """The label set and where its labels came from, one line per part."""
    source = (f" from {ls.source} ({ls.relabelled_items:,} items matched, {ls.unmatched_items:,} not)"
              if ls.source else "")
    out = [f"labels      {ls.version}{source}"]
    for c in ls.consensus:
        params = ", ".join(f"{k}={v}" for k, v in sorted(c.parameters.items()))
        fit = f"; fit {c.fit_id} on {c.fitted_on:,} judgements" if c.fit_id else ""
        params = f" [{params}]" if params else ""
        out.append(f"  consensus {c.kind}: {c.method} ({c.labels:,} labels{fit}){params}")
    for m in ls.models:
        cal = m.calibration_id or "unrecorded"
        out.append(f"  model     {m.model}, calibration {cal} ({m.items:,} items; threshold {m.threshold:g}, audit "
                   f"share {m.audit_share:g})")
    for g in ls.guidelines:
        version = g.version if g.version.startswith(g.kind) else f"{g.kind} {g.version}"
        out.append(f"  guideline {version}: {g.judgements:,} judgements")
    return out


def report_lines(r: rp.EvaluationReport) -> list[str]:
    state = evaluation_pb2.EvaluationState.Name(r.state)
    ls = r.label_set
    out = [f"{r.name}  {state}  labels {ls.version} ({ls.method or 'no human labels yet'}"
           f"{'; model ' + ls.model if ls.model else ''}), {r.confidence:.0%} intervals"]
    out += lineage_lines(ls)
    if r.partial:
        out.append(f"PARTIAL: {r.partial_reason}")
    c = r.coverage
    share = c.queries_complete / c.queries if c.queries else 0.0
    out.append(f"coverage    {c.queries_complete:,} of {c.queries:,} queries complete ({share:.0%}); "
               f"{c.items_labelled:,} of {c.items:,} items labelled: {c.items_human:,} human, {c.items_model:,} model, "
               f"{c.items_tie:,} tie; traffic covered {c.traffic_covered:.1%}")
    a = r.automation
    agree = (f", agreement {a.agreement:.1%} of {a.audit_judged:,} judged" if a.HasField("agreement")
             else ", none judged yet")
    out.append(f"automation  {a.automation_rate:.1%} settled by the model ({a.auto_judged:,} auto-judged; "
               f"{a.audit:,} audited{agree if a.audit else ''})")
    g = r.agreement
    alpha = (f"Krippendorff's alpha {g.krippendorff_alpha:.3f} (ordinal) over {g.units:,} items with 2+ judgements "
             f"({g.judgements:,} judgements)" if g.HasField("krippendorff_alpha") else "no item has 2+ judgements yet")
    if g.HasField("krippendorff_alpha_sxs"):
        alpha += f"; side by side {g.krippendorff_alpha_sxs:.3f} (interval) over {g.units_sxs:,} items"
    out.append(f"agreement   {alpha}")
    w = r.grading
    cost = f", cost {w.cost:,.2f} {w.currency}" if w.currency else ""
    gold = f", gold {w.gold_correct:,} of {w.gold_judgements:,} correct" if w.gold_judgements else ""
    out.append(f"grading     {w.judgements:,} judgements by {w.graders:,} graders, {w.seconds_on_task / 3600:,.1f} h on "
               f"task (median {w.median_seconds_on_task:.1f} s){gold}{cost}")
    out.append("")
    rows, why = [], {}
    for seg in r.segments:
        for rk in seg.rankers:
            for m in rk.metrics:
                value, ci, by = _lead(m, m.mean, m.interval)
                rows.append([_segment(seg.key), rk.ranker, m.measure, value, ci, by, *_others(m),
                             f"{_f(m.mean)} {_ci(m.interval)}", f"{m.queries:,}", _f(m.unweighted_mean),
                             f"{m.judged_share:.1%}", f"{seg.traffic_share:.1%}"])
                if not seg.key and m.lead_reason:
                    why.setdefault(m.lead_reason, []).append(f"{rk.ranker} {m.measure}")
    out += _table(["segment", "ranker", "measure", "estimate", f"{r.confidence:.0%} CI", "by", "human-only",
                   "model-only", "prediction-powered", "label set", "queries", "unweighted", "judged", "traffic"],
                  rows, {3, 10, 11, 12, 13})
    out += ["", "why these estimates (overall):"] + [f"  {', '.join(who)}: {reason}" for reason, who in why.items()]
    out += ["", f"estimator: {r.estimator}"]
    return out


def compare(args: argparse.Namespace) -> int:
    return _show(args, "CompareRankers", rp.CompareRankersRequest(
        name=_name(args.evaluation), baseline=args.baseline, candidate=args.candidate, measures=args.measure,
        segment_by=args.segment_by, segments=args.segment, confidence=args.confidence,
        relabel_with=_name(args.relabel_with) if args.relabel_with else "", min_effect=args.min_effect,
        stopping_rule=STOPPING_RULES[args.stopping_rule]),
        compare_lines)


def sequential_line(s: rp.SequentialDecision) -> str:
    """The anytime-valid decision in one line."""
    if s.decision == "decided":
        return (f"anytime-valid: DECIDED, {s.verdict.replace('min_effect', f'{s.min_effect:g}')}, at query "
                f"{s.decided_at_look:,} of {s.eligible:,} (sequence {_ci(s.decided_interval, signed=True)}; now "
                f"{_ci(s.interval, signed=True)} after {s.looks:,})")
    rule = " (excludes-min-effect rule)" if s.rule == evaluation_pb2.EXCLUDES_MIN_EFFECT else ""
    return (f"anytime-valid: KEEP GRADING, {s.looks:,} of {s.eligible:,} queries complete, sequence "
            f"{_ci(s.interval, signed=True)}{f', min effect {s.min_effect:g}{rule}' if s.min_effect else ''}")


def compare_lines(r: rp.RankerComparison) -> list[str]:
    out = [f"{r.name}: {r.candidate} (candidate) vs {r.baseline} (baseline), {r.confidence:.0%} intervals, "
           f"labels {r.label_set.version}"]
    if r.partial:
        out.append(f"PARTIAL: {r.partial_reason}")
    out += lineage_lines(r.label_set)
    out += ["", r.summary, sequential_line(r.sequential), ""]
    rows = []
    for d in r.differences:
        value, ci, by = _lead(d, d.difference, d.interval, signed=True)
        rows.append([d.measure, _segment(d.segment), _f(d.baseline_mean), _f(d.candidate_mean), value, ci, by,
                     *_others(d, signed=True), f"{_f(d.difference, signed=True)} {_ci(d.interval, signed=True)}",
                     _p(d.p_value_t), _p(d.p_value_permutation), _p(d.p_value_holm), f"{d.queries:,}",
                     "*" if d.significant else ""])
    out += _table(["measure", "segment", r.baseline, r.candidate, "difference", f"{r.confidence:.0%} CI", "by",
                   "human-only", "model-only", "prediction-powered", "label set", "p (t)", "p (rand)", "p (Holm)",
                   "queries", ""], rows, {2, 3, 4, 11, 12, 13, 14})
    if r.verdicts:
        out.append("")
        rows = [[_segment(v.segment), f"{v.wins:,}", f"{v.ties:,}", f"{v.losses:,}",
                 *_lead(v, v.mean_preference, v.interval, 3, True), *_others(v, 3, True),
                 f"{_f(v.mean_preference, 3, True)} {_ci(v.interval, 3, True)}", _p(v.p_value_sign),
                 _p(v.p_value_wilcoxon), f"{v.items:,}", f"{v.items_human:,}"] for v in r.verdicts]
        out += _table(["side by side", "wins", "ties", "losses", "mean pref", f"{r.confidence:.0%} CI", "by",
                       "human-only", "model-only", "prediction-powered", "label set", "p (sign)", "p (Wilcoxon)",
                       "items", "human"], rows, {1, 2, 3, 4, 11, 12, 13, 14})
    if r.differences and r.differences[0].lead_reason:
        out += ["", f"why: {r.differences[0].lead_reason}"]
    out += ["", "* significant after Holm's correction across segments (label set's randomisation test)",
            f"sequential: {r.sequential.method}", f"estimator: {r.estimator}"]
    return out
