"""Ordinal Dawid–Skene: confusion matrices shaped by grade distance."""
from __future__ import annotations

import numpy as np

from .base import Annotations, BaseAggregator, check_em_params
from .em import EMState, run_em
from .spam import with_spam


class OrdinalDawidSkene(BaseAggregator):
    """Dawid–Skene for graded labels: worker ``w`` reports grade ``l`` for true grade ``k`` with

    ``P(l | k) ∝ exp(-a_w |d| - b_w d**2 + c_w d)``,  ``d = (v_l - v_k) / spacing``

    — a worker-specific discrete Laplace/Gaussian around the truth (``a_w``, ``b_w``:
    how sharply they hit the right grade; ``c_w``: leniency, positive = grades high).
    Three parameters per worker instead of ``K*(K-1)``, and errors to adjacent
    grades are cheap while far ones are not: the structure that graders of a
    0–3 relevance scale actually show. The log-likelihood is concave in
    ``(a_w, b_w, c_w)`` (an exponential family), so the M-step is a few vectorised
    Newton steps per worker with a Gaussian prior: sharpness ``(a_w, b_w)`` shrunk
    toward the crowd's pooled values and leniency ``c_w`` toward 0 (the crowd is
    lenient or strict only relative to itself: a common shift of every ``c_w`` and
    of the truth explains the data almost as well, so leaving it free lets the
    truth drift a grade), with precision ``pooled_prior`` per worker plus ``reg``;
    class shares are shrunk toward the majority-vote shares by ``prior_strength``
    (see :mod:`.em`). With ``spam=True`` (default) each worker also has a spam component
    (:mod:`.spam`): a one-grade spammer is not a grade-distance shape, and without the
    component EM explains them by moving the truth to their grade — on real crowds, one
    grade for nearly every item. ``spam_`` holds each worker's spam probability.

    In the family of ordinal crowd models of e.g. Lakshminarayanan and Teh,
    "Inferring ground truth from multi-annotator ordinal data: a probabilistic
    approach" (2013), and the confusion-structured DS variants surveyed by
    Zheng et al., "Truth inference in crowdsourcing", VLDB 2017.

    Labels must be integer grades, non-negative unless ``classes`` declares the
    scale explicitly (e.g. ``classes=range(-3, 4)`` for SxS preferences);
    ``classes`` also fixes the scale when a grade is unused (e.g. ``[0, 1, 2, 3]``).
    ``params_`` holds ``(a_w, b_w, c_w)`` per worker.

    Example:
        >>> od = OrdinalDawidSkene(classes=[0, 1, 2, 3])
        >>> od.fit_predict(([1, 1, 1, 2, 2, 2], ["a", "b", "c"] * 2, [3, 2, 3, 0, 1, 0])).tolist()
        [3, 0]
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-6, reg: float = 0.01, newton_steps: int = 3,
                 pooled_prior: float = 2.0, prior_strength: float = 0.5,
                 spam: bool = True, guard: str = "fallback", max_shift: float = 0.25, classes=None):
        check_em_params(n_iter, tol, guard, max_shift, pooled_prior=pooled_prior, prior_strength=prior_strength)
        if not (reg > 0) or int(newton_steps) < 1:
            raise ValueError(f"reg must be > 0 and newton_steps >= 1, got {reg!r}, {newton_steps!r}")
        self.n_iter = int(n_iter)
        self.tol = float(tol)
        self.reg = float(reg)
        self.newton_steps = int(newton_steps)
        self.pooled_prior = float(pooled_prior)
        self.prior_strength = float(prior_strength)
        self.spam = bool(spam)
        self.guard = guard
        self.max_shift = float(max_shift)
        self.classes = classes

    def _fit(self, ann: Annotations, gold_items, gold_classes):
        values = ann.numeric_classes()
        if (values != np.round(values)).any():
            raise ValueError(f"grades must be integers, got {values[values != np.round(values)][0]:g}")
        if self.classes is None and (values < 0).any():
            raise ValueError(f"grades must be non-negative, got {values.min():g} "
                             "(pass classes=... to declare a scale with negative grades, e.g. SxS -3..3)")
        k = ann.n_classes
        if k < 2:
            raise ValueError("ordinal aggregation needs at least two grades")
        spacing = (values[-1] - values[0]) / (k - 1)
        d = (values[None, :] - values[:, None]) / spacing  # d[k, l]
        feats = np.stack([-np.abs(d), -d * d, d], axis=-1)  # (k, l, 3)
        n_feat = feats.shape[-1]
        theta = np.zeros((ann.n_workers, n_feat))
        theta[:, 0] = 1.0
        precision = self.reg + self.pooled_prior
        ridge = precision * np.eye(n_feat)
        state = EMState(ann, gold_items, gold_classes)

        # Plain matrix products instead of multi-operand einsum: the M-step runs once per
        # iteration for every worker, and thousands of workers are usual.
        flat_feats = feats.reshape(k * k, n_feat)
        feats_outer = (feats[..., :, None] * feats[..., None, :]).reshape(k, k, n_feat * n_feat)

        def log_probs(th):
            logits = (th @ flat_feats.T).reshape(-1, k, k)
            top = logits.max(axis=2, keepdims=True)
            return logits - (top + np.log(np.exp(logits - top).sum(axis=2, keepdims=True)))

        def m_step(sums):
            nonlocal theta
            n_wk = sums.sum(axis=1)  # expected observations per (worker, true grade)
            observed = sums.transpose(0, 2, 1).reshape(-1, k * k) @ flat_feats
            # Prior mean: the crowd's sharpness (weighted by volume), zero leniency.
            volume = sums.sum(axis=(1, 2))
            centre = np.zeros(n_feat)
            centre[:2] = volume @ theta[:, :2] / max(volume.sum(), 1e-12) * (self.pooled_prior / precision)
            for _ in range(self.newton_steps):
                p = np.exp(log_probs(theta)).transpose(1, 0, 2)  # (k, w, l)
                mean = np.matmul(p, feats).transpose(1, 0, 2)  # (w, k, d)
                second = np.matmul(p, feats_outer).transpose(1, 0, 2)  # (w, k, d*d)
                cov = second - (mean[..., :, None] * mean[..., None, :]).reshape(second.shape)
                grad = observed - (n_wk[..., None] * mean).sum(axis=1) - precision * (theta - centre)
                # Negative Hessian, positive definite.
                hess = (n_wk[..., None] * cov).sum(axis=1).reshape(-1, n_feat, n_feat) + ridge
                step = np.linalg.solve(hess, grad[..., None])[..., 0]
                # Damp very long steps (early iterations, near-deterministic workers).
                norm = np.linalg.norm(step, axis=1, keepdims=True)
                theta = theta + step * np.minimum(1.0, 5.0 / np.maximum(norm, 1e-12))
            return log_probs(theta)

        m_step, mixture = with_spam(m_step, self.spam)
        em = run_em(state, m_step, n_iter=self.n_iter, tol=self.tol, prior_strength=self.prior_strength)
        errors = np.exp(em.log_errors)
        skills = (errors[:, np.arange(k), np.arange(k)] * em.priors).sum(axis=1)
        return em.post, skills, {"priors_": em.priors, "errors_": errors, "params_": theta.copy(),
                                 "loglik_": em.loglik, "n_iter_": em.n_iter, "converged_": em.converged,
                                 "spam_": None if mixture is None else mixture.eps.copy()}
