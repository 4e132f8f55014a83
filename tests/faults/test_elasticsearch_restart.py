"""Elasticsearch stopped and started again under load: the server answers UNAVAILABLE meanwhile,
clients retry each submit with the same request, and each lands exactly once."""
import pytest

from bench.faults import scenarios
from bench.faults.harness import table
from tests.faults.conftest import CI

pytestmark = pytest.mark.slow


def test_submits_retried_through_an_elasticsearch_restart_land_exactly_once(fault_node, tmp_path):
    r = scenarios.es_restart(fault_node, CI, tmp_path, down_s=2)
    print(table([r]))
    assert r.passed, r.failures()
    assert r.records.codes()["UNAVAILABLE"] > 0, "the outage was never seen"
    # graders held tasks when it stopped: their submits failed and were sent again
    assert r.records.errors["SubmitJudgement UNAVAILABLE"] + r.records.errors["SubmitJudgement DEADLINE_EXCEEDED"] > 0
    assert r.recovery_s is not None
