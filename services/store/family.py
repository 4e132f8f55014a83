"""What an index family is: its name, version, mapping and settings, and the field types
mappings are written with. Each family module (``services/store/<family>.py``) declares one;
``services.store.templates`` lists them and installs them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IndexFamily:
    """One family of qrelay's own indices."""

    name: str
    version: int
    properties: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    doc: str = ""

    def index(self, prefix: str) -> str:
        return f"{prefix}{self.name}"

    def template_body(self, prefix: str) -> dict[str, Any]:
        return {
            "index_patterns": [self.index(prefix)],
            "version": self.version,
            "priority": 200,
            "_meta": {"qrelay_family": self.name, "description": self.doc},
            "template": {
                "settings": {"number_of_shards": 1, "auto_expand_replicas": "0-1", **self.settings},
                "mappings": {"dynamic": "strict", "_meta": {"version": self.version}, "properties": self.properties},
            },
        }


# Small helpers for readable mappings.
KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}
INT = {"type": "integer"}
LONG = {"type": "long"}
FLOAT = {"type": "float"}
DOUBLE = {"type": "double"}
BOOL = {"type": "boolean"}
TEXT = {"type": "text"}
TEXT_KW = {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}}
OPAQUE = {"type": "object", "enabled": False}  # stored, never searched
