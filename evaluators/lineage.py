"""Names for the versions labels are made with: a short digest of what a fit or a text is, so two
labels made the same way carry the same name and any change shows as a new one.

>>> digest({"b": [1, 2], "a": 0.5}) == digest({"a": 0.5, "b": [1, 2]})
True
>>> len(digest("text"))
12
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["digest"]


def digest(value: Any, size: int = 12) -> str:
    """First ``size`` hex digits of sha256 over ``value`` as canonical JSON (a string as itself)."""
    data = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:size]
