"""Snapshot documents are JSON Elasticsearch accepts: a one-query segment's interval is NaN,
and one NaN made Elasticsearch refuse every snapshot of the evaluation."""
from __future__ import annotations

import json

from services.reporting.snapshots import snapshot_docs


def test_non_finite_row_values_are_left_out_of_the_document():
    evaluation = {"evaluation_id": "e1", "spec": {}, "completion": {"reason": "ALL_JUDGED"}}
    rows = [{"ranker": "a", "segment": "locale=ar-SA", "segment_fields": ["locale"], "measure": "ndcg_cut_10",
             "mean": 0.6, "low": float("nan"), "high": float("nan"), "std_error": None, "queries": 1}]
    (doc,) = snapshot_docs(evaluation, rows)
    json.dumps(doc, allow_nan=False)  # raises on NaN, as Elasticsearch's parser does
    assert doc["mean"] == 0.6 and "low" not in doc and "high" not in doc and doc["queries"] == 1
