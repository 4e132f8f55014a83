"""A write Elasticsearch applied but answered as a conflict: when a primary fails over, the
coordinating node sends the bulk again to the promoted replica, which already holds the document
— so a ``create`` (or a replace at the version read) that succeeded comes back 409. The
node-loss scenario caught the dispatcher taking that for another writer's win, undoing the
grader's seat and hold, and leasing the item's next slot to the same grader: two slots of one
item, and an orphaned lease keeping the item short of its overlap until it expired."""
import uuid

import pytest

from services.store import atomic


@pytest.fixture
def index(fault_es):
    name = f"faults-atomic-{uuid.uuid4().hex[:8]}"
    fault_es.indices.create(index=name)
    yield name
    fault_es.indices.delete(index=name)


def _writes(index, existing=None):
    return [(atomic.Doc(index, "seat"), {"state": "LEASED", "nonce": "n1"}),
            (atomic.Doc(index, "hold"), {"grader": "g1", "nonce": "n1"}),
            (existing or atomic.Doc(index, "slot"), {"grader": "g1", "assignment_id": "it:0:n1"})]


def test_a_write_retried_by_elasticsearch_after_it_was_applied_counts_as_written(fault_es, index):
    first, lost = atomic.write_all(fault_es, _writes(index))
    assert lost == set()
    # the same bulk again, as Elasticsearch retries it on the promoted replica: every item is a 409
    written, lost = atomic.write_all(fault_es, _writes(index))
    assert lost == set(), "its own write was taken for another writer's"
    assert [w.seq_no for w in written] == [f.seq_no for f in first]
    assert fault_es.get(index=index, id="hold")["_source"] == {"grader": "g1", "nonce": "n1"}


def test_a_replace_retried_after_it_was_applied_counts_as_written(fault_es, index):
    before = fault_es.index(index=index, id="slot", document={"grader": "g0"}, refresh=True)
    slot = atomic.Doc(index, "slot", {"grader": "g0"}, before["_seq_no"], before["_primary_term"])
    _, lost = atomic.write_all(fault_es, _writes(index, slot))
    assert lost == set()
    _, lost = atomic.write_all(fault_es, [(atomic.Doc(index, "seat"), {"state": "LEASED", "nonce": "n1"}),
                                          (atomic.Doc(index, "hold"), {"grader": "g1", "nonce": "n1"}),
                                          (slot, {"grader": "g1", "assignment_id": "it:0:n1"})])
    assert lost == set()


def test_a_real_conflict_still_loses_and_undoes_the_rest(fault_es, index):
    fault_es.index(index=index, id="slot", document={"grader": "g2", "assignment_id": "it:0:n2"}, refresh=True)
    written, lost = atomic.write_all(fault_es, _writes(index))
    assert lost == {2}
    assert not fault_es.exists(index=index, id="seat") and not fault_es.exists(index=index, id="hold")
