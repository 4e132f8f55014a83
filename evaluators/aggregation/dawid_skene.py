"""Dawid–Skene: per-worker confusion matrices fitted by EM."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, check_em_params
from .em import EMState, run_em


def shrunk_confusion(counts: np.ndarray, pooled_prior: float, smoothing: float) -> np.ndarray:
    """Per-worker confusion ``(workers, true, label)`` from expected counts, each row shrunk
    toward the crowd's pooled confusion row by ``pooled_prior`` pseudo-labels, plus
    ``smoothing`` pseudo-counts per cell."""
    k = counts.shape[1]
    pooled = counts.sum(axis=0) + 1.0
    pooled /= pooled.sum(axis=1, keepdims=True)
    counts = counts + pooled_prior * pooled + smoothing
    totals = counts.sum(axis=2, keepdims=True)
    return np.divide(counts, totals, out=np.full_like(counts, 1.0 / k), where=totals > 0)


class DawidSkene(BaseAggregator):
    """Dawid–Skene model: worker ``w`` reports label ``l`` for an item of true class
    ``k`` with probability ``errors_[w, k, l]``; classes have priors ``priors_``.

    A. P. Dawid and A. M. Skene, "Maximum likelihood estimation of observer
    error-rates using the EM algorithm", *J. R. Stat. Soc. C* 28(1) (1979) 20–28.

    MAP-EM from majority-vote posteriors; the E-step sums log-likelihoods per item with
    ``np.add.reduceat`` over observations pre-sorted by item, the M-step sums
    posteriors per (worker, label) the same way — no Python loop over items or
    workers. Priors, which is what keeps it from collapsing on real crowds where
    most workers label a handful of items:

    * ``pooled_prior``: each worker's confusion row starts as the crowd's pooled
      confusion row worth that many labels (an empirical-Bayes Dirichlet prior, a
      one-community version of E. Venanzi et al., "Community-based Bayesian
      aggregation models for crowdsourcing", WWW 2014) — a worker seen five times
      is treated as a typical worker, not as a random one;
    * ``smoothing``: pseudo-counts added to every cell (Laplace);
    * ``prior_strength``: class shares shrunk toward the majority-vote shares
      (see :mod:`.em`).

    ``pooled_prior=0, smoothing=0, prior_strength=0`` is the plain maximum-likelihood
    model (crowd-kit's ``DawidSkene``). Stops when the per-observation
    log-likelihood changes by less than ``tol`` (``converged_``) or after
    ``n_iter`` iterations (``n_iter_``); ``n_iter=0`` gives the majority-vote
    posteriors. ``skills_`` is each worker's expected accuracy
    ``sum_k priors_[k] * errors_[w, k, k]``.

    Example:
        >>> ds = DawidSkene(n_iter=50)
        >>> ds.fit_predict({"item": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
        ...                 "label": [0, 0, 1, 1, 1, 0]}).tolist()
        [0, 1]
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, smoothing: float = 0.1,
                 pooled_prior: float = 4.0, prior_strength: float = 0.5,
                 guard: str = "fallback", max_shift: float = 0.25, classes=None):
        check_em_params(n_iter, tol, guard, max_shift, smoothing=smoothing, pooled_prior=pooled_prior,
                        prior_strength=prior_strength)
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.smoothing = float(smoothing)
        self.pooled_prior = float(pooled_prior)
        self.prior_strength = float(prior_strength)
        self.guard = guard
        self.max_shift = float(max_shift)
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        state = EMState(ann, gold_items, gold_classes)
        k = ann.n_classes

        def m_step(sums):
            # sums[w, l, k] -> confusion counts[w, k, l].
            errors = shrunk_confusion(sums.transpose(0, 2, 1), self.pooled_prior, self.smoothing)
            return np.log(np.maximum(errors, 1e-300))

        em = run_em(state, m_step, n_iter=self.n_iter, tol=self.tol, prior_strength=self.prior_strength)
        errors = np.exp(em.log_errors)
        skills = (errors[:, np.arange(k), np.arange(k)] * em.priors).sum(axis=1)
        return em.post, skills, {"priors_": em.priors, "errors_": errors, "loglik_": em.loglik,
                                 "n_iter_": em.n_iter, "converged_": em.converged}
