"""Index templates as code: every index family declares its mapping; start-up installs them.

Index names are ``{prefix}{family}`` (prefix default ``qrelay-``, configurable so tests and
several deployments can share a cluster). Mappings are ``dynamic: strict`` and versioned:
raise ``version`` when a mapping changes; :func:`install` replaces an older template and
adds new fields to the existing index (additive changes only).
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from services.store import (
    alerts, assignments, audit, consensus, embeddings, evaluations, gold, graders, holds, items, judgements, lexical,
    metrics, partners, programmes, seats, system,
)
from services.store.family import IndexFamily


def families() -> list[IndexFamily]:
    """Every family, in install order."""
    return [m.FAMILY for m in (evaluations, items, assignments, judgements, consensus, gold, graders, partners, programmes, metrics,
                                 alerts, embeddings, system, holds, seats, audit, lexical)]


def install(es: Elasticsearch, prefix: str) -> list[str]:
    """Install (or upgrade) every template and make sure every index exists. Returns index names."""
    names = []
    for fam in families():
        index = fam.index(prefix)
        current = es.options(ignore_status=404).indices.get_index_template(name=index).body
        installed = {t["name"]: t["index_template"].get("version") for t in current.get("index_templates", [])}
        if installed.get(index) != fam.version:
            es.indices.put_index_template(name=index, **fam.template_body(prefix))
        if es.indices.exists(index=index):
            # Additive mapping changes reach the existing index too.
            es.indices.put_mapping(index=index, properties=fam.properties, dynamic="strict", meta={"version": fam.version})
        else:
            es.options(ignore_status=400).indices.create(index=index)  # 400: created concurrently by a replica
        names.append(index)
    es.cluster.health(index=",".join(names), wait_for_status="yellow", timeout="30s")
    return names
