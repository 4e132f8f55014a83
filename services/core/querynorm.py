"""How queries are grouped: the one normalisation the sampler, the log template and the fixture
generator share."""
from __future__ import annotations

import unicodedata


def normalize_query(text: str) -> str:
    """NFKC, then Unicode case folding, then whitespace collapsed to single spaces and trimmed.

    NFKC first so that full-width forms fold (``ＳＩＭフリー`` → ``SIMフリー``) before
    ``casefold`` (which also maps ``ß`` → ``ss``); NFKC again after, because case folding can
    produce sequences that are not NFKC-normal.

    >>> normalize_query("  Zapatos  de RUNNING\\tpara Mujer ")
    'zapatos de running para mujer'
    >>> normalize_query("ＳＩＭフリー　スマホ")
    'simフリー スマホ'
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())
