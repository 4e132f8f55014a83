"""The four fault scenarios of issue 11, each a function returning a :class:`~bench.faults.harness.Report`.

Recovery time, per scenario: ``replica-kill`` — from the kill to the first acknowledged submit of a
grader whose replica was killed (it failed over); ``es-restart`` — from Elasticsearch answering
again to the first acknowledged submit; ``node-loss`` — the longest stretch without an acknowledged
submit from the node's loss to the end of the run; ``retrying-client`` has no fault.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.faults import harness
from bench.faults.harness import Report, Size

# Short leases: leases whose holder never learnt of them (a Next answered by a replica that died, or
# lost in an outage, or given up after its deadline on a busy machine) must expire back to the pool
# before the run can drain. Longer across the Elasticsearch restart, so that held tasks outlive it
# and their retried submits land, and for the retrying client, which holds a few tasks at a time.
LEASE_S = 8
LONG_LEASE_S = 30
RECONCILE_S = 5


def _leases(seconds: float) -> dict[str, str]:
    return {"QRELAY_LEASE_SECONDS": str(seconds), "QRELAY_RECONCILE_SECONDS": str(RECONCILE_S)}

# Where a fault must catch graders holding a task (to abandon it, or to retry its submit), they
# think up to a second: most of them hold one at any moment.
THINK_S = 1.0
SCENARIOS = ("replica-kill", "es-restart", "retrying-client", "node-loss")


# The share of graders homed on the killed replica who drop the task they held when it dies
# (a browser tab that closed with it): their leases must expire back to the pool.
def _abandons(i: int) -> bool:
    return i % 4 == 1


def _thinking(size: Size) -> Size:
    return dataclasses.replace(size, think_s=max(size.think_s, THINK_S))


def _prefix(name: str) -> str:
    return f"faults-{name}-{uuid.uuid4().hex[:8]}-"


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, killed and not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def replica_kill(es, es_url: str, size: Size, tmp: Path) -> Report:
    """``kill -9`` of the second of two replicas once ``size.fault_at`` of the work is done."""
    prefix = _prefix("kill")
    try:
        with harness.deployment(es, es_url, prefix, size, tmp, _leases(LEASE_S), replicas=2) as (servers, credentials):
            (survivor, survivor_pid), (_, victim) = servers
            records, at, wall = harness.run(es, prefix, [a for a, _ in servers], credentials, _thinking(size),
                                            fault=lambda: os.kill(victim, signal.SIGKILL), abandon=_abandons)
            up = _alive(survivor_pid)
        audit = harness.audit(es, prefix, size, records)
    finally:
        harness.drop(es, prefix)
    after = [t for t, _, _ in records.ok_submits if at is not None and t >= at]
    return Report("replica-kill", size, records, audit,
                  harness.first_ok_after(records, at, lambda grader, replica: grader % 2 == 1 and replica == 0)
                  if at else None, wall,
                  {"replicas": 2, "survivor up": up, "killed replica up": _alive(victim),
                   "acked after the kill": len(after), "lease s": LEASE_S})


@dataclass(frozen=True)
class Node:
    """A lone local node this process started, which it may stop and start again."""

    data_dir: Path
    url: str
    heap: str

    def stop(self) -> None:
        from fixtures.elasticsearch import launcher

        launcher.stop(self.data_dir)

    def start(self) -> None:
        from fixtures.elasticsearch import launcher

        launcher.start(port=int(self.url.rsplit(":", 1)[1]), data_dir=self.data_dir, heap=self.heap)

    def healthy(self) -> bool:
        """Whether it answers with a yellow or green cluster (a plain HTTP call: no client's
        back-off for a node it saw fail)."""
        try:
            with urllib.request.urlopen(f"{self.url}/_cluster/health", timeout=1) as r:
                return json.load(r)["status"] in ("yellow", "green")
        except (OSError, ValueError, KeyError):
            return False


@contextmanager
def own_node(data_dir: Path, heap: str = "512m") -> Iterator[Node]:
    """A node on a free port with its data in ``data_dir`` — never the shared one."""
    from fixtures.elasticsearch.testing import running_elasticsearch

    with running_elasticsearch(data_dir, heap=heap) as url:
        yield Node(Path(data_dir), url, heap)


def es_restart(node: Node, size: Size, tmp: Path, down_s: float = 5.0) -> Report:
    """Elasticsearch stopped for ``down_s`` seconds (plus its start-up) once ``size.fault_at`` of
    the work is done, then started again on its data; graders holding a task retry its submit
    until it lands."""
    from services.core.settings import ElasticsearchConfig
    from services.store.client import connect

    prefix = _prefix("restart")
    es = connect(ElasticsearchConfig(request_timeout=60), node.url)
    marks: dict[str, float] = {}

    def fault():
        node.stop()
        marks["down"] = time.time()
        time.sleep(down_s)
        starter = threading.Thread(target=node.start, name="es-start")
        starter.start()
        while "up" not in marks and (starter.is_alive() or node.healthy()):
            if node.healthy():  # "back": answering, before the launcher's own wait is over
                marks["up"] = time.time()
            time.sleep(0.1)
        starter.join()

    try:
        with harness.deployment(es, node.url, prefix, size, tmp, _leases(LONG_LEASE_S)) \
                as (servers, credentials):
            records, _, wall = harness.run(es, prefix, [a for a, _ in servers], credentials, _thinking(size),
                                           fault=fault)
        audit = harness.audit(es, prefix, size, records)
    finally:
        harness.drop(es, prefix)
        es.close()
    return Report("es-restart", size, records, audit,
                  harness.first_ok_after(records, marks["up"]) if "up" in marks else None, wall,
                  {"ES down s": f"{marks['up'] - marks['down']:.1f}" if "up" in marks else "never back",
                   "lease s": LONG_LEASE_S})


def retrying_client(es, es_url: str, size: Size, tmp: Path) -> Report:
    """Graders whose client repeats every call at random, also after success; no other fault."""
    prefix = _prefix("retry")
    try:
        with harness.deployment(es, es_url, prefix, size, tmp, _leases(LONG_LEASE_S)) as (servers, credentials):
            records, _, wall = harness.run(es, prefix, [a for a, _ in servers], credentials, size, mode="chaotic")
        audit = harness.audit(es, prefix, size, records)
    finally:
        harness.drop(es, prefix)
    return Report("retrying-client", size, records, audit, None, wall,
                  {"requests by RPC": dict(records.sent), "lease s": LONG_LEASE_S})


def _primary_node(es, index: str) -> int:
    """The number of the node (``qrelay-local-N``) that holds ``index``'s primary shard."""
    shard = next(s for s in es.cat.shards(index=index, format="json") if s["prirep"] == "p")
    return int(shard["node"].rsplit("-", 1)[1])


