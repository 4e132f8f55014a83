"""One typed configuration object, built once from flags and ``QRELAY_*`` environment.

Everything below the entry points receives a :class:`Config` (or a part of it); nothing
deep inside reads ``os.environ``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from services.core.errors import ConfigError
from services.core.settings import ElasticsearchConfig, env_float, env_int, es_from_env
from services.reporting.config import ReportingConfig

ROLES = ("engineer", "grader", "ops", "admin")

# Tokens the local stack uses when none are configured. They only ever exist on a
# developer's loopback stack; `qrelay serve` prints them so a newcomer can call the API.
DEV_TOKENS = (
    "dev-engineer=eve:engineer",
    "dev-grader=gina:grader",
    "dev-ops=otto:ops",
    "dev-admin=ada:admin",
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject name and one of :data:`ROLES`."""

    subject: str
    role: str


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051
    max_workers: int = 32
    # Seconds in-flight RPCs get to finish after SIGTERM before the server stops hard.
    drain_seconds: float = 10.0
    log_format: str = "json"  # json | text
    log_level: str = "INFO"


@dataclass(frozen=True)
class TrendsConfig:
    """Recurring evaluations, regression alerts and their webhooks."""

    # The shortest `Recurrence.every` CreateEvaluation accepts (users: an hour; tests lower it).
    min_recurrence_seconds: float = 3600.0
    # How often each server looks for recurring evaluations that are due and webhooks to (re)send.
    scheduler_seconds: float = 30.0
    # Webhook delivery: attempts in all, the delay before the first retry (doubling after each
    # failure up to the cap), and the HTTP timeout of one attempt.
    webhook_attempts: int = 6
    webhook_backoff_seconds: float = 5.0
    webhook_max_backoff_seconds: float = 900.0
    webhook_timeout_seconds: float = 10.0


@dataclass(frozen=True)
class QualityConfig:
    """The scorecards' quality bars: a grader (or partner) is flagged only when the evidence says
    it is below a bar, not on a noisy point estimate."""

    # Flag when the Wilson interval of gold accuracy lies wholly below this.
    gold_accuracy: float = 0.7
    # Flag when the Wilson interval of agreement with consensus lies wholly below this.
    consensus_agreement: float = 0.6
    # Flag when the aggregation's estimated reliability is below this (with `min_judgements`).
    reliability: float = 0.6
    # Flag when the Wilson interval of the skip rate lies wholly above this.
    skip_rate: float = 0.3
    # Flag a drop of gold accuracy / consensus agreement from the window's first half to its
    # second half at this one-sided level.
    drift_alpha: float = 0.01
    # Judgements a point estimate (reliability) needs before it may flag.
    min_judgements: int = 20
    # Level of the Wilson intervals.
    confidence: float = 0.95


