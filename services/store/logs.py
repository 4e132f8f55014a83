"""Reads of the user's search-log indices: what fields exist, how often each query was
searched (aggregations, never raw events), and the result lists a bucket showed.

Field names come from the configured :class:`LogFieldMapping`; filters and strata may also
name any mapped field of the index directly.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from elasticsearch import Elasticsearch, NotFoundError

from services.core.logmapping import LogFieldMapping
from services.core.querynorm import normalize_query

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


def query_key_field(mapping: LogFieldMapping, types: dict[str, str]) -> str | None:
    """The aggregatable field that groups queries: the normalised keyword, else the raw query's keyword."""
    for name in ("query_norm", "query"):
        if name == "query_norm" and mapping.query_norm is None:
            continue
        path = resolve_field(name, mapping, types)
        if path:
            return path
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


# --- clicks, for the click model -------------------------------------------------------------


@dataclass
class ClickLog:
    """Searches of some queries collapsed into *configurations*: one row per distinct (query,
    group, result list, clicked positions), with the number of searches that had it — the input
    of :class:`evaluators.click_model.DBN` — and per (query, group, document) the clicks' dwell.

    ``key`` is the normalised query and ``group`` the event's locale ("" without one).
    """

    depth: int
    rows: dict[tuple[str, str, tuple[str, ...], int], int] = field(default_factory=dict)
    dwell: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)  # [clicks, long clicks, Σ log s]
    events: int = 0
    capped: int = 0  # queries whose events were cut at the cap

    def add(self, key: str, group: str, docs: tuple[str, ...], clicked: Sequence[int],
            dwell_ms: Sequence[float | None], long_click_ms: float) -> None:
        mask = 0
        for pos, ms in zip(clicked, dwell_ms):
            mask |= 1 << pos
            row = self.dwell.setdefault((key, group, docs[pos]), [0.0, 0.0, 0.0])
            row[0] += 1
            if ms is not None and ms > 0:
                row[1] += ms >= long_click_ms
                row[2] += float(np.log(ms / 1000.0))
        k = (key, group, docs, mask)
        self.rows[k] = self.rows.get(k, 0) + 1
        self.events += 1


def click_log(es: Elasticsearch, source: LogSource, key_field: str, queries: Iterable[str],
              max_events_per_query: int = 2000, depth: int = 10, long_click_ms: float = 30_000.0,
              page_size: int = 2000, batch: int = 500) -> ClickLog:
    """The result lists and clicks of the source's events for ``queries`` (values of
    ``key_field``: a query's normalised and shown texts, say; events are grouped by the
    normalised form), newest first, at most ``max_events_per_query`` per query (a head query's model is
    settled long before its millionth search), collapsed into a :class:`ClickLog`.

    Events stream by point-in-time and ``search_after`` with only the list and click fields;
    a query that reached its cap is dropped from the next page's filter, so the head does not
    cost what it weighs. Memory follows the distinct configurations, not the events.
    """
    m = source.mapping
    out = ClickLog(depth)
    if not m.clicks:
        return out
    doc_f, pos_f = m.result_doc_id, m.result_position
    cdoc_f, cpos_f, dwell_f = m.click_doc_id, m.click_position, m.click_dwell_ms
    query_path = m.query_norm or m.query
    fields = [query_path, m.query, m.results, m.clicks] + ([m.locale] if m.locale else [])
    raw_of: dict[str, set[str]] = {}
    for q in queries:
        if q:
            raw_of.setdefault(normalize_query(q), set()).add(q)
    wanted = sorted(raw_of)
    seen: dict[str, int] = {}
    for start in range(0, len(wanted), batch):
        open_keys = set(wanted[start:start + batch])
        pit = es.open_point_in_time(index=source.index, keep_alive="2m")["id"]
        try:
            after = None
            while open_keys:
                raw = sorted(set().union(*(raw_of[k] for k in open_keys)))
                r = es.options(request_timeout=120).search(
                    pit={"id": pit, "keep_alive": "2m"}, size=page_size, search_after=after,
                    query=source.query([{"terms": {key_field: raw}}]), sort=[{m.timestamp: "desc"}, {"_shard_doc": "asc"}],
                    _source=fields, track_total_hits=False)
                hits = r["hits"]["hits"]
                for h in hits:
                    ev = h["_source"]
                    key = normalize_query(str(get_path(ev, query_path) or get_path(ev, m.query) or ""))
                    if key not in open_keys:
                        continue
                    n = seen[key] = seen.get(key, 0) + 1
                    if n >= max_events_per_query:
                        open_keys.discard(key)
                        out.capped += 1
                    results = sorted((x for x in get_path(ev, m.results) or () if isinstance(x, dict)),
                                     key=lambda x: x.get(pos_f) or 0)[:depth]
                    docs = tuple(str(x.get(doc_f)) for x in results)
                    where = {d: i for i, d in enumerate(docs)}
                    clicked, dwell = [], []
                    for c in get_path(ev, m.clicks) or ():
                        if not isinstance(c, dict):
                            continue
                        pos = (int(c[cpos_f]) - 1) if cpos_f and c.get(cpos_f) else where.get(str(c.get(cdoc_f)), -1)
                        if 0 <= pos < len(docs) and pos not in clicked:
                            clicked.append(pos)
                            dwell.append(c.get(dwell_f) if dwell_f else None)
                    out.add(key, str(get_path(ev, m.locale) or "") if m.locale else "", docs, clicked, dwell,
                            long_click_ms)
                if len(hits) < page_size:
                    break
                after = hits[-1]["sort"]
        finally:
            es.options(ignore_status=404).close_point_in_time(id=pit)
    return out
