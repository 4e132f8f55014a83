"""The checked-in stubs must match the .proto files, and the contract must stay documented."""
import re
from pathlib import Path

from services import protogen


def test_stubs_match_protos():
    assert protogen.drift() == []


def test_every_message_field_and_rpc_is_commented():
    undocumented = []
    for path in protogen.proto_files():
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            s = line.strip()
            is_field = re.match(r"^(repeated |optional )?[\w.<>, ]+ \w+ = \d+;", s) and not s.startswith(("option", "//"))
            is_decl = re.match(r"^(rpc|service|enum|message) ", s)
            if (is_field or is_decl) and not lines[i - 1].strip().startswith("//") and not re.match(r"^\w+_UNSPECIFIED = 0;", s):
                if is_field and re.match(r"^\w+ = \d+;", s):  # enum values are documented by their names + enum comment
                    continue
                undocumented.append(f"{path.name}:{i + 1}: {s}")
    assert undocumented == []
