"""evaluators.aggregation: hand-checked cases, crowd-kit agreement, graded-data accuracy."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from evaluators.aggregation import (
    Annotations,
    BradleyTerry,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    OrdinalDawidSkene,
)
from evaluators.aggregation import AggregationWarning
from fixtures.crowd import simulate_crowd

ALL = [MajorityVote, DawidSkene, OneCoinDawidSkene, OrdinalDawidSkene]


def graded(n_items, n_workers, per_item, seed):
    """0..3 grades from the simple crowd: workers of varied sharpness and leniency who mostly err to adjacent grades."""
    crowd = simulate_crowd("simple", n_items=n_items, seed=seed, n_workers=n_workers, per_item=per_item)
    return crowd.columns(), crowd.truth


TOY = {"item": ["q1", "q1", "q1", "q2", "q2", "q2", "q3", "q3"],
       "worker": ["a", "b", "c", "a", "b", "c", "a", "b"],
       "label": [2, 2, 1, 0, 0, 3, 1, 2]}


# --------------------------------------------------------------------------- Annotations


def test_annotations_encoding_any_hashable():
    ann = Annotations.from_columns(np.array([("x", 1), "y", 3], dtype=object), ["w", "w", "v"], ["b", "a", "b"])
    assert ann.n_items == 3 and ann.workers.tolist() == ["v", "w"] and ann.classes.tolist() == ["a", "b"]
    assert len(ann) == 3


def test_annotations_fixed_classes():
    ann = Annotations.from_columns([1, 2], ["a", "a"], [0, 2], classes=[0, 1, 2, 3])
    assert ann.n_classes == 4 and ann.label.tolist() == [0, 2]
    with pytest.raises(ValueError, match="not one of the classes"):
        Annotations.from_columns([1], ["a"], [7], classes=[0, 1, 2, 3])


@pytest.mark.parametrize("cols, msg", [
    (([], [], []), "empty"),
    (([1, 2], ["a"], [0, 1]), "differ in length"),
    (([1, 2], ["a", "b"], [0.0, np.nan]), "NaN"),
    (([1, 2], ["a", "b"], [0.0, np.inf]), "NaN or inf"),
    ((np.array([1, None], dtype=object), ["a", "b"], [0, 1]), "missing"),
    (([[1, 2]], [["a", "b"]], [[0, 1]]), "1-D"),
])
def test_annotations_bad_input(cols, msg):
    with pytest.raises(ValueError, match=msg):
        Annotations.from_columns(*cols)


def test_bad_table_shape():
    with pytest.raises(ValueError, match="'item', 'worker' and 'label'"):
        MajorityVote().fit({"task": [1], "worker": ["a"], "label": [0]})


# --------------------------------------------------------------------------- uniform face


@pytest.mark.parametrize("cls", ALL)
def test_uniform_face(cls):
    model = cls()
    assert model.fit(TOY) is model
    assert model.items_.tolist() == ["q1", "q2", "q3"]
    assert model.labels_.shape == (3,) and model.probas_.shape == (3, model.classes_.size)
    np.testing.assert_allclose(model.probas_.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.labels_, model.classes_[model.probas_.argmax(axis=1)])
    assert model.confidence_ == pytest.approx(model.probas_.max(axis=1))
    assert model.skills_.shape == (3,) and ((model.skills_ >= 0) & (model.skills_ <= 1)).all()
    np.testing.assert_array_equal(cls().fit_predict(TOY), model.labels_)
    np.testing.assert_allclose(cls().fit_predict_proba(TOY), model.probas_)
    # Tuple input and Annotations input give the same answer.
    ann = Annotations.from_columns(TOY["item"], TOY["worker"], TOY["label"])
    np.testing.assert_array_equal(cls().fit_predict(ann), model.labels_)
    np.testing.assert_array_equal(cls().fit_predict((TOY["item"], TOY["worker"], TOY["label"])), model.labels_)
    assert cls.__name__ in repr(model)


@pytest.mark.parametrize("cls", ALL)
def test_gold_clamps(cls):
    model = cls().fit(TOY, gold={"q2": 3, "q-not-in-data": 0})
    assert model.labels_[1] == 3 and model.probas_[1, list(model.classes_).index(3)] == 1.0
    with pytest.raises(ValueError, match="gold label"):
        cls().fit(TOY, gold={"q1": 9})


# --------------------------------------------------------------------------- majority


def test_majority_hand_case_and_ties():
    mv = MajorityVote().fit(TOY)
    assert mv.labels_.tolist() == [2, 0, 1]  # q3 is a 1/2 tie -> lowest
    assert mv.probas_[0].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 0])
    # skills: a agrees 2/3 (q1, q2, q3), b 2/3 (q1, q2; not q3), c 0/2
    assert mv.skills_.tolist() == pytest.approx([1.0, 2 / 3, 0.0])
    picks = {MajorityVote(tie="random", seed=s).fit_predict(TOY)[2] for s in range(30)}
    assert picks == {1, 2}
    assert MajorityVote(tie="random", seed=4).fit_predict(TOY).tolist() == MajorityVote(tie="random", seed=4).fit_predict(TOY).tolist()
    with pytest.raises(ValueError, match="tie"):
        MajorityVote(tie="mode")


def test_majority_median_tie_rule():
    data = {"item": [1, 1, 1, 2, 2, 3, 3, 3, 3], "worker": list("abcabcdab")[:9],
            "label": [0, 2, 1, 3, 1, 0, 0, 3, 3]}
    data["worker"] = ["a", "b", "c", "a", "b", "a", "b", "c", "d"]
    labels = MajorityVote(tie="median").fit_predict(data)
    # item 1: 0/1/2 tie -> median 1; item 2: 1/3 tie -> lower median 1; item 3: 0,0,3,3 -> lower median 0
    assert labels.tolist() == [1, 1, 0]
    assert MajorityVote().fit_predict(data).tolist() == [0, 1, 0]


# --------------------------------------------------------------------------- Dawid-Skene


def test_ds_hand_case_finds_the_spammer():
    # Workers a, b always right; c always says 0. DS should learn c is uninformative.
    truth = np.array([0, 1, 2, 1, 2, 0, 1, 2, 2, 1] * 5)
    items = np.repeat(np.arange(truth.size), 3)
    workers = np.tile(["a", "b", "c"], truth.size)
    labels = np.stack([truth, truth, np.zeros_like(truth)], axis=1).ravel()
    ds = DawidSkene().fit({"item": items, "worker": workers, "label": labels})
    np.testing.assert_array_equal(ds.labels_, truth)
    assert ds.skills_[0] > 0.85 and ds.skills_[2] < 0.5  # Laplace smoothing keeps perfect workers < 1
    assert ds.errors_.shape == (3, 3, 3)
    np.testing.assert_allclose(ds.errors_.sum(axis=2), 1.0)
    assert ds.priors_.sum() == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore")  # crowd-kit's pandas deprecation noise
def test_ds_agrees_with_crowdkit():
    pd = pytest.importorskip("pandas")
    ck = pytest.importorskip("crowdkit.aggregation")
    data, truth = graded(1500, 40, 3, seed=5)
    ref = ck.DawidSkene(n_iter=20).fit_predict(pd.DataFrame(
        {"task": data["item"], "worker": data["worker"], "label": data["label"]})).sort_index().to_numpy()
    same_model = DawidSkene(smoothing=0.0, pooled_prior=0.0, prior_strength=0.0, guard="off",
                            n_iter=20).fit_predict(data)
    assert (same_model == ref).mean() >= 0.995
    ours = DawidSkene().fit_predict(data)
    assert (ours == truth).mean() >= (ref == truth).mean() - 0.005


def test_ds_beats_majority_on_graded():
    data, truth = graded(4000, 40, 3, seed=1)
    mv = (MajorityVote().fit_predict(data) == truth).mean()
    ds = (DawidSkene().fit_predict(data) == truth).mean()
    assert ds > mv + 0.02


def test_structured_models_beat_plain_ds_on_sparse_graded():
    # Many workers with ~30 labels each: full maximum-likelihood confusion matrices
    # overfit; the structured models do not, and neither does DS with its pooled prior.
    plain = dict(smoothing=0.0, pooled_prior=0.0, prior_strength=0.0, guard="off")
    acc = {name: [] for name in ("plain", "ds", "oc", "ods")}
    for seed in range(3):
        data, truth = graded(2000, 200, 3, seed=seed)
        for name, model in (("plain", DawidSkene(**plain)), ("ds", DawidSkene()),
                            ("oc", OneCoinDawidSkene()), ("ods", OrdinalDawidSkene())):
            acc[name].append((model.fit_predict(data) == truth).mean())
    mean = {name: np.mean(v) for name, v in acc.items()}
    assert mean["ods"] > mean["plain"] + 0.01
    assert mean["oc"] > mean["plain"] + 0.01
    assert mean["ds"] > mean["plain"] + 0.01


def test_em_deterministic():
    data, _ = graded(500, 20, 3, seed=2)
    for cls in (DawidSkene, OneCoinDawidSkene, OrdinalDawidSkene):
        np.testing.assert_array_equal(cls().fit_predict_proba(data), cls().fit_predict_proba(data))


def test_ordinal_needs_numbers_and_params():
    with pytest.raises(ValueError, match="numeric"):
        OrdinalDawidSkene().fit({"item": [1, 1], "worker": ["a", "b"], "label": ["x", "y"]})
    with pytest.raises(ValueError, match="integers"):
        OrdinalDawidSkene().fit({"item": [1, 1], "worker": ["a", "b"], "label": [0.5, 1]})
    with pytest.raises(ValueError, match="non-negative"):
        OrdinalDawidSkene().fit({"item": [1, 1], "worker": ["a", "b"], "label": [-1, 1]})
    sxs = OrdinalDawidSkene(classes=range(-3, 4)).fit({"item": [1, 1, 1], "worker": ["a", "b", "c"], "label": [-2, -1, -2]})
    assert sxs.labels_.tolist() == [-2]
    od = OrdinalDawidSkene(classes=[0, 1, 2, 3]).fit(graded(500, 10, 3, seed=0)[0])
    assert od.params_.shape == (10, 3)
    assert od.classes_.tolist() == [0, 1, 2, 3]
    # Errors fall with grade distance for a typical worker.
    e = od.errors_[:, 1, :].mean(axis=0)
    assert e[1] > e[2] > e[3]


@pytest.mark.parametrize("cls", ALL)
def test_degenerate_tables(cls):
    one_class = cls().fit({"item": [1, 2], "worker": ["a", "a"], "label": [1, 1]}) if cls is not OrdinalDawidSkene else None
    if one_class is not None:
        assert one_class.labels_.tolist() == [1, 1] and one_class.confidence_.tolist() == [1.0, 1.0]
    single = cls().fit({"item": ["x"], "worker": ["a"], "label": [2]}, gold=None) if cls is not OrdinalDawidSkene else \
        cls(classes=[0, 1, 2]).fit({"item": ["x"], "worker": ["a"], "label": [2]})
    assert single.labels_.tolist() == [2]


def test_hyperparameter_validation():
    with pytest.raises(ValueError):
        DawidSkene(smoothing=-1)
    with pytest.raises(ValueError):
        OneCoinDawidSkene(alpha=0)
    with pytest.raises(ValueError):
        OrdinalDawidSkene(reg=0)
    with pytest.raises(ValueError):
        BradleyTerry(reg=-1)


# --------------------------------------------------------------------------- Bradley-Terry


def test_bradley_terry_two_items_closed_form():
    # 3 wins, 2 ties, 1 loss: saturated model -> pi_a / pi_b = 3, nu = t / sqrt(w * l) = 2 / sqrt(3).
    bt = BradleyTerry(reg=0.0).fit({"left": ["a"] * 6, "right": ["b"] * 6, "outcome": [-1, -1, -1, 0, 0, 1]})
    assert bt.scores_[0] - bt.scores_[1] == pytest.approx(np.log(3), abs=1e-5)
    assert bt.tie_ == pytest.approx(2 / np.sqrt(3), abs=1e-5)
    p_a, p_tie, p_b = bt.predict_pair_proba("a", "b")
    assert (p_a, p_tie, p_b) == pytest.approx((0.5, 1 / 3, 1 / 6), abs=1e-5)
    assert bt.probas_ == pytest.approx([0.75, 0.25], abs=1e-5)


def test_bradley_terry_recovers_order():
    rng = np.random.default_rng(0)
    strength = np.linspace(-1.5, 1.5, 8)
    left = rng.integers(0, 8, 4000)
    right = (left + rng.integers(1, 8, 4000)) % 8
    sl, sr = strength[left], strength[right]
    nu = 0.5
    z = np.exp(sl) + np.exp(sr) + nu * np.exp((sl + sr) / 2)
    u = rng.random(4000)
    outcome = np.where(u < np.exp(sl) / z, -1, np.where(u < (np.exp(sl) + nu * np.exp((sl + sr) / 2)) / z, 0, 1))
    bt = BradleyTerry().fit((left, right, outcome))
    assert np.corrcoef(bt.scores_, strength)[0, 1] > 0.99
    assert bt.tie_ == pytest.approx(nu, abs=0.1)
    assert bt.scores_.mean() == pytest.approx(0.0, abs=1e-9)
    # SxS preferences on the -3..+3 scale work too (only the sign is used).
    np.testing.assert_allclose(BradleyTerry().fit_predict((left, right, outcome * 2)), bt.scores_)


def test_bradley_terry_without_ties_and_bad_input():
    bt = BradleyTerry(ties=False).fit({"left": ["a", "a", "b"], "right": ["b", "b", "a"], "outcome": [-1, 0, 1]})
    assert bt.tie_ == 0.0 and bt.scores_[0] > bt.scores_[1]
    with pytest.raises(ValueError, match="itself"):
        BradleyTerry().fit((["a"], ["a"], [1]))
    with pytest.raises(ValueError, match="NaN"):
        BradleyTerry().fit((["a"], ["b"], [np.nan]))
    with pytest.raises(ValueError, match="empty"):
        BradleyTerry().fit(([], [], []))
    with pytest.raises(ValueError, match="unknown item"):
        bt.predict_pair_proba("a", "zzz")


# --------------------------------------------------------------------------- realistic crowds (issue 12)

EM = [DawidSkene, OneCoinDawidSkene, OrdinalDawidSkene]
# The configuration before the priors and the guard: plain MAP-EM with weak priors.
OLD = {DawidSkene: dict(smoothing=1.0, pooled_prior=0.0, prior_strength=0.0, guard="off"),
       OneCoinDawidSkene: dict(pooled_prior=0.0, prior_strength=0.0, spam=False, guard="off"),
       OrdinalDawidSkene: dict(pooled_prior=0.0, prior_strength=0.0, spam=False, guard="off")}


def _fit_quiet(model, data, gold=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AggregationWarning)
        return model.fit(data, gold=gold)


def _accuracy(model, crowd, gold=None):
    return float((_fit_quiet(model, crowd.columns(), gold).labels_ == crowd.truth).mean())


@pytest.fixture(scope="module")
def spammy():
    return simulate_crowd("spammers", n_items=2000, seed=0)


@pytest.mark.parametrize("cls", [OneCoinDawidSkene, OrdinalDawidSkene])
def test_structured_models_collapsed_before_the_fix(spammy, cls):
    # The real-data failure (ordinal-ds 30%, one-coin 26% against majority's 52%): one class
    # for nearly every item. The simulator reproduces it with the old configuration ...
    mv = _accuracy(MajorityVote(), spammy)
    old = _fit_quiet(cls(**OLD[cls]), spammy.columns())
    assert (old.labels_ == spammy.truth).mean() < mv - 0.05
    assert np.bincount(np.searchsorted(old.classes_, old.labels_)).max() > 0.8 * spammy.n_items
    # ... and the guard names it: the label shares moved far from majority vote's.
    assert old.guard_.shift > 0.4 and old.guard_.tripped and not old.guard_.fell_back


@pytest.mark.parametrize("cls", [OneCoinDawidSkene, OrdinalDawidSkene])
def test_guard_falls_back_and_warns(spammy, cls):
    # Without the spam component the structured models still collapse; the guard catches it.
    old = {**OLD[cls], "guard": "fallback"}
    with pytest.warns(AggregationWarning, match="majority vote"):
        fitted = cls(**old).fit(spammy.columns())
    mv = MajorityVote().fit(spammy.columns())
    assert fitted.guard_.fell_back
    np.testing.assert_allclose(fitted.probas_, mv.probas_)
    # guard="warn" warns but keeps the model's labels.
    with pytest.warns(AggregationWarning, match="keeping its labels"):
        kept = cls(**{**old, "guard": "warn"}).fit(spammy.columns())
    assert kept.guard_.tripped and not kept.guard_.fell_back


@pytest.mark.parametrize("cls", [OneCoinDawidSkene, OrdinalDawidSkene])
def test_spam_component_fixes_the_collapse(spammy, cls):
    # The fix itself, not the guard: no fallback, well above majority vote, spammers found.
    fitted = _fit_quiet(cls(), spammy.columns())
    assert not fitted.guard_.tripped
    assert (fitted.labels_ == spammy.truth).mean() > _accuracy(MajorityVote(), spammy) + 0.03
    ids = _worker_ids(fitted)
    one_grade = spammy.worker_type[ids] == 4
    honest = spammy.worker_type[ids] == 0
    heavy = np.bincount(spammy.worker)[ids] >= 20
    assert fitted.spam_[one_grade & heavy].mean() > 2 * fitted.spam_[honest & heavy].mean()


def _worker_ids(fitted):
    return fitted.workers_.astype(int)


def test_ds_holds_on_spammers_without_falling_back(spammy):
    ds = _fit_quiet(DawidSkene(), spammy.columns())
    assert not ds.guard_.tripped
    assert (ds.labels_ == spammy.truth).mean() > _accuracy(MajorityVote(), spammy) + 0.02


@pytest.mark.parametrize("kind", ["realistic", "biased", "adversarial", "sparse"])
def test_never_below_majority_on_realistic_crowds(kind):
    crowd = simulate_crowd(kind, n_items=1500, seed=1)
    mv = _accuracy(MajorityVote(), crowd)
    for cls in EM:
        assert _accuracy(cls(), crowd) >= mv - 0.01, cls.__name__
    # The structured models with their spam component gain without falling back (on the
    # sparse kind, workers with ~3 labels, the ordinal model may still need the guard).
    for cls in (OneCoinDawidSkene, OrdinalDawidSkene) if kind != "sparse" else (OneCoinDawidSkene,):
        fitted = _fit_quiet(cls(), crowd.columns())
        assert not fitted.guard_.fell_back and (fitted.labels_ == crowd.truth).mean() > mv + 0.01, cls.__name__


@pytest.mark.filterwarnings("ignore")  # crowd-kit's pandas deprecation noise
def test_ds_above_crowdkit_on_realistic_crowds():
    pd = pytest.importorskip("pandas")
    ck = pytest.importorskip("crowdkit.aggregation")
    gains = []
    for seed in (0, 1):
        crowd = simulate_crowd("realistic", n_items=2000, seed=seed)
        frame = pd.DataFrame({"task": crowd.item, "worker": crowd.worker, "label": crowd.label})
        ref = ck.DawidSkene(n_iter=100).fit_predict(frame).sort_index().to_numpy()
        gains.append(_accuracy(DawidSkene(), crowd) - (ref == crowd.truth).mean())
    assert np.mean(gains) > 0.01


def test_ds_gold_helps_on_the_rest():
    gains = []
    for seed in (0, 1, 2):
        crowd = simulate_crowd("realistic", n_items=2000, seed=seed)
        gold = crowd.gold(0.10, seed=seed)
        rest = np.setdiff1d(np.arange(crowd.n_items), list(gold))
        plain = _fit_quiet(DawidSkene(), crowd.columns()).labels_
        helped = _fit_quiet(DawidSkene(), crowd.columns(), gold).labels_
        gains.append((helped[rest] == crowd.truth[rest]).mean() - (plain[rest] == crowd.truth[rest]).mean())
    assert np.mean(gains) >= 0.01


@pytest.mark.parametrize("cls", EM)
def test_n_iter_zero_is_majority_vote(cls):
    # Issue 9: n_iter=0 passed validation and then raised UnboundLocalError.
    data, _ = graded(300, 10, 3, seed=4)
    model = cls(n_iter=0).fit(data)
    mv = MajorityVote().fit(data)
    np.testing.assert_allclose(model.probas_, mv.probas_)
    assert model.n_iter_ == 0 and not model.converged_ and model.errors_.shape[0] == 10


@pytest.mark.parametrize("cls", EM)
def test_em_reports_convergence(cls):
    data, _ = graded(500, 10, 3, seed=0)
    assert cls(n_iter=500, tol=1e-6).fit(data).converged_
    short = cls(n_iter=2, tol=0.0).fit(data)
    assert short.n_iter_ == 2 and not short.converged_


@pytest.mark.parametrize("kwargs", [dict(n_iter=-1), dict(n_iter=1.5), dict(tol=-1), dict(pooled_prior=-1),
                                    dict(prior_strength=-0.1), dict(guard="sometimes"), dict(max_shift=0)])
def test_em_validation(kwargs):
    for cls in EM:
        with pytest.raises(ValueError):
            cls(**kwargs)


def test_bradley_terry_warns_when_not_converged():
    rng = np.random.default_rng(1)
    left = rng.integers(0, 30, 500)
    right = (left + rng.integers(1, 30, 500)) % 30
    with pytest.warns(AggregationWarning, match="before converging"):
        bt = BradleyTerry(max_iter=1).fit((left, right, rng.choice([-1, 0, 1], 500)))
    assert not bt.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", AggregationWarning)
        assert BradleyTerry().fit((left, right, rng.choice([-1, 0, 1], 500))).converged_
