"""The ``system`` index: a few documents the server replicas share about themselves — the
server secret (when none is configured) and the judgement reconciler's watermark.

The secret is created once per index prefix (``op_type=create``: the first replica to start
wins, the others read it), so every replica derives the same keys (assignment handles, grader
credentials). Whoever can read this index can read the secret; a deployment that wants the key
outside Elasticsearch sets ``QRELAY_SECRET_KEY`` on every replica instead.
"""
from __future__ import annotations

import base64
import secrets
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.store.family import DATE, KEYWORD, OPAQUE, IndexFamily

FAMILY = IndexFamily(
    name="system",
    version=1,
    doc="Shared server state: the server secret (unless configured) and the reconciler's watermark.",
    properties={
        "name": KEYWORD,
        "material": OPAQUE,  # {"secret": base64}: stored, never searched
        "watermark": DATE,
        "update_time": DATE,
    },
)

SECRET_BYTES = 32


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def _get(es: Elasticsearch, prefix: str, name: str) -> dict[str, Any] | None:
    try:
        r = es.get(index=index(prefix), id=name, realtime=True)
    except NotFoundError:
        return None
    return {**r["_source"], "_seq_no": r["_seq_no"], "_primary_term": r["_primary_term"]}


def server_secret(es: Elasticsearch, prefix: str) -> bytes:
    """The secret every replica of this deployment shares, created on first use."""
    doc = _get(es, prefix, "secret")
    if doc is None:
        material = base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
        try:
            es.create(index=index(prefix), id="secret", refresh="wait_for",
                      document={"name": "secret", "material": {"secret": material}})
        except ConflictError:
            pass  # another replica created it first: use theirs
        doc = _get(es, prefix, "secret")
    return base64.b64decode(doc["material"]["secret"])


def watermark(es: Elasticsearch, prefix: str, name: str) -> tuple[str | None, dict[str, Any] | None]:
    """A named watermark (an ISO time) and the version to advance it from (None: never set)."""
    doc = _get(es, prefix, name)
    return (doc.get("watermark") if doc else None), doc


def advance_watermark(es: Elasticsearch, prefix: str, name: str, read: dict[str, Any] | None, value: str,
                      at: str) -> bool:
    """Move a watermark forward from the version ``read`` (optimistic: False if another replica
    moved it meanwhile; never moves it back)."""
    if read is not None and (read.get("watermark") or "") >= value:
        return True
    body = {"name": name, "watermark": value, "update_time": at}
    try:
        if read is None:
            es.create(index=index(prefix), id=name, document=body)
        else:
            es.index(index=index(prefix), id=name, document=body, if_seq_no=read["_seq_no"],
                     if_primary_term=read["_primary_term"])
    except ConflictError:
        return False
    return True
