"""Reads and writes of the embedding cache (the ``embeddings`` index, see ``embeddings.py``).

One entry per (model, text): ``_id = sha256(model + NUL + text)``, the vector as little-endian
float32 bytes (base64 in JSON). Entries are written with plain ``index`` by id, so a retried or
re-run job overwrites instead of duplicating. An entry whose ``model_version`` differs from the
caller's is treated as a miss (and overwritten), so upgrading a model's weights under the same
name never serves stale vectors.

The same table caches cross-encoder pair scores: ``model`` is then ``cross:<name>``, the text is
``query NUL document`` and the "vector" has one dimension.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from elasticsearch import Elasticsearch, helpers

from services.store import embeddings

MGET_CHUNK = 1000


def index(prefix: str) -> str:
    return embeddings.FAMILY.index(prefix)


def cache_key(model: str, text: str) -> str:
    """The document id of ``text``'s embedding under ``model``.

    >>> cache_key("m", "a")[:12]
    '3495f49bd0e6'
    """
    return hashlib.sha256(model.encode() + b"\0" + text.encode()).hexdigest()


def encode_vector(v: np.ndarray) -> str:
    return base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode("ascii")


def decode_vector(s: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(s), dtype="<f4")


def _chunks(seq: Sequence, n: int) -> Iterator[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def get_many(
    es: Elasticsearch, prefix: str, model: str, model_version: str, keys: Sequence[str]
) -> dict[str, np.ndarray]:
    """The cached vectors among ``keys`` (ids from :func:`cache_key`); misses are absent."""
    found: dict[str, np.ndarray] = {}
    for chunk in _chunks(list(keys), MGET_CHUNK):
        r = es.mget(index=index(prefix), ids=list(chunk), source_includes=["vector", "model", "model_version"])
        for d in r["docs"]:
            src = d.get("_source") if d.get("found") else None
            if src and src.get("model") == model and src.get("model_version") == model_version:
                found[d["_id"]] = decode_vector(src["vector"])
    return found


def put_many(
    es: Elasticsearch,
    prefix: str,
    model: str,
    model_version: str,
    entries: Iterable[tuple[str, str, np.ndarray]],
    refresh: bool = False,
) -> tuple[int, list[dict]]:
    """Write ``(key, text, vector)`` entries; returns ``(written, errors)`` (errors per entry, not raised)."""
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    idx = index(prefix)

    def actions():
        for key, text, vec in entries:
            yield {
                "_op_type": "index", "_index": idx, "_id": key,
                "_source": {
                    "model": model, "model_version": model_version,
                    "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "dims": int(np.asarray(vec).size), "vector": encode_vector(vec), "create_time": now,
                },
            }

    ok, errors = 0, []
    for success, info in helpers.streaming_bulk(es, actions(), chunk_size=500, raise_on_error=False,
                                                raise_on_exception=False, max_retries=3, refresh=refresh):
        if success:
            ok += 1
        else:
            errors.append(info)
    return ok, errors


def count(es: Elasticsearch, prefix: str, model: str | None = None) -> int:
    """Entries in the cache (for ``model`` if given)."""
    es.indices.refresh(index=index(prefix))
    q = {"term": {"model": model}} if model else {"match_all": {}}
    return int(es.count(index=index(prefix), query=q)["count"])