def node_loss(cluster, size: Size, tmp: Path) -> Report:
    """``kill -9`` of the node holding the assignments' primary, in a local three-node cluster,
    once ``size.fault_at`` of the work is done; the servers and this process know all three nodes."""
    from services.core.settings import ElasticsearchConfig
    from services.store import assignments
    from services.store.client import connect

    prefix = _prefix("node")
    urls = ",".join(cluster.urls)
    es = connect(ElasticsearchConfig(request_timeout=60), urls)
    try:
        with harness.deployment(es, urls, prefix, size, tmp, _leases(LEASE_S)) \
                as (servers, credentials):
            es.cluster.health(index=f"{prefix}*", wait_for_status="green", timeout="60s")
            replicas = {name: s["settings"]["index"]["number_of_replicas"]
                        for name, s in es.indices.get_settings(index=f"{prefix}*").items()}
            victim = _primary_node(es, assignments.index(prefix))
            records, at, wall = harness.run(es, prefix, [a for a, _ in servers], credentials, size,
                                            fault=lambda: cluster.stop_node(victim, kill=True))
        health = es.cluster.health()["status"]
        audit = harness.audit(es, prefix, size, records)
    finally:
        harness.drop(es, prefix)
        es.close()
    return Report("node-loss", size, records, audit,
                  harness.longest_stall(records, at, max(t for t, _, _ in records.ok_submits)) if at else None, wall,
                  {"killed node": victim, "health after": health, "replicas per index": sorted(set(replicas.values()))})
