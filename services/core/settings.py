"""How to reach Elasticsearch, from ``QRELAY_ES_*`` variables: the settings the server, the
store, the jobs and the tests share, and the typed parsing of environment values."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from services.core.errors import ConfigError


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


def env_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true or false)")


def env_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not an integer") from None


def env_float(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number") from None


def env_positive(env: Mapping[str, str], name: str, default: float) -> float:
    """``env[name]`` as a positive number; ``default`` when unset or empty.

    >>> env_positive({"QRELAY_X": "2.5"}, "QRELAY_X", 1.0), env_positive({}, "QRELAY_X", 1.0)
    (2.5, 1.0)
    """
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = env_float(name, raw)
    if not value > 0:
        raise ConfigError(f"{name}={raw!r} must be positive")
    return value


def es_from_env(env: Mapping[str, str]) -> ElasticsearchConfig:
    """Elasticsearch settings from ``QRELAY_ES_*`` variables (shared by server, jobs, tests)."""
    d = ElasticsearchConfig()
    return ElasticsearchConfig(
        url=env.get("QRELAY_ES_URL") or None,
        username=env.get("QRELAY_ES_USERNAME") or None,
        password=env.get("QRELAY_ES_PASSWORD") or None,
        api_key=env.get("QRELAY_ES_API_KEY") or None,
        ca_certs=env.get("QRELAY_ES_CA_CERTS") or None,
        verify_certs=env_bool("QRELAY_ES_VERIFY_CERTS", env["QRELAY_ES_VERIFY_CERTS"])
        if "QRELAY_ES_VERIFY_CERTS" in env
        else True,
        index_prefix=env.get("QRELAY_INDEX_PREFIX", d.index_prefix),
        local_data=Path(env.get("QRELAY_ES_DATA", str(d.local_data))),
        local_port=env_int("QRELAY_ES_PORT", env["QRELAY_ES_PORT"]) if "QRELAY_ES_PORT" in env else d.local_port,
    )
