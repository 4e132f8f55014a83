"""``qrelay es start|stop|status``: the local Elasticsearch (fixtures/elasticsearch), one node or a small cluster."""
from __future__ import annotations

import argparse
from pathlib import Path

from services.cli import CommandError
from services.cli.output import add_json_flag, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "es",
        help="run a local Elasticsearch (127.0.0.1): one node or a small cluster",
        description="Run qrelay's local Elasticsearch 8.19, built once with Maven from Maven Central: "
        "one node, or a cluster of --nodes N on one machine.",
    )
    sub = parser.add_subparsers(dest="es_command", metavar="{start,stop,status}")
    sub.required = True

    start = sub.add_parser(
        "start",
        help="build if needed, start the node(s) not running, and wait until the cluster is yellow/green",
        description="Start the node (or the cluster) kept under --data; nodes already running are kept, "
        "missing ones are started. Prints the URL of each node.",
    )
    start.add_argument(
        "--port",
        type=int,
        help="HTTP port on 127.0.0.1; a cluster's nodes take PORT, PORT+1, … (default 9200; a stopped cluster "
        "starts again on the ports it had)",
    )
    start.add_argument(
        "--nodes", type=int, help="nodes in the cluster (default: what --data holds, 1 for a new directory)"
    )
    _add_data(start)
    start.add_argument("--heap", help="JVM heap per node, e.g. 512m or 1g (default 1g for one node, 512m each in a cluster)")
    start.add_argument("--timeout", type=float, help="seconds to wait (default 120, plus 60 per further node)")
    add_json_flag(start, "the status of the started node(s), as `status --json`")
    start.set_defaults(func=_start)

    stop = sub.add_parser("stop", help="stop the node(s) started from --data")
    _add_data(stop)
    stop.add_argument("--node", type=int, help="stop only this node of a cluster (1-based; `start` brings it back)")
    stop.add_argument("--kill", action="store_true", help="with --node: kill -9, as a crash would, instead of a clean stop")
    add_json_flag(stop, '{"stopped": true|false}')
    stop.set_defaults(func=_stop)

    status = sub.add_parser("status", help="show the node(s) started from --data (exit 1 if none runs)")
    _add_data(status)
    add_json_flag(status, "the status")
    status.set_defaults(func=_status)


NO_ELASTICSEARCH = ("no Elasticsearch: set QRELAY_ES_URL or pass --es-url, or start the local node with "
                    "`qrelay es start`")


def resolve_url(explicit: str | None, configured: str | None, local_data: Path) -> str:
    """The Elasticsearch every ``qrelay`` command uses: ``--es-url``, else ``QRELAY_ES_URL``,
    else the local node ``qrelay es start`` left running for ``local_data`` (QRELAY_ES_DATA);
    :class:`CommandError` with one sentence when there is none."""
    url = explicit or configured or _launcher().running_url(local_data)
    if not url:
        raise CommandError(NO_ELASTICSEARCH)
    return url


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path(".qrelay/es"), help="data directory (default .qrelay/es)")


def _launcher():
    from fixtures.elasticsearch import launcher

    return launcher


def _start(args: argparse.Namespace) -> int:
    launcher = _launcher()
    try:
        url = launcher.start(port=args.port, data_dir=args.data, heap=args.heap, timeout=args.timeout, nodes=args.nodes)
        info = launcher.status(args.data)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json(info)
        return 0
    for node in info["nodes"] if info else [{"url": url}]:
        print(node["url"])
    return 0


def _stop(args: argparse.Namespace) -> int:
    launcher = _launcher()
    if args.kill and args.node is None:
        raise CommandError("--kill needs --node: a whole cluster is always stopped cleanly.")
    try:
        if args.node is None:
            stopped = launcher.stop(args.data)
        else:
            stopped = launcher.stop_node(args.data, args.node, kill=args.kill)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json({"stopped": bool(stopped), "killed": bool(stopped and args.kill)})
    else:
        print(("killed" if args.kill else "stopped") if stopped else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    launcher = _launcher()
    try:
        info = launcher.status(args.data)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json(info)
    elif info is None:
        print("not running")
    elif len(info["nodes"]) == 1:
        print(f"{info['url']} pid={info['pid']} health={info['health']} version={info['version']} data={info['data_dir']}")
    else:
        up = sum(n["pid"] is not None for n in info["nodes"])
        print(
            f"cluster {info['cluster_name']} nodes={up}/{len(info['nodes'])} health={info['health']} "
            f"version={info['version']} data={info['data_dir']}"
        )
        for n in info["nodes"]:
            state = f"pid={n['pid']}" if n["pid"] is not None else "down"
            print(f"  {n['name']} {n['url']} transport={n['transport_port']} {state}")
    return 0 if info is not None else 1
