"""A logging call whose ``extra`` names a LogRecord attribute raises KeyError — only when that
level is enabled, so it hides until a server logs at INFO (it once stopped evaluations from
completing). Every ``extra={...}`` literal in the code is checked here."""
from __future__ import annotations

import ast
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "evaluators", "ray_jobs", "fixtures", "bench")
RESERVED = set(logging.LogRecord("n", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def test_no_log_extra_overwrites_a_record_attribute():
    found = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.keyword) and node.arg == "extra" and isinstance(node.value, ast.Dict):
                    found += [f"{path.relative_to(ROOT)}:{node.lineno} {k.value}" for k in node.value.keys
                              if isinstance(k, ast.Constant) and k.value in RESERVED]
    assert not found, f"logging extra keys that LogRecord owns: {found}"


def test_the_check_sees_a_reserved_key():
    tree = ast.parse('log.info("x", extra={"message": 1})')
    keys = [k.value for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "extra" for k in n.value.keys]
    assert set(keys) & RESERVED == {"message"}
