"""Live search against a user's document index (for rankers given as search templates)."""
from __future__ import annotations

from typing import Any, Sequence

from elasticsearch import ApiError, Elasticsearch

from services.store.logs import get_path


class SearchRejected(ValueError):
    """Elasticsearch refused a rendered search body (bad query DSL, unknown index/field)."""


def msearch(es: Elasticsearch, index: str, bodies: Sequence[dict], fields: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Run one search body per query; each result list as docs (doc_id, title, snippet, url, position)."""
    if not bodies:
        return []
    searches: list[dict] = []
    for body in bodies:
        searches += [{"index": index}, body]
    r = es.msearch(searches=searches, request_timeout=120)
    out = []
    for resp in r["responses"]:
        if "error" in resp:
            err = resp["error"]
            reason = err.get("root_cause", [err])[0].get("reason") if isinstance(err, dict) else str(err)
            raise SearchRejected(reason or str(err))
        docs = []
        for pos, hit in enumerate(resp["hits"]["hits"], start=1):
            src = hit.get("_source") or {}
            docs.append({
                "doc_id": str(get_path(src, fields.get("doc_id", "doc_id")) or hit["_id"]),
                "title": _text(get_path(src, fields["title"])),
                "snippet": _text(get_path(src, fields["snippet"])),
                "url": _text(get_path(src, fields["url"])),
                "position": pos,
            })
        out.append(docs)
    return out


def probe(es: Elasticsearch, index: str, body: dict) -> None:
    """Run ``body`` once with ``size: 0``; :class:`SearchRejected` with Elasticsearch's reason if refused."""
    try:
        es.search(index=index, body={**body, "size": 0})
    except ApiError as exc:
        if exc.meta.status in (400, 404):
            cause = (exc.info or {}).get("error", {}) if isinstance(exc.info, dict) else {}
            roots = cause.get("root_cause") or [cause]
            raise SearchRejected(roots[0].get("reason") or exc.message) from None
        raise


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return "" if value is None else str(value)
