"""Consensus labels from human judgements and a fitted reliability model.

A :class:`Reliability` is a Dawid–Skene model of the graders (A. P. Dawid and A. M. Skene,
"Maximum likelihood estimation of observer error-rates using the EM algorithm", *J. R. Stat.
Soc. C* 28(1) (1979) 20–28): per grader a confusion matrix ``P(grader says l | true class k)``,
and the class prior. :func:`fit_reliability` fits it with
:class:`evaluators.aggregation.DawidSkene` (gold items clamped to their label, so gold teaches
the model who is reliable). Given a fitted model, an item's consensus depends on nothing but its
own judgements:

    posterior(k) ∝ prior(k) · Π_j confusion[grader_j][k, label_j]

so a label can be recomputed for a handful of items when their judgements change, and gives
exactly what a recompute of every item with the same model gives. A grader the model has not
seen (who joined after the last fit) counts as a typical grader: the judgement-weighted mean
of the fitted confusion matrices.

* Pointwise (:func:`pointwise`): posterior over grades 0..3, the label is its argmax (ties: the
  lower grade), the confidence its probability. Gold items are clamped to their gold label.
* Side by side (:func:`side_by_side`): the consensus preference is the mean of the graders'
  preferences (−3..+3, positive = ranker_b better), each weighted by its grader's reliability
  on the sign of a preference (a model fitted on the classes −1, 0, +1) — the log-odds weight
  ``log((K−1)·s / (1−s))`` of a grader of accuracy ``s`` among ``K`` classes, which is the
  optimal weight of a vote under the one-coin model (S. Nitzan and J. Paroush, "Optimal
  decision rules in uncertain dichotomous choice situations", *Int. Econ. Rev.* 23(2), 1982)
  and zero for a grader no better than chance. Its confidence is the posterior of the
  preference's sign under the same model.

Example (``b`` is a gold item whose gold grade is 0):
    >>> item, grader, grade = ["a", "a", "b", "b"], ["x", "y", "x", "y"], [2, 2, 0, 1]
    >>> model = fit_reliability(item, grader, grade, POINTWISE_CLASSES, gold={"b": 0})
    >>> c = pointwise(model, item, grader, grade, gold={"b": 0})
    >>> c.items.tolist(), c.label.tolist(), c.confidence.round(3).tolist()[1], c.judgements.tolist()
    (['a', 'b'], [2, 0], 1.0, [2, 2])
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluators.aggregation import DawidSkene

POINTWISE_CLASSES = (0, 1, 2, 3)
SIGN_CLASSES = (-1, 0, 1)
_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class Reliability:
    """A fitted reliability model (see the module doc). Arrays are aligned: ``graders[g]`` has
    ``confusion[g]`` (rows: true class, columns: the label given), ``skill[g]`` (expected
    accuracy ``Σ_k prior[k]·confusion[g, k, k]``) and ``judgements[g]`` (what it was fitted on)."""

    classes: np.ndarray
    graders: np.ndarray
    confusion: np.ndarray
    prior: np.ndarray
    skill: np.ndarray
    judgements: np.ndarray
    method: str = "dawid-skene"

    @property
    def typical(self) -> np.ndarray:
        """The confusion matrix of a grader the model has not seen: the judgement-weighted mean."""
        w = self.judgements.astype(float)
        if w.sum() <= 0:
            return np.full((self.classes.size,) * 2, 1.0 / self.classes.size)
        return np.tensordot(w / w.sum(), self.confusion, axes=1)

    @property
    def typical_skill(self) -> float:
        return float((np.diag(self.typical) * self.prior).sum())

    def grader_index(self, graders) -> np.ndarray:
        """Row of each grader in the model; ``len(graders)`` (the typical grader) when unseen."""
        graders = np.asarray(graders, dtype=object)
        lookup = {g: i for i, g in enumerate(self.graders.tolist())}
        unseen = self.graders.size
        return np.fromiter((lookup.get(g, unseen) for g in graders.tolist()), dtype=np.intp, count=graders.size)

    def skill_of(self, graders) -> np.ndarray:
        """Expected accuracy of each grader (the typical grader's for unseen ones)."""
        return np.append(self.skill, self.typical_skill)[self.grader_index(graders)]

    def weight_of(self, graders) -> np.ndarray:
        """Log-odds vote weight of each grader, ``max(0, log((K−1)·s / (1−s)))``."""
        k = self.classes.size
        s = np.clip(self.skill_of(graders), 1e-3, 1 - 1e-3)
        return np.maximum(0.0, np.log((k - 1) * s / (1 - s)))

    def to_dict(self, digits: int = 6) -> dict[str, Any]:
        """A JSON-able form (lists of plain numbers), read back by :meth:`from_dict`."""
        return {
            "method": self.method, "classes": self.classes.tolist(), "graders": [str(g) for g in self.graders.tolist()],
            "prior": np.round(self.prior, digits).tolist(), "skill": np.round(self.skill, digits).tolist(),
            "judgements": self.judgements.astype(int).tolist(),
            "confusion": np.round(self.confusion, digits).tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Reliability":
        classes = np.asarray(d["classes"])
        k = classes.size
        graders = np.asarray(d["graders"], dtype=object)
        return cls(classes=classes, graders=graders,
                   confusion=np.asarray(d["confusion"], dtype=float).reshape(graders.size, k, k),
                   prior=np.asarray(d["prior"], dtype=float), skill=np.asarray(d["skill"], dtype=float),
                   judgements=np.asarray(d["judgements"], dtype=np.int64), method=d.get("method", "dawid-skene"))


#: Items judged more than once, or gold, needed before graders can be told apart. With fewer
#: (overlap 1, or the first judgements of an evaluation) the graders' confusions are not
#: identifiable — EM then sends every item to one class — and every grader weighs alike.
MIN_REDUNDANT_ITEMS = 50


def fit_reliability(item, grader, label, classes: Sequence = POINTWISE_CLASSES, gold=None,
                    n_iter: int = 100) -> Reliability:
    """Fit a :class:`Reliability` on judgements ``(item, grader, label)`` (1-D, aligned; any
    hashable ids); ``gold`` maps item → known label (clamped during the fit).

    Every grader gets one pooled confusion matrix, counted against the vote shares (so the
    label is the majority vote, ties broken by the prior), when the model cannot tell graders
    apart — fewer than :data:`MIN_REDUNDANT_ITEMS` items judged twice or gold (method
    ``"pooled-vote"``) — or when the aggregation's guard reports that EM left majority vote
    behind and fell back to it (``guard_.fell_back``, method ``"dawid-skene/pooled"``).
    """
    item, grader, label = np.asarray(item, dtype=object), np.asarray(grader, dtype=object), np.asarray(label)
    redundant = int((np.unique(item, return_counts=True)[1] >= 2).sum()) + len(gold or {})
    identifiable = redundant >= MIN_REDUNDANT_ITEMS
    # n_iter=0: the vote shares (gold clamped), no EM
    ds = DawidSkene(n_iter=n_iter if identifiable else 0, classes=list(classes)).fit((item, grader, label), gold=gold)
    counts = np.bincount(np.searchsorted(ds.workers_, grader), minlength=ds.workers_.size)
    confusion = np.asarray(ds.errors_, dtype=float)
    prior = np.asarray(ds.priors_, dtype=float)
    method = "dawid-skene" if identifiable else "pooled-vote"
    guard = getattr(ds, "guard_", None)
    if not identifiable or (guard is not None and getattr(guard, "fell_back", False)):
        # The fitted confusions are degenerate here, and so is their mean (with one judgement per
        # item it sent every item to one class): one matrix for everybody, counted against the
        # vote shares (Laplace-smoothed), keeps the vote instead.
        confusion, prior = _vote_confusion(ds, item, label)
        confusion = np.broadcast_to(confusion, (ds.workers_.size,) + confusion.shape).copy()
        method = method if not identifiable else "dawid-skene/pooled"
    skill = (np.diagonal(confusion, axis1=1, axis2=2) * prior).sum(axis=1)
    return Reliability(classes=np.asarray(ds.classes_), graders=np.asarray(ds.workers_, dtype=object),
                       confusion=confusion, prior=prior, skill=skill, judgements=counts, method=method)


def _vote_confusion(ds, item: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(confusion, prior)`` of one grader standing for all, against the fitted posteriors
    ``ds.probas_`` (the vote shares after a fallback): ``confusion[k, l] ∝ 1 + Σ P(item is k)``
    over the judgements ``l``; the prior is the mean posterior.

    One judgement per item: the vote shares are the votes, and the matrix leans to the diagonal.

    >>> from types import SimpleNamespace
    >>> ds = SimpleNamespace(items_=np.array(["a", "b", "c"], dtype=object), classes_=np.array([0, 1]),
    ...                      probas_=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    >>> c, p = _vote_confusion(ds, np.array(["a", "b", "c"], dtype=object), np.array([0, 1, 1]))
    >>> c.round(3).tolist(), p.round(3).tolist()
    ([[0.667, 0.333], [0.25, 0.75]], [0.333, 0.667])
    """
    rows = {v: i for i, v in enumerate(ds.items_.tolist())}
    cols = {v: i for i, v in enumerate(ds.classes_.tolist())}
    r = np.fromiter((rows[v] for v in item.tolist()), dtype=np.intp, count=item.size)
    c = np.fromiter((cols[v] for v in label.tolist()), dtype=np.intp, count=label.size)
    k = ds.classes_.size
    counts = np.ones((k, k))
    np.add.at(counts.T, c, ds.probas_[r])  # counts[:, l] += P(item of each judgement is k)
    prior = ds.probas_.mean(axis=0)
    return counts / counts.sum(axis=1, keepdims=True), prior / prior.sum()


@dataclass(frozen=True, eq=False)
class Consensus:
    """Per item (aligned with ``items``, the sorted distinct item ids): the posterior over the
    model's classes, the label (argmax), its confidence and the number of judgements."""

    items: np.ndarray
    posterior: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    judgements: np.ndarray


@dataclass(frozen=True, eq=False)
class Preference:
    """Side by side, per item: the reliability-weighted mean preference, the posterior over the
    sign classes (−1, 0, +1), the confidence (posterior of the preference's sign) and the number
    of judgements."""

    items: np.ndarray
    preference: np.ndarray
    posterior: np.ndarray
    confidence: np.ndarray
    judgements: np.ndarray


def _encode_items(item) -> tuple[np.ndarray, np.ndarray]:
    item = np.asarray(item, dtype=object)
    if item.ndim != 1 or item.size == 0:
        raise ValueError("judgements must be a non-empty 1-D column of item ids")
    ids, codes = np.unique(item, return_inverse=True)
    return ids, codes.ravel()


def _class_codes(model: Reliability, label) -> np.ndarray:
    label = np.asarray(label)
    codes = np.searchsorted(model.classes, label)
    ok = (codes < model.classes.size) & (model.classes[np.minimum(codes, model.classes.size - 1)] == label)
    if not ok.all():
        raise ValueError(f"label {label[~ok][0]!r} is not one of the classes {model.classes.tolist()}")
    return codes


def _posterior(model: Reliability, codes: np.ndarray, n_items: int, grader, label) -> np.ndarray:
    """``(n_items, K)`` posteriors: log prior + the log-likelihood of each item's judgements."""
    k = model.classes.size
    grader = np.asarray(grader, dtype=object)
    if not (grader.size == codes.size == np.asarray(label).size):
        raise ValueError(f"item, grader and label differ in length: {codes.size}, {grader.size}, {np.asarray(label).size}")
    log_conf = np.log(np.maximum(np.concatenate([model.confusion, model.typical[None]]), _EPS))
    obs = log_conf[model.grader_index(grader), :, _class_codes(model, label)]  # (judgements, K)
    joint = np.stack([np.bincount(codes, weights=obs[:, c], minlength=n_items) for c in range(k)], axis=1)
    joint += np.log(np.maximum(model.prior, _EPS))
    joint -= joint.max(axis=1, keepdims=True)
    post = np.exp(joint)
    return post / post.sum(axis=1, keepdims=True)


def _clamp(post: np.ndarray, ids: np.ndarray, classes: np.ndarray, gold) -> None:
    if not gold:
        return
    where = {v: i for i, v in enumerate(ids.tolist())}
    for item_id, value in dict(gold).items():
        i = where.get(item_id)
        if i is None:
            continue
        c = int(np.searchsorted(classes, value))
        if c >= classes.size or classes[c] != value:
            raise ValueError(f"gold label {value!r} of {item_id!r} is not one of the classes {classes.tolist()}")
        post[i] = 0.0
        post[i, c] = 1.0


def pointwise(model: Reliability, item, grader, grade, gold: Mapping | None = None) -> Consensus:
    """Consensus grade of every item that has judgements (see the module doc); ``gold`` maps
    item → gold grade, clamped."""
    ids, codes = _encode_items(item)
    post = _posterior(model, codes, ids.size, grader, grade)
    _clamp(post, ids, model.classes, gold)
    best = post.argmax(axis=1)  # ties: the lower grade
    return Consensus(items=ids, posterior=post, label=model.classes[best],
                     confidence=post[np.arange(ids.size), best], judgements=np.bincount(codes, minlength=ids.size))


def side_by_side(model: Reliability, item, grader, preference) -> Preference:
    """Reliability-weighted consensus preference of every item that has judgements; ``model``
    is fitted on the preferences' signs (:data:`SIGN_CLASSES`).

    >>> m = fit_reliability([1, 1, 2, 2], ["a", "b", "a", "b"], [1, 1, -1, -1], SIGN_CLASSES)
    >>> side_by_side(m, [1, 1], ["a", "b"], [2, 3]).preference.round(6).tolist()
    [2.5]
    """
    ids, codes = _encode_items(item)
    pref = np.asarray(preference, dtype=float)
    sign = np.sign(pref).astype(int)
    post = _posterior(model, codes, ids.size, grader, sign)
    w = model.weight_of(grader)
    n = np.bincount(codes, minlength=ids.size)
    w_sum = np.bincount(codes, weights=w, minlength=ids.size)
    weighted = np.bincount(codes, weights=w * pref, minlength=ids.size)
    plain = np.bincount(codes, weights=pref, minlength=ids.size) / n
    # Nobody on the item is better than chance: every vote counts alike.
    mean = np.where(w_sum > 0, weighted / np.where(w_sum > 0, w_sum, 1.0), plain)
    chosen = np.searchsorted(model.classes, np.sign(mean).astype(int))
    return Preference(items=ids, preference=mean, posterior=post, confidence=post[np.arange(ids.size), chosen],
                      judgements=n)
