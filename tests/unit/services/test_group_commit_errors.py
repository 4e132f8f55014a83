"""What a grouped single-document read answers when its multi-get entry carries an error (its
shard not active: a node restarting, an index recovering): 503 as a plain GET would, which the
server maps to UNAVAILABLE — never a 500 that reaches the client as INTERNAL. The transport is a
stand-in here: this is the mapping of one entry to one exception."""
from __future__ import annotations

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError, NotFoundError

from services.rpc import _is_es_outage
from services.store.group_commit import GroupCommit

META = ApiResponseMeta(status=200, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                       node=NodeConfig("http", "localhost", 9200))


class Response(dict):
    meta = META


class MgetOnly:
    def __init__(self, entry):
        self.entry = entry

    def mget(self, docs, realtime):
        return Response(docs=[{**self.entry, "_index": d["_index"], "_id": d["_id"]} for d in docs])


@pytest.mark.parametrize("entry, status", [
    ({"error": {"type": "no_shard_available_action_exception"}}, 503),
    ({"found": False}, 404),
    ({"error": {"type": "index_not_found_exception"}}, 404),
])
def test_an_entry_that_was_not_read_is_a_retry_not_an_internal_error(entry, status):
    g = GroupCommit(MgetOnly(entry), max_wait=0.0, flushers=1)
    try:
        with pytest.raises(ApiError) as e:
            g.get(index="i", id="x", realtime=True)
    finally:
        g.close()
    assert e.value.meta.status == status
    assert isinstance(e.value, NotFoundError) == (status == 404)
    assert _is_es_outage(e.value) == (status == 503)
