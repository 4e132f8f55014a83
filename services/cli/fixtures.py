"""``qrelay fixtures``: generate fixture search logs and load them into Elasticsearch.

    qrelay fixtures generate --events 1000 --seed 7 -o logs.jsonl.gz
    qrelay fixtures load --events 1000000 --seed 7 --index search-logs-fixture --documents
    qrelay fixtures load --file logs.jsonl.gz --es-url http://127.0.0.1:9200
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from services.cli import CommandError
from services.cli.es import resolve_url
from services.cli.output import add_json_flag, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("fixtures", help="generate fixture search logs and load them into Elasticsearch",
                                   description="Generate fixture search logs and load them into Elasticsearch.")
    _add_commands(parser)


def _add_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="fixtures_command", metavar="ACTION")
    sub.required = True

    gen = sub.add_parser("generate", help="write generated search-log events as JSON Lines")
    _generator_flags(gen)
    gen.add_argument("-o", "--output", metavar="FILE", help="output file, .jsonl or .jsonl.gz (default: stdout)")
    gen.set_defaults(func=cmd_generate)

    load = sub.add_parser("load", help="bulk-load events (generated or from a file) into Elasticsearch")
    src = load.add_mutually_exclusive_group()
    src.add_argument("--file", metavar="FILE", help="events from a .jsonl/.jsonl.gz file instead of generating them")
    _generator_flags(load, group=src)
    load.add_argument("--index", default=None, help="log index name (default: search-logs-fixture)")
    load.add_argument("--es-url", default=None,
                      help="Elasticsearch URL (default: QRELAY_ES_URL, else the local node `qrelay es start` runs)")
    load.add_argument("--threads", type=_positive, default=2, help="bulk request threads (default: 2)")
    load.add_argument("--chunk-size", type=_positive, default=1000, help="events per bulk request (default: 1000)")
    load.add_argument("--template", action="store_true",
                      help="also install the composable index templates (search-logs-*, search-docs-*)")
    load.add_argument("--documents", action="store_true", help="also load the document corpus into --docs-index")
    load.add_argument("--docs-index", default=None, help="document index name (default: search-docs-fixture)")
    add_json_flag(load, "the load reports")
    load.set_defaults(func=cmd_load)


def _generator_flags(p: argparse.ArgumentParser, group=None) -> None:
    (group or p).add_argument("--events", type=_non_negative, default=None, metavar="N",
                              help="number of events to generate (default: 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same events (default: 0)")
    p.add_argument("--start", default=None, metavar="DATE", help="first day, YYYY-MM-DD (default: 2024-06-03)")
    p.add_argument("--days", type=float, default=28.0, help="days the events span (default: 28)")
    p.add_argument("--buckets", default=None, metavar="NAME[:SHARE[:NOISE]],...",
                   help="ranker buckets (default: control:0.5:0.9,treatment:0.5:0.6; lower noise ranks better)")
    p.add_argument("--truth", action="store_true", help="add fixture_truth (hidden grades, PII kind) to each event")


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return v


def _non_negative(text: str) -> int:
    v = int(text.replace("_", ""))
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return v


def _parse_buckets(spec: str):
    from fixtures.logs.generator import Bucket

    buckets = []
    for part in spec.split(","):
        bits = part.strip().split(":")
        if not bits[0] or len(bits) > 3:
            raise CommandError(f"--buckets entry {part!r} is not NAME[:SHARE[:NOISE]]")
        try:
            share = float(bits[1]) if len(bits) > 1 else 1.0
            noise = float(bits[2]) if len(bits) > 2 else 0.9
        except ValueError:
            raise CommandError(f"--buckets entry {part!r}: SHARE and NOISE must be numbers") from None
        buckets.append(Bucket(bits[0], share, noise))
    return tuple(buckets)


def _generator(args):
    from fixtures.logs.generator import GeneratorConfig, LogGenerator, parse_start

    kwargs = dict(seed=args.seed, days=args.days, with_truth=args.truth)
    try:
        if args.start:
            kwargs["start"] = parse_start(args.start)
        if args.buckets:
            kwargs["buckets"] = _parse_buckets(args.buckets)
        return LogGenerator(GeneratorConfig(**kwargs))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def cmd_generate(args) -> int:
    from fixtures.logs.jsonl import write_jsonl

    n = 10_000 if args.events is None else args.events
    events = _generator(args).events(n)
    if args.output:
        try:
            count = write_jsonl(events, args.output)
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"wrote {count} events to {args.output}", file=sys.stderr)
    else:
        write_jsonl(events, sys.stdout)
    return 0


def cmd_load(args) -> int:
    from elasticsearch import ApiError, TransportError

    from fixtures.logs import loader, template
    from fixtures.logs.jsonl import read_jsonl
    from services.core.errors import ConfigError
    from services.core.settings import es_from_env
    from services.store.client import StoreUnavailable, connect, ping

    try:
        cfg = es_from_env(os.environ)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    url = resolve_url(args.es_url, cfg.url, cfg.local_data)
    es = connect(cfg, url)
    try:
        ping(es)
    except StoreUnavailable as exc:
        raise CommandError(str(exc), exit_code=3) from None
    index = args.index or template.DEFAULT_LOG_INDEX
    if args.file:
        if not os.path.exists(args.file):
            raise CommandError(f"{args.file} does not exist")
        events = read_jsonl(args.file)
    else:
        events = _generator(args).events(10_000 if args.events is None else args.events)

    def progress(r):
        print(f"  {r.total:,} events ({r.failed} failed)", file=sys.stderr)

    try:
        if args.template:
            template.install_log_template(es)
            template.install_docs_template(es)
        report = loader.load_events(es, events, index, threads=args.threads, chunk_size=args.chunk_size,
                                    progress=progress)
        out = {"events": dataclasses.asdict(report)}
        if not args.json:
            print(report.summary())
        for e in report.errors[:10]:
            print(f"  {e.id}: {e.status} {e.type}: {e.reason}", file=sys.stderr)
        if args.documents:
            from fixtures.logs.documents import DocumentCorpus

            docs = loader.load_documents(es, DocumentCorpus().documents(), args.docs_index or template.DEFAULT_DOCS_INDEX)
            out["documents"] = dataclasses.asdict(docs)
            if not args.json:
                print(docs.summary().replace("events", "documents", 1))
            report.failed += docs.failed
        if args.json:
            print_json(out)
    except ValueError as exc:  # bad file content, index creation refused
        raise CommandError(str(exc)) from None
    except (ApiError, TransportError) as exc:
        raise CommandError(f"Elasticsearch at {url} failed during the load: {exc}", exit_code=3) from None
    return 1 if report.failed else 0

