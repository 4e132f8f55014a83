"""Prediction-powered inference (PPI++) for a mean: model labels on every unit, human
labels on a random share, one estimate with a valid confidence interval.

A unit is what the metric is averaged over (a query for NDCG@k or P@k, an item for an
SxS preference). ``prediction[i]`` is the value computed from the model's labels, on every
unit; ``human[i]`` the value from human labels, NaN where humans did not label the unit.
With ``lam`` (λ) the power-tuning parameter,

* without inclusion probabilities (the labelled units are a simple random sample within
  each stratum), per stratum ``h`` with labelled set ``L`` (``n``) and unlabelled set
  ``U`` (``N``)::

      θ_h = λ · mean_U(f) + mean_L(y − λ f),    Var = λ² var_U(f) / N + var_L(y − λ f) / n

  — A. N. Angelopoulos, J. C. Duchi and T. Zrnic, "PPI++: Efficient prediction-powered
  inference", arXiv:2311.01453 (2023), the mean estimator of ``ppi-python``, whose
  conventions it follows (variances with ``ddof=0``, λ clipped to [0, 1]) so that the
  two agree to rounding on one stratum;

* with known inclusion probabilities ``π_i`` (unit ``i`` went to humans with probability
  ``π_i``, independently — e.g. a random audit share plus the adaptive audit of
  :mod:`.allocation`), the inverse-probability form over all ``N_h`` units::

      ψ_i = g_i + (R_i / π_i)(y_i − g_i),  g_i = λ f_i + c_h,   θ_h = mean(ψ),   Var = var(ψ) / N_h

  — T. Zrnic and E. J. Candès, "Active statistical inference", ICML 2024; unbiased
  whatever λ and however the ``π_i`` were chosen, as long as they are known and positive.
  The per-stratum intercept ``c_h`` (fitted, as λ, to minimise the variance) is the
  regression-estimator correction for the random number of labels; λ = 0 is then the
  human-only (Hájek-like) estimate.

Strata are re-weighted to traffic: ``θ = Σ_h W_h θ_h``, ``Var = Σ_h W_h² Var_h`` (Cochran,
*Sampling Techniques*, 1977, eq. 5.6), and one λ is tuned for the whole estimate: the
λ minimising that variance, ``Σ W_h² cov_h / n_h / Σ W_h² var_h(f)(1/N_h + 1/n_h)`` (with
one stratum, exactly PPI++'s λ̂), clipped to [0, 1]. λ = 0 is the human-only (classical)
estimate and is reported beside it, with the model-only mean (the model's labels taken
as truth — no valid interval, shown for contrast).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.uniform(0, 1, 2000)
    >>> model = np.clip(truth + rng.normal(0.05, 0.1, 2000), 0, 1)   # biased by +0.05
    >>> human = np.where(rng.random(2000) < 0.1, truth, np.nan)      # 10% labelled
    >>> r = ppi_mean(model, human)
    >>> bool(r.low < truth.mean() < r.high), r.high - r.low < r.human_high - r.human_low
    (True, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _checks


@dataclass(frozen=True)
class PPIEstimate:
    """A prediction-powered estimate beside the human-only and model-only ones."""

    estimate: float
    low: float
    high: float
    std_error: float
    level: float
    n_labelled: int
    n_unlabelled: int
    lam: float  # the power-tuning parameter used (0: human-only, 1: plain PPI)
    human_only: float  # classical estimate from the human values alone (λ = 0)
    human_low: float
    human_high: float
    human_std_error: float
    model_only: float  # traffic-weighted mean of the predictions on every unit (no valid CI)
    estimator: str  # "ppi++" or "ppi++ inverse-probability"; "stratified " prefixed with strata


def _z(level: float) -> float:
    return float(special.ndtri(1 - (1 - level) / 2))


def _strata(strata, n: int, weights) -> tuple[np.ndarray, np.ndarray]:
    if strata is None:
        if weights is not None and np.size(weights) != 1:
            raise ValueError("weights need strata: one weight per stratum")
        return np.zeros(n, np.intp), np.ones(1)
    s = np.asarray(strata)
    if s.shape != (n,):
        raise ValueError(f"strata must have one entry per unit: got shape {s.shape} for {n} units")
    if s.dtype.kind == "f":
        if not np.isfinite(s).all() or (s != np.round(s)).any():
            raise ValueError("strata must be integer stratum indices")
    elif s.dtype.kind not in "iu":
        raise ValueError(f"strata must be integer stratum indices, got dtype {s.dtype}")
    s = s.astype(np.intp)
    if s.min() < 0:
        raise ValueError("strata indices must be >= 0")
    if weights is None:
        w = np.bincount(s) / n  # the sample's own shares: no re-weighting
    else:
        w = _checks.finite_vector(weights, "weights")
        if (w < 0).any() or abs(w.sum() - 1.0) > 1e-6:
            raise ValueError(f"weights must be non-negative and sum to 1, got sum {w.sum():.9g}")
        if s.max() >= w.size:
            raise ValueError(f"strata indices must lie in [0, {w.size - 1}] (one weight per stratum)")
    return s, w


def _inputs(prediction, human, inclusion):
    f = _checks.finite_vector(prediction, "prediction", min_size=2)
    y = np.asarray(human, dtype=float)
    if y.shape != f.shape:
        raise ValueError(f"human must have one entry per unit (NaN where unlabelled): "
                         f"got shape {y.shape} for {f.size} units")
    if np.isinf(y).any():
        raise ValueError("human contains inf (use NaN for unlabelled units)")
    labelled = ~np.isnan(y)
    pi = None
    if inclusion is not None:
        pi = _checks.finite_vector(inclusion, "inclusion")
        if pi.shape != f.shape:
            raise ValueError(f"inclusion must have one probability per unit, got shape {pi.shape}")
        if ((pi <= 0) | (pi > 1)).any():
            raise ValueError("inclusion probabilities must lie in (0, 1]")
    return f, np.where(labelled, y, 0.0), labelled, pi


def _by_stratum(values: np.ndarray, s: np.ndarray, mask: np.ndarray, h: int):
    """(count, mean, ddof=0 variance) of ``values[mask]`` per stratum."""
    count = np.bincount(s[mask], minlength=h).astype(float)
    total = np.bincount(s[mask], weights=values[mask], minlength=h)
    mean = np.divide(total, count, out=np.zeros(h), where=count > 0)
    dev = values[mask] - mean[s[mask]]
    var = np.divide(np.bincount(s[mask], weights=dev * dev, minlength=h), count, out=np.zeros(h), where=count > 0)
    return count, mean, var


def _classical(f, y, labelled, s, w, lam):
    """PPI++ with simple random samples per stratum: (estimate, variance, lam) — lam None tunes it."""
    h = w.size
    active = w > 0
    n, _, _ = _by_stratum(y, s, labelled, h)
    big_n, mean_fu, var_fu = _by_stratum(f, s, ~labelled, h)
    thin = np.flatnonzero(active & (n < 2))
    if thin.size:
        raise ValueError(f"strata {thin.tolist()} have positive weight but fewer than 2 labelled units")
    _, mean_y, _ = _by_stratum(y, s, labelled, h)
    _, mean_fl, _ = _by_stratum(f, s, labelled, h)
    dy = y - mean_y[s]
    dfl = f - mean_fl[s]
    cov = np.bincount(s[labelled], weights=(dy * dfl)[labelled], minlength=h) / np.maximum(n, 1)
    has_u = big_n > 0
    if lam is None:
        # Var of f on all the stratum's units (labelled and not, ddof=1), as ppi-python's λ̂.
        n_all, mean_all, _ = _by_stratum(f, s, np.ones_like(labelled), h)
        dev = f - mean_all[s]
        var_all = np.bincount(s, weights=dev * dev, minlength=h) / np.maximum(n_all - 1, 1)
        w2 = np.where(active & has_u, w ** 2, 0.0)
        num = (w2 * cov / np.maximum(n, 1)).sum()
        den = (w2 * var_all * (1.0 / np.maximum(big_n, 1) + 1.0 / np.maximum(n, 1))).sum()
        lam = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
    # A stratum with no unlabelled unit has nothing to power: its labelled mean, lam 0.
    lam_h = np.where(has_u, lam, 0.0)
    rect = y - lam_h[s] * f
    _, mean_rect, var_rect = _by_stratum(rect, s, labelled, h)
    theta_h = lam_h * mean_fu + mean_rect
    var_h = lam_h ** 2 * np.divide(var_fu, big_n, out=np.zeros(h), where=has_u) + \
        np.divide(var_rect, n, out=np.zeros(h), where=n > 0)
    return float((w[active] * theta_h[active]).sum()), float((w[active] ** 2 * var_h[active]).sum()), lam


def pseudo_outcomes(prediction, human, inclusion, lam: float) -> np.ndarray:
    """Per-unit ``ψ_i = λ f_i + (R_i / π_i)(y_i − λ f_i)`` (Zrnic and Candès, 2024): unbiased
    for each unit's human value, so their mean — or a confidence sequence over them in a
    random arrival order — estimates the human mean. NaN in ``human`` marks ``R_i = 0``.

    >>> pseudo_outcomes([0.5, 0.5], [1.0, np.nan], [0.5, 0.5], lam=1.0).tolist()
    [1.5, 0.5]
    """
    f, y, labelled, pi = _inputs(prediction, human, inclusion)
    if pi is None:
        raise ValueError("pseudo_outcomes needs the inclusion probabilities")
    return lam * f + np.where(labelled, (y - lam * f) / pi, 0.0)


def _inverse_probability(f, y, labelled, pi, s, w, lam):
    """The inverse-probability form: (estimate, variance, lam) — lam None tunes it."""
    h = w.size
    active = w > 0
    count = np.bincount(s, minlength=h).astype(float)
    n = np.bincount(s[labelled], minlength=h)
    thin = np.flatnonzero(active & (n < 2))
    if thin.size:
        raise ValueError(f"strata {thin.tolist()} have positive weight but fewer than 2 labelled units")
    ratio = np.where(labelled, 1.0 / pi, 0.0)
    # ψ = λ f + c_h + (R/π)(y − λ f − c_h) = a + λ b + c_h d: the prediction with a per-stratum
    # intercept c_h. Under independent (Poisson) routing the sample size is random and the
    # variance grows with the *uncentred* residual, which c_h removes (the regression
    # estimator; Särndal, Swensson and Wretman, *Model Assisted Survey Sampling*, 1992, §6.4).
    a = ratio * y
    b = f * (1.0 - ratio)
    d = 1.0 - ratio
    scale = np.where(active, w ** 2 / (count * np.maximum(count - 1, 1)), 0.0)

    def centred(v):
        return v - (np.bincount(s, weights=v, minlength=h) / np.maximum(count, 1))[s]

    da, db, dd = centred(a), centred(b), centred(d)
    dd2 = np.bincount(s, weights=dd * dd, minlength=h)

    def project(v):
        """v with its per-stratum component along dd removed (the best c_h taken out)."""
        beta = np.divide(np.bincount(s, weights=v * dd, minlength=h), dd2, out=np.zeros(h), where=dd2 > 0)
        return v - beta[s] * dd

    if lam is None:
        pa, pb = project(da), project(db)
        num = -(scale * np.bincount(s, weights=pa * pb, minlength=h)).sum()
        den = (scale * np.bincount(s, weights=pb * pb, minlength=h)).sum()
        lam = float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
    psi = a + lam * b
    c = -np.divide(np.bincount(s, weights=centred(psi) * dd, minlength=h), dd2, out=np.zeros(h), where=dd2 > 0)
    psi = psi + c[s] * d
    mean = np.bincount(s, weights=psi, minlength=h) / np.maximum(count, 1)
    dev = psi - mean[s]
    var_h = np.bincount(s, weights=dev * dev, minlength=h) / np.maximum(count - 1, 1) / np.maximum(count, 1)
    return float((w[active] * mean[active]).sum()), float((w[active] ** 2 * var_h[active]).sum()), lam


def ppi_mean(prediction, human, *, strata=None, weights=None, inclusion=None, lam: float | None = None,
             level: float = 0.95) -> PPIEstimate:
    """PPI++ estimate of the (traffic-weighted) mean of the human values (see module doc).

    ``prediction``: model-derived value per unit (all units). ``human``: human-derived value
    per unit, NaN where unlabelled. ``strata``: stratum index per unit (0..H-1) and
    ``weights``: traffic share per stratum (default: the units' own shares). ``inclusion``:
    each unit's known probability of having been sent to humans (default: simple random
    samples per stratum). ``lam``: fixed λ (0 classical, 1 plain PPI) or ``None`` to tune.
    """
    level = _checks.level(level)
    f, y, labelled, pi = _inputs(prediction, human, inclusion)
    s, w = _strata(strata, f.size, weights)
    if lam is not None and not np.isfinite(lam):
        raise ValueError(f"lam must be a finite number or None, got {lam!r}")
    form = _classical if pi is None else _inverse_probability
    args = (f, y, labelled, s, w) if pi is None else (f, y, labelled, pi, s, w)
    est, var, used = form(*args, lam)
    human_est, human_var, _ = form(*args, 0.0)
    active = w > 0
    counts = np.bincount(s, minlength=w.size)
    f_mean = np.bincount(s, weights=f, minlength=w.size) / np.maximum(counts, 1)
    z = _z(level)
    se, hse = float(np.sqrt(var)), float(np.sqrt(human_var))
    name = "ppi++" if pi is None else "ppi++ inverse-probability"
    if strata is not None:
        name = "stratified " + name
    return PPIEstimate(estimate=est, low=est - z * se, high=est + z * se, std_error=se, level=level,
                       n_labelled=int(labelled.sum()), n_unlabelled=int((~labelled).sum()), lam=used,
                       human_only=human_est, human_low=human_est - z * hse, human_high=human_est + z * hse,
                       human_std_error=hse, model_only=float((w[active] * f_mean[active]).sum()),
                       estimator=name)


def ppi_paired_difference(prediction_candidate, prediction_baseline, human_candidate, human_baseline,
                          **kwargs) -> PPIEstimate:
    """PPI++ estimate of the mean paired difference ``candidate − baseline`` (e.g. per-query
    NDCG@10 of two rankers); humans label a unit for both rankers at once, so NaN must mark
    the same units in both human arrays. Keyword arguments as :func:`ppi_mean`.

    >>> r = ppi_paired_difference([0.6, 0.5, 0.7, 0.4], [0.5, 0.5, 0.6, 0.5],
    ...                           [0.7, 0.4, np.nan, np.nan], [0.5, 0.5, np.nan, np.nan], lam=0.0)
    >>> round(r.estimate, 3)
    0.05
    """
    pc, pb = _checks.paired(prediction_candidate, prediction_baseline, ("prediction_candidate", "prediction_baseline"))
    hc, hb = (np.asarray(v, dtype=float) for v in (human_candidate, human_baseline))
    if hc.shape != pc.shape or hb.shape != pc.shape:
        raise ValueError("human arrays must have one entry per unit, like the predictions")
    if (np.isnan(hc) != np.isnan(hb)).any():
        raise ValueError("human_candidate and human_baseline must be labelled on the same units (NaN alike)")
    return ppi_mean(pc - pb, hc - hb, **kwargs)


def ppi_sxs_preference(prediction, human, **kwargs) -> PPIEstimate:
    """PPI++ estimate of the mean side-by-side preference (−3..+3, positive: right/B better):
    the model's preference on every SxS item, the humans' (aggregated) preference where
    they judged it, NaN elsewhere. Keyword arguments as :func:`ppi_mean`.

    >>> ppi_sxs_preference([1, 0, 2, 1], [2, 0, np.nan, np.nan], lam=0.0).estimate
    1.0
    """
    f = _checks.finite_vector(prediction, "prediction", min_size=2)
    y = np.asarray(human, dtype=float)
    if (np.abs(f) > 3).any() or (np.abs(y[~np.isnan(y)]) > 3).any():
        raise ValueError("SxS preferences lie on the -3..+3 scale")
    return ppi_mean(f, y, **kwargs)
