"""Click models: what search logs say about a (query, document) pair, corrected for position bias.

**DBN** — the dynamic Bayesian network click model (O. Chapelle and Y. Zhang, "A dynamic
Bayesian network click model for web search ranking", WWW 2009). A user reads a result list
top-down; at position ``k`` with document ``u``::

    E_1 ~ Bernoulli(e)                        the list is looked at (1 - e: abandoned unread)
    C_k = 1  <=>  E_k = 1 and A_k = 1,        A_k ~ Bernoulli(a_u)   (attractiveness)
    S_k ~ Bernoulli(s_u) if C_k = 1 else 0                           (satisfaction)
    P(E_{k+1} = 1 | E_k = 1, S_k = 0) = gamma,  E_{k+1} = 0 otherwise (perseverance)

Real searches often end without a look at the results (the answer was in the snippets, or the
user gave up); with ``E_1 = 1`` as in the original model those searches would read as "the top
result is unattractive" and bias exactly the best-ranked — mostly the most relevant — results
down, so the probability ``e`` that a list is examined at all is fitted too (``examine_first``).

A click near the top says less than a click far down (everyone examines the top), a result
skipped above a click was examined and not attractive, and a last click that ended the search
suggests satisfaction: ``a_u`` and ``s_u`` are properties of the pair, freed of the position it
was shown at. ``a_u * s_u`` is the DBN's relevance of the pair.

Fitted by expectation–maximisation: the hidden examinations are inferred per session by a
forward–backward pass over the positions (vectorised over sessions; ten positions is ten numpy
steps), then ``a``, ``s`` and ``gamma`` are re-estimated from the expected counts. Beta priors
(``prior``, pseudo-counts) keep the estimates of rarely shown pairs near a sensible value rather
than at 0 or 1: most queries of real logs have a handful of clicks at most.

Input is columnar: one row per distinct *session configuration* — the pairs shown at each
position (``-1`` where the list ended) and which positions were clicked — with a ``weight``
(how many sessions had exactly that configuration), so logs with millions of searches reduce to
the configurations they contain.

Two results with 30 clicks in 60 impressions each; the second was clicked every time it was on
top and also from below the first, so it is the more attractive one:

>>> import numpy as np
>>> pairs = np.array([[0, 1], [0, 1], [1, 0]])
>>> clicks = np.array([[True, False], [False, True], [True, False]])
>>> m = DBN(max_iter=100).fit(pairs, clicks, weight=np.array([30, 10, 20]))
>>> (m.clicks_ / m.impressions_).tolist(), m.attractiveness_.round(2).tolist()
([0.5, 0.5], [0.73, 0.97])
"""
from __future__ import annotations

import numpy as np

__all__ = ["DBN", "pair_index"]


