"""The ``evaluations`` index: one document per evaluation (id = evaluation id)."""
from services.store.templates import BOOL, DATE, INT, KEYWORD, LONG, OPAQUE, TEXT, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="evaluations",
    version=1,
    doc="Evaluations: the engineer's spec (opaque), state, counts, strata and weights.",
    properties={
        "evaluation_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "owner_team": KEYWORD,
        "creator": KEYWORD,
        "state": KEYWORD,
        "state_reason": TEXT,
        "cancel_requested": BOOL,
        "priority": INT,
        "deadline": DATE,
        "locales": KEYWORD,
        "kinds": KEYWORD,
        "spec": OPAQUE,
        "strata": OPAQUE,
        "counts": {"type": "object", "dynamic": "strict", "properties": {
            k: LONG for k in ("queries", "items", "gold_items", "identical_pairs", "pii_dropped", "garbage_dropped",
                              "prejudged", "auto_judged", "for_humans", "judgements", "items_done")
        }},
        "automation": OPAQUE,
        "create_time": DATE,
        "update_time": DATE,
    },
)
