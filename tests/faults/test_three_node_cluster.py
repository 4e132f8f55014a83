"""One node of a local three-node cluster (one replica per index) killed under load: the audit
stays clean — the step from one machine to a real cluster."""
import pytest

from bench.faults import scenarios
from bench.faults.harness import table
from tests.faults.conftest import CI

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from fixtures.elasticsearch.testing import running_cluster

    with running_cluster(tmp_path_factory.mktemp("fault-cluster"), nodes=3) as c:
        yield c


def test_losing_a_node_of_three_keeps_every_judgement(cluster, tmp_path):
    r = scenarios.node_loss(cluster, CI, tmp_path)
    print(table([r]))
    assert r.notes["replicas per index"] == ["1"], "the grading indices must keep one replica on a cluster"
    assert r.passed, r.failures()
    assert r.notes["health after"] in ("yellow", "green")  # the replicas took over (and were copied again)
