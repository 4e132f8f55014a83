"""The learned pre-judgement: its confidence means what it says on labels it never saw."""
from __future__ import annotations

import numpy as np
import pytest

from evaluators.relevance_model import GradeModel, assign_folds, fit_learned, heldout_report, pair_alpha


def world(n: int, seed: int, noise: float = 0.15):
    """Two signals; the grade an ordinal function of the first, graders err by one with ``noise``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    latent = 1.5 * x[:, 0] + rng.logistic(size=n) * 0.6
    truth = np.digitize(latent, [-1.5, 0.0, 1.5])
    moved = rng.random(n) < noise
    y = np.clip(truth + np.where(moved, rng.choice([-1, 1], n), 0), 0, 3)
    return x, y


@pytest.mark.parametrize("learner", ["gbm", "logistic"])
def test_confidence_means_what_it_says_on_unseen_labels(learner):
    X, y = world(400, 1)
    Xt, yt = world(5000, 2)
    m = GradeModel(learner).fit(X, y)
    r = heldout_report(m.predict_proba(Xt), yt)
    assert r.ece < 0.05, r.reliability
    assert abs(r.mean_confidence - r.accuracy) < 0.04
    assert r.accuracy > 0.45 and r.alpha > 0.5  # a noisy world: the grade is far from certain
    # the out-of-fold probabilities (what the held-out report of a fit is made of) are honest too
    assert heldout_report(m.oof_proba_, y).ece < 0.08


def test_auto_keeps_the_learner_with_the_lower_out_of_fold_log_loss():
    X, y = world(300, 5)
    fits = {name: GradeModel(name, seed=1).fit(X, y) for name in ("logistic", "gbm", "auto")}
    loss = {name: -np.log(m.oof_proba_[np.arange(len(y)), y]).mean() for name, m in fits.items()}
    other = "gbm" if fits["auto"].chosen_ == "logistic" else "logistic"
    assert loss[fits["auto"].chosen_] <= loss[other]
    Xt = world(50, 6)[0]
    assert np.allclose(fits["auto"].predict_proba(Xt), fits[fits["auto"].chosen_].predict_proba(Xt))
    # too few labels to measure either: the learner that needs fewer
    assert GradeModel("auto").fit(X[:6], y[:6]).chosen_ == "logistic"


def test_temperature_softens_an_overconfident_learner():
    X, y = world(300, 3, noise=0.3)
    Xt, yt = world(5000, 4, noise=0.3)
    m = GradeModel("gbm").fit(X, y)
    assert m.temperature_ > 1.0  # trees fitted to noisy grades are too sure of themselves
    calibrated = heldout_report(m.predict_proba(Xt), yt).ece
    m.temperature_ = 1.0
    assert calibrated < heldout_report(m.predict_proba(Xt), yt).ece


def test_missing_signals_and_a_single_grade():
    X, y = world(200, 5)
    X[::3, 1] = np.nan  # a signal the logs lack for a third of the pairs
    m = GradeModel("gbm").fit(X, y)
    p = m.predict_proba(np.array([[0.0, np.nan], [3.0, 1.0]]))
    assert np.allclose(p.sum(axis=1), 1.0) and p[1] @ np.arange(4) > p[0] @ np.arange(4) + 0.3
    one = GradeModel().fit(np.zeros((12, 2)), np.full(12, 2))
    assert one.predict(np.zeros((3, 2))).tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="0..3"):
        GradeModel().fit(np.zeros((2, 1)), np.array([0, 4]))


def test_folds_keep_an_items_grades_together():
    y = np.array([0, 1, 1, 2, 2, 3, 3, 3, 0, 1, 2, 3])
    groups = np.repeat(np.arange(6), 2)
    folds = assign_folds(y, 3, seed=0, groups=groups)
    assert all(len(set(folds[groups == g])) == 1 for g in range(6))
    assert assign_folds(y, 5, seed=0, groups=groups) is None  # 6 items cannot make 5 folds of 2


def test_per_locale_and_pooled_models():
    X, y = world(600, 6)
    loc = np.array(["en-US"] * 400 + ["ja-JP"] * 150 + ["ar-SA"] * 50, dtype=object)
    m = fit_learned(X, y, loc, min_locale=300)
    assert set(m.per_locale) == {"en-US"} and m.source("en-US") == "locale" and m.source("ja-JP") == "pooled"
    p = m.predict_proba(X[:5], np.array(["en-US", "ja-JP", "ar-SA", "xx-XX", "en-US"], dtype=object))
    assert p.shape == (5, 4) and np.allclose(p.sum(axis=1), 1.0)
    rep = m.report
    assert rep["overall"]["n"] == 600 and set(rep["locales"]) == {"en-US", "ja-JP", "ar-SA"}
    assert rep["locales"]["ja-JP"]["source"] == "pooled" and rep["locales"]["en-US"]["labels"] == 400
    # held-out quality is measured on the randomly drawn labels when there are enough
    random = np.zeros(600, bool)
    random[::10] = True
    assert fit_learned(X, y, loc, random, min_locale=300).report["overall"]["n"] == 60


def test_pair_alpha():
    assert pair_alpha(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3])) == 1.0
    assert pair_alpha(np.array([3, 3]), np.array([3, 3])) is None
    assert pair_alpha(np.array([0, 3, 0, 3]), np.array([3, 0, 3, 0])) < 0
