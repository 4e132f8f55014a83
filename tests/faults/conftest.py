"""Fault scenarios at CI size (bench/faults runs them at full size). They start their own
Elasticsearch — a lone node the session shares, stopped and started again by the restart
scenario, and a three-node cluster for the node-loss one — so they run whatever QRELAY_ES_URL
says, and never touch the shared node."""
from __future__ import annotations

import pytest

from bench.faults.harness import Size

# Small and short: 2 cores run the whole directory in a few minutes.
CI = Size(graders=12, items=60, overlap=3, replicas=1, processes=1, workers=8, deadline_s=180)


@pytest.fixture(scope="session")
def fault_node(tmp_path_factory):
    """A lone local node on a free port with its own data, shared by the scenarios that need one."""
    from bench.faults.scenarios import own_node

    with own_node(tmp_path_factory.mktemp("fault-node")) as node:
        yield node


@pytest.fixture(scope="session")
def fault_es(fault_node):
    from services.core.settings import ElasticsearchConfig
    from services.store.client import connect

    es = connect(ElasticsearchConfig(request_timeout=60), fault_node.url)
    yield es
    es.close()
