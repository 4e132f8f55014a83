"""``qrelay eval create|get|list|watch|cancel``: EvaluationService for search engineers."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path

from google.protobuf import json_format

from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc
from services.cli import CommandError
from services.cli.client import add_connection_flags, channel, metadata
from services.cli.output import add_json_flag, print_json, to_jsonable

KINDS = {"pointwise": [common_pb2.POINTWISE], "side-by-side": [common_pb2.SIDE_BY_SIDE],
         "both": [common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE]}
# --stopping-rule: the StoppingRule values, as flags spell them (also `qrelay compare`)
STOPPING_RULES = {"sign-or-equivalence": ev.SIGN_OR_EQUIVALENCE, "excludes-min-effect": ev.EXCLUDES_MIN_EFFECT}
STOPPING_RULE_HELP = ("the question the anytime-valid decision on the headline answers: sign-or-equivalence (default) "
                      "decides once the sequence excludes 0 (candidate or baseline better) or, with --min-effect, "
                      "lies within ±min effect (no difference that matters); excludes-min-effect is a launch bar: "
                      "it decides once the sequence lies wholly above +min effect (the candidate gains at least "
                      "that) or wholly below it (it gains less), and needs --min-effect above 0")


def stopping_rule_line(rule: int, min_effect: float) -> str:
    """When an evaluation's early stop decides, in words (``qrelay eval get``).

    >>> stopping_rule_line(ev.EXCLUDES_MIN_EFFECT, 0.01)
    'the sequence lies wholly above or wholly below the minimum effect +0.01 (EXCLUDES_MIN_EFFECT)'
    """
    if rule == ev.EXCLUDES_MIN_EFFECT:
        return (f"the sequence lies wholly above or wholly below the minimum effect {min_effect:+g} "
                f"(EXCLUDES_MIN_EFFECT)")
    return "the sequence excludes 0" + (f" or lies within ±{min_effect:g}" if min_effect else "")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="create, inspect, watch and cancel evaluations (gRPC client)",
                       description="Evaluations over gRPC: sample queries from search logs and build judgement tasks.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    c = actions.add_parser("create", help="create an evaluation", description=(
        "Create an evaluation. Start from --spec (an EvaluationSpec or Evaluation in proto JSON) and/or flags; "
        "flags override the file. Example: qrelay eval create --index search-logs-fixture --from 2024-06-01 "
        "--to 2024-07-01 --ranker control=bucket:control --ranker treatment=bucket:treatment --kind both "
        "--size 500 --bands traffic:0.5,0.8 --stratify-by locale --seed 7 --watch"))
    add_connection_flags(c)
    c.add_argument("--spec", type=Path, help="JSON file: an EvaluationSpec (or an Evaluation with display_name and spec)")
    c.add_argument("--name", help="display name")
    c.add_argument("--index", help="log index name or pattern")
    c.add_argument("--from", dest="start", help="window start, ISO date/time (UTC)")
    c.add_argument("--to", dest="end", help="window end (exclusive), ISO date/time (UTC)")
    c.add_argument("--filter", action="append", default=[], metavar="FIELD=V1,V2", help="keep events whose field has one of the values (repeatable)")
    c.add_argument("--ranker", action="append", default=[], metavar="ID=bucket:NAME|ID=template:INDEX:FILE",
                   help="a ranker: a log bucket, or a mustache search template file run against INDEX (repeatable)")
    c.add_argument("--kind", choices=sorted(KINDS), help="pointwise, side-by-side or both")
    c.add_argument("--depth", type=int, help="top-k judged per ranker (1..100)")
    c.add_argument("--overlap", type=int, help="judgements per item (>= 1)")
    c.add_argument("--gold-share", type=float, help="share of gold items in the graders' queue (0..0.5)")
    c.add_argument("--size", type=int, help="distinct queries to sample")
    c.add_argument("--unit", choices=("traffic", "unique"), help="traffic-weighted or unique-query sampling")
    c.add_argument("--bands", metavar="traffic:0.5,0.8|quantile:0.99,0.9", help="frequency bands (head/torso/tail)")
    c.add_argument("--band-names", metavar="head,torso,tail", help="names of the bands")
    c.add_argument("--stratify-by", action="append", default=[], metavar="FIELD", help="stratify by a field, e.g. locale (repeatable)")
    c.add_argument("--fixed", action="append", default=[], metavar="STRATUM=N", help="fixed allocation, e.g. 'tail|es-MX=40' (repeatable)")
    c.add_argument("--min-frequency", type=int, help="ignore queries seen fewer times")
    c.add_argument("--seed", type=int, help="sampling seed")
    c.add_argument("--priority", type=int, help="0..100 (default 50)")
    c.add_argument("--deadline", help="ISO date/time the judgements are needed by")
    c.add_argument("--team", help="owner team")
    c.add_argument("--min-effect", type=float, help="smallest headline difference that matters (NDCG@10 units, "
                                                    "e.g. 0.01): grading stops once the decision is clear; with "
                                                    "--stopping-rule excludes-min-effect, the gain the candidate "
                                                    "must show")
    c.add_argument("--stopping-rule", choices=list(STOPPING_RULES),
                   help=f"{STOPPING_RULE_HELP}; grading stops early once it decides")
    c.add_argument("--grade-everything", action="store_true", help="no early stop: judge everything for humans")
    c.add_argument("--item-order", action="store_true", help="items in random order instead of whole queries")
    c.add_argument("--request-id", help="idempotency key (default: a new UUID); reuse it to retry safely")
    c.add_argument("--watch", action="store_true", help="watch progress after creating")
    add_json_flag(c, "the evaluation (with --watch: then each progress report, one per line)")
    c.set_defaults(func=create)

    for name, helptext, fn in (("get", "show one evaluation", get), ("watch", "stream progress until it finishes", watch),
                               ("cancel", "cancel an evaluation", cancel)):
        a = actions.add_parser(name, help=helptext, description=helptext.capitalize() + ".")
        add_connection_flags(a)
        a.add_argument("evaluation", help="evaluations/ID or ID")
        if name == "cancel":
            a.add_argument("--reason", default="", help="why (recorded on the evaluation)")
        add_json_flag(a, "each progress report, one per line" if name == "watch" else "the evaluation")
        if name == "watch":
            a.add_argument("--until", choices=("PREJUDGING", "GRADING", "COMPLETE"), default="COMPLETE",
                           help="stop once the evaluation reaches this stage (default: a final state)")
        a.set_defaults(func=fn)

    ls = actions.add_parser("list", help="list evaluations, newest first", description="List evaluations, newest first.")
    add_connection_flags(ls)
    ls.add_argument("--team", help="only this owner team")
    ls.add_argument("--state", action="append", default=[], choices=[s for s in ev.EvaluationState.keys() if s != "EVALUATION_STATE_UNSPECIFIED"])
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    add_json_flag(ls, '{"evaluations": [...]}')
    ls.set_defaults(func=list_)


def _name(text: str) -> str:
    return text if text.startswith("evaluations/") else f"evaluations/{text}"


def _time(text: str, flag: str):
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag} {text!r} is not an ISO date/time (e.g. 2024-06-01 or 2024-06-01T12:00:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def build_spec(args: argparse.Namespace) -> tuple[str, ev.EvaluationSpec]:
    name, spec = "", ev.EvaluationSpec()
    if args.spec:
        try:
            data = json.loads(args.spec.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"--spec {args.spec}: {exc}") from None
        try:
            if "spec" in data:
                e = json_format.ParseDict(data, ev.Evaluation())
                name, spec = e.display_name, e.spec
            else:
                json_format.ParseDict(data, spec)
        except json_format.ParseError as exc:
            raise CommandError(f"--spec {args.spec}: {exc}") from None
    name = args.name or name
    if args.index:
        spec.log_source.index_pattern = args.index
    if args.start:
        spec.log_source.window.start_time.FromDatetime(_time(args.start, "--from"))
    if args.end:
        spec.log_source.window.end_time.FromDatetime(_time(args.end, "--to"))
    for f in args.filter:
        field, sep, values = f.partition("=")
        if not sep:
            raise CommandError(f"--filter {f!r} is not FIELD=V1,V2")
        spec.log_source.filters.add(field=field, values=values.split(","))
    if args.ranker:
        del spec.rankers[:]
    for r in args.ranker:
        ident, sep, source = r.partition("=")
        kind, _, rest = source.partition(":")
        if not sep or kind not in ("bucket", "template"):
            raise CommandError(f"--ranker {r!r} is not ID=bucket:NAME or ID=template:INDEX:FILE")
        if kind == "bucket":
            spec.rankers.add(id=ident, log_bucket=ev.LogBucket(bucket=rest))
        else:
            index, _, path = rest.partition(":")
            try:
                source_text = Path(path).read_text()
            except OSError as exc:
                raise CommandError(f"--ranker {ident}: cannot read template {path!r}: {exc.strerror}") from None
            spec.rankers.add(id=ident, search_template=ev.SearchTemplate(index=index, source=source_text))
    if args.kind:
        del spec.kinds[:]
        spec.kinds.extend(KINDS[args.kind])
    for attr, field in (("depth", "depth"), ("overlap", "overlap"), ("gold_share", "gold_share"),
                        ("priority", "priority"), ("team", "owner_team")):
        if getattr(args, attr) is not None:
            setattr(spec, field, getattr(args, attr))
    if args.min_effect is not None:
        spec.stopping.min_effect = args.min_effect
    if args.stopping_rule:
        spec.stopping.rule = STOPPING_RULES[args.stopping_rule]
    if args.grade_everything:
        spec.stopping.grade_everything = True
    if args.item_order:
        spec.grading_order = ev.ITEM_RANDOM
    plan = spec.sample_plan
    if args.size is not None:
        plan.size = args.size
    if args.unit:
        plan.unit = ev.TRAFFIC_WEIGHTED if args.unit == "traffic" else ev.UNIQUE_QUERY
    if args.bands:
        mode, _, points = args.bands.partition(":")
        try:
            cuts = [float(x) for x in points.split(",")]
        except ValueError:
            raise CommandError(f"--bands {args.bands!r}: cut points must be numbers") from None
        if mode == "traffic":
            plan.bands.traffic_share.points[:] = cuts
        elif mode == "quantile":
            plan.bands.count_quantiles.points[:] = cuts
        else:
            raise CommandError(f"--bands {args.bands!r}: use traffic:P1,P2 or quantile:Q1,Q2")
    if args.band_names:
        plan.bands.names[:] = args.band_names.split(",")
    if args.stratify_by:
        plan.stratify_by[:] = args.stratify_by
    for f in args.fixed:
        key, sep, n = f.rpartition("=")
        if not sep or not n.isdigit():
            raise CommandError(f"--fixed {f!r} is not STRATUM=N")
        plan.allocation = ev.FIXED
        plan.fixed_counts[key] = int(n)
    if args.min_frequency is not None:
        plan.min_frequency = args.min_frequency
    if args.seed is not None:
        plan.seed = args.seed
    if args.deadline:
        spec.deadline.FromDatetime(_time(args.deadline, "--deadline"))
    return name, spec


def create(args: argparse.Namespace) -> int:
    name, spec = build_spec(args)
    request = ev.CreateEvaluationRequest(evaluation=ev.Evaluation(display_name=name, spec=spec),
                                         request_id=args.request_id or str(uuid.uuid4()))
    with channel(args) as ch:
        e = evaluation_pb2_grpc.EvaluationServiceStub(ch).CreateEvaluation(request, metadata=metadata(args), timeout=args.timeout)
    _print(e, args.json)
    if args.watch:
        args.evaluation, args.until = e.name, "PREJUDGING"  # production done: the model takes it from here
        return watch(args)
    return 0


def get(args: argparse.Namespace) -> int:
    with channel(args) as ch:
        e = evaluation_pb2_grpc.EvaluationServiceStub(ch).GetEvaluation(
            ev.GetEvaluationRequest(name=_name(args.evaluation)), metadata=metadata(args), timeout=args.timeout)
    _print(e, args.json)
    return 0


def list_(args: argparse.Namespace) -> int:
    shown, token, found = 0, "", []
    with channel(args) as ch:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(ch)
        if not args.json:
            print(f"{'NAME':34} {'STATE':11} {'TEAM':16} {'QUERIES':>7} {'ITEMS':>7}  CREATED  DISPLAY NAME")
        while shown < args.limit:
            r = stub.ListEvaluations(ev.ListEvaluationsRequest(
                page_size=min(100, args.limit - shown), page_token=token, owner_team=args.team or "",
                states=[ev.EvaluationState.Value(s) for s in args.state]), metadata=metadata(args), timeout=args.timeout)
            found += r.evaluations
            for e in [] if args.json else r.evaluations:
                created = e.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M")
                print(f"{e.name:34} {ev.EvaluationState.Name(e.state):11} {e.spec.owner_team[:16]:16} "
                      f"{e.counts.queries:>7} {e.counts.items:>7}  {created}  {e.display_name}")
            shown += len(r.evaluations)
            token = r.next_page_token
            if not token:
                break
    if args.json:
        print_json({"evaluations": [to_jsonable(e) for e in found]})
    return 0


def cancel(args: argparse.Namespace) -> int:
    with channel(args) as ch:
        e = evaluation_pb2_grpc.EvaluationServiceStub(ch).CancelEvaluation(
            ev.CancelEvaluationRequest(name=_name(args.evaluation), reason=args.reason),
            metadata=metadata(args), timeout=args.timeout)
    _print(e, args.json)
    return 0


def watch(args: argparse.Namespace) -> int:
    """Progress bar on a terminal, one line per change otherwise; exit 0 unless it FAILED."""
    tty = sys.stdout.isatty()
    state = None
    with channel(args) as ch:
        stream = evaluation_pb2_grpc.EvaluationServiceStub(ch).WatchEvaluation(
            ev.WatchEvaluationRequest(name=_name(args.evaluation)), metadata=metadata(args))
        for p in stream:
            state = ev.EvaluationState.Name(p.state)
            line = progress_line(p)
            if args.json:
                print_json(p)
            elif tty:
                print("\r\033[K" + line, end="", flush=True)
            else:
                print(line, flush=True)
            if _ORDER.get(state, 99) >= _ORDER[args.until]:
                break
    if tty and not args.json:
        print()
    if state == "FAILED":
        return 1
    return 0


_ORDER = {"PENDING": 0, "PRODUCING": 1, "PREJUDGING": 2, "GRADING": 3, "COMPLETE": 4, "CANCELLED": 4, "FAILED": 4}


def _duration(secs: int) -> str:
    """``12m05s``, or ``3h07m`` from an hour on.

    >>> _duration(725), _duration(11_220)
    ('12m05s', '3h07m')
    """
    if secs >= 3600:
        return f"{secs // 3600}h{secs % 3600 // 60:02d}m"
    return f"{secs // 60}m{secs % 60:02d}s"


def progress_line(p: ev.EvaluationProgress, width: int = 24) -> str:
    state = ev.EvaluationState.Name(p.state)
    filled = int(round(p.stage_progress * width))
    bar = "█" * filled + "░" * (width - filled)
    eta = ""
    if p.HasField("eta"):
        secs = max(0, int((p.eta.ToDatetime() - p.report_time.ToDatetime()).total_seconds()))
        eta = f"  ETA {_duration(secs)}"
    c = p.counts
    if state == "COMPLETE" and p.completion.message:
        return f"{state:10} {bar} {p.stage_progress:4.0%}  {p.completion.message}"
    if state == "GRADING" and p.HasField("grading"):
        g = p.grading
        return (f"{state:10} {bar} {p.stage_progress:4.0%}  items judged {g.items_done:,}/{g.items_for_humans:,}  "
                f"judgements {g.judgements:,}/{g.judgements_wanted:,}  {g.judgements_per_minute:.1f}/min{eta}")
    reason = f"  {p.state_reason}" if p.state_reason else ""
    return (f"{state:10} {bar} {p.stage_progress:4.0%}  queries {c.queries}  items {c.items}  "
            f"ties {c.identical_pairs}  gold {c.gold_items}  pii dropped {c.pii_dropped}{eta}{reason}")


def _share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,}" + (f" ({part / whole:.0%})" if whole else "")


def _print(e: ev.Evaluation, as_json: bool) -> None:
    if as_json:
        print_json(e)
        return
    c = e.counts
    s = e.spec
    reason = e.state_reason and e.state_reason != e.completion.message  # the completion is shown below
    print(f"{e.name}  {ev.EvaluationState.Name(e.state)}" + (f" ({e.state_reason})" if reason else ""))
    print(f"  {e.display_name or '(no name)'} — team {s.owner_team or '-'}, created by {e.creator or '-'}")
    print(f"  logs {s.log_source.index_pattern} "
          f"[{s.log_source.window.start_time.ToDatetime():%Y-%m-%d} .. {s.log_source.window.end_time.ToDatetime():%Y-%m-%d})")
    print(f"  rankers {', '.join(r.id for r in s.rankers)}; kinds {', '.join(common_pb2.JudgementKind.Name(k) for k in s.kinds)}; "
          f"k={s.depth} overlap={s.overlap} gold={s.gold_share:.0%}")
    print(f"  queries {c.queries}  items {c.items}  gold {c.gold_items}  identical pairs {c.identical_pairs}  "
          f"pii dropped {c.pii_dropped}  garbage dropped {c.garbage_dropped}  not in every bucket {c.uncovered_dropped}  "
          f"below floor {c.below_floor_dropped}")
    a = e.automation
    if a.model:
        print(f"  automation {a.automation_rate:.0%} by {a.model_version or a.model} (threshold {a.threshold:.2f}), "
              f"audit {a.audit}")
        if a.streaming or a.scored < c.items:
            print(f"  pre-judgement {'streaming' if a.streaming else 'stopped'}: {a.scored} of {c.items} items scored"
                  + (" (graders get scored queries while the rest is encoded)" if a.streaming else ""))
        if a.HasField("calibration"):
            cal = a.calibration
            held = (f"; held-out agreement {cal.heldout_agreement:.0%} on {cal.heldout_labels}"
                    if cal.HasField("heldout_agreement") else "")
            print(f"  calibrated on {ev.CalibrationSource.Name(cal.source).lower().replace('_', ' ')}: "
                  f"{cal.labels} labels{held}")
        if a.HasField("calibration_sample"):
            cs = a.calibration_sample
            print(f"  calibration sample: {cs.labelled} of {cs.items} labelled" + (" (complete)" if cs.complete else ""))
        for la in a.locales:
            agree = f"{la.agreement:.0%} of {la.audit_judged} judged" if la.HasField("agreement") else "not judged yet"
            print(f"    {la.locale:8} automation {la.automation_rate:5.0%}  audit {la.audit:>5}  agreement {agree}")
    if e.HasField("grading"):
        g = e.grading
        eta = f", ETA {g.eta.ToDatetime():%Y-%m-%d %H:%M} UTC" if g.HasField("eta") and e.state == ev.GRADING else ""
        print(f"  grading: {_share(g.items_done, g.items_for_humans)} items for humans judged, "
              f"{_share(g.judgements, g.judgements_wanted)} judgements, {g.judgements_per_minute:.1f}/min over the last "
              f"10 minutes{eta}; {_share(g.items_labelled, g.items)} items labelled")
    if e.HasField("completion"):
        m = e.completion
        print(f"  completed {m.complete_time.ToDatetime():%Y-%m-%d %H:%M} UTC ({ev.CompletionReason.Name(m.reason)}): "
              f"{m.message}")
    elif e.state == ev.GRADING:
        stop = ("grades everything (no early stop)" if s.stopping.grade_everything else
                f"stops early once the headline decision is clear: "
                f"{stopping_rule_line(s.stopping.rule, s.stopping.min_effect)}")
        print(f"  {stop}")
    if e.strata:
        print("  strata (population queries / traffic weight / sampled):")
        for st in e.strata:
            print(f"    {st.key:28} {st.population_queries:>8}  {st.weight:7.2%}  {st.sampled:>6}")