@dataclass(frozen=True)
class Config:
    es: ElasticsearchConfig = field(default_factory=ElasticsearchConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    # bearer token -> principal
    tokens: Mapping[str, Principal] = field(default_factory=dict)
    # JSON/TOML file mapping logical log fields to the user's log fields; None: the fixture layout
    log_mapping_file: Path | None = None
    # How long background work (production) waits for Elasticsearch to come back before it fails
    outage_seconds: float = 300.0
    # The reporting worker: consensus kept current, grading progress, completion
    reporting: ReportingConfig = field(default_factory=ReportingConfig)
    # Recurrence, alerts, webhooks (QRELAY_RECURRENCE_*, QRELAY_SCHEDULER_SECONDS, QRELAY_WEBHOOK_*)
    trends: TrendsConfig = field(default_factory=TrendsConfig)
    # Scorecard quality bars (QRELAY_QUALITY_*)
    quality: QualityConfig = field(default_factory=QualityConfig)


def parse_tokens(spec: str) -> dict[str, Principal]:
    """Parse ``TOKEN=SUBJECT:ROLE[,TOKEN=SUBJECT:ROLE...]``.

    >>> parse_tokens("t1=ann:engineer")["t1"]
    Principal(subject='ann', role='engineer')
    """
    tokens: dict[str, Principal] = {}
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        token, sep, who = entry.partition("=")
        subject, sep2, role = who.partition(":")
        if not (sep and sep2 and token and subject and role):
            raise ConfigError(f"QRELAY_TOKENS entry {entry!r} is not TOKEN=SUBJECT:ROLE")
        if role not in ROLES:
            raise ConfigError(f"QRELAY_TOKENS entry {entry!r}: role must be one of {', '.join(ROLES)}")
        if token in tokens:
            raise ConfigError(f"QRELAY_TOKENS lists token for {subject!r} twice")
        tokens[token] = Principal(subject, role)
    return tokens


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from ``QRELAY_*`` variables; flags override it later via ``replace``."""
    env = os.environ if env is None else env
    s = ServerConfig()
    server = ServerConfig(
        host=env.get("QRELAY_HOST", s.host),
        port=env_int("QRELAY_PORT", env["QRELAY_PORT"]) if "QRELAY_PORT" in env else s.port,
        max_workers=env_int("QRELAY_MAX_WORKERS", env["QRELAY_MAX_WORKERS"]) if "QRELAY_MAX_WORKERS" in env else s.max_workers,
        drain_seconds=env_float("QRELAY_DRAIN_SECONDS", env.get("QRELAY_DRAIN_SECONDS", str(s.drain_seconds))),
        log_format=env.get("QRELAY_LOG_FORMAT", s.log_format),
        log_level=env.get("QRELAY_LOG_LEVEL", s.log_level).upper(),
    )
    if server.log_format not in ("json", "text"):
        raise ConfigError(f"QRELAY_LOG_FORMAT={server.log_format!r}: use json or text")
    tokens_spec = env.get("QRELAY_TOKENS")
    if tokens_spec is None:
        tokens_file = env.get("QRELAY_TOKENS_FILE")
        if tokens_file:
            try:
                tokens_spec = ",".join(
                    line.strip() for line in Path(tokens_file).read_text().splitlines()
                    if line.strip() and not line.startswith("#")
                )
            except OSError as exc:
                raise ConfigError(f"QRELAY_TOKENS_FILE {tokens_file!r} cannot be read: {exc.strerror}") from None
    mapping = env.get("QRELAY_LOG_MAPPING")
    return Config(es=es_from_env(env), server=server, tokens=parse_tokens(tokens_spec or ""),
                  log_mapping_file=Path(mapping) if mapping else None,
                  outage_seconds=env_float("QRELAY_OUTAGE_SECONDS", env.get("QRELAY_OUTAGE_SECONDS", "300")),
                  reporting=ReportingConfig.from_mapping(env), trends=_settings(TrendsConfig, env, _TRENDS_ENV),
                  quality=_settings(QualityConfig, env, _QUALITY_ENV))


# field -> (variable, check, what the check wants)
_POSITIVE = (lambda x: x > 0, "must be positive")
_SHARE = (lambda x: 0 < x < 1, "must lie strictly between 0 and 1")
_TRENDS_ENV = {
    "min_recurrence_seconds": ("QRELAY_RECURRENCE_MIN_SECONDS", *_POSITIVE),
    "scheduler_seconds": ("QRELAY_SCHEDULER_SECONDS", *_POSITIVE),
    "webhook_attempts": ("QRELAY_WEBHOOK_ATTEMPTS", *_POSITIVE),
    "webhook_backoff_seconds": ("QRELAY_WEBHOOK_BACKOFF_SECONDS", *_POSITIVE),
    "webhook_max_backoff_seconds": ("QRELAY_WEBHOOK_MAX_BACKOFF_SECONDS", *_POSITIVE),
    "webhook_timeout_seconds": ("QRELAY_WEBHOOK_TIMEOUT_SECONDS", *_POSITIVE),
}
_QUALITY_ENV = {
    "gold_accuracy": ("QRELAY_QUALITY_GOLD_ACCURACY", *_SHARE),
    "consensus_agreement": ("QRELAY_QUALITY_CONSENSUS_AGREEMENT", *_SHARE),
    "reliability": ("QRELAY_QUALITY_RELIABILITY", *_SHARE),
    "skip_rate": ("QRELAY_QUALITY_SKIP_RATE", *_SHARE),
    "drift_alpha": ("QRELAY_QUALITY_DRIFT_ALPHA", *_SHARE),
    "min_judgements": ("QRELAY_QUALITY_MIN_JUDGEMENTS", *_POSITIVE),
    "confidence": ("QRELAY_QUALITY_CONFIDENCE", *_SHARE),
}


def _settings(cls, env: Mapping[str, str], names: dict):
    """``cls`` with each field read from its variable when set (typed like the default, checked)."""
    values = {}
    for name, (var, ok, wants) in names.items():
        if var not in env:
            continue
        parse = env_int if isinstance(getattr(cls, name), int) else env_float
        value = parse(var, env[var])
        if not ok(value):
            raise ConfigError(f"{var}={env[var]!r} {wants}")
        values[name] = value
    return cls(**values)
