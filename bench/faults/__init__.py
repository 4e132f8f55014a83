"""Fault scenarios for grading (issue 11): real `qrelay serve` processes, real Elasticsearch, simulated
graders over gRPC, and one fault each — then an audit of what Elasticsearch holds.

* ``replica-kill``: ``kill -9`` of one of two server replicas under load; clients fail over to the
  survivor, some abandon the task they held (a closed tab), and those leases must expire back.
* ``es-restart``: Elasticsearch stopped and started again under load; the server answers
  UNAVAILABLE meanwhile and clients retry each submit with the same request.
* ``retrying-client``: graders whose client repeats every call at random, also after success
  (duplicate submits, double Next, double skip, replays of old requests), some at the same time.
* ``node-loss``: ``kill -9`` of one node of a local three-node cluster (one replica per index)
  under load; the servers know all three nodes.

Each runs until every item has its overlap of judgements (or a deadline) and reports requests,
errors by gRPC code, acknowledged vs stored judgements, lost, duplicates, items beyond or short of
their overlap, same-grader repeats and recovery time (:mod:`bench.faults.harness`). The pass
condition: nothing lost, duplicated, over-assigned or repeated, and every item at its overlap.

    python -m bench.faults [--scenario all] [--graders 200] [--items 3000]   # full size
    pytest tests/faults                                                       # CI size
"""
