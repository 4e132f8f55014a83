"""A learned pre-judgement: P(grade | signals) from the graders' labels, calibrated so that its
confidence means what it says.

The signals of a (query, result) pair are columns of a matrix (see :mod:`evaluators.features`):
the bi-encoder's cosine and a few principal components of the query–document interaction,
BM25 scores, what a click model makes of the logs, the result's ranks. :class:`GradeModel` fits
a multinomial model of the grade on them with scikit-learn — L2-regularised logistic regression
(``learner="logistic"``, stable from a few dozen labels) or gradient-boosted trees
(``learner="gbm"``, scikit-learn's histogram GBM, which needs hundreds), or whichever of the two
has the lower out-of-fold log-loss on the labels at hand (``learner="auto"``: a first
evaluation's calibration sample is a few dozen labels, a programme's history thousands) — and
then calibrates
its probabilities by **temperature scaling** (Guo et al., "On calibration of modern neural
networks", ICML 2017): one parameter ``T`` fitted on out-of-fold predictions, so the model's
probabilities are divided in log space by ``T`` before the softmax. One parameter keeps the
calibration honest on small label sets, where binned methods (isotonic) overfit.

The predicted grade is the most probable one and its probability the **confidence**; with the
temperature fitted on labels the model had not seen, a confidence of 0.9 is right about 9 times
in 10 on the population those labels represent. :func:`heldout_report` measures exactly that on
held-out labels: accuracy, the expected calibration error and its reliability diagram, and the
model–human Krippendorff's alpha.

Missing values (a pair the logs never showed has no click signal) are imputed with the
training medians, and the learner sees a 0/1 column saying the value was missing.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 4, 300)
>>> X = np.c_[y + rng.normal(0, 0.4, 300), rng.normal(size=300)]
>>> m = GradeModel().fit(X, y)
>>> float((m.predict(X) == y).mean()) > 0.9
True
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from evaluators.agreement import krippendorff_alpha
from evaluators.calibration import N_GRADES, expected_calibration_error

LEARNERS = ("logistic", "gbm", "auto")


def _threads(n: int):
    """Cap the OpenMP/BLAS threads of what runs inside (scikit-learn is imported first: a cap
    reaches only the thread pools already loaded)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


