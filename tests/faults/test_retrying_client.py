"""A client that repeats every call at random, also after success and at the same time as the
first: duplicate submits, double Next, double skip, replays of old requests."""
import pytest

from bench.faults import scenarios
from bench.faults.harness import table
from tests.faults.conftest import CI

pytestmark = pytest.mark.slow


def test_a_client_repeating_every_call_never_duplicates_or_over_assigns(fault_node, fault_es, tmp_path):
    r = scenarios.retrying_client(fault_es, fault_node.url, CI, tmp_path)
    print(table([r]))
    assert r.passed, r.failures()
    # the repeats really happened: more submits and Nexts were sent than there were judgements
    assert r.records.sent["SubmitJudgement"] > r.audit["stored"] and r.records.sent["SkipAssignment"] > 0
