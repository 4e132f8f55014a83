"""The ``qrelay`` command line.

Each subcommand lives in its own module under ``services.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed ``argparse.Namespace`` and returning an exit code).
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Order is the order ``qrelay --help`` lists them in.
COMMANDS = (
    "serve",
    "web",
    "eval",
    "prejudge",
    "report",
    "export",
    "es",
    "fixtures",
    "trec_eval",
    "aggregate",
)


class CommandError(Exception):
    """A user-facing failure: printed as one sentence, exit code 2 by default."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qrelay",
        description="qrelay: search relevance evaluation from Elasticsearch logs to judgements and metrics.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"services.cli.{name}").register(sub)
    return parser


def dispatch(args: argparse.Namespace, prog: str) -> int:
    """Run the parsed command; a :class:`CommandError` becomes one line on stderr and its exit code."""
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return dispatch(args, f"qrelay {args.command}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