class GradeModel:
    """Signals → calibrated grade distribution (see the module docstring).

    Parameters: ``learner`` (``"logistic"``, ``"gbm"`` or ``"auto"``), ``C`` (inverse L2 strength of the
    logistic model), ``folds`` (for the out-of-fold predictions the temperature is fitted on),
    ``seed``, ``threads`` (the trees' OpenMP threads: on a shared machine more threads than
    free cores make a fit tens of times slower). Fitted state: ``classes_`` (grades seen),
    ``temperature_``, ``n_``, ``medians_`` and ``oof_proba_`` — each label's calibrated
    probabilities from a model fitted without it (``None`` with too few labels), which is what
    :func:`heldout_report` should be given; ``chosen_``, the learner fitted (``"auto"``: the one with
    the lower out-of-fold log-loss, logistic when there are too few labels to split).
    """

    def __init__(self, learner: str = "gbm", C: float = 1.0, folds: int = 5, seed: int = 0, threads: int = 1):
        if learner not in LEARNERS:
            raise ValueError(f"learner must be one of {LEARNERS}")
        self.learner, self.C, self.folds, self.seed, self.threads = learner, C, folds, seed, threads
        self.temperature_ = 1.0
        self.n_ = 0
        self.oof_proba_: np.ndarray | None = None

    # --- the base learner ------------------------------------------------------------------

    def _prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        missing = np.isnan(X)
        filled = np.where(missing, self.medians_[None, :], X)
        z = (filled - self.mean_) / self.scale_
        return np.concatenate([z, missing[:, self.gappy_].astype(float)], axis=1)

    def _fit_base(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None):
        X = np.asarray(X, dtype=float)
        with warnings.catch_warnings():  # a signal nobody has (no logs): its median is NaN, filled with 0
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(X, axis=0) if len(X) else np.zeros(X.shape[1])
        self.medians_ = np.where(np.isfinite(med), med, 0.0)
        filled = np.where(np.isnan(X), self.medians_[None, :], X)
        self.mean_ = filled.mean(axis=0)
        sd = filled.std(axis=0)
        self.scale_ = np.where(sd > 1e-12, sd, 1.0)
        self.gappy_ = np.isnan(X).any(axis=0)
        Z = self._prepare(X)
        self.classes_ = np.unique(y)
        if len(self.classes_) == 1:
            return None
        if self.learner == "logistic":
            base = LogisticRegression(C=self.C, max_iter=2000)
        else:
            # Shallow, slow and well regularised: fitted to a few hundred noisy grades, deeper or
            # faster trees learn the noise and the temperature then has to flatten everything
            # (measured: bench_automation and the unit tests' noisy world).
            base = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=100, l2_regularization=5.0,
                                                  min_samples_leaf=15, random_state=self.seed)
        return base.fit(Z, y, sample_weight=weight)

    def _log_proba(self, base, X: np.ndarray) -> np.ndarray:
        """Log-probabilities over all four grades (grades never seen get a tiny probability)."""
        out = np.full((len(X), N_GRADES), np.log(1e-6))
        if base is None:
            out[:, self.classes_[0]] = 0.0
            return out
        p = np.clip(base.predict_proba(self._prepare(X)), 1e-9, 1.0)
        out[:, self.classes_] = np.log(p)
        return out

    # --- fit / predict -----------------------------------------------------------------------

    def fit(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
            groups: np.ndarray | None = None) -> "GradeModel":
        """``groups``: rows that share one (e.g. several graders' grades of one item) stay in one
        fold, so no out-of-fold prediction is made by a model that saw the same item."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError("X must be (labels, signals) with one grade per row")
        if len(y) == 0:
            raise ValueError("no labels to fit on")
        if y.min() < 0 or y.max() >= N_GRADES:
            raise ValueError("grades must be in 0..3")
        self.n_ = len(y)
        if self.learner == "auto":
            return self._fit_auto(X, y, weight, groups)
        self.chosen_ = self.learner
        with _threads(self.threads):
            oof = self.out_of_fold_log_proba(X, y, weight, groups)
            self.temperature_ = fit_temperature(oof, y, weight) if oof is not None else 1.0
            self.oof_proba_ = None if oof is None else special.softmax(oof / self.temperature_, axis=1)
            self.base_ = self._fit_base(X, y, weight)
        return self

    def _fit_auto(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                  groups: np.ndarray | None) -> "GradeModel":
        """Fit both learners and keep the one whose out-of-fold predictions (folds keep a group
        together) have the lower log-loss."""
        best, best_loss = None, np.inf
        for name in ("logistic", "gbm"):
            m = GradeModel(name, self.C, self.folds, self.seed, self.threads).fit(X, y, weight, groups)
            if m.oof_proba_ is None:  # too few labels to measure: the learner that needs fewer
                best = best or m
                continue
            w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
            loss = float(-(w * np.log(np.clip(m.oof_proba_[np.arange(len(y)), y], 1e-9, 1.0))).sum() / w.sum())
            if loss < best_loss:
                best, best_loss = m, loss
        self.__dict__.update({k: v for k, v in best.__dict__.items() if k != "learner"})
        return self

    def out_of_fold_log_proba(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                              groups: np.ndarray | None = None) -> np.ndarray | None:
        """Each label's log-probabilities from a model fitted without its fold (``None`` when
        there are too few labels to split)."""
        folds = assign_folds(y, self.folds, self.seed, groups)
        if folds is None:
            return None
        out = np.zeros((len(y), N_GRADES))
        for f in range(folds.max() + 1):
            test = folds == f
            sub = GradeModel(self.learner, self.C, self.folds, self.seed, self.threads)
            base = sub._fit_base(X[~test], y[~test], None if weight is None else weight[~test])
            out[test] = sub._log_proba(base, X[test])
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        with _threads(self.threads):
            lp = self._log_proba(self.base_, np.asarray(X, dtype=float))
        return special.softmax(lp / self.temperature_, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def predict_with_confidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(grade, confidence)``: the most probable grade and its calibrated probability."""
        p = self.predict_proba(X)
        g = p.argmax(axis=1)
        return g, p[np.arange(len(g)), g]

    def fit_predict_proba(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self.fit(X, y).predict_proba(X)


def assign_folds(y: np.ndarray, folds: int, seed: int, groups: np.ndarray | None = None) -> np.ndarray | None:
    """A fold per label, stratified by grade (each grade dealt round-robin in a random order),
    every row of a group in its group's fold (stratified by the group's first grade); ``None``
    with fewer than ``2 * folds`` groups.

    >>> f = assign_folds(np.array([0, 1, 1, 1, 2, 2, 3, 3]), 2, seed=0, groups=np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    >>> bool((f[::2] == f[1::2]).all()), sorted(set(f.tolist()))
    (True, [0, 1])
    """
    y = np.asarray(y, dtype=int)
    g = np.arange(len(y)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    n_groups = int(g.max()) + 1 if len(g) else 0
    if n_groups < 2 * folds or folds < 2:
        return None
    first = np.full(n_groups, -1)
    first[g[::-1]] = y[::-1]  # the grade of each group's first row
    rng = np.random.default_rng(seed)
    of_group = np.empty(n_groups, dtype=np.int64)
    start = 0
    for grade in np.unique(first):
        idx = np.flatnonzero(first == grade)
        rng.shuffle(idx)
        of_group[idx] = (np.arange(len(idx)) + start) % folds
        start += len(idx)
    return of_group[g]


def fit_temperature(log_proba: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The temperature ``T`` in [0.05, 20] minimising the log-loss of ``softmax(log_proba / T)``.

    >>> lp = np.log(np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.1, 0.9]]))
    >>> round(fit_temperature(lp, np.array([0, 0, 1, 1])), 2)  # 75% right at 90%: soften to 75%
    2.0
    """
    y = np.asarray(y, dtype=int)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)

    def loss(log_t: float) -> float:
        lp = special.log_softmax(log_proba / np.exp(log_t), axis=1)
        return float(-(w * lp[np.arange(len(y)), y]).sum())

    res = optimize.minimize_scalar(loss, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


# --- held-out quality ------------------------------------------------------------------------


@dataclass
class Heldout:
    """How a model did on labels it was not fitted on."""

    n: int
    accuracy: float | None = None
    ece: float | None = None
    alpha: float | None = None  # Krippendorff's alpha (ordinal), model vs human
    mean_confidence: float | None = None
    # reliability diagram: per confidence bin [lower edge, labels, mean confidence, accuracy]
    reliability: list[list[float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"n": self.n, "accuracy": self.accuracy, "ece": self.ece, "alpha": self.alpha,
                "mean_confidence": self.mean_confidence, "reliability": self.reliability}


def heldout_report(proba: np.ndarray, y: np.ndarray, n_bins: int = 10) -> Heldout:
    """Accuracy, ECE, reliability diagram and model–human alpha of held-out predictions.

    >>> p = np.array([[0.9, 0.1, 0, 0], [0.2, 0.8, 0, 0], [0, 0, 0.3, 0.7]])
    >>> r = heldout_report(p, np.array([0, 1, 2]))
    >>> r.n, round(r.accuracy, 3), r.reliability[-1][:2]
    (3, 0.667, [0.9, 1.0])
    """
    y = np.asarray(y, dtype=int)
    if not len(y):
        return Heldout(0)
    pred = proba.argmax(axis=1)
    conf = proba[np.arange(len(y)), pred]
    ok = pred == y
    b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    diagram = []
    for k in range(n_bins):
        m = b == k
        if m.any():
            diagram.append([k / n_bins, float(m.sum()), round(float(conf[m].mean()), 4), round(float(ok[m].mean()), 4)])
    return Heldout(n=int(len(y)), accuracy=float(ok.mean()), ece=expected_calibration_error(conf, ok, n_bins),
                   alpha=pair_alpha(pred, y), mean_confidence=float(conf.mean()), reliability=diagram)


def pair_alpha(a: np.ndarray, b: np.ndarray, level: str = "ordinal") -> float | None:
    """Krippendorff's alpha of two raters over the same units (``None`` where undefined: fewer
    than two distinct values).

    >>> pair_alpha(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]))
    1.0
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(np.unique(np.concatenate([a, b]))) < 2:
        return None
    try:
        return float(krippendorff_alpha(np.stack([a, b]), level))
    except ValueError:
        return None


