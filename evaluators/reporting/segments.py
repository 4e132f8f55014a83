"""Segments of an evaluation's queries: which stratum falls in which segment.

A stratum key is the sampler's ``band|value|value`` (the band first when the plan has bands,
then the stratify-by values in the plan's order, ``(none)`` for a missing value; ``all`` when
the plan has no strata). A segment is a choice of some of those fields; its key is
``field=value,field=value`` in the order asked, ``""`` for all queries. Strata are the unit of
weighting, so a segment is a set of whole strata, and its traffic share is theirs.

>>> fields = stratum_fields(True, ["locale"])
>>> fields
['band', 'locale']
>>> parse_stratum("tail|es-MX", fields)
{'band': 'tail', 'locale': 'es-MX'}
>>> segment_key({"band": "tail", "locale": "es-MX"}, ["locale", "band"])
'locale=es-MX,band=tail'
>>> parse_segment_key("locale=es-MX,band=tail")
[('locale', 'es-MX'), ('band', 'tail')]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["stratum_fields", "parse_stratum", "segment_key", "parse_segment_key", "Segmentation", "segment"]

NO_STRATA = "all"


def stratum_fields(bands: bool, stratify_by) -> list[str]:
    """The fields a stratum key names, in its order."""
    return (["band"] if bands else []) + list(stratify_by)


def parse_stratum(key: str, fields) -> dict[str, str]:
    """Field values of a stratum key; ValueError when the key does not fit ``fields``."""
    fields = list(fields)
    if not fields:
        if key != NO_STRATA:
            raise ValueError(f"stratum {key!r}: the plan has no strata, so every query is in {NO_STRATA!r}")
        return {}
    parts = key.split("|")
    if len(parts) != len(fields):
        raise ValueError(f"stratum {key!r} does not have the plan's {len(fields)} parts ({'|'.join(fields)})")
    return dict(zip(fields, parts))


def segment_key(values: dict[str, str], by) -> str:
    return ",".join(f"{f}={values[f]}" for f in by)


def parse_segment_key(key: str) -> list[tuple[str, str]]:
    """``[(field, value), ...]`` of a segment key; ValueError when malformed."""
    if key == "":
        return []
    out = []
    for part in key.split(","):
        field, sep, value = part.partition("=")
        if not sep or not field or not value:
            raise ValueError(f"segment {key!r}: expected field=value[,field=value], e.g. locale=es-MX,band=tail")
        out.append((field, value))
    return out


@dataclass(frozen=True)
class Segmentation:
    """The segments of one choice of fields."""

    by: list  # the fields
    keys: list  # segment keys, in the strata's order of each field's values
    values: list  # per segment: {field: value}
    of_stratum: np.ndarray  # segment index of each stratum
    traffic_share: np.ndarray  # per segment: Σ weights of its strata

    def members(self, query_stratum: np.ndarray, segment: int) -> np.ndarray:
        """Boolean mask of the queries (by their stratum index) in ``segment``."""
        return self.of_stratum[np.asarray(query_stratum, dtype=np.int64)] == segment


def segment(stratum_values: list[dict[str, str]], weights, by) -> Segmentation:
    """Group strata (their parsed values and weights) into the segments of the fields ``by``.

    >>> s = segment([{"band": "head", "locale": "en"}, {"band": "tail", "locale": "en"},
    ...              {"band": "head", "locale": "fr"}], [0.5, 0.2, 0.3], ["locale"])
    >>> s.keys, s.of_stratum.tolist(), s.traffic_share.round(2).tolist()
    (['locale=en', 'locale=fr'], [0, 0, 1], [0.7, 0.3])
    >>> segment([{"band": "head"}, {"band": "torso"}, {"band": "tail"}], [0.5, 0.3, 0.2], ["band"]).keys
    ['band=head', 'band=torso', 'band=tail']
    """
    by = list(by)
    w = np.asarray(weights, dtype=np.float64)
    keys = [segment_key(v, by) for v in stratum_values]
    # each field's values in the order the strata list them (head, torso, tail; the sampler's
    # group order), segments in that order field by field
    rank = {f: {} for f in by}
    for v in stratum_values:
        for f in by:
            rank[f].setdefault(v[f], len(rank[f]))
    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    distinct = sorted(first, key=lambda k: tuple(rank[f][stratum_values[first[k]][f]] for f in by))
    index = {k: i for i, k in enumerate(distinct)}
    of_stratum = np.array([index[k] for k in keys], dtype=np.int64)
    share = np.bincount(of_stratum, weights=w, minlength=len(distinct)) if len(keys) else np.zeros(0)
    values = [{f: stratum_values[first[k]][f] for f in by} for k in distinct]
    return Segmentation(by, distinct, values, of_stratum, share)
