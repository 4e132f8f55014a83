"""Calibration of a model's similarity score into a graded label (0–3) with a confidence.

Model: **ordinal logistic regression** (proportional odds, McCullagh 1980) on one feature, the
score ``s``::

    P(grade <= k | s) = sigmoid(slope * (t_k - s)),   k = 0, 1, 2;  t_0 < t_1 < t_2

``t_k`` are the score *cut points* between grades ``k`` and ``k+1`` and ``slope`` how sharp the
boundaries are. The model is monotone in ``s`` by construction and has four parameters, so a few
dozen labels already fit it. Fitting is maximum a posteriori: the negative log-likelihood plus an
L2 pull (``l2``, in "pseudo-labels") of the parameters toward a centre — the documented
:data:`PRIOR` for a pooled fit, the pooled fit for a per-locale fit (partial pooling).

The predicted grade is the most probable one; its probability is the **confidence**.

:data:`PRIOR` is what qrelay uses before any human label exists, chosen for cosine similarity of
all-MiniLM-L6-v2 between a query and a result's title + snippet: below ~0.30 irrelevant, 0.30–0.50
related, 0.50–0.70 highly relevant, above 0.70 perfect, with a soft slope (6). Its confidences
are capped at :data:`PRIOR_CONFIDENCE_CAP` (0.5) by :meth:`Calibration.predict`, below any sensible
routing threshold: before people have labelled anything, nothing is automated blind.

Quality on held-out human labels (:func:`calibration_report`): accuracy of the predicted grade,
Spearman correlation of the expected grade with the human grade, and the expected calibration
error (ECE, Guo et al. 2017, equal-width bins of the confidence).

Side-by-side (:func:`predict_preference`): the predicted grades of both lists give each list a DCG
(linear gain, ``1/log2(rank+1)`` discount as in trec_eval's ``ndcg_cut``); the difference, as a
share of the largest possible DCG, is banded into a −3..+3 preference (positive: the right list,
ranker B, is better). Each document's grade is a random variable under the calibrated
distribution, so ΔDCG has a mean and a variance (a document in both lists counts once, with the
difference of its two discounts); under a normal approximation the confidence is the probability
that the sign (or, for a predicted tie, the tie band) is right.

>>> import numpy as np
>>> cal = OrdinalCalibrator().fit(np.array([.1, .2, .4, .45, .6, .65, .8, .9]), np.array([0, 0, 1, 1, 2, 2, 3, 3]))
>>> cal.predict(np.array([0.05, 0.95])).tolist()
[0, 3]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

N_GRADES = 4  # 0 Irrelevant, 1 Related, 2 Highly relevant, 3 Perfect


@dataclass(frozen=True)
class OrdinalParams:
    """``slope`` > 0 and increasing cut points ``t_0 < t_1 < t_2`` in score units."""

    slope: float
    cutpoints: tuple[float, float, float]

    def to_theta(self) -> np.ndarray:
        t = np.asarray(self.cutpoints, dtype=float)
        return np.array([np.log(self.slope), t[0], np.log(t[1] - t[0]), np.log(t[2] - t[1])])

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> "OrdinalParams":
        t0 = float(theta[1])
        t1 = t0 + float(np.exp(theta[2]))
        t2 = t1 + float(np.exp(theta[3]))
        return cls(float(np.exp(theta[0])), (t0, t1, t2))

    def as_dict(self) -> dict:
        return {"slope": round(self.slope, 6), "cutpoints": [round(t, 6) for t in self.cutpoints]}


PRIOR = OrdinalParams(slope=6.0, cutpoints=(0.30, 0.50, 0.70))
PRIOR_CONFIDENCE_CAP = 0.5


def ordinal_proba(params: OrdinalParams, scores: np.ndarray) -> np.ndarray:
    """``(n, 4)`` grade probabilities for ``scores`` under ``params``."""
    s = np.asarray(scores, dtype=float)[:, None]
    cum = special.expit(params.slope * (np.asarray(params.cutpoints)[None, :] - s))  # P(y <= k), k=0..2
    cum = np.concatenate([np.zeros((len(s), 1)), cum, np.ones((len(s), 1))], axis=1)
    return np.clip(np.diff(cum, axis=1), 1e-12, 1.0)


def _objective(theta: np.ndarray, s: np.ndarray, y: np.ndarray, w: np.ndarray, centre: np.ndarray, l2: float) -> float:
    p = ordinal_proba(OrdinalParams.from_theta(theta), s)
    return float(-(w * np.log(p[np.arange(len(y)), y])).sum() + l2 * ((theta - centre) ** 2).sum())


class OrdinalCalibrator:
    """Score → grade distribution, fitted by MAP ordinal logistic regression.

    Parameters: ``prior`` (the centre the fit is pulled to, and the answer without data),
    ``l2`` (strength of that pull). Fitted state: ``params_``, ``n_``.
    """

    def __init__(self, prior: OrdinalParams = PRIOR, l2: float = 2.0):
        self.prior = prior
        self.l2 = l2
        self.params_: OrdinalParams = prior
        self.n_ = 0

    def fit(self, scores: np.ndarray, grades: np.ndarray, weights: np.ndarray | None = None) -> "OrdinalCalibrator":
        s = np.asarray(scores, dtype=float)
        y = np.asarray(grades, dtype=int)
        if s.shape != y.shape:
            raise ValueError("scores and grades differ in length")
        if len(y) and (y.min() < 0 or y.max() >= N_GRADES):
            raise ValueError("grades must be in 0..3")
        self.n_ = len(y)
        if not len(y):
            self.params_ = self.prior
            return self
        w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=float)
        centre = self.prior.to_theta()
        res = optimize.minimize(_objective, centre, args=(s, y, w, centre, self.l2), method="L-BFGS-B",
                                bounds=[(np.log(0.1), np.log(500.0)), (-5, 5), (-12, 3), (-12, 3)])
        self.params_ = OrdinalParams.from_theta(res.x)
        return self

    def predict_proba(self, scores: np.ndarray) -> np.ndarray:
        return ordinal_proba(self.params_, scores)

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return self.predict_proba(scores).argmax(axis=1)

    def predict_with_confidence(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(grade, confidence)``: the most probable grade and its probability."""
        p = self.predict_proba(scores)
        g = p.argmax(axis=1)
        return g, p[np.arange(len(g)), g]

    def fit_predict(self, scores: np.ndarray, grades: np.ndarray) -> np.ndarray:
        return self.fit(scores, grades).predict(scores)

    def fit_predict_proba(self, scores: np.ndarray, grades: np.ndarray) -> np.ndarray:
        return self.fit(scores, grades).predict_proba(scores)


