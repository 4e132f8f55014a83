"""``qrelay serve``: the gRPC server (all four qrelay.v1 services, health, reflection)."""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from services.cli import CommandError
from services.config import DEV_TOKENS, Config, ConfigError, from_env, parse_tokens

log = logging.getLogger("qrelay.serve")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the qrelay gRPC server: EvaluationService, GradingService, ReportingService, "
        "OperationsService, grpc.health.v1 and server reflection. Settings come from QRELAY_* "
        "environment variables; flags override them. The field layout of the search logs is read "
        "from QRELAY_LOG_MAPPING (a JSON or TOML file; default: the fixture layout). SIGTERM "
        "drains in-flight calls, then stops.",
    )
    p.add_argument("--host", help="address to listen on (QRELAY_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="gRPC port (QRELAY_PORT, default 50051; 0 picks a free one)")
    p.add_argument("--es-url", help="Elasticsearch URL (QRELAY_ES_URL, else the local node `qrelay es start` runs); "
                   "credentials/TLS via QRELAY_ES_USERNAME, "
                   "QRELAY_ES_PASSWORD, QRELAY_ES_API_KEY, QRELAY_ES_CA_CERTS, QRELAY_ES_VERIFY_CERTS")
    p.add_argument("--index-prefix", help="prefix of qrelay's own indices (QRELAY_INDEX_PREFIX, default qrelay-)")
    p.add_argument("--tokens", help="bearer tokens TOKEN=SUBJECT:ROLE,... (QRELAY_TOKENS or QRELAY_TOKENS_FILE)")
    p.add_argument("--local", action="store_true",
                   help="developer stack: start (or reuse) the local Elasticsearch under QRELAY_ES_DATA "
                   "(default .qrelay/es), load the fixture search logs if absent, and use dev tokens "
                   "unless tokens are configured")
    p.add_argument("--fixture-events", type=int, default=100_000,
                   help="with --local: fixture events to load when the log index is empty (default 100000)")
    p.add_argument("--log-format", choices=("json", "text"), help="log format (QRELAY_LOG_FORMAT, default json)")
    p.add_argument("--tls-cert", help="PEM certificate chain: serve gRPC over TLS (QRELAY_TLS_CERT; with --tls-key)")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert (QRELAY_TLS_KEY)")
    p.set_defaults(func=run)


def _config(args: argparse.Namespace) -> Config:
    try:
        cfg = from_env()
        server = dataclasses.replace(
            cfg.server,
            **{k: v for k, v in (("host", args.host), ("port", args.port), ("log_format", args.log_format),
                                 ("tls_cert", args.tls_cert and Path(args.tls_cert)),
                                 ("tls_key", args.tls_key and Path(args.tls_key))) if v is not None},
        )
        if (server.tls_cert is None) != (server.tls_key is None):
            raise ConfigError("TLS needs both --tls-cert and --tls-key")
        es = dataclasses.replace(
            cfg.es, **{k: v for k, v in (("url", args.es_url), ("index_prefix", args.index_prefix)) if v is not None}
        )
        tokens = parse_tokens(args.tokens) if args.tokens is not None else cfg.tokens
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    if args.local and not tokens:
        tokens = parse_tokens(",".join(DEV_TOKENS))
    return dataclasses.replace(cfg, es=es, server=server, tokens=tokens)


def run(args: argparse.Namespace) -> int:
    from services.core.logmapping import LogFieldMapping
    from services import logs, wiring
    from services.server import PortInUse, TlsError, run_until_signalled, start
    from services.store import templates
    from services.store.client import StoreUnavailable, connect, ping

    cfg = _config(args)
    logs.configure(cfg.server.log_level, cfg.server.log_format)
    from services.cli.es import NO_ELASTICSEARCH, resolve_url

    url = cfg.es.url
    if args.local and not url:
        url = _local_stack(cfg, args.fixture_events)
    if not url:
        try:
            url = resolve_url(None, None, cfg.es.local_data)
        except CommandError:
            raise CommandError(f"{NO_ELASTICSEARCH}, or use --local to start it and load the fixture logs") from None
    es = connect(cfg.es, url)
    try:
        info = ping(es)
        installed = templates.install(es, cfg.es.index_prefix)
    except StoreUnavailable as exc:
        raise CommandError(str(exc)) from None
    try:
        mapping = LogFieldMapping.from_file(cfg.log_mapping_file) if cfg.log_mapping_file else LogFieldMapping()
    except ValueError as exc:
        raise CommandError(f"QRELAY_LOG_MAPPING: {exc}") from None
    cfg = dataclasses.replace(cfg, es=dataclasses.replace(cfg.es, url=url))
    ctx = wiring.Context(cfg, es, mapping)
    try:
        running = start(cfg, wiring.authenticator(ctx), wiring.servicers(ctx), audit=wiring.audit_log(ctx))
    except (PortInUse, TlsError) as exc:
        ctx.close()
        raise CommandError(str(exc)) from None
    log.info("serving", extra={
        "grpc": f"{cfg.server.host}:{running.port}", "elasticsearch": url,
        "es_version": info.get("version", {}).get("number"), "indices": installed, "pid": os.getpid(),
    })
    if not cfg.tokens:
        log.warning("no tokens configured: every qrelay.v1 call will be UNAUTHENTICATED (set QRELAY_TOKENS)")
    tls = " over TLS" if cfg.server.tls_cert else ""
    print(f"qrelay serving gRPC on {cfg.server.host}:{running.port}{tls} (Elasticsearch {url})", file=sys.stderr,
          flush=True)
    if args.local and cfg.tokens:
        print("dev tokens: " + ", ".join(f"{p.role}={t}" for t, p in cfg.tokens.items()), file=sys.stderr, flush=True)
        print(f"try: grpcurl -plaintext {cfg.server.host}:{running.port} list", file=sys.stderr, flush=True)
    run_until_signalled(running)
    ctx.close()
    return 0


def _local_stack(cfg: Config, fixture_events: int) -> str:
    """Start or reuse the local node and load the fixture logs and documents once; returns its URL."""
    from fixtures.elasticsearch import launcher
    from fixtures.logs import loader
    from fixtures.logs.documents import DocumentCorpus
    from fixtures.logs.generator import generate_events
    from fixtures.logs.template import DEFAULT_DOCS_INDEX, DEFAULT_LOG_INDEX
    from services.store.client import connect

    try:
        state = launcher.status(cfg.es.local_data)
        url = state["url"] if state else launcher.start(port=cfg.es.local_port, data_dir=cfg.es.local_data)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from None
    es = connect(cfg.es, url)
    if not es.indices.exists(index=DEFAULT_LOG_INDEX) or es.count(index=DEFAULT_LOG_INDEX)["count"] < fixture_events:
        print(f"loading {fixture_events:,} fixture search-log events into {DEFAULT_LOG_INDEX} (once)…", file=sys.stderr, flush=True)
        report = loader.load_events(es, generate_events(fixture_events, seed=0), DEFAULT_LOG_INDEX)
        print(report.summary(), file=sys.stderr, flush=True)
        loader.load_documents(es, DocumentCorpus().documents(), DEFAULT_DOCS_INDEX)
    return url
