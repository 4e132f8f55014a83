"""One typed configuration object, built once from flags and ``QRELAY_*`` environment.

Everything below the entry points receives a :class:`Config` (or a part of it); nothing
deep inside reads ``os.environ``.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from services.core.errors import ConfigError
from services.core.settings import (
    POSITIVE, SHARE, ElasticsearchConfig, env_choice, env_float, es_from_env, settings_from_env,
)
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
class RateLimit:
    """A token bucket: ``per_second`` calls on average, up to ``burst`` at once (per_second 0: no limit)."""

    per_second: float
    burst: float


# Per principal (one bucket per subject) and server process. Graders' own loop is about one
# call a second; an API client or a script of an engineer or ops lead gets more room.
DEFAULT_RATE_LIMITS = {"grader": RateLimit(20, 40), "engineer": RateLimit(20, 60), "ops": RateLimit(20, 60),
                       "admin": RateLimit(50, 100)}


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 50051
    max_workers: int = 32
    # Seconds in-flight RPCs get to finish after SIGTERM before the server stops hard.
    drain_seconds: float = 10.0
    log_format: str = "json"  # json | text
    log_level: str = "INFO"
    # Calls per principal before RESOURCE_EXHAUSTED, by role (QRELAY_RATE_LIMITS).
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # TLS on the gRPC port: PEM certificate chain and private key (both, or neither: plaintext).
    tls_cert: Path | None = None
    tls_key: Path | None = None


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
    # The server secret (assignment handles, grader credentials); None: one kept in the `system` index
    secret_key: bytes | None = None
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


def parse_rate_limits(spec: str) -> dict[str, RateLimit]:
    """``ROLE=RATE[:BURST],...`` over the defaults (RATE per second; 0: no limit; BURST default 2 × RATE).

    >>> parse_rate_limits("grader=5,ops=0")["grader"], parse_rate_limits("grader=5:7")["grader"].burst
    (RateLimit(per_second=5.0, burst=10.0), 7.0)
    """
    limits = dict(DEFAULT_RATE_LIMITS)
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        role, sep, value = entry.partition("=")
        rate, _, burst = value.partition(":")
        if not sep or role not in ROLES:
            raise ConfigError(f"QRELAY_RATE_LIMITS entry {entry!r} is not ROLE=RATE[:BURST] with a role of "
                              f"{', '.join(ROLES)}")
        try:
            r = float(rate)
            b = float(burst) if burst else 2 * r
        except ValueError:
            raise ConfigError(f"QRELAY_RATE_LIMITS entry {entry!r}: RATE and BURST are numbers") from None
        if r < 0 or b < 0 or (r > 0 and b < 1):
            raise ConfigError(f"QRELAY_RATE_LIMITS entry {entry!r}: RATE ≥ 0 and BURST ≥ 1")
        limits[role] = RateLimit(r, b)
    return limits


def parse_secret(name: str, value: str) -> bytes:
    """A secret of at least 32 bytes, given as hex or base64.

    >>> len(parse_secret("K", "00" * 32))
    32
    """
    raw = value.strip()
    try:
        secret = bytes.fromhex(raw)
    except ValueError:
        try:
            secret = base64.b64decode(raw, validate=True)
        except ValueError:
            raise ConfigError(f"{name} is neither hex nor base64") from None
    if len(secret) < 32:
        raise ConfigError(f"{name} must hold at least 32 bytes (64 hex digits), got {len(secret)}")
    return secret


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from ``QRELAY_*`` variables; flags override it later via ``replace``."""
    env = os.environ if env is None else env
    server = settings_from_env(
        ServerConfig, env, _SERVER_ENV,
        host=env.get("QRELAY_HOST") or ServerConfig.host,
        log_format=env_choice(env, "QRELAY_LOG_FORMAT", ServerConfig.log_format, ("json", "text")),
        log_level=(env.get("QRELAY_LOG_LEVEL") or ServerConfig.log_level).upper(),
        rate_limits=parse_rate_limits(env.get("QRELAY_RATE_LIMITS", "")),
        tls_cert=Path(env["QRELAY_TLS_CERT"]) if env.get("QRELAY_TLS_CERT") else None,
        tls_key=Path(env["QRELAY_TLS_KEY"]) if env.get("QRELAY_TLS_KEY") else None,
    )
    if (server.tls_cert is None) != (server.tls_key is None):
        raise ConfigError("TLS needs both QRELAY_TLS_CERT and QRELAY_TLS_KEY (or --tls-cert and --tls-key)")
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
                  outage_seconds=env_float("QRELAY_OUTAGE_SECONDS", env.get("QRELAY_OUTAGE_SECONDS") or "300"),
                  secret_key=parse_secret("QRELAY_SECRET_KEY", env["QRELAY_SECRET_KEY"])
                  if env.get("QRELAY_SECRET_KEY") else None,
                  reporting=ReportingConfig.from_mapping(env), trends=settings_from_env(TrendsConfig, env, _TRENDS_ENV),
                  quality=settings_from_env(QualityConfig, env, _QUALITY_ENV))


# field -> (variable, check, what the check wants)
_SERVER_ENV = {
    "port": ("QRELAY_PORT", lambda x: 0 <= x < 65536, "must be a port number (0 picks a free one)"),
    "max_workers": ("QRELAY_MAX_WORKERS", *POSITIVE),
    "drain_seconds": ("QRELAY_DRAIN_SECONDS", lambda x: x >= 0, "must not be negative"),
}
_TRENDS_ENV = {
    "min_recurrence_seconds": ("QRELAY_RECURRENCE_MIN_SECONDS", *POSITIVE),
    "scheduler_seconds": ("QRELAY_SCHEDULER_SECONDS", *POSITIVE),
    "webhook_attempts": ("QRELAY_WEBHOOK_ATTEMPTS", *POSITIVE),
    "webhook_backoff_seconds": ("QRELAY_WEBHOOK_BACKOFF_SECONDS", *POSITIVE),
    "webhook_max_backoff_seconds": ("QRELAY_WEBHOOK_MAX_BACKOFF_SECONDS", *POSITIVE),
    "webhook_timeout_seconds": ("QRELAY_WEBHOOK_TIMEOUT_SECONDS", *POSITIVE),
}
_QUALITY_ENV = {
    "gold_accuracy": ("QRELAY_QUALITY_GOLD_ACCURACY", *SHARE),
    "consensus_agreement": ("QRELAY_QUALITY_CONSENSUS_AGREEMENT", *SHARE),
    "reliability": ("QRELAY_QUALITY_RELIABILITY", *SHARE),
    "skip_rate": ("QRELAY_QUALITY_SKIP_RATE", *SHARE),
    "drift_alpha": ("QRELAY_QUALITY_DRIFT_ALPHA", *SHARE),
    "min_judgements": ("QRELAY_QUALITY_MIN_JUDGEMENTS", *POSITIVE),
    "confidence": ("QRELAY_QUALITY_CONFIDENCE", *SHARE),
}
