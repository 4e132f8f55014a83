"""Fault scenarios at full size: ``python -m bench.faults [--scenario all|replica-kill|es-restart|
retrying-client|node-loss] [--graders 200] [--items 3000] [--overlap 3] [--replicas 2]``.

replica-kill and retrying-client run on QRELAY_ES_URL if set, else on a throw-away local node;
es-restart always starts its own node (on a free port, its own data) and node-loss its own
three-node cluster — never the shared node. Prints one table; exit status 1 if any scenario
lost, duplicated, over-assigned or repeated a judgement, left an item short, or answered
UNKNOWN/INTERNAL.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.faults import scenarios  # noqa: E402
from bench.faults.harness import Size, table  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="all", choices=("all", *scenarios.SCENARIOS))
    p.add_argument("--graders", type=int, default=200)
    p.add_argument("--items", type=int, default=3000)
    p.add_argument("--overlap", type=int, default=3)
    p.add_argument("--replicas", type=int, default=2, help="server replicas (replica-kill always runs two)")
    p.add_argument("--processes", type=int, default=2, help="load-generator processes")
    p.add_argument("--workers", type=int, default=32, help="gRPC worker threads per server")
    p.add_argument("--think", type=float, default=0.05, help="most seconds a grader thinks per task")
    p.add_argument("--down", type=float, default=10.0, help="es-restart: seconds Elasticsearch stays down")
    p.add_argument("--deadline", type=float, default=900.0, help="seconds a scenario may run at most")
    args = p.parse_args()
    size = Size(graders=args.graders, items=args.items, overlap=args.overlap, replicas=args.replicas,
                processes=args.processes, workers=args.workers, think_s=args.think, deadline_s=args.deadline)
    chosen = scenarios.SCENARIOS if args.scenario == "all" else (args.scenario,)

    from services.core.settings import ElasticsearchConfig
    from services.store.client import connect
    from fixtures.elasticsearch.testing import running_cluster, running_elasticsearch

    reports, shared = [], []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-faults-")))
        for name in chosen:
            print(f"running {name} …", file=sys.stderr, flush=True)
            if name == "es-restart":
                with scenarios.own_node(tmp / "es-restart") as node:
                    reports.append(scenarios.es_restart(node, size, tmp, down_s=args.down))
            elif name == "node-loss":
                with running_cluster(tmp / "cluster", nodes=3) as cluster:
                    reports.append(scenarios.node_loss(cluster, size, tmp))
            else:
                if not shared:  # one throw-away node serves both
                    shared.append(os.environ.get("QRELAY_ES_URL") or stack.enter_context(running_elasticsearch(tmp / "es")))
                url = shared[0]
                es = connect(ElasticsearchConfig(request_timeout=120), url)
                run = scenarios.replica_kill if name == "replica-kill" else scenarios.retrying_client
                reports.append(run(es, url, size, tmp))
                es.close()
            print(table(reports[-1:]), file=sys.stderr, flush=True)
    print(f"\n{size.graders} graders, {size.items} items × overlap {size.overlap}, think ≤ {size.think_s} s")
    print(table(reports))
    return 0 if all(r.passed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
