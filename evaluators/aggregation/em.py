"""The EM loop shared by the worker-confusion models (Dawid–Skene, one-coin, ordinal).

Each model supplies only its M-step: from the expected counts
``S[w, l, k] = sum of P(true = k) over worker w's observations labelled l`` it
returns per-worker log confusion matrices ``log P(label = l | true = k)`` of shape
``(workers, k, l)``. The E-step, class priors, gold clamping and convergence test are here.

Observations are sorted once by item and once by (worker, label), so both steps
are ``np.add.reduceat`` over contiguous segments — vectorised, no ``np.add.at``.

Why the class priors are shrunk: on real crowds, with many workers who label a
handful of items and one-grade spammers, EM has a degenerate fixed point where
every item gets the same class (the prior of that class grows, the spammers who
always give it look perfect, and the prior grows again). A Dirichlet prior on the
class shares centred on the majority-vote shares, worth ``prior_strength`` times
the number of items in pseudo-counts, keeps the class shares near what the votes
say unless the data insist (MAP-EM; see e.g. Y. Zhang, X. Chen, D. Zhou and
M. I. Jordan, "Spectral methods meet EM", JMLR 17 (2016), on how EM for crowd
models depends on its start and needs guarding).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .base import Annotations, vote_counts
from .guard import gold_shares


class EMState:
    """Pre-sorted index arrays for one :class:`Annotations`."""

    def __init__(self, ann: Annotations, gold_items: np.ndarray, gold_classes: np.ndarray):
        self.ann = ann
        k = ann.n_classes
        by_item = np.argsort(ann.item, kind="stable")
        # Row of the (worker, label) table for each observation, in item order.
        self.group_by_item = (ann.worker * k + ann.label)[by_item]
        item_sorted = ann.item[by_item]
        self.item_starts = np.flatnonzero(np.r_[True, item_sorted[1:] != item_sorted[:-1]])
        group = ann.worker * k + ann.label
        by_group = np.argsort(group, kind="stable")
        group_sorted = group[by_group]
        self.group_starts = np.flatnonzero(np.r_[True, group_sorted[1:] != group_sorted[:-1]])
        self.group_ids = group_sorted[self.group_starts]
        self.item_by_group = ann.item[by_group]
        self.gold_items = gold_items
        self.gold_classes = gold_classes

    def worker_label_sums(self, post: np.ndarray) -> np.ndarray:
        """``S`` of shape ``(workers, labels, classes)`` (see module doc)."""
        ann = self.ann
        k = ann.n_classes
        out = np.zeros((ann.n_workers * k, k))
        out[self.group_ids] = np.add.reduceat(np.take(post, self.item_by_group, axis=0), self.group_starts, axis=0)
        return out.reshape(ann.n_workers, k, k)

    def clamp(self, post: np.ndarray) -> None:
        if self.gold_items.size:
            post[self.gold_items] = 0.0
            post[self.gold_items, self.gold_classes] = 1.0


def _row_max(x: np.ndarray) -> np.ndarray:
    """Row maxima as a column; a loop over the few columns beats ``max(axis=1)`` on narrow arrays."""
    top = x[:, 0].copy()
    for c in range(1, x.shape[1]):
        np.maximum(top, x[:, c], out=top)
    return top[:, None]


MStep = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class EMResult:
    post: np.ndarray  # (items, classes) posteriors, gold clamped
    priors: np.ndarray  # class shares
    log_errors: np.ndarray  # (workers, true, label)
    loglik: float  # observed-data log-likelihood per observation at the last E-step (-inf if none ran)
    n_iter: int  # E-steps run
    converged: bool  # stopped because the log-likelihood gain fell under tol


def run_em(state: EMState, m_step: MStep, *, n_iter: int, tol: float, prior_strength: float) -> EMResult:
    """Run MAP-EM from majority-vote posteriors (vote shares).

    ``n_iter=0`` runs no E-step: the posteriors are the vote shares and the
    confusion matrices one M-step on them.
    """
    ann = state.ann
    votes = vote_counts(ann)
    post = votes / votes.sum(axis=1, keepdims=True)
    state.clamp(post)
    # Dirichlet pseudo-counts on the class shares, centred on the vote shares (see module doc),
    # or on the gold shares when there is enough gold: those are unbiased, the vote shares are not.
    centre = gold_shares(state.gold_classes, ann.n_classes)
    if centre is None:
        centre = post.mean(axis=0)
    anchor = prior_strength * ann.n_items * centre
    loglik = -np.inf
    iterations = 0
    converged = False
    n_obs = len(ann)

    def class_priors(p):
        return (p.sum(axis=0) + anchor) / (p.shape[0] + anchor.sum())

    log_errors = m_step(state.worker_label_sums(post))
    for iterations in range(1, n_iter + 1):
        priors = class_priors(post)
        # E-step: log P(true = k) + sum over the item's observations of log P(label | k).
        table = np.ascontiguousarray(log_errors.transpose(0, 2, 1)).reshape(-1, ann.n_classes)
        obs = np.take(table, state.group_by_item, axis=0)
        joint = np.add.reduceat(obs, state.item_starts, axis=0) + np.log(np.maximum(priors, 1e-300))
        top = _row_max(joint)
        lse = top + np.log(np.exp(joint - top) @ np.ones((joint.shape[1], 1)))
        post = np.exp(joint - lse)
        state.clamp(post)
        new = float(lse.sum()) / n_obs
        converged = abs(new - loglik) < tol
        loglik = new
        log_errors = m_step(state.worker_label_sums(post))
        if converged:
            break
    return EMResult(post=post, priors=class_priors(post), log_errors=log_errors, loglik=loglik,
                    n_iter=iterations, converged=converged)
