import pytest

from services.config import ConfigError, Principal, from_env, parse_tokens


def test_parse_tokens():
    assert parse_tokens("a=ann:engineer, b=bob:grader") == {
        "a": Principal("ann", "engineer"),
        "b": Principal("bob", "grader"),
    }


@pytest.mark.parametrize("spec, needle", [
    ("a=ann", "TOKEN=SUBJECT:ROLE"),
    ("a=ann:king", "role must be one of"),
    ("a=ann:ops,a=bob:ops", "twice"),
])
def test_parse_tokens_rejects(spec, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_tokens(spec)


def test_from_env_reads_qrelay_variables(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("# comment\nt1=ann:admin\n")
    cfg = from_env({
        "QRELAY_ES_URL": "https://es:9200", "QRELAY_ES_USERNAME": "u", "QRELAY_ES_VERIFY_CERTS": "false",
        "QRELAY_PORT": "6000", "QRELAY_INDEX_PREFIX": "x-", "QRELAY_TOKENS_FILE": str(tokens),
    })
    assert cfg.es.url == "https://es:9200" and cfg.es.username == "u" and cfg.es.verify_certs is False
    assert cfg.es.index_prefix == "x-" and cfg.server.port == 6000
    assert cfg.tokens == {"t1": Principal("ann", "admin")}


@pytest.mark.parametrize("env, needle", [
    ({"QRELAY_PORT": "abc"}, "QRELAY_PORT='abc' is not an integer"),
    ({"QRELAY_ES_VERIFY_CERTS": "maybe"}, "not a boolean"),
    ({"QRELAY_LOG_FORMAT": "xml"}, "must be one of json, text"),
    ({"QRELAY_TOKENS_FILE": "/nonexistent/tokens"}, "cannot be read"),
])
def test_from_env_errors_name_the_setting(env, needle):
    with pytest.raises(ConfigError, match=needle):
        from_env(env)


def test_rate_limits_and_tls_from_env(tmp_path):
    from services.config import RateLimit

    cfg = from_env({"QRELAY_RATE_LIMITS": "grader=5:8,ops=0", "QRELAY_TLS_CERT": "c.pem", "QRELAY_TLS_KEY": "k.pem"})
    assert cfg.server.rate_limits["grader"] == RateLimit(5, 8) and cfg.server.rate_limits["ops"].per_second == 0
    assert cfg.server.rate_limits["admin"] == RateLimit(50, 100)  # the defaults stay for roles not named
    assert str(cfg.server.tls_cert) == "c.pem" and str(cfg.server.tls_key) == "k.pem"


@pytest.mark.parametrize("env, needle", [
    ({"QRELAY_RATE_LIMITS": "king=5"}, "ROLE=RATE"),
    ({"QRELAY_RATE_LIMITS": "grader=fast"}, "are numbers"),
    ({"QRELAY_RATE_LIMITS": "grader=5:0.5"}, "BURST ≥ 1"),
    ({"QRELAY_TLS_CERT": "c.pem"}, "both QRELAY_TLS_CERT and QRELAY_TLS_KEY"),
    ({"QRELAY_SECRET_KEY": "abcd"}, "at least 32 bytes"),
])
def test_bad_rate_limits_tls_and_secrets_are_refused(env, needle):
    with pytest.raises(ConfigError, match=needle):
        from_env(env)


def test_trend_and_quality_settings_are_typed_and_checked():
    cfg = from_env({"QRELAY_RECURRENCE_MIN_SECONDS": "2", "QRELAY_WEBHOOK_ATTEMPTS": "3",
                    "QRELAY_QUALITY_GOLD_ACCURACY": "0.8"})
    assert cfg.trends.min_recurrence_seconds == 2.0 and cfg.trends.webhook_attempts == 3
    assert isinstance(cfg.trends.webhook_attempts, int) and cfg.quality.gold_accuracy == 0.8
    assert from_env({}).trends.min_recurrence_seconds == 3600.0
    with pytest.raises(ConfigError, match="QRELAY_QUALITY_SKIP_RATE='1.5' must lie strictly between 0 and 1"):
        from_env({"QRELAY_QUALITY_SKIP_RATE": "1.5"})
    with pytest.raises(ConfigError, match="QRELAY_WEBHOOK_ATTEMPTS='2.5' is not an integer"):
        from_env({"QRELAY_WEBHOOK_ATTEMPTS": "2.5"})
