"""The signals of every (query, result) row the job scores, as named feature columns
(the definitions are :mod:`evaluators.features`; this module fetches what they need).

* cosine and interaction components: from the embeddings the job computed (unit vectors), filled
  row by row as the job encodes (:func:`embed`) in a basis fitted on its first pairs (:func:`basis`);
* BM25: the result texts are indexed in the ``lexical`` index and each query searched against
  its own pooled results (:mod:`services.store.lexical`);
* clicks: the events of the evaluation's queries in its log source (window and filters) are
  collapsed into click configurations (:func:`services.store.logs.click_log`) and a DBN click
  model fitted on them (:class:`evaluators.click_model.DBN`);
* ranks: where each ranker put the result (pointwise: the item's ``ranks``; side by side: the
  row's position in each list).

Rows: the evaluation's pointwise items (``pw``), the rows of its side-by-side lists (``sr``) and
the human labels of earlier evaluations (``lab``). A label row's BM25, click and rank values are
the ones stored with its item's pre-judgement, when there are (they describe the item in the
evaluation it came from); its cosine and interaction components are recomputed here, in this
evaluation's interaction basis.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from evaluators import features as F
from evaluators.click_model import DBN, pair_index
from services.core import clock
from services.core.logmapping import LogFieldMapping
from services.core.querynorm import normalize_query
from services.store import lexical, logs

# Stored with a label's item and reused as they are (see the module docstring).
STORED = [*F.LEXICAL, *F.CLICKS, *F.RANKS]
MAX_EVENTS_PER_QUERY = 2000


@dataclass
class Signals:
    pw: dict[str, np.ndarray] = field(default_factory=dict)
    sr: dict[str, np.ndarray] = field(default_factory=dict)
    lab: dict[str, np.ndarray] = field(default_factory=dict)
    clicks: dict[str, Any] = field(default_factory=dict)  # what the click model was fitted on, or why not

    def matrix(self, rows: str, names: list[str]) -> np.ndarray:
        return F.assemble(getattr(self, rows), names)[0]


def log_source(ev: dict, mapping: LogFieldMapping, es) -> tuple[logs.LogSource | None, str | None, str]:
    """The evaluation's log source (index, window, filters) and its query key field, or
    ``(None, None, why not)``."""
    spec = ev.get("spec") or {}
    src = spec.get("log_source") or {}
    window = src.get("window") or {}
    if not src.get("index_pattern") or not window.get("start_time") or not window.get("end_time"):
        return None, None, "the evaluation names no log source"
    try:
        types = logs.field_types(es, src["index_pattern"])
    except logs.UnknownIndex:
        return None, None, f"no index matches {src['index_pattern']!r}"
    key = logs.query_key_field(mapping, types)
    if key is None:
        return None, None, "the log index has no aggregatable query field"
    filters = tuple((logs.resolve_field(f.get("field", ""), mapping, types) or f.get("field", ""), tuple(f.get("values") or ()))
                    for f in src.get("filters") or ())
    source = logs.LogSource(src["index_pattern"], clock.parse_time(window["start_time"]),
                            clock.parse_time(window["end_time"]), filters, mapping)
    return source, key, ""


def compute(es, prefix: str, ev: dict, items, labels, mapping: LogFieldMapping,
            log: Callable[[str], None] = lambda s: None) -> Signals:
    """Every feature column of the ``pw``, ``sr`` and ``lab`` rows that needs no embedding (BM25,
    clicks, ranks); the cosine and interaction columns are NaN until :func:`embed` fills them, so
    the job can encode query by query (streamed pre-judgement) while these are computed once."""
    out = Signals()
    texts = items.texts.texts
    q_pw, d_pw = items.arrays("pw_q").astype(np.int64), items.arrays("pw_d").astype(np.int64)
    sr_item = items.arrays("sr_item").astype(np.int64)
    q_sr = items.arrays("sx_q").astype(np.int64)[sr_item] if len(sr_item) else np.zeros(0, np.int64)
    d_sr = items.arrays("sr_d").astype(np.int64)
    q_lab, d_lab = np.asarray(labels.q, np.int64), np.asarray(labels.d, np.int64)
    for rows, n in (("pw", len(q_pw)), ("sr", len(q_sr)), ("lab", len(q_lab))):
        getattr(out, rows).update(_nan(["cosine", *F.INTERACTION], n))

    # BM25 of each query against its pooled results (pointwise and side-by-side rows together)
    stored = [f or {} for f in labels.features]
    fresh_lab = np.array([not all(k in f for k in F.LEXICAL) for f in stored], dtype=bool)
    q_all = np.r_[q_pw, q_sr, q_lab[fresh_lab]]
    d_all = np.r_[d_pw, d_sr, d_lab[fresh_lab]]
    # label rows are grouped apart from the evaluation's rows: their pools were other evaluations'
    group = np.r_[q_pw, q_sr, q_lab[fresh_lab] + len(texts)]
    bm = _bm25(es, prefix, texts, q_all, d_all, _locales(items, labels, fresh_lab), group)
    n_pw, n_sr = len(q_pw), len(q_sr)
    for rows, sl in (("pw", slice(0, n_pw)), ("sr", slice(n_pw, n_pw + n_sr))):
        getattr(out, rows).update({k: v[sl] for k, v in bm.items()})
    lab_bm = {k: np.full(len(q_lab), np.nan) for k in F.LEXICAL}
    for k in F.LEXICAL:
        lab_bm[k][fresh_lab] = bm[k][n_pw + n_sr:]
    out.lab.update(lab_bm)

    # ranks
    depth = int((ev.get("spec") or {}).get("depth") or 10)
    rankers = sorted({r for ranks in items.pw_ranks for r in ranks})
    if rankers:
        out.pw.update(F.rank_features(np.array([[int(r.get(k) or 0) for k in rankers] for r in items.pw_ranks]).reshape(
            n_pw, len(rankers)), depth))
    else:
        out.pw.update({k: np.full(n_pw, np.nan) for k in F.RANKS})
    out.sr.update(F.rank_features(_sxs_ranks(items), depth) if n_sr else {k: np.zeros(0) for k in F.RANKS})

    # clicks
    out.pw.update(_nan(F.CLICKS, n_pw))
    out.sr.update(_nan(F.CLICKS, n_sr))
    source, key_field, why = log_source(ev, mapping, es)
    if source is None or not mapping.clicks:
        out.clicks = {"fitted": False, "reason": why or "the log mapping has no clicks"}
        log(f"no click signal: {out.clicks['reason']}")
    else:
        _clicks(es, source, key_field, items, out, log)

    # label rows: their stored BM25/click/rank values where the item has them
    for k in STORED:
        col = out.lab.setdefault(k, np.full(len(q_lab), np.nan))
        for i, f in enumerate(stored):
            if k in f and f[k] is not None and not (k in F.LEXICAL and fresh_lab[i]):
                col[i] = float(f[k])
    return out


def basis(vecs: np.ndarray, q: np.ndarray, d: np.ndarray, q_lab: np.ndarray, d_lab: np.ndarray) -> dict:
    """The interaction basis, fitted on the evaluation's own pairs ``(q, d)`` (text indices) —
    the first ones the job scores, when it streams — or on the labels' pairs without any."""
    return F.interaction_basis(vecs[q], vecs[d]) if len(q) else F.interaction_basis(vecs[q_lab], vecs[d_lab])


