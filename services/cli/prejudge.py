"""``qrelay prejudge EVALUATION``: run the pre-judgement job (joins or starts a local Ray)."""
from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    from ray_jobs.prejudge.entry import add_arguments

    p = sub.add_parser(
        "prejudge",
        help="pre-judge an evaluation's items with a model and route them",
        description="Score an evaluation's items with a sentence-transformers model (each unique text embedded once, "
        "embeddings cached in Elasticsearch), calibrate the scores against human judgements, auto-judge what the "
        "model is confident about (a random audit share still goes to graders) and move the evaluation from "
        "PREJUDGING to GRADING — by default after the first wave of queries, scoring the rest while graders work "
        "(--no-stream: after every item). Safe to re-run after an interruption (a stream cut short is resumed). Elasticsearch: --es-url, QRELAY_ES_URL, else "
        "the local node `qrelay es start` runs (credentials and TLS from QRELAY_ES_* settings).",
    )
    p.add_argument("evaluation", metavar="EVALUATION", help="evaluation id (PREJUDGING, or GRADING with a stream to resume)")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from ray_jobs.prejudge.entry import UserError, execute
    from services.cli import CommandError
    from services.cli.es import resolve_url
    from services.core.errors import ConfigError
    from services.core.settings import es_from_env

    try:
        cfg = es_from_env(os.environ)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    args.es_url = resolve_url(args.es_url, cfg.url, cfg.local_data)
    evaluation_id = args.evaluation.removeprefix("evaluations/")
    try:
        summary = execute(evaluation_id, args)
    except UserError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        print(f"evaluations/{evaluation_id}: {summary['items']} items pre-judged, {summary['auto_judged']} auto-judged "
              f"({summary['audit']} of them audited), {summary['for_humans']} for graders "
              f"({summary['calibration_sample']} of them the calibration sample, served first); "
              f"{summary['encoded']} texts encoded, {summary['cache_hits']} from the cache; state {summary['state']}")
    return 0
