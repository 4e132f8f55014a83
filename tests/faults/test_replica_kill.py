"""`kill -9` of one of two server replicas under load: clients fail over, the survivor keeps
serving, and the leases the dead replica's clients held expire back to the pool."""
import pytest

from bench.faults import scenarios
from bench.faults.harness import table
from tests.faults.conftest import CI

pytestmark = pytest.mark.slow


def test_a_replica_killed_under_load_loses_nothing_and_its_leases_come_back(fault_node, fault_es, tmp_path):
    r = scenarios.replica_kill(fault_es, fault_node.url, CI, tmp_path)
    print(table([r]))
    assert r.passed, r.failures()  # every item reached its overlap, nothing lost or doubled
    assert r.notes["survivor up"] and not r.notes["killed replica up"]
    assert r.audit["expired"] >= 1, "no lease of the dead replica's clients went back to the pool"
    assert r.recovery_s is not None, "no grader of the killed replica was served by the survivor"