def pair_index(query_keys, doc_keys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number the distinct (query, document) pairs of session lists.

    ``query_keys``: ``(n,)``, one query per session configuration; ``doc_keys``: ``(n, K)``
    document keys by position, ``None`` (or ``""``) where the list ended. Returns
    ``(pairs, pair_query, pair_doc)``: ``pairs`` ``(n, K)`` pair index (``-1``: no result) and
    the query and document key of each pair.

    >>> p, q, d = pair_index(["x", "y"], [["a", "b"], ["a", None]])
    >>> p.tolist(), q.tolist(), d.tolist()
    ([[0, 1], [2, -1]], ['x', 'x', 'y'], ['a', 'b', 'a'])
    """
    q = np.asarray(query_keys, dtype=object)
    d = np.asarray(doc_keys, dtype=object)
    if d.ndim != 2 or len(q) != len(d):
        raise ValueError("doc_keys must be (sessions, positions) with one query per session")
    present = np.array([[x is not None and x != "" for x in row] for row in d], dtype=bool).reshape(d.shape)
    keys = np.char.add(np.char.add(np.broadcast_to(q[:, None], d.shape)[present].astype(str), "\x1f"),
                       d[present].astype(str))
    uniq, inv = np.unique(keys, return_inverse=True)
    pairs = np.full(d.shape, -1, dtype=np.int64)
    pairs[present] = inv.ravel()
    split = np.char.partition(uniq.astype(str), "\x1f")
    return pairs, split[:, 0].astype(object), split[:, 2].astype(object)


class DBN:
    """Dynamic Bayesian network click model (see the module docstring), fitted by EM.

    Parameters: ``gamma`` (fixed perseverance, or ``None`` to fit it), ``examine_first``
    (fixed probability that a list is examined at all, or ``None`` to fit it), ``prior`` (Beta
    pseudo-counts ``(clicked, not clicked)`` of attractiveness and of satisfaction),
    ``max_iter`` and ``tol`` (stop when the mean log-likelihood per session improves by less).

    Fitted state: ``attractiveness_``, ``satisfaction_`` (per pair), ``gamma_``, ``examine_first_``,
    ``impressions_`` (sessions that showed the pair), ``examinations_`` (expected sessions that
    examined it), ``clicks_``, ``log_likelihood_`` (per session, weighted mean), ``n_iter_``.
    """

    def __init__(self, gamma: float | None = None, examine_first: float | None = None,
                 prior: tuple[float, float] = (1.0, 1.0), max_iter: int = 50, tol: float = 1e-6):
        if gamma is not None and not 0.0 < gamma <= 1.0:
            raise ValueError("gamma must be in (0, 1]")
        if examine_first is not None and not 0.0 < examine_first <= 1.0:
            raise ValueError("examine_first must be in (0, 1]")
        self.examine_first = examine_first
        if min(prior) <= 0:
            raise ValueError("prior pseudo-counts must be positive")
        self.gamma, self.prior, self.max_iter, self.tol = gamma, prior, max_iter, tol

    def fit(self, pairs: np.ndarray, clicks: np.ndarray, weight: np.ndarray | None = None,
            n_pairs: int | None = None) -> "DBN":
        """``pairs`` ``(n, K)`` pair index per position (``-1``: the list ended), ``clicks``
        ``(n, K)`` bool, ``weight`` ``(n,)`` sessions per configuration (default 1)."""
        pairs = np.asarray(pairs, dtype=np.int64)
        clicks = np.asarray(clicks, dtype=bool)
        if pairs.ndim != 2 or pairs.shape != clicks.shape:
            raise ValueError("pairs and clicks must be (sessions, positions) arrays of one shape")
        w = np.ones(len(pairs)) if weight is None else np.asarray(weight, dtype=float)
        if w.shape != (len(pairs),) or (w < 0).any():
            raise ValueError("weight must be one non-negative number per session")
        present = pairs >= 0
        if (clicks & ~present).any():
            raise ValueError("a click on a position without a result")
        n_pairs = int(pairs.max() + 1 if pairs.size and present.any() else 0) if n_pairs is None else n_pairs
        idx = np.where(present, pairs, 0)
        wk = np.broadcast_to(w[:, None], pairs.shape)
        self.impressions_ = np.bincount(idx[present], weights=wk[present], minlength=n_pairs)
        self.clicks_ = np.bincount(idx[clicks], weights=wk[clicks], minlength=n_pairs)
        pa, pb = self.prior
        # Start from the naive click-through rate and a middling satisfaction.
        a = (self.clicks_ + pa) / (self.impressions_ + pa + pb)
        s = np.full(n_pairs, 0.5)
        gamma = 0.9 if self.gamma is None else self.gamma
        e1 = 0.9 if self.examine_first is None else self.examine_first
        prev = -np.inf
        self.n_iter_ = 0
        for it in range(self.max_iter):
            ea, es, num, den, looked, ll = _e_step(idx, present, clicks, w, a, s, gamma, e1)
            a = (np.bincount(idx[present], weights=(ea * wk)[present], minlength=n_pairs) + pa) / (self.impressions_ + pa + pb)
            s = (np.bincount(idx[clicks], weights=(es * wk)[clicks], minlength=n_pairs) + pa) / (self.clicks_ + pa + pb)
            if self.gamma is None and den > 0:
                gamma = float(np.clip(num / den, 1e-6, 1.0))
            if self.examine_first is None:
                e1 = float(np.clip(looked, 1e-6, 1.0))
            self.n_iter_ = it + 1
            if ll - prev < self.tol:
                break
            prev = ll
        self.attractiveness_, self.satisfaction_, self.gamma_, self.examine_first_ = a, s, gamma, e1
        self.log_likelihood_ = _e_step(idx, present, clicks, w, a, s, gamma, e1)[-1]
        self.examinations_ = _examinations(idx, present, clicks, w, a, s, gamma, e1, n_pairs)
        return self

    @property
    def relevance_(self) -> np.ndarray:
        """``a * s``: the probability that a user who examines the result is satisfied by it."""
        return self.attractiveness_ * self.satisfaction_


def _transitions(present, clicks, a_k, s_k, gamma):
    """``M[n, e, e']`` = P(C_k = c_k, E_{k+1} = e' | E_k = e) at one position (identity past the list)."""
    n = len(a_k)
    m = np.zeros((n, 2, 2))
    m[:, 0, 0] = np.where(clicks, 0.0, 1.0)  # not examined: no click, and nothing below is examined
    click_go = a_k * (1.0 - s_k) * gamma
    click_stop = a_k * (s_k + (1.0 - s_k) * (1.0 - gamma))
    m[:, 1, 1] = np.where(clicks, click_go, (1.0 - a_k) * gamma)
    m[:, 1, 0] = np.where(clicks, click_stop, (1.0 - a_k) * (1.0 - gamma))
    m[~present] = np.eye(2)
    return m


def _forward_backward(idx, present, clicks, a, s, gamma, e1):
    n, K = idx.shape
    ms = [_transitions(present[:, k], clicks[:, k], a[idx[:, k]], s[idx[:, k]], gamma) for k in range(K)]
    alpha = np.zeros((K + 1, n, 2))
    alpha[0, :, 0], alpha[0, :, 1] = 1.0 - e1, e1
    for k in range(K):
        alpha[k + 1] = np.einsum("ne,nef->nf", alpha[k], ms[k])
    beta = np.ones((K + 1, n, 2))
    for k in range(K - 1, -1, -1):
        beta[k] = np.einsum("nef,nf->ne", ms[k], beta[k + 1])
    lik = np.maximum(alpha[K].sum(axis=1), 1e-300)
    return ms, alpha, beta, lik


def _e_step(idx, present, clicks, w, a, s, gamma, e1):
    """Expected attractions and satisfactions per (session, position), the perseverance counts,
    the expected share of lists looked at, and the weighted mean log-likelihood."""
    ms, alpha, beta, lik = _forward_backward(idx, present, clicks, a, s, gamma, e1)
    n, K = idx.shape
    ea = np.zeros((n, K))
    es = np.zeros((n, K))
    num = den = 0.0
    for k in range(K):
        ak, sk = a[idx[:, k]], s[idx[:, k]]
        examined = alpha[k, :, 1] * beta[k, :, 1] / lik
        # Not clicked: attracted only if it was never examined.
        ea[:, k] = np.where(clicks[:, k], 1.0, ak * (1.0 - examined))
        # Clicked: satisfied means nothing below was examined.
        es[:, k] = np.where(clicks[:, k], alpha[k, :, 1] * ak * sk * beta[k + 1, :, 0] / lik, 0.0)
        if k + 1 < K:
            # gamma is seen only where a next result exists
            nxt = present[:, k] & present[:, k + 1]
            go = alpha[k, :, 1] * ms[k][:, 1, 1] * beta[k + 1, :, 1] / lik
            unsatisfied = examined - es[:, k]
            num += float((w * go)[nxt].sum())
            den += float((w * unsatisfied)[nxt].sum())
    total = max(w.sum(), 1e-300)
    looked = float((w * alpha[0, :, 1] * beta[0, :, 1] / lik).sum() / total)
    ll = float((w * np.log(lik)).sum() / total)
    return ea, es, num, den, looked, ll


def _examinations(idx, present, clicks, w, a, s, gamma, e1, n_pairs):
    _, alpha, beta, lik = _forward_backward(idx, present, clicks, a, s, gamma, e1)
    exam = alpha[:-1, :, 1] * beta[:-1, :, 1] / lik  # (K, n)
    ex = (exam.T * w[:, None])
    return np.bincount(idx[present], weights=ex[present], minlength=n_pairs)
