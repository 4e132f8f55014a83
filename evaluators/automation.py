"""Model–human agreement on the audit share: does the model's pre-judgement of an item agree
with the humans' consensus label of it? Pure computation; the service feeds it the audit items'
consensus documents."""
from __future__ import annotations

import numpy as np


def audit_agreement(audit_items: list[dict]) -> dict[str, dict]:
    """Model–human agreement on the audit share, per locale.

    ``audit_items``: ``{locale, kind, model_label, source, label | preference}`` — the model's
    grade or preference beside the consensus. An item counts as judged once its ``source`` is
    ``human``; pointwise items agree when the grades are equal, side-by-side items when the
    preferences have the same sign (both "same" counts). Per locale: audit items, judged,
    agreement (``None`` until one is judged).

    >>> audit_agreement([{"locale": "en", "kind": "pointwise", "model_label": 2.0, "source": "human", "label": 2},
    ...                  {"locale": "en", "kind": "pointwise", "model_label": 1.0, "source": "model", "label": 1}])["en"]
    {'audit': 2, 'judged': 1, 'agreement': 1.0}
    """
    out: dict[str, dict] = {}
    for it in audit_items:
        row = out.setdefault(it.get("locale") or "und", {"audit": 0, "judged": 0, "agree": 0})
        row["audit"] += 1
        model = it.get("model_label")
        if it.get("source") != "human" or model is None:
            continue
        row["judged"] += 1
        if it.get("kind") == "side_by_side":
            ok = np.sign(float(it.get("preference") or 0.0)) == np.sign(float(model))
        else:
            ok = it.get("label") is not None and int(it["label"]) == int(round(float(model)))
        row["agree"] += int(bool(ok))
    for row in out.values():
        row["agreement"] = row["agree"] / row["judged"] if row["judged"] else None
        del row["agree"]
    return out
