"""Command-line entry shared by ``python -m ray_jobs.prejudge`` and ``qrelay prejudge``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from ray_jobs.prejudge.models import DEFAULT_MODEL
from services.core.logmapping import LogFieldMapping


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The job's options (the evaluation itself is added by each entry point)."""
    p.add_argument("--model", help=f"bi-encoder: a local directory or a model in the local Hugging Face cache "
                   f"(default: the packaged {DEFAULT_MODEL})")
    p.add_argument("--cross-encoder", help="also score (query, doc) pairs with this cross-encoder (directory or cached name)")
    p.add_argument("--threshold", type=float, default=0.8, help="confidence at or above which the model's label stands (default 0.8)")
    p.add_argument("--audit-share", type=float, default=0.05, help="share of auto-judged items still sent to humans (default 0.05)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the audit draw, the calibration sample and the calibration folds (default 0)")
    p.add_argument("--learner", choices=("auto", "gbm", "logistic"), default="auto",
                   help="the pre-judgement model over the signals: gradient-boosted trees, logistic regression, or "
                        "whichever predicts held-out labels better (default auto)")
    p.add_argument("--features", choices=("all", "no_clicks", "cosine"), default="all",
                   help="signals the model reads (default all; no_clicks leaves the click model out)")
    p.add_argument("--no-stream", dest="stream", action="store_false",
                   help="score every item before grading opens (default: stream — score whole queries in the order "
                        "graders get them and open grading after the first wave, so graders start while the rest "
                        "is encoded)")
    p.add_argument("--first-wave-queries", type=int, default=50,
                   help="queries in the first wave when streaming; each next wave is twice the last (default 50)")
    p.add_argument("--actors", type=int, help="encoder actors, one model copy each (default: one per CPU, or per GPU)")
    p.add_argument("--cpus-per-actor", type=float, default=1.0, help="CPUs reserved by each actor (default 1)")
    p.add_argument("--batch-size", type=int, default=64, help="texts per encode batch (default 64)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where actors run the model (default auto)")
    p.add_argument("--dtype", choices=("auto", "fp32", "fp16", "bf16"), default="auto",
                   help="weights on GPU (auto: bf16 where supported, else fp16; CPU is always fp32)")
    p.add_argument("--ray-address", help="Ray cluster to join (default: RAY_ADDRESS, else a running local Ray, else start one)")
    p.add_argument("--es-url", help="Elasticsearch URL (default QRELAY_ES_URL)")
    p.add_argument("--index-prefix", help="prefix of qrelay's indices (default QRELAY_INDEX_PREFIX or qrelay-)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def config_from_args(evaluation_id: str, args: argparse.Namespace):
    from ray_jobs.prejudge.job import PrejudgeConfig

    return PrejudgeConfig(
        evaluation_id=evaluation_id, model=args.model, cross_encoder=args.cross_encoder, threshold=args.threshold,
        audit_share=args.audit_share, seed=args.seed, actors=args.actors, cpus_per_actor=args.cpus_per_actor,
        batch_size=args.batch_size, device=args.device, dtype=args.dtype, learner=args.learner, features=args.features,
        log_mapping=log_mapping(os.environ), stream=args.stream, first_wave_queries=args.first_wave_queries,
    )


def log_mapping(env) -> LogFieldMapping:
    """Where the log fields live (``QRELAY_LOG_MAPPING``, as the server reads it): the click
    model reads the evaluation's logs."""
    path = env.get("QRELAY_LOG_MAPPING")
    try:
        return LogFieldMapping.from_file(path) if path else LogFieldMapping()
    except ValueError as exc:
        raise UserError(f"QRELAY_LOG_MAPPING: {exc}") from None


class UserError(Exception):
    """One sentence for the user; the evaluation is unchanged or consistent."""


def execute(evaluation_id: str, args: argparse.Namespace) -> dict:
    """Connect to Elasticsearch and Ray, run the job, return the summary; :class:`UserError` on bad input."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from services.core.errors import ConfigError, QrelayError
    from services.core.settings import es_from_env
    from services.store.client import StoreUnavailable, connect, ping

    from ray_jobs.prejudge import job

    try:
        es_cfg = es_from_env(os.environ)
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    es_cfg = dataclasses.replace(es_cfg, **{k: v for k, v in (("url", args.es_url), ("index_prefix", args.index_prefix)) if v})
    if not es_cfg.url:
        raise UserError("no Elasticsearch: set QRELAY_ES_URL or pass --es-url")
    cfg = config_from_args(evaluation_id, args)
    es = connect(es_cfg)
    try:
        ping(es)
        job.preflight(es, es_cfg.index_prefix, cfg)  # fail fast, before Ray starts
        job.connect_ray(args.ray_address)
        log = (lambda s: None) if args.quiet else (lambda s: print(f"prejudge {evaluation_id}: {s}", file=sys.stderr, flush=True))
        summary = job.run(es, es_cfg.index_prefix, es_cfg, es_cfg.url, cfg, log=log)
    except (QrelayError, StoreUnavailable) as exc:
        raise UserError(str(exc)) from None
    return summary.as_dict()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ray_jobs.prejudge", description="Pre-judge an evaluation's items.")
    p.add_argument("--evaluation", required=True, help="evaluation id (PREJUDGING, or GRADING with a stream to resume)")
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        summary = execute(args.evaluation, args)
    except UserError as exc:
        print(f"prejudge: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, default=str))
    return 0
