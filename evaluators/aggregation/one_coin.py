"""One-coin Dawid–Skene: one accuracy per worker, errors spread evenly."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, vote_counts
from .em import EMState, run_em


class OneCoinDawidSkene(BaseAggregator):
    """Worker ``w`` is right with probability ``skills_[w]``; a wrong label is any of the
    other ``K - 1`` classes with equal probability.

    The "one-coin" restriction of Dawid and Skene (1979) (as in Y. Zhang, X. Chen,
    D. Zhou and M. I. Jordan, "Spectral methods meet EM", NeurIPS 2014, and
    Karger, Oh and Shah, 2011). One parameter per worker instead of ``K*(K-1)``:
    better than full DS when workers have few labels each. ``alpha``/``beta`` are
    Beta prior pseudo-counts of right/wrong answers (MAP-EM).

    Example:
        >>> oc = OneCoinDawidSkene()
        >>> oc.fit_predict(([1, 1, 1, 2, 2, 2], ["a", "b", "c"] * 2, [0, 0, 1, 1, 1, 0])).tolist()
        [0, 1]
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, alpha: float = 2.0, beta: float = 1.0,
                 classes=None):
        if int(n_iter) < 0 or not (tol >= 0) or not (alpha > 0) or not (beta > 0):
            raise ValueError("n_iter and tol must be >= 0, alpha and beta > 0")
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        state = EMState(ann, gold_items, gold_classes)
        k = ann.n_classes
        eye = np.eye(k, dtype=bool)

        def accuracy(sums):
            right = np.trace(sums, axis1=1, axis2=2)
            total = sums.sum(axis=(1, 2))
            return (right + self.alpha - 1.0) / (total + self.alpha + self.beta - 2.0)

        def m_step(sums):
            p = np.clip(accuracy(sums), 1e-9, 1 - 1e-9)
            wrong = (1.0 - p) / max(k - 1, 1)
            return np.log(np.where(eye, p[:, None, None], wrong[:, None, None]))

        post, priors, log_errors, loglik, n_iter = run_em(state, vote_counts(ann), m_step,
                                                          self.n_iter, self.tol)
        errors = np.exp(log_errors)
        skills = errors[:, 0, 0].copy()
        return post, skills, {"priors_": priors, "errors_": errors, "loglik_": loglik, "n_iter_": n_iter}
