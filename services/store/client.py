"""The one place an Elasticsearch client is built and its reachability checked."""
from __future__ import annotations

from elasticsearch import Elasticsearch

from services.core.settings import ElasticsearchConfig


class StoreUnavailable(Exception):
    """Elasticsearch cannot be reached or answered with a server-side failure (retryable)."""


def connect(cfg: ElasticsearchConfig, url: str | None = None) -> Elasticsearch:
    """A client for ``url`` (or ``cfg.url``) with the credentials/TLS options of ``cfg``.
    Several nodes of one cluster may be given, comma-separated: the client spreads requests over
    them and retries a request on another node when one is down (a cluster losing a node)."""
    target = url or cfg.url
    if not target:
        raise ValueError("no Elasticsearch URL: set QRELAY_ES_URL or start the local node")
    hosts = [u.strip() for u in target.split(",") if u.strip()]
    # as many pooled connections as the server has worker threads, so RPCs never queue for one
    kwargs: dict = {"request_timeout": cfg.request_timeout, "retry_on_timeout": True, "max_retries": 2,
                    "connections_per_node": 32}
    if cfg.api_key:
        kwargs["api_key"] = cfg.api_key
    elif cfg.username:
        kwargs["basic_auth"] = (cfg.username, cfg.password or "")
    if target.startswith("https"):
        kwargs["verify_certs"] = cfg.verify_certs
        if cfg.ca_certs:
            kwargs["ca_certs"] = cfg.ca_certs
    return Elasticsearch(hosts, **kwargs)


def ping(es: Elasticsearch) -> dict:
    """``GET /`` — returns the info document or raises :class:`StoreUnavailable` with one clear sentence."""
    from elasticsearch import ApiError, TransportError

    try:
        return es.info().body
    except TransportError as exc:  # connection refused, DNS, TLS, timeout
        raise StoreUnavailable(f"Elasticsearch at {_url(es)} cannot be reached ({type(exc).__name__}: {exc.message})") from None
    except ApiError as exc:
        raise StoreUnavailable(f"Elasticsearch at {_url(es)} answered {exc.meta.status}: {exc.message}") from None


def _url(es: Elasticsearch) -> str:
    nodes = list(es.transport.node_pool.all())
    return str(nodes[0].base_url) if nodes else "?"
