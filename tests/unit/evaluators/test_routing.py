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