def embed(sig: Signals, rows: str, at: np.ndarray, q: np.ndarray, d: np.ndarray, vecs: np.ndarray,
          basis_: dict) -> None:
    """Fill the cosine and interaction columns of ``rows`` at positions ``at`` from the unit
    vectors of their query and document texts ``q`` and ``d`` (the dot product is the cosine)."""
    if not len(at):
        return
    cols = getattr(sig, rows)
    cols["cosine"][at] = np.einsum("ij,ij->i", vecs[q], vecs[d])
    for k, v in F.interaction_components(vecs[q], vecs[d], basis_).items():
        cols[k][at] = v


def _nan(names: list[str], n: int) -> dict[str, np.ndarray]:
    return {k: np.full(n, np.nan) for k in names}


def _locales(items, labels, fresh_lab) -> list[str]:
    sr_loc = [items.sx_locale[i] for i in items.sr_item]
    return list(items.pw_locale) + sr_loc + [loc for loc, f in zip(labels.locale, fresh_lab) if f]


def _bm25(es, prefix: str, texts: list[str], q: np.ndarray, d: np.ndarray, locales: list[str],
          group: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.zeros(len(q)) for k in F.LEXICAL}
    if not len(q):
        return out
    seen: dict[int, str] = {}
    for di, loc in zip(d.tolist(), locales):
        seen.setdefault(di, loc)
    lexical.write(es, prefix, ((texts[di], loc) for di, loc in seen.items()), clock.now_iso())
    per_query: dict[int, list[int]] = {}
    for qi, di in zip(q.tolist(), d.tolist()):
        per_query.setdefault(qi, []).append(di)
    order = sorted(per_query)
    answers = lexical.scores(es, prefix, [(texts[qi], [texts[di] for di in sorted(set(per_query[qi]))]) for qi in order])
    score = {qi: ans for qi, ans in zip(order, answers)}
    both = np.array([score[qi][texts[di]] for qi, di in zip(q.tolist(), d.tolist())], dtype=float)
    out["bm25_title"], out["bm25_text"] = both[:, 0], both[:, 1]
    g = np.unique(group, return_inverse=True)[1].ravel()
    out["bm25_rel"] = F.relative_to_group_max(out["bm25_text"], g)
    return out


