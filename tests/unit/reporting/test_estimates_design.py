"""The report's estimators read the routing design from the label set: which items humans saw
and with what probability. A race can leave a human label on an item the routing had settled
(a grader leased it as the routing wrote); that must count as a human item, never crash a report."""
from __future__ import annotations

import numpy as np

from services.reporting.estimates import pointwise_values, settled
from services.reporting.labels import SOURCE, Items, LabelSet


def label_set(needs, audit, source, label, model):
    n = len(needs)
    pw = Items(item_id=[f"i{i}" for i in range(n)], query=np.arange(n) // 2, locale=np.zeros(n, int),
               source=np.array([SOURCE[s] for s in source]), audit=np.array(audit), needs_humans=np.array(needs),
               human_time=np.full(n, np.nan), judgements=np.ones(n, int), model_label=np.array(model, float),
               label=np.array(label), doc_id=[f"d{i}" for i in range(n)], ranks=np.array([[1, 2] * (n // 2)]))
    empty = Items(item_id=[], query=np.zeros(0, int), source=np.zeros(0, int), audit=np.zeros(0, bool),
                  needs_humans=np.zeros(0, bool), model_label=np.zeros(0), label=np.zeros(0))
    return LabelSet(evaluation_id="e", rankers=["a"], query_ids=[f"q{i}" for i in range(n // 2)],
                    query_norm=[""] * (n // 2), query_stratum=np.zeros(n // 2, int), query_traffic=np.ones(n // 2),
                    locales=["en-US"], pointwise=pw, sxs=empty, gold_items=0, votes=(), methods={}, models={},
                    update_time=None, missing_votes=0, audit_share=0.2)


def test_a_human_label_on_a_settled_item_counts_as_a_human_item():
    # item 2: settled by the model (not needs_humans, no audit), then judged by a human (the race)
    ls = label_set(needs=[True, True, False, False], audit=[False, True, False, False],
                   source=["human", "human", "human", "model"], label=[2, 1, 3, 0], model=[2, 1, 1, 0])
    assert settled(ls.pointwise).tolist() == [False, True, False, True]
    qv = pointwise_values(ls, ["ndcg_cut_10"], max_grade=3)
    assert qv is not None  # no ValueError: the raced item is a human item with inclusion 1
