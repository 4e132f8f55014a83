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


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    """``env[name]`` when it is one of ``choices``; ``default`` when unset or empty.

    >>> env_choice({"QRELAY_MODE": "b"}, "QRELAY_MODE", "a", ("a", "b")), env_choice({}, "QRELAY_MODE", "a", ("a", "b"))
    ('b', 'a')
    """
    value = env.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


# checks for `settings_from_env`: (check, what the check wants)
POSITIVE = (lambda x: x > 0, "must be positive")
SHARE = (lambda x: 0 < x < 1, "must lie strictly between 0 and 1")


def settings_from_env(cls, env: Mapping[str, str], names: Mapping[str, tuple], **given):
    """``cls`` with each field in ``names`` (field -> (variable, check, what it wants)) read from
    its variable when set and not empty — typed like the field's default (a number, or a word), then checked — and the
    fields in ``given`` as they are. The one way every settings object reads ``QRELAY_*``.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class S:
    ...     every: int = 3
    ...     wait: float = 1.0
    >>> settings_from_env(S, {"QRELAY_EVERY": "5", "QRELAY_WAIT": ""},
    ...                   {"every": ("QRELAY_EVERY", *POSITIVE), "wait": ("QRELAY_WAIT", *POSITIVE)})
    S(every=5, wait=1.0)
    >>> settings_from_env(S, {"QRELAY_EVERY": "0"}, {"every": ("QRELAY_EVERY", *POSITIVE)})
    Traceback (most recent call last):
    ...
    services.core.errors.ConfigError: QRELAY_EVERY='0' must be positive
    """
    values = dict(given)
    for name, (var, ok, wants) in names.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        default = getattr(cls, name)
        if isinstance(default, str):
            value = raw.strip()
        elif isinstance(default, int) and not isinstance(default, bool):
            value = env_int(var, raw)
        else:
            value = env_float(var, raw)
        if not ok(value):
            raise ConfigError(f"{var}={raw!r} {wants}")
        values[name] = value
    return cls(**values)


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
