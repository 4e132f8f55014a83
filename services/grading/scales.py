"""The rating scales (DESIGN.md): what a rating may be, what each value is called, and the
guideline text a grader reads for it.

>>> POINTWISE.check(3), POINTWISE.check(4)
(True, False)
>>> SIDE_BY_SIDE.labels[-3]
'Left much better'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evaluators.lineage import digest

MAX_COMMENT = 2000


@dataclass(frozen=True)
class Scale:
    kind: str  # item kind: pointwise | side_by_side
    field: str  # the request field carrying the rating: grade | preference
    low: int
    high: int
    labels: dict[int, str]

    def check(self, value: int) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{self.low}..{self.high}"


POINTWISE = Scale("pointwise", "grade", 0, 3, {0: "Irrelevant", 1: "Related", 2: "Highly relevant", 3: "Perfect"})
SIDE_BY_SIDE = Scale("side_by_side", "preference", -3, 3, {
    -3: "Left much better", -2: "Left better", -1: "Left slightly better", 0: "About the same",
    1: "Right slightly better", 2: "Right better", 3: "Right much better",
})
BY_KIND = {s.kind: s for s in (POINTWISE, SIDE_BY_SIDE)}


def guideline_version(kind: str, text: str) -> str:
    """What a judgement records of the guideline text its grader was shown: the version the text
    states on a line "Guideline version N." and a digest of the text, so an edit without a new
    number still shows.

    >>> guideline_version("pointwise", "# Rating" + chr(10) + "Guideline version 2." + chr(10))[:12]
    'pointwise 2 '
    """
    stated = re.search(r"^Guideline version (\S+?)\.?\s*$", text, re.MULTILINE | re.IGNORECASE)
    return f"{kind} {stated.group(1) if stated else 'unnumbered'} ({digest(text)})"


class Guidelines:
    """Markdown guideline texts by item kind, read once from ``directory/{kind}.md``, and their
    versions (what each judgement stores)."""

    def __init__(self, directory: Path):
        self.texts = {}
        for kind in BY_KIND:
            path = Path(directory) / f"{kind}.md"
            self.texts[kind] = path.read_text(encoding="utf-8") if path.exists() else ""
        self.versions = {kind: guideline_version(kind, text) for kind, text in self.texts.items() if text}

    def for_kind(self, kind: str) -> str:
        return self.texts.get(kind, "")
