import numpy as np
import pytest

from evaluators.automation import audit_agreement, audit_draw, automation_by_locale, route


def ids(n):
    return [f"item-{i}" for i in range(n)]


def test_threshold_decides_auto():
    r = route(np.array([0.9, 0.5, 0.8]), ids(3), threshold=0.8, audit_share=0.0, seed=0)
    assert r.auto.tolist() == [True, False, True]
    assert r.needs_humans.tolist() == [False, True, False]
    assert not r.audit.any()


def test_audit_share_is_deterministic_and_about_right():
    n = 20_000
    conf = np.ones(n)
    a = route(conf, ids(n), 0.5, 0.1, seed=7)
    b = route(conf, ids(n), 0.5, 0.1, seed=7)
    c = route(conf, ids(n), 0.5, 0.1, seed=8)
    assert (a.audit == b.audit).all()
    assert not (a.audit == c.audit).all()
    assert abs(a.audit.mean() - 0.1) < 0.01
    assert (a.needs_humans == a.audit).all()  # all auto; only the audit share goes to humans


def test_audit_only_among_auto_judged():
    conf = np.array([0.1] * 100 + [0.99] * 100)
    r = route(conf, ids(200), 0.8, 1.0, seed=0)
    assert not r.audit[:100].any() and r.audit[100:].all()
    assert r.needs_humans.all()


def test_gold_never_auto_identical_always_auto_without_audit():
    conf = np.array([0.99, 0.1, 0.99])
    r = route(conf, ids(3), 0.8, 1.0, seed=0, gold=np.array([True, False, False]),
              identical=np.array([False, True, False]))
    assert r.auto.tolist() == [False, True, True]
    assert r.audit.tolist() == [False, False, True]
    assert r.needs_humans.tolist() == [True, False, True]


def test_bad_audit_share():
    with pytest.raises(ValueError):
        route(np.ones(1), ids(1), 0.5, 1.5, 0)


def test_audit_draw_uniform():
    d = np.array([audit_draw(3, f"x{i}") for i in range(5000)])
    assert 0 <= d.min() and d.max() < 1 and abs(d.mean() - 0.5) < 0.02


def test_automation_by_locale():
    r = route(np.array([0.9, 0.9, 0.1, 0.9]), ids(4), 0.8, 0.0, 0)
    out = automation_by_locale(["en", "en", "es", "es"], r)
    assert out["en"] == {"items": 2, "auto_judged": 2, "audit": 0, "for_humans": 0, "automation_rate": 1.0}
    assert out["es"]["automation_rate"] == 0.5 and out["es"]["for_humans"] == 1


def test_audit_agreement_per_locale_compares_the_model_with_the_human_consensus():
    items = [
        {"locale": "en", "kind": "pointwise", "model_label": 2.0, "source": "human", "label": 2},
        {"locale": "en", "kind": "pointwise", "model_label": 0.0, "source": "human", "label": 3},
        {"locale": "es", "kind": "side_by_side", "model_label": 2.0, "source": "human", "preference": 1.7},
        {"locale": "es", "kind": "pointwise", "model_label": 1.0, "source": "model", "label": 1},  # not judged yet
        {"locale": "fr", "kind": "side_by_side", "model_label": 0.4, "source": "human", "preference": -0.5},
    ]
    out = audit_agreement(items)
    assert out["en"] == {"audit": 2, "judged": 2, "agreement": 0.5}
    assert out["es"] == {"audit": 2, "judged": 1, "agreement": 1.0}
    assert out["fr"] == {"audit": 1, "judged": 1, "agreement": 0.0}


# --- the calibration sample ---------------------------------------------------------------------

from evaluators.automation import calibration_sample, sample_size  # noqa: E402


def test_calibration_sample_is_stratified_deterministic_and_knows_its_probabilities():
    n = 1000
    item_ids = ids(n)
    strata = np.array(["head|en"] * 600 + ["tail|en"] * 300 + ["tail|ja"] * 95 + ["head|ja"] * 5)
    eligible = np.ones(n, bool)
    eligible[:100] = False  # e.g. gold items: labelled already, never drawn
    chosen, p = calibration_sample(item_ids, strata, eligible, 90, seed=4)
    assert chosen.sum() == 90 and not chosen[~eligible].any()
    per = {h: int(chosen[strata == h].sum()) for h in np.unique(strata)}
    sizes = {h: int(((strata == h) & eligible).sum()) for h in np.unique(strata)}
    assert all(abs(per[h] - 90 * sizes[h] / 900) <= 2 for h in per) and per["head|ja"] >= 1  # proportional, none left out
    for h in np.unique(strata):
        m = (strata == h) & eligible
        assert np.allclose(p[m], per[h] / m.sum())
    assert np.isnan(p[~eligible]).all()
    again, _ = calibration_sample(item_ids, strata, eligible, 90, seed=4)
    other, _ = calibration_sample(item_ids, strata, eligible, 90, seed=5)
    assert np.array_equal(chosen, again) and not np.array_equal(chosen, other)


def test_calibration_sample_sizes():
    assert sample_size(278, 0.15, 60, 400) == 60
    assert sample_size(2000, 0.15, 60, 400) == 300
    chosen, p = calibration_sample(ids(5), ["a"] * 5, np.ones(5, bool), 50, seed=0)
    assert chosen.all() and np.allclose(p, 1.0)
    chosen, _ = calibration_sample(ids(5), ["a"] * 5, np.zeros(5, bool), 3, seed=0)
    assert not chosen.any()
