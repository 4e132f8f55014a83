"""The import direction DESIGN.md fixes, checked on the source: API (servicers, auth, rpc mapping,
protobuf conversion, CLI, web) → store and jobs → core and ``evaluators``.

Every ``import`` statement counts, also the ones inside functions, so a lazy import cannot
sneak a layer violation past the check.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package prefix -> prefixes of ours it may import (itself always included)
ALLOWED = {
    "evaluators": (),
    "services.core": (),
    "services.store": ("services.core", "evaluators"),
    "ray_jobs": ("services.store", "services.core", "evaluators"),
    "fixtures": ("services.store", "services.core", "evaluators"),
}
OURS = ("services", "evaluators", "ray_jobs", "fixtures", "tests", "bench")
# the wire stays in the API layer
WIRE = ("grpc", "google.protobuf", "google.rpc", "grpc_status", "grpc_health", "grpc_reflection")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source, filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from services.store import items` imports services.store.items
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _sources():
    for top in OURS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "_proto" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _violations(sources) -> list[str]:
    bad = []
    for path, source in sources:
        me = _module_name(path)
        layer = next((p for p in sorted(ALLOWED, key=len, reverse=True) if _under(me, p)), None)
        for line, name in _imports(path, source):
            where = f"{path.relative_to(ROOT)}:{line} imports {name}"
            if not me.startswith(("tests", "bench")) and name.split(".")[0] in ("tests", "bench"):
                bad.append(f"{where}: nothing imports tests or bench")
            if layer is None:
                continue
            if any(_under(name, w) for w in WIRE):
                bad.append(f"{where}: protobuf and gRPC stay in the API layer")
            ours = name.split(".")[0] in OURS
            if ours and not any(_under(name, p) for p in (layer, *ALLOWED[layer])):
                bad.append(f"{where}: {layer} may import only {', '.join((layer, *ALLOWED[layer]))}")
    return bad


def test_imports_point_one_way():
    assert _violations(_sources()) == []


@pytest.mark.parametrize("source, complaint", [
    ("from services.config import ElasticsearchConfig\n", "may import only"),
    ("def f():\n    from services.grading import dispatch\n", "may import only"),
    ("import grpc\n", "protobuf and gRPC"),
    ("from tests.integration import serving\n", "nothing imports tests"),
])
def test_the_check_catches_an_upward_import(source, complaint):
    # a store module that reaches up must be reported
    probe = ROOT / "services" / "store" / "_layer_probe.py"
    assert any(complaint in v for v in _violations([(probe, source)]))


def test_the_check_reads_every_layer():
    modules = {_module_name(path) for path, _ in _sources()}
    for layer in ALLOWED:
        assert any(_under(m, layer) for m in modules), layer
