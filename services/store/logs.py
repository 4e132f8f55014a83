"""Reads of the user's search-log indices: what fields exist, how often each query was
searched (aggregations, never raw events), and the result lists a bucket showed.

Field names come from the configured :class:`LogFieldMapping`; filters and strata may also
name any mapped field of the index directly.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from elasticsearch import Elasticsearch, NotFoundError

from services.core.logmapping import LogFieldMapping

# Field types a terms/composite aggregation can group by.
_AGGREGATABLE = {"keyword", "constant_keyword", "boolean", "long", "integer", "short", "byte", "ip", "date",
                 "double", "float", "half_float", "scaled_float", "unsigned_long", "wildcard"}


class UnknownIndex(LookupError):
    """No index matches the pattern."""


@dataclass(frozen=True)
class LogSource:
    """Which events count: an index pattern, a time window and term filters (resolved field paths)."""

    index: str
    start: dt.datetime
    end: dt.datetime
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    mapping: LogFieldMapping

    def query(self, extra: Sequence[dict] = ()) -> dict:
        clauses = [{"range": {self.mapping.timestamp: {"gte": self.start.isoformat(), "lt": self.end.isoformat()}}}]
        clauses += [{"terms": {path: list(values)}} for path, values in self.filters]
        return {"bool": {"filter": [*clauses, *extra]}}


def field_types(es: Elasticsearch, index: str) -> dict[str, str]:
    """Every field path of the indices matching ``index`` → its type (sub-fields as ``a.b``)."""
    try:
        body = es.indices.get_mapping(index=index, allow_no_indices=False).body
    except NotFoundError:
        raise UnknownIndex(index) from None
    if not body:
        raise UnknownIndex(index)
    types: dict[str, str] = {}

    def walk(props: dict, base: str) -> None:
        for name, spec in props.items():
            path = f"{base}{name}"
            if "properties" in spec:
                walk(spec["properties"], f"{path}.")
            if "type" in spec:
                types[path] = spec["type"]
            for sub, sub_spec in (spec.get("fields") or {}).items():
                types[f"{path}.{sub}"] = sub_spec.get("type", "object")

    for index_body in body.values():
        walk(index_body.get("mappings", {}).get("properties", {}), "")
    return types


def resolve_field(name: str, mapping: LogFieldMapping, types: dict[str, str]) -> str | None:
    """A logical field (``locale``) or a mapped path (``geo.country``) → an aggregatable path, or None."""
    path = mapping.path(name) if name in mapping.logical_fields() else name
    if path is None:
        return None
    if types.get(path) in _AGGREGATABLE:
        return path
    if types.get(f"{path}.keyword") in _AGGREGATABLE:  # dynamic-mapping style text + keyword
        return f"{path}.keyword"
    return None


def count(es: Elasticsearch, source: LogSource) -> int:
    return int(es.count(index=source.index, query=source.query())["count"])


def distinct_values(es: Elasticsearch, source: LogSource, field: str, size: int = 1000) -> dict[str, int]:
    """Values of ``field`` among the source's events, with event counts."""
    r = es.search(index=source.index, size=0, query=source.query(),
                  aggs={"v": {"terms": {"field": field, "size": size}}})
    return {str(b["key"]): b["doc_count"] for b in r["aggregations"]["v"]["buckets"]}


def distinct_queries(es: Elasticsearch, source: LogSource, key_field: str) -> int:
    """Approximate distinct query keys (HyperLogLog; exact below 40,000)."""
    r = es.search(index=source.index, size=0, query=source.query(),
                  aggs={"n": {"cardinality": {"field": key_field, "precision_threshold": 40000}}})
    return int(r["aggregations"]["n"]["value"])


def query_frequencies(
    es: Elasticsearch, source: LogSource, key_field: str, group_fields: Sequence[str], page_size: int = 10_000,
) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """``(query key, group values, events)`` for every distinct (query, group) in the source.

    A paginated composite aggregation: memory grows with distinct queries, never with events.
    Events missing a group field report ``""`` for it.
    """
    sources = [{"q": {"terms": {"field": key_field}}}]
    sources += [{f"g{i}": {"terms": {"field": f, "missing_bucket": True}}} for i, f in enumerate(group_fields)]
    after = None
    while True:
        comp: dict[str, Any] = {"size": page_size, "sources": sources}
        if after:
            comp["after"] = after
        r = es.search(index=source.index, size=0, query=source.query(), aggs={"c": {"composite": comp}},
                      request_timeout=120)
        agg = r["aggregations"]["c"]
        for b in agg["buckets"]:
            key = b["key"]
            yield str(key["q"]), tuple("" if key[f"g{i}"] is None else str(key[f"g{i}"]) for i in range(len(group_fields))), b["doc_count"]
        after = agg.get("after_key")
        if not after or not agg["buckets"]:
            return


def latest_results(
    es: Elasticsearch,
    source: LogSource,
    key_field: str,
    keys: Iterable[str],
    extra_filters: Sequence[dict] = (),
    batch: int = 500,
) -> dict[str, dict]:
    """The most recent event (``_source``: query text, locale, results) per query key.

    A terms aggregation restricted to ``keys`` with a ``top_hits`` of one, newest first —
    batched so each request stays small.
    """
    m = source.mapping
    wanted = [m.query, m.results] + [p for p in (m.locale,) if p]
    keys = list(keys)
    out: dict[str, dict] = {}
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        r = es.search(
            index=source.index, size=0,
            query=source.query([{"terms": {key_field: chunk}}, *extra_filters]),
            aggs={"q": {"terms": {"field": key_field, "size": len(chunk)},
                        "aggs": {"top": {"top_hits": {"size": 1, "sort": [{m.timestamp: "desc"}],
                                                      "_source": {"includes": wanted}}}}}},
            request_timeout=120,
        )
        for b in r["aggregations"]["q"]["buckets"]:
            out[str(b["key"])] = b["top"]["hits"]["hits"][0]["_source"]
    return out


def get_path(doc: dict, path: str | None) -> Any:
    """``a.b`` from a ``_source`` dict (None when absent)."""
    if path is None:
        return None
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
