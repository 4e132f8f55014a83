"""Model–human agreement on the audit share: does the model's pre-judgement of an item agree
with what the humans said of it? Pure computation; the service feeds it stored documents."""
from __future__ import annotations

import numpy as np


def audit_agreement(audit_items: list[dict], judgements: list[dict]) -> dict[str, dict]:
    """Model–human agreement on the audit share, per locale.

    ``audit_items``: ``{item_id, locale, kind, prejudgement: {grade|preference}}``; ``judgements``:
    human ``{item_id, grade|preference}``. Several judgements of one item: the median grade, the
    sign of the mean preference. Per locale: audit items, judged, agreement (``None`` until judged).

    >>> audit_agreement([{"item_id": "a", "locale": "en", "kind": "pointwise", "prejudgement": {"grade": 2}}],
    ...                 [{"item_id": "a", "grade": 2}])["en"]["agreement"]
    1.0
    """
    by_item: dict[str, list[float]] = {}
    for j in judgements:
        v = j.get("grade") if j.get("grade") is not None else j.get("preference")
        if v is not None:
            by_item.setdefault(j["item_id"], []).append(float(v))
    out: dict[str, dict] = {}
    for it in audit_items:
        loc = it.get("locale") or "und"
        row = out.setdefault(loc, {"audit": 0, "judged": 0, "agree": 0})
        row["audit"] += 1
        votes = by_item.get(it["item_id"])
        pj = it.get("prejudgement") or {}
        if not votes:
            continue
        row["judged"] += 1
        if it.get("kind") == "side_by_side":
            ok = np.sign(np.mean(votes)) == np.sign(pj.get("preference") or 0.0)
        else:
            ok = int(round(float(np.median(votes)))) == pj.get("grade")
        row["agree"] += int(bool(ok))
    for row in out.values():
        row["agreement"] = row["agree"] / row["judged"] if row["judged"] else None
        del row["agree"]
    return out
