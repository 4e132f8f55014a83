"""While a shard cannot be read (Elasticsearch restarting, the index recovering), a multi-get
answers an error per document, not "not found". The restart scenario caught the server taking such
an entry for a missing slot and answering NOT_FOUND "this assignment does not exist" to a grader's
submit of a live lease — a final answer, so the client gave the task up. It must be UNAVAILABLE
(retry), and the retry must land once. (The index is closed to make its documents unreadable; the
submit goes to the other replica, which must read the slot — the one that leased it would write
at the version it knows without reading.)"""
import grpc
import pytest

from bench.faults import harness
from services._proto.qrelay.v1 import grading_pb2, grading_pb2_grpc
from services.store import assignments, judgements


@pytest.fixture
def one_grader(fault_es, fault_node, tmp_path):
    prefix = f"faults-unreadable-{tmp_path.name[-8:].lower()}-"
    size = harness.Size(graders=1, items=2, overlap=1, replicas=2, workers=4)
    try:
        with harness.deployment(fault_es, fault_node.url, prefix, size, tmp_path) as (servers, [cred]):
            with grpc.insecure_channel(servers[0][0]) as one, grpc.insecure_channel(servers[1][0]) as other:
                yield prefix, [grading_pb2_grpc.GradingServiceStub(c) for c in (one, other)], \
                    (("authorization", f"Bearer {cred}"),)
    finally:
        fault_es.indices.open(index=assignments.index(prefix), wait_for_active_shards="1")
        harness.drop(fault_es, prefix)


def test_a_submit_while_slots_cannot_be_read_is_unavailable_and_its_retry_lands_once(fault_es, one_grader):
    prefix, (leasing, stub), md = one_grader
    a = leasing.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=md, timeout=30)
    request = grading_pb2.SubmitJudgementRequest(name=a.name, grade=2)
    fault_es.indices.close(index=assignments.index(prefix))
    with pytest.raises(grpc.RpcError) as e:
        stub.SubmitJudgement(request, metadata=md, timeout=30)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE, e.value.details()
    fault_es.indices.open(index=assignments.index(prefix), wait_for_active_shards="1")
    stub.SubmitJudgement(request, metadata=md, timeout=30)
    fault_es.indices.refresh(index=judgements.index(prefix))
    assert judgements.count(fault_es, prefix, harness.EVALUATION) == 1
