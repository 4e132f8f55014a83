"""Majority vote."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, agreement_skills, vote_counts

TIE_RULES = ("lowest", "median", "random")


class MajorityVote(BaseAggregator):
    """The most frequent label per item.

    ``probas_`` are vote shares; ``skills_`` the share of each worker's labels that
    equal the majority label. Ties: ``tie="lowest"`` (default) picks the lowest
    class — for grades 0..3 the more conservative grade; ``tie="median"`` (graded
    labels) picks the tied class nearest the item's lower-median vote, so votes
    0, 1, 2 give 1 (then the lower one); ``tie="random"`` picks
    uniformly among the tied classes with ``np.random.default_rng(seed)``, and
    ``probas_`` then get a tiny bump on the winner (for "median" and "random") so
    that ``argmax`` and ``labels_`` agree.

    Example:
        >>> mv = MajorityVote()
        >>> mv.fit_predict({"item": ["q1", "q1", "q1", "q2", "q2"],
        ...                 "worker": ["a", "b", "c", "a", "b"],
        ...                 "label": [2, 2, 1, 0, 3]}).tolist()
        [2, 0]
    """

    def __init__(self, tie: str = "lowest", seed: int | None = None, classes=None):
        if tie not in TIE_RULES:
            raise ValueError(f"tie must be one of {TIE_RULES}, got {tie!r}")
        self.tie = tie
        self.seed = seed
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        counts = vote_counts(ann)
        probas = counts / counts.sum(axis=1, keepdims=True)
        tied = counts == counts.max(axis=1, keepdims=True)
        if self.tie != "lowest" and (tied.sum(axis=1) > 1).any():
            if self.tie == "random":
                # A random key per (item, class); the winner is the tied class with the largest key.
                keys = np.where(tied, np.random.default_rng(self.seed).random(counts.shape), -1.0)
            else:
                cum = counts.cumsum(axis=1)
                median = (cum >= (cum[:, -1:] / 2.0)).argmax(axis=1)  # lower median class index
                distance = np.abs(np.arange(ann.n_classes)[None, :] - median[:, None])
                keys = np.where(tied, -distance - 1e-3 * np.arange(ann.n_classes), -np.inf)
            winner = keys.argmax(axis=1)
            probas[np.arange(ann.n_items), winner] += 1e-9
            probas /= probas.sum(axis=1, keepdims=True)
        best = probas.argmax(axis=1)
        if gold_items.size:
            best[gold_items] = gold_classes
        return probas, agreement_skills(ann, best), {}
