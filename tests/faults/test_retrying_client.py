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


def test_a_skip_retried_after_the_task_moved_on_is_answered_as_the_first(fault_es, fault_node, tmp_path):
    """The scenario found a retried skip answered FAILED_PRECONDITION ("no longer yours") once
    another grader had taken the slot: a retry of a call that succeeded must answer as it did."""
    import grpc

    from bench.faults import harness
    from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc

    prefix = f"faults-skip-{tmp_path.name[-8:].lower()}-"
    size = harness.Size(graders=2, items=1, overlap=1, replicas=1, workers=4)
    try:
        with harness.deployment(fault_es, fault_node.url, prefix, size, tmp_path) as ([(address, _)], creds), \
                grpc.insecure_channel(address) as channel:
            stub = grading_pb2_grpc.GradingServiceStub(channel)
            first, second = ((("authorization", f"Bearer {c}"),) for c in creds)
            a = stub.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=first, timeout=30)
            skip = grading_pb2.SkipAssignmentRequest(name=a.name, reason=grading_pb2.PAGE_BROKEN)
            stub.SkipAssignment(skip, metadata=first, timeout=30)
            stub.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=second, timeout=30)  # the same slot
            stub.SkipAssignment(skip, metadata=first, timeout=30)  # the retry
    finally:
        harness.drop(fault_es, prefix)
