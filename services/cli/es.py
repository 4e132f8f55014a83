"""``qrelay es start|stop|status``: the local single-node Elasticsearch (fixtures/elasticsearch)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from services.cli import CommandError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "es",
        help="run a local single-node Elasticsearch (127.0.0.1)",
        description="Run qrelay's local single-node Elasticsearch 8.19, built once with Maven from Maven Central.",
    )
    sub = parser.add_subparsers(dest="es_command", metavar="{start,stop,status}")
    sub.required = True

    start = sub.add_parser("start", help="build if needed, start, and wait until the cluster is yellow/green")
    start.add_argument("--port", type=int, default=9200, help="HTTP port on 127.0.0.1 (default 9200)")
    _add_data(start)
    start.add_argument("--heap", default="1g", help="JVM heap, e.g. 512m or 1g (default 1g)")
    start.add_argument("--timeout", type=float, default=120, help="seconds to wait for the node (default 120)")
    start.set_defaults(func=_start)

    stop = sub.add_parser("stop", help="stop the node started from --data")
    _add_data(stop)
    stop.set_defaults(func=_stop)

    status = sub.add_parser("status", help="show the node started from --data (exit 1 if none)")
    _add_data(status)
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_status)


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=Path(".qrelay/es"), help="data directory (default .qrelay/es)")


def _launcher():
    from fixtures.elasticsearch import launcher

    return launcher


def _start(args: argparse.Namespace) -> int:
    launcher = _launcher()
    try:
        url = launcher.start(port=args.port, data_dir=args.data, heap=args.heap, timeout=args.timeout)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    print(url)
    return 0


def _stop(args: argparse.Namespace) -> int:
    launcher = _launcher()
    try:
        stopped = launcher.stop(args.data)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    print("stopped" if stopped else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    launcher = _launcher()
    try:
        info = launcher.status(args.data)
    except launcher.LauncherError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps(info))
    elif info is None:
        print("not running")
    else:
        print(f"{info['url']} pid={info['pid']} health={info['health']} version={info['version']} data={info['data_dir']}")
    return 0 if info is not None else 1
