"""Gather the human labels that calibrate the model (the math is ``evaluators.calibration``).

Labels: every human pointwise judgement in the system (each grader's grade is one sample, up to
``limit``, any evaluation) plus the gold labels of this evaluation's gold items. Their (query,
document) texts are interned into the job's text table, so they are scored by the same model in
the same pass (and from the same cache) as the items themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evaluators.calibration import Calibration, fit_calibration
from ray_jobs.prejudge.read import Items, doc_text
from services.store import prejudgements as store


@dataclass
class Labels:
    q: list[int] = field(default_factory=list)
    d: list[int] = field(default_factory=list)
    grade: list[int] = field(default_factory=list)
    locale: list[str] = field(default_factory=list)
    source: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.grade)


def gather_labels(es, prefix: str, items: Items, limit: int = 20_000) -> Labels:
    """Human grades with the texts they were given for, interned into ``items.texts``."""
    labels = Labels()
    judged = store.pointwise_labels(es, prefix, limit)
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
        labels.q.append(items.texts.add(q)); labels.d.append(items.texts.add(d))
        labels.grade.append(int(g)); labels.locale.append(j.get("locale") or it.get("locale") or "und")
        n_judged += 1
    n_gold = 0
    for q, d, g, loc in zip(items.pw_q, items.pw_d, items.pw_gold_label, items.pw_locale):
        if g >= 0:
            labels.q.append(q); labels.d.append(d); labels.grade.append(int(g)); labels.locale.append(loc)
            n_gold += 1
    labels.source = {"judgements": n_judged, "gold_labels": n_gold}
    return labels


def calibrate(scores: np.ndarray, labels: Labels, min_locale: int, min_pooled: int, seed: int) -> Calibration:
    """Fit the calibration on ``labels`` whose model scores are ``scores``."""
    return fit_calibration(scores, np.asarray(labels.grade, dtype=int), np.asarray(labels.locale, dtype=object),
                           min_locale=min_locale, min_pooled=min_pooled, seed=seed)
