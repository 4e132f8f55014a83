"""One typed configuration object, built once from flags and ``QRELAY_*`` environment.

Everything below the entry points receives a :class:`Config` (or a part of it); nothing
deep inside reads ``os.environ``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

ROLES = ("engineer", "grader", "ops", "admin")

# Tokens the local stack uses when none are configured. They only ever exist on a
# developer's loopback stack; `qrelay serve` prints them so a newcomer can call the API.
DEV_TOKENS = (
    "dev-engineer=eve:engineer",
    "dev-grader=gina:grader",
    "dev-ops=otto:ops",
    "dev-admin=ada:admin",
)


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the setting."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject name and one of :data:`ROLES`."""

    subject: str
    role: str


@dataclass(frozen=True)
class ElasticsearchConfig:
    """How to reach Elasticsearch. ``url=None`` means: start the local node."""

    url: str | None = None
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    index_prefix: str = "qrelay-"
    request_timeout: float = 30.0
    # Where the local node keeps its data when qrelay starts one itself.
    local_data: Path = Path(".qrelay/es")
    local_port: int = 9200


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
class Config:
    es: ElasticsearchConfig = field(default_factory=ElasticsearchConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    # bearer token -> principal
    tokens: Mapping[str, Principal] = field(default_factory=dict)
    # JSON/TOML file mapping logical log fields to the user's log fields; None: the fixture layout
    log_mapping_file: Path | None = None
    # How long background work (production) waits for Elasticsearch to come back before it fails
    outage_seconds: float = 300.0


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


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true or false)")


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not an integer") from None


def _float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None


def es_from_env(env: Mapping[str, str]) -> ElasticsearchConfig:
    """Elasticsearch settings from ``QRELAY_ES_*`` variables (shared by server, jobs, tests)."""
    d = ElasticsearchConfig()
    return ElasticsearchConfig(
        url=env.get("QRELAY_ES_URL") or None,
        username=env.get("QRELAY_ES_USERNAME") or None,
        password=env.get("QRELAY_ES_PASSWORD") or None,
        api_key=env.get("QRELAY_ES_API_KEY") or None,
        ca_certs=env.get("QRELAY_ES_CA_CERTS") or None,
        verify_certs=_bool("QRELAY_ES_VERIFY_CERTS", env["QRELAY_ES_VERIFY_CERTS"])
        if "QRELAY_ES_VERIFY_CERTS" in env
        else True,
        index_prefix=env.get("QRELAY_INDEX_PREFIX", d.index_prefix),
        local_data=Path(env.get("QRELAY_ES_DATA", str(d.local_data))),
        local_port=_int("QRELAY_ES_PORT", env["QRELAY_ES_PORT"]) if "QRELAY_ES_PORT" in env else d.local_port,
    )


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from ``QRELAY_*`` variables; flags override it later via ``replace``."""
    env = os.environ if env is None else env
    s = ServerConfig()
    server = ServerConfig(
        host=env.get("QRELAY_HOST", s.host),
        port=_int("QRELAY_PORT", env["QRELAY_PORT"]) if "QRELAY_PORT" in env else s.port,
        max_workers=_int("QRELAY_MAX_WORKERS", env["QRELAY_MAX_WORKERS"]) if "QRELAY_MAX_WORKERS" in env else s.max_workers,
        drain_seconds=_float("QRELAY_DRAIN_SECONDS", env.get("QRELAY_DRAIN_SECONDS", str(s.drain_seconds))),
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
                  outage_seconds=_float("QRELAY_OUTAGE_SECONDS", env.get("QRELAY_OUTAGE_SECONDS", "300")))