# --- per locale, pooled ----------------------------------------------------------------------


@dataclass
class LearnedCalibration:
    """A :class:`GradeModel` per locale with enough labels, one pooled over the others (the
    locale as one-hot columns), as :func:`fit_learned` decides.

    ``locales_`` are the locales the pooled model knows; ``source(locale)`` says which model
    serves a locale: ``"locale"`` or ``"pooled"``. ``report`` holds the held-out quality,
    overall and per locale (:class:`Heldout` as dicts).
    """

    pooled: GradeModel
    locales_: list[str]
    per_locale: dict[str, GradeModel] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    labels: int = 0

    def source(self, locale: str) -> str:
        return "locale" if locale in self.per_locale else "pooled"

    def predict_proba(self, X: np.ndarray, locales: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        loc = np.asarray(locales, dtype=object)
        out = self.pooled.predict_proba(_with_locales(X, loc, self.locales_)) if len(X) else np.zeros((0, N_GRADES))
        for name, model in self.per_locale.items():
            m = loc == name
            if m.any():
                out[m] = model.predict_proba(X[m])
        return out


def _with_locales(X: np.ndarray, locales: np.ndarray, known: list[str]) -> np.ndarray:
    from evaluators.features import locale_columns

    return np.concatenate([X, locale_columns(locales, known)], axis=1)


def fit_learned(X: np.ndarray, y: np.ndarray, locales: np.ndarray, random: np.ndarray | None = None,
                min_locale: int = 300, learner: str = "gbm", seed: int = 0, min_random: int = 20,
                groups: np.ndarray | None = None) -> LearnedCalibration:
    """Fit on human labels: a model of its own for every locale with at least ``min_locale``
    labels, one pooled model (locale as a feature) for everything else.

    ``random`` marks the labels drawn at random (a calibration sample, the audit share, gold):
    the held-out quality is measured on those when there are at least ``min_random`` of them, so
    that it describes the items still to be routed rather than the hard ones people were sent.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=int)
    loc = np.asarray(locales, dtype=object)
    known = sorted({str(v) for v in loc})
    grp = np.arange(len(y)) if groups is None else np.asarray(groups)
    pooled = GradeModel(learner, seed=seed).fit(_with_locales(X, loc, known), y, groups=grp)
    per_locale = {}
    for name in known:
        m = loc == name
        if m.sum() >= min_locale:
            per_locale[name] = GradeModel(learner, seed=seed).fit(X[m], y[m], groups=grp[m])
    out = LearnedCalibration(pooled, known, per_locale, labels=int(len(y)))
    oof = pooled.oof_proba_
    if oof is not None:
        oof = oof.copy()
        for name, model in per_locale.items():
            if model.oof_proba_ is not None:
                oof[loc == name] = model.oof_proba_
        r = np.ones(len(y), bool) if random is None else np.asarray(random, bool)
        use = r if r.sum() >= min_random else np.ones(len(y), bool)
        out.report = {"overall": heldout_report(oof[use], y[use]).as_dict(), "random_only": bool(use is r and random is not None),
                      "locales": {name: {**heldout_report(oof[use & (loc == name)], y[use & (loc == name)]).as_dict(),
                                         "source": out.source(name), "labels": int((loc == name).sum())}
                                  for name in known}}
    return out
