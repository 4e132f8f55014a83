"""Checks of an evaluation request against the data, before anything is written.

Each failure names the request field at fault (INVALID_ARGUMENT), or says why the data
cannot satisfy the plan (FAILED_PRECONDITION).
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from services.core.logmapping import LogFieldMapping
from services.core.errors import FailedPrecondition, Violations
from services.evaluation.mustache import TemplateError, render_json
from services.evaluation.spec import P, Spec
from services.store import documents, logs


def validate(es: Elasticsearch, mapping: LogFieldMapping, spec: Spec) -> None:
    v = Violations()
    src = f"{P}.log_source"
    try:
        types = logs.field_types(es, spec.index_pattern)
    except logs.UnknownIndex:
        v.add(f"{src}.index_pattern", f"no index matches {spec.index_pattern!r}")
        v.raise_if_any()
    missing = [name for name in ("query", "timestamp", "result_doc_id") if mapping.path(name) not in types]
    if mapping.results not in types and not any(t.startswith(f"{mapping.results}.") for t in types):
        missing.append("results")
    for name in missing:
        v.add(f"{src}.index_pattern", f"the log index has no field {mapping.path(name)!r} (logical field {name!r} of the log mapping)")
    kfield = logs.query_key_field(mapping, types)
    if kfield is None and not missing:
        v.add(f"{src}.index_pattern", f"the query field {mapping.query!r} has no keyword to group by (map query_norm)")
    filters = []
    for i, (name, values) in enumerate(spec.filters):
        path = logs.resolve_field(name, mapping, types)
        if v.check(path is not None, f"{src}.filters[{i}].field", f"unknown or non-aggregatable field {name!r}"):
            filters.append((path, values))
    for i, name in enumerate(spec.plan.stratify_by):
        v.check(logs.resolve_field(name, mapping, types) is not None, f"{P}.sample_plan.stratify_by[{i}]",
                f"unknown or non-aggregatable field {name!r}")
    if spec.plan.stratify_by.count("bucket"):
        v.add(f"{P}.sample_plan.stratify_by", "cannot stratify by the ranker bucket: every query is judged for every ranker")
    v.raise_if_any()

    source = logs.LogSource(spec.index_pattern, spec.start, spec.end, tuple(filters), mapping)
    if logs.count(es, source) == 0:
        v.add(f"{src}.window", f"no events in [{spec.start.isoformat()}, {spec.end.isoformat()}) with these filters")
        v.raise_if_any()

    bucket_rankers = [(i, r) for i, r in enumerate(spec.rankers) if r.bucket is not None]
    if bucket_rankers:
        bucket_path = logs.resolve_field("bucket", mapping, types)
        known = logs.distinct_values(es, source, bucket_path) if bucket_path else {}
        for i, r in bucket_rankers:
            v.check(r.bucket in known, f"{P}.rankers[{i}].log_bucket.bucket",
                    f"unknown bucket {r.bucket!r} in this window (known: {', '.join(sorted(known)) or 'none'})")
    for i, r in enumerate(spec.rankers):
        if r.template is None:
            continue
        path = f"{P}.rankers[{i}].search_template"
        try:
            body = render_json(r.template.source, {**r.template.params, "query": "probe", "locale": "", "size": spec.depth})
            documents.probe(es, r.template.index, body)
        except TemplateError as exc:
            v.add(f"{path}.source", f"invalid search template: {exc}")
        except documents.SearchRejected as exc:
            v.add(f"{path}.source", f"Elasticsearch rejects the rendered template: {exc}")
    v.raise_if_any()

    distinct = logs.distinct_queries(es, source, kfield)
    if distinct < spec.plan.size:
        raise FailedPrecondition(
            f"the logs hold about {distinct} distinct queries in this window; the sample plan asks for {spec.plan.size}"
        )
