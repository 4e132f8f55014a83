"""One-coin Dawid–Skene: one accuracy per worker, errors spread evenly."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, check_em_params
from .em import EMState, run_em
from .spam import with_spam


class OneCoinDawidSkene(BaseAggregator):
    """Worker ``w`` is right with probability ``skills_[w]``; a wrong label is any of the
    other ``K - 1`` classes with equal probability.

    The "one-coin" restriction of Dawid and Skene (1979) (as in Y. Zhang, X. Chen,
    D. Zhou and M. I. Jordan, "Spectral methods meet EM", NeurIPS 2014, and
    Karger, Oh and Shah, 2011). One parameter per worker instead of ``K*(K-1)``:
    better than full DS when workers have few labels each. MAP-EM with priors that
    keep it from collapsing on real crowds (where it otherwise ends with one class
    for nearly every item: one-grade spammers look perfect once every item has
    their grade): each worker's accuracy starts as the crowd's pooled accuracy worth
    ``pooled_prior`` answers (empirical Bayes), plus ``alpha - 1`` right and
    ``beta - 1`` wrong pseudo-answers (a Beta prior); class shares are shrunk toward
    the majority-vote shares by ``prior_strength`` (see :mod:`.em`). With ``spam=True``
    (default) each worker also has a spam component (:mod:`.spam`; with it the model is
    MACE's, Hovy et al. 2013): what removes the collapse rather than hiding it. ``skills_``
    is each worker's expected accuracy ``sum_k priors_[k] * errors_[w, k, k]``; ``spam_``
    their spam probability (``None`` without the component).

    Example:
        >>> oc = OneCoinDawidSkene()
        >>> oc.fit_predict(([1, 1, 1, 2, 2, 2], ["a", "b", "c"] * 2, [0, 0, 1, 1, 1, 0])).tolist()
        [0, 1]
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, alpha: float = 2.0, beta: float = 1.0,
                 pooled_prior: float = 4.0, prior_strength: float = 0.5,
                 spam: bool = True, guard: str = "fallback", max_shift: float = 0.25, classes=None):
        check_em_params(n_iter, tol, guard, max_shift, pooled_prior=pooled_prior, prior_strength=prior_strength)
        if not (alpha >= 1) or not (beta >= 1):
            raise ValueError(f"alpha and beta must be >= 1 (Beta prior pseudo-counts + 1), got {alpha!r}, {beta!r}")
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.pooled_prior = float(pooled_prior)
        self.prior_strength = float(prior_strength)
        self.spam = bool(spam)
        self.guard = guard
        self.max_shift = float(max_shift)
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        state = EMState(ann, gold_items, gold_classes)
        k = ann.n_classes
        eye = np.eye(k, dtype=bool)

        def accuracy(sums):
            right = np.trace(sums, axis1=1, axis2=2)
            total = sums.sum(axis=(1, 2))
            pooled = (right.sum() + 1.0) / (total.sum() + 2.0)
            right = right + self.pooled_prior * pooled + self.alpha - 1.0
            return right / (total + self.pooled_prior + self.alpha + self.beta - 2.0)

        def m_step(sums):
            p = np.clip(accuracy(sums), 1e-9, 1 - 1e-9)
            wrong = (1.0 - p) / max(k - 1, 1)
            return np.log(np.where(eye, p[:, None, None], wrong[:, None, None]))

        m_step, mixture = with_spam(m_step, self.spam)
        em = run_em(state, m_step, n_iter=self.n_iter, tol=self.tol, prior_strength=self.prior_strength)
        errors = np.exp(em.log_errors)
        skills = (errors[:, np.arange(k), np.arange(k)] * em.priors).sum(axis=1)
        return em.post, skills, {"priors_": em.priors, "errors_": errors, "loglik_": em.loglik,
                                 "n_iter_": em.n_iter, "converged_": em.converged,
                                 "spam_": None if mixture is None else mixture.eps.copy()}
