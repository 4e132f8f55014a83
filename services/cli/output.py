"""How commands print for machines: every command that prints takes ``--json`` on its own
(leaf) parser, spelt that way only, and then prints one JSON document (a streaming command:
one JSON object per line)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def add_json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def to_jsonable(value: Any) -> Any:
    """A protobuf message as the dict its JSON mapping gives (field names as in the .proto)."""
    if isinstance(value, Message):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    return value


def print_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), ensure_ascii=False, default=str), flush=True)
