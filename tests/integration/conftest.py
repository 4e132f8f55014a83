"""Integration fixtures: a real Elasticsearch node.

``es_url``: the URL in QRELAY_ES_URL if set (nothing is started), else one local node for the
whole session (fixtures/elasticsearch, on a free port, data in a temporary directory).
``es``: a client built as the server builds its own (``QRELAY_ES_USERNAME/PASSWORD/API_KEY/
CA_CERTS/VERIFY_CERTS`` apply).

Tests marked ``local_node`` need the local node itself (its version, the launcher, stopping and
starting a node) and are skipped when QRELAY_ES_URL points at another Elasticsearch.
"""
from __future__ import annotations

import dataclasses
import os
import uuid

import pytest

from fixtures.elasticsearch.testing import running_elasticsearch


def pytest_runtest_setup(item):
    if item.get_closest_marker("local_node") and os.environ.get("QRELAY_ES_URL"):
        pytest.skip("needs the local node the launcher starts; QRELAY_ES_URL points at another Elasticsearch")


@pytest.fixture(scope="session")
def es_config():
    """The Elasticsearch settings from the environment, read as the server reads them."""
    from services.core.settings import es_from_env

    return dataclasses.replace(es_from_env(os.environ), request_timeout=60)


@pytest.fixture(scope="session")
def es_data_dir(tmp_path_factory):
    """The data directory of the session's local node (None when QRELAY_ES_URL points elsewhere)."""
    return None if os.environ.get("QRELAY_ES_URL") else tmp_path_factory.mktemp("es-node")


@pytest.fixture(scope="session")
def es_url(es_data_dir):
    if es_data_dir is None:
        yield os.environ["QRELAY_ES_URL"].rstrip("/")
        return
    with running_elasticsearch(es_data_dir) as url:
        yield url


@pytest.fixture(scope="session")
def es(es_url, es_config):
    from services.store.client import connect

    client = connect(es_config, es_url)
    yield client
    client.close()


@pytest.fixture
def index_prefix(es):
    """A prefix unique to this test (``qt-<hex>-``); indices and index templates named with it are
    deleted afterwards."""
    prefix = f"qt-{uuid.uuid4().hex[:12]}-"
    yield prefix
    pattern = prefix + "*"
    # destructive_requires_name stays at its default (true): delete indices by their concrete names
    names = list(es.indices.get(index=pattern, expand_wildcards="all", allow_no_indices=True, ignore_unavailable=True))
    if names:
        es.indices.delete(index=",".join(names), ignore_unavailable=True)
    templates = es.options(ignore_status=404).indices.get_index_template(name=pattern)
    for tpl in (templates.body or {}).get("index_templates", []) if templates.meta.status == 200 else []:
        es.indices.delete_index_template(name=tpl["name"])


@pytest.fixture(scope="session")
def fixture_logs(es):
    """20,000 fixture search-log events (seed 5) and the fixture document corpus, loaded once.

    Returns ``(log_index, docs_index)``. Tests must not write to them.
    """
    from fixtures.logs import loader
    from fixtures.logs.documents import DocumentCorpus
    from fixtures.logs.generator import generate_events

    suffix = uuid.uuid4().hex[:8]
    log_index, docs_index = f"qt-logs-{suffix}", f"qt-docs-{suffix}"
    report = loader.load_events(es, generate_events(20_000, seed=5), log_index)
    assert report.ok, report.summary()
    docs = loader.load_documents(es, DocumentCorpus().documents(), docs_index)
    assert docs.ok, docs.summary()
    yield log_index, docs_index
    es.indices.delete(index=f"{log_index},{docs_index}", ignore_unavailable=True)