def _sxs_ranks(items) -> np.ndarray:
    """``(sr rows, 2)``: each side-by-side row's document's 1-based rank in the left and the
    right list (0 where that list does not hold it)."""
    item = items.arrays("sr_item").astype(np.int64)
    side = items.arrays("sr_side").astype(np.int64)
    rank = items.arrays("sr_rank").astype(np.int64)
    doc = items.arrays("sr_doc").astype(np.int64)
    key = item * (doc.max() + 1 if len(doc) else 1) + doc
    out = np.zeros((len(item), 2))
    best: dict[tuple[int, int], int] = {}
    for k, s, r in zip(key.tolist(), side.tolist(), rank.tolist()):
        best[k, s] = min(best.get((k, s), r + 1), r + 1)
    for i, k in enumerate(key.tolist()):
        out[i] = [best.get((k, 0), 0), best.get((k, 1), 0)]
    return out


def _clicks(es, source: logs.LogSource, key_field: str, items, out: Signals, log) -> None:
    """Fit the DBN on the logs of the evaluation's queries and fill the ``click_*`` columns."""
    t = dt.datetime.now()
    norms = [normalize_query(q) for q in items.pw_query_norm + items.sx_query_norm]
    shown = [items.texts.texts[i] for i in items.pw_q + items.sx_q]
    cl = logs.click_log(es, source, key_field, sorted(set(norms) | set(shown)), MAX_EVENTS_PER_QUERY,
                        depth=10, long_click_ms=F.LONG_CLICK_MS)
    info: dict[str, Any] = {"fitted": False, "events": cl.events, "configurations": len(cl.rows),
                            "capped_queries": cl.capped}
    if not cl.rows:
        out.clicks = {**info, "reason": "no logged searches of these queries"}
        log("no click signal: no logged searches of these queries")
        return
    rows = list(cl.rows.items())
    width = max(len(k[2]) for k, _ in rows)
    qk = np.array([f"{k[0]}\x1e{k[1]}" for k, _ in rows], dtype=object)
    dk = np.array([list(k[2]) + [None] * (width - len(k[2])) for k, _ in rows], dtype=object).reshape(len(rows), width)
    clicks = np.array([[(k[3] >> p) & 1 for p in range(width)] for k, _ in rows], dtype=bool).reshape(len(rows), width)
    weight = np.array([c for _, c in rows], dtype=float)
    pairs, pq, pd = pair_index(qk, dk)
    model = DBN().fit(pairs, clicks, weight, n_pairs=len(pq))
    where = {(q, d): i for i, (q, d) in enumerate(zip(pq.tolist(), pd.tolist()))}

    def fill(cols: dict, qnorm: list[str], locale: list[str], doc_id: list[str]) -> float:
        idx = np.array([where.get((f"{normalize_query(q)}\x1e{loc}", d), where.get((f"{normalize_query(q)}\x1e", d), -1))
                        for q, loc, d in zip(qnorm, locale, doc_id)], dtype=np.int64)
        seen = idx >= 0
        j = np.maximum(idx, 0)
        dwell = np.array([cl.dwell.get((normalize_query(q), loc, d)) or cl.dwell.get((normalize_query(q), "", d))
                          or [0.0, 0.0, 0.0] for q, loc, d in zip(qnorm, locale, doc_id)], dtype=float).reshape(len(idx), 3)
        cols.update(F.click_features(model.attractiveness_[j] if len(pq) else np.zeros(len(idx)),
                                     model.satisfaction_[j] if len(pq) else np.zeros(len(idx)),
                                     model.examinations_[j] if len(pq) else np.zeros(len(idx)),
                                     dwell[:, 0], dwell[:, 1], seen))
        return float(seen.mean()) if len(seen) else 0.0

    seen_pw = fill(out.pw, items.pw_query_norm, items.pw_locale, items.pw_doc_id)
    sr_q = [items.sx_query_norm[i] for i in items.sr_item]
    sr_loc = [items.sx_locale[i] for i in items.sr_item]
    fill(out.sr, sr_q, sr_loc, items.sr_doc_id)
    out.clicks = {**info, "fitted": True, "pairs": int(len(pq)), "gamma": round(model.gamma_, 4),
                  "examine_first": round(model.examine_first_, 4), "iterations": model.n_iter_,
                  "pointwise_seen": round(seen_pw, 4), "seconds": round((dt.datetime.now() - t).total_seconds(), 2)}
    log(f"click model: {cl.events} searches, {len(cl.rows)} configurations, {len(pq)} pairs; "
        f"{seen_pw:.0%} of pointwise items seen in the logs")
