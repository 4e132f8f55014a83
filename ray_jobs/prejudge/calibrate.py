"""Gather the human labels that calibrate the model (the math is ``evaluators.calibration`` for
the cosine-only prior and ``evaluators.relevance_model`` for the learned model).

Labels: the human pointwise judgements of the evaluation's *programme* — the evaluations its
owner team owns, the unit graders' programmes are granted to — (each grader's grade is one
sample, up to ``limit``), plus the gold labels of this evaluation's gold items. Their (query,
document) texts are interned into the job's text table, so they are scored by the same model in
the same pass (and from the same cache) as the items themselves; the signals their items were
pre-judged with (BM25, clicks, ranks) come with them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evaluators.calibration import Calibration, fit_calibration
from ray_jobs.prejudge.read import Items, doc_text
from services.store import evaluations
from services.store import prejudgements as store


@dataclass
class Labels:
    q: list[int] = field(default_factory=list)
    d: list[int] = field(default_factory=list)
    grade: list[int] = field(default_factory=list)
    locale: list[str] = field(default_factory=list)
    features: list[dict | None] = field(default_factory=list)  # the item's stored signals, if any
    random: list[bool] = field(default_factory=list)  # drawn at random: gold, calibration sample, audit
    pw_row: list[int] = field(default_factory=list)  # this evaluation's pointwise row (gold), else -1
    source: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.grade)

    def append(self, q: int, d: int, grade: int, locale: str, features: dict | None, random: bool, pw_row: int) -> None:
        self.q.append(q); self.d.append(d); self.grade.append(grade); self.locale.append(locale)
        self.features.append(features); self.random.append(random); self.pw_row.append(pw_row)


def gather_labels(es, prefix: str, items: Items, limit: int = 20_000, owner_team: str | None = None,
                  evaluation_id: str | None = None) -> Labels:
    """Human grades of the programme with the texts they were given for, interned into
    ``items.texts``; then this evaluation's gold labels."""
    labels = Labels()
    programme = [e for e in evaluations.ids_of_team(es, prefix, owner_team) if e != evaluation_id]
    judged = store.pointwise_labels(es, prefix, limit, programme)
    texts = store.item_texts(es, prefix, [j["item_id"] for j in judged]) if judged else {}
    n_judged = 0
    for j in judged:
        it = texts.get(j["item_id"])
        g = j.get("grade")
        if it is None or g is None or not 0 <= int(g) <= 3:
            continue
        q, d = (it.get("query") or "").strip(), doc_text(it.get("doc"))
        if not q or not d:
            continue
        random = bool(it.get("calibration_sample") or it.get("audit") or it.get("gold"))
        labels.append(items.texts.add(q), items.texts.add(d), int(g), j.get("locale") or it.get("locale") or "und",
                      (it.get("prejudgement") or {}).get("features"), random, -1)
        n_judged += 1
    n_gold = 0
    for row, (q, d, g, loc) in enumerate(zip(items.pw_q, items.pw_d, items.pw_gold_label, items.pw_locale)):
        if g >= 0:
            labels.append(q, d, int(g), loc, None, True, row)
            n_gold += 1
    labels.source = {"judgements": n_judged, "gold_labels": n_gold, "programme_evaluations": len(programme),
                     "owner_team": owner_team or ""}
    return labels


def calibrate(scores: np.ndarray, labels: Labels, min_locale: int, min_pooled: int, seed: int) -> Calibration:
    """Fit the cosine-only calibration on ``labels`` whose model scores are ``scores``."""
    return fit_calibration(scores, np.asarray(labels.grade, dtype=int), np.asarray(labels.locale, dtype=object),
                           min_locale=min_locale, min_pooled=min_pooled, seed=seed)
