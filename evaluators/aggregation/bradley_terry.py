"""Bradley–Terry scores from pairwise (SxS) preferences, with ties (Davidson's extension)."""
from __future__ import annotations

from dataclasses import dataclass

import warnings

import numpy as np
from scipy import optimize

from .base import _column, _encode
from .guard import AggregationWarning


@dataclass(frozen=True, eq=False)
class PairwiseComparisons:
    """Comparisons as integer-coded columns: ``left[k]`` vs ``right[k]`` with ``outcome[k]``
    in {-1: left preferred, 0: tie, +1: right preferred} (the sign of an SxS preference)."""

    left: np.ndarray
    right: np.ndarray
    outcome: np.ndarray
    items: np.ndarray

    @classmethod
    def from_columns(cls, left, right, outcome) -> "PairwiseComparisons":
        left = _column(left, "left")
        right = _column(right, "right")
        try:
            pref = np.asarray(outcome, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("outcome must be numeric: negative = left preferred, 0 = tie, positive = right") from None
        if pref.ndim != 1 or not (left.size == right.size == pref.size):
            raise ValueError(f"left, right and outcome must be 1-D of equal length, got {left.size}, {right.size}, {pref.size}")
        if pref.size == 0:
            raise ValueError("no comparisons: the table is empty")
        if not np.isfinite(pref).all():
            raise ValueError("outcome contains NaN or inf")
        items, codes = _encode(np.concatenate([left, right]), "item")
        l, r = codes[: left.size], codes[left.size:]
        if (l == r).any():
            raise ValueError(f"an item is compared with itself (row {int(np.flatnonzero(l == r)[0])})")
        return cls(left=l, right=r, outcome=np.sign(pref).astype(np.int8), items=items)


def as_comparisons(data) -> PairwiseComparisons:
    if isinstance(data, PairwiseComparisons):
        return data
    if isinstance(data, tuple) and len(data) == 3:
        return PairwiseComparisons.from_columns(*data)
    try:
        cols = (data["left"], data["right"], data["outcome"])
    except (KeyError, TypeError, IndexError, ValueError):
        raise ValueError("data must be PairwiseComparisons, a table with 'left', 'right' and 'outcome' "
                         "columns, or a tuple (left, right, outcome)") from None
    return PairwiseComparisons.from_columns(*(np.asarray(c) for c in cols))


class BradleyTerry:
    """Bradley–Terry–Davidson model: with strengths ``pi_i = exp(scores_[i])``,

    ``P(i over j) = pi_i / D``, ``P(tie) = nu * sqrt(pi_i * pi_j) / D``,
    ``D = pi_i + pi_j + nu * sqrt(pi_i * pi_j)``.

    R. A. Bradley and M. E. Terry, Biometrika 39 (1952) 324–345; ties:
    R. R. Davidson, "On extending the Bradley–Terry model to accommodate ties in
    paired comparison experiments", JASA 65 (1970) 317–328. Fitted by L-BFGS on the
    (convex in the log-parameters) negative log-likelihood with a ridge term
    ``reg * sum(scores**2) / 2``, which keeps undefeated items finite and fixes the
    scale's origin (scores are centred to mean 0). ``ties=False`` is plain
    Bradley–Terry (ties then count as half a win for each side).

    Same face as the aggregators: ``fit(data)`` → self, ``fit_predict(data)`` →
    ``scores_`` (aligned with ``items_``), ``fit_predict_proba(data)`` → each item's
    Luce choice probability of being preferred over all others (``pi / sum(pi)``).
    ``tie_`` is ``nu``. ``data`` holds columns ``left``, ``right``, ``outcome``.
    ``converged_`` says whether the optimiser converged; when it did not, ``fit`` warns
    (:class:`.guard.AggregationWarning`). The ridge term is also what keeps scores finite
    on a disconnected comparison graph.

    Example:
        >>> bt = BradleyTerry(reg=0.0)
        >>> s = bt.fit_predict({"left": ["a", "a", "a", "a"], "right": ["b", "b", "b", "b"],
        ...                     "outcome": [-1, -1, -1, 1]})
        >>> round(float(s[0] - s[1]), 4)  # log(3 / 1)
        1.0986
    """

    def __init__(self, ties: bool = True, reg: float = 1e-3, max_iter: int = 1000, tol: float = 1e-10):
        if not (reg >= 0) or int(max_iter) < 1:
            raise ValueError("reg must be >= 0 and max_iter >= 1")
        self.ties = bool(ties)
        self.reg = float(reg)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    def fit(self, data) -> "BradleyTerry":
        comp = as_comparisons(data)
        n = comp.items.size
        l, r, o = comp.left, comp.right, comp.outcome
        left_win, right_win, tie = (o < 0).astype(float), (o > 0).astype(float), (o == 0).astype(float)
        if not self.ties:
            left_win, right_win, tie = left_win + tie / 2, right_win + tie / 2, np.zeros_like(tie)
        use_nu = self.ties and tie.any()

        def objective(params):
            s = params[:n]
            log_nu = params[n] if use_nu else -np.inf
            sl, sr = s[l], s[r]
            mid = (sl + sr) / 2 + log_nu
            top = np.maximum(np.maximum(sl, sr), mid)
            e_l, e_r, e_m = np.exp(sl - top), np.exp(sr - top), np.exp(mid - top)
            z = e_l + e_r + e_m
            log_d = top + np.log(z)
            ll = left_win * sl + right_win * sr - (left_win + right_win + tie) * log_d
            if use_nu:
                ll = ll + tie * mid
            nll = -ll.sum() + 0.5 * self.reg * (s @ s)
            weight = left_win + right_win + tie
            p_l, p_r, p_m = e_l / z, e_r / z, e_m / z
            # d(-ll)/d s_l = -(left_win + tie/2) + weight * (p_l + p_m/2), symmetric for right.
            g_l = -(left_win + tie / 2) + weight * (p_l + p_m / 2)
            g_r = -(right_win + tie / 2) + weight * (p_r + p_m / 2)
            grad_s = np.bincount(l, weights=g_l, minlength=n) + np.bincount(r, weights=g_r, minlength=n) + self.reg * s
            if not use_nu:
                return nll, grad_s
            g_nu = -(tie.sum()) + (weight * p_m).sum()
            return nll, np.append(grad_s, g_nu)

        x0 = np.zeros(n + (1 if use_nu else 0))
        res = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                                options={"maxiter": self.max_iter, "gtol": self.tol, "ftol": 1e-15})
        scores = res.x[:n] - res.x[:n].mean()
        self.items_ = comp.items
        self.scores_ = scores
        self.tie_ = float(np.exp(res.x[n])) if use_nu else 0.0
        self.converged_ = bool(res.success)
        if not self.converged_:
            # Scores from an unfinished optimisation are not the model's: say so (the same
            # warning class as the EM models' majority-vote guard).
            warnings.warn(f"BradleyTerry: the optimiser stopped before converging ({res.message}); "
                          "raise max_iter or reg", AggregationWarning, stacklevel=2)
        strength = np.exp(scores - scores.max())
        self.probas_ = strength / strength.sum()
        return self

    def fit_predict(self, data) -> np.ndarray:
        return self.fit(data).scores_

    def fit_predict_proba(self, data) -> np.ndarray:
        return self.fit(data).probas_

    def predict_pair_proba(self, i, j) -> tuple[float, float, float]:
        """``(P(i preferred), P(tie), P(j preferred))`` for two fitted item ids."""
        index = {v: k for k, v in enumerate(self.items_.tolist())}
        try:
            si, sj = self.scores_[index[i]], self.scores_[index[j]]
        except KeyError as exc:
            raise ValueError(f"unknown item {exc.args[0]!r}") from None
        pi, pj, pm = np.exp(si), np.exp(sj), self.tie_ * np.exp((si + sj) / 2)
        z = pi + pj + pm
        return float(pi / z), float(pm / z), float(pj / z)

    def __repr__(self) -> str:
        return f"BradleyTerry(ties={self.ties!r}, reg={self.reg!r}, max_iter={self.max_iter!r}, tol={self.tol!r})"