# --- quality -------------------------------------------------------------------------------


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """ECE (Guo et al. 2017): ``sum_b |B_b|/n * |acc(B_b) - conf(B_b)|`` over equal-width bins.

    >>> expected_calibration_error(np.array([0.9, 0.9]), np.array([True, False]))
    0.4
    """
    c = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=float)
    if not len(c):
        return float("nan")
    b = np.minimum((c * n_bins).astype(int), n_bins - 1)
    acc = np.bincount(b, weights=ok, minlength=n_bins)
    conf = np.bincount(b, weights=c, minlength=n_bins)
    return float(np.abs(acc - conf).sum() / len(c))


def quality(proba: np.ndarray, grades: np.ndarray) -> dict:
    """Accuracy, Spearman (expected grade vs human grade) and ECE of predictions ``proba``."""
    y = np.asarray(grades, dtype=int)
    if not len(y):
        return {"n": 0, "accuracy": None, "spearman": None, "ece": None}
    pred = proba.argmax(axis=1)
    conf = proba[np.arange(len(y)), pred]
    expected = proba @ np.arange(N_GRADES)
    rho = stats.spearmanr(expected, y).statistic if len(np.unique(y)) > 1 and len(np.unique(expected)) > 1 else float("nan")
    return {
        "n": int(len(y)),
        "accuracy": float((pred == y).mean()),
        "spearman": None if np.isnan(rho) else float(rho),
        "ece": expected_calibration_error(conf, pred == y),
    }


# --- per locale, pooled, prior -------------------------------------------------------------


@dataclass
class Calibration:
    """A calibrator per locale where there were enough labels, the pooled one elsewhere.

    ``source[locale]`` says which: ``"locale"``, ``"pooled"`` or ``"prior"`` (no labels at all).
    ``report`` holds the held-out quality (see :func:`fit_calibration`).
    """

    pooled: OrdinalCalibrator
    per_locale: dict[str, OrdinalCalibrator] = field(default_factory=dict)
    report: dict = field(default_factory=dict)

    def calibrator(self, locale: str) -> OrdinalCalibrator:
        return self.per_locale.get(locale, self.pooled)

    def source(self, locale: str) -> str:
        if locale in self.per_locale:
            return "locale"
        return "pooled" if self.pooled.n_ else "prior"

    def predict_proba(self, scores: np.ndarray, locales: np.ndarray) -> np.ndarray:
        """Grade probabilities, each row from its locale's calibrator (vectorised per locale)."""
        scores = np.asarray(scores, dtype=float)
        locales = np.asarray(locales, dtype=object)
        out = self.pooled.predict_proba(scores)
        for loc, cal in self.per_locale.items():
            m = locales == loc
            if m.any():
                out[m] = cal.predict_proba(scores[m])
        return out

    def predict(self, scores: np.ndarray, locales: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(grade, confidence, proba)``; confidence capped at :data:`PRIOR_CONFIDENCE_CAP` where
        no human label informed the calibrator (source ``"prior"``)."""
        proba = self.predict_proba(scores, locales)
        grade = proba.argmax(axis=1)
        conf = proba[np.arange(len(grade)), grade]
        if not self.pooled.n_:
            conf = np.minimum(conf, PRIOR_CONFIDENCE_CAP)
        return grade, conf, proba

    def describe(self) -> dict:
        return {
            "pooled": {"n": self.pooled.n_, **self.pooled.params_.as_dict(), "source": "pooled" if self.pooled.n_ else "prior"},
            "locales": {loc: {"n": c.n_, **c.params_.as_dict()} for loc, c in sorted(self.per_locale.items())},
            "prior": PRIOR.as_dict(),
            "heldout": self.report,
        }


def _fit(scores, grades, locales, min_locale: int, min_pooled: int, l2: float) -> Calibration:
    pooled = OrdinalCalibrator(PRIOR, l2)
    if len(grades) >= min_pooled:
        pooled.fit(scores, grades)
    per_locale = {}
    for loc in np.unique(locales) if len(locales) else []:
        m = locales == loc
        if m.sum() >= min_locale:
            per_locale[str(loc)] = OrdinalCalibrator(pooled.params_, l2).fit(scores[m], grades[m])
    return Calibration(pooled, per_locale)


def heldout_mask(n: int, share: float, seed: int) -> np.ndarray:
    """A deterministic random ``share`` of ``n`` rows to hold out."""
    rng = np.random.default_rng(seed)
    return rng.random(n) < share


def fit_calibration(
    scores: np.ndarray,
    grades: np.ndarray,
    locales: np.ndarray,
    min_locale: int = 200,
    min_pooled: int = 30,
    heldout: float = 0.2,
    l2: float = 2.0,
    seed: int = 0,
) -> Calibration:
    """Fit on human labels: per locale with at least ``min_locale`` labels, pooled (``min_pooled``
    or more labels) elsewhere, the prior with fewer.

    First a fit on ``1 - heldout`` of the labels is scored on the rest (overall and per locale:
    :func:`quality`); the returned calibration is then refitted on every label.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(grades, dtype=int)
    loc = np.asarray(locales, dtype=object)
    report: dict = {"labels": int(len(y))}
    if len(y) >= 10 and heldout > 0:
        test = heldout_mask(len(y), heldout, seed)
        if test.any() and (~test).any():
            trial = _fit(s[~test], y[~test], loc[~test], min_locale, min_pooled, l2)
            p = trial.predict_proba(s[test], loc[test])
            report["overall"] = quality(p, y[test])
            report["locales"] = {
                str(l): {**quality(p[loc[test] == l], y[test][loc[test] == l]), "source": trial.source(str(l))}
                for l in np.unique(loc[test])
            }
    cal = _fit(s, y, loc, min_locale, min_pooled, l2)
    cal.report = report
    return cal


# --- side by side --------------------------------------------------------------------------

# |ΔDCG| as a share of the largest possible DCG → preference magnitude (declared, not tuned).
PREFERENCE_BANDS = (0.02, 0.10, 0.25)  # < 0.02 tie, < 0.10 slightly, < 0.25 better, else much better
SXS_CUTOFF = 10


def predict_preference(
    item: np.ndarray,
    side: np.ndarray,
    rank: np.ndarray,
    doc: np.ndarray,
    proba: np.ndarray,
    n_items: int,
    cutoff: int = SXS_CUTOFF,
    bands: tuple[float, float, float] = PREFERENCE_BANDS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted SxS preference from the grade distributions of both lists' documents.

    Columnar input, one row per (item, side, rank): ``item`` in ``0..n_items-1``, ``side`` 0 for the
    left list (ranker A) and 1 for the right (ranker B), ``rank`` 0-based, ``doc`` an integer key
    per distinct document *within the item* (the same document in both lists shares it), and
    ``proba`` its ``(n, 4)`` grade distribution.

    Returns ``(preference, confidence, delta)``: preference in −3..+3 (positive: right better),
    the probability that its sign (or tie) is right, and ΔDCG as a share of the largest DCG.

    >>> p = np.eye(4)
    >>> pref, conf, d = predict_preference(np.array([0, 0]), np.array([0, 1]), np.array([0, 0]),
    ...                                    np.array([0, 1]), p[[0, 3]], 1)
    >>> float(pref[0]), float(conf[0])
    (3.0, 1.0)
    """
    item = np.asarray(item, dtype=np.int64)
    side = np.asarray(side, dtype=np.int64)
    rank = np.asarray(rank, dtype=np.int64)
    doc = np.asarray(doc, dtype=np.int64)
    keep = rank < cutoff
    item, side, rank, doc, proba = item[keep], side[keep], rank[keep], doc[keep], proba[keep]
    g = np.arange(N_GRADES, dtype=float)
    mu = proba @ g
    var = np.maximum(proba @ (g * g) - mu * mu, 0.0)
    w = 1.0 / np.log2(rank + 2.0)
    coef = np.where(side == 1, w, -w)
    delta = np.bincount(item, weights=coef * mu, minlength=n_items)
    # A document in both lists is one random variable: combine its coefficients before squaring.
    _, key = np.unique(np.stack([item, doc]), axis=1, return_inverse=True)
    key = key.ravel()
    c = np.bincount(key, weights=coef)
    v = np.bincount(key, weights=var) / np.maximum(np.bincount(key), 1)
    first = np.zeros(len(c), dtype=np.int64)
    first[key] = item
    sigma = np.sqrt(np.bincount(first, weights=c * c * v, minlength=n_items))
    # Largest possible DCG: every position of the longer list at the top grade.
    length = np.zeros(n_items, dtype=np.int64)
    np.maximum.at(length, item, rank + 1)
    disc = np.concatenate([[0.0], np.cumsum(1.0 / np.log2(np.arange(cutoff) + 2.0))])
    norm = (N_GRADES - 1) * disc[np.minimum(length, cutoff)]
    norm = np.where(norm > 0, norm, 1.0)
    share = delta / norm
    mag = np.searchsorted(np.asarray(bands), np.abs(share), side="right").astype(float)
    pref = np.sign(share) * mag + 0.0  # + 0.0: no negative zero for ties
    band0 = bands[0] * norm
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(delta) / sigma
        p_sign = np.where(sigma > 0, stats.norm.cdf(z), 1.0)
        p_tie = np.where(
            sigma > 0,
            stats.norm.cdf((band0 - delta) / sigma) - stats.norm.cdf((-band0 - delta) / sigma),
            (np.abs(delta) < band0).astype(float),
        )
    conf = np.where(mag == 0, p_tie, p_sign)
    return pref, conf, share
