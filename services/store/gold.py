"""The ``gold`` index: items with known answers, loaded by admins, mixed into queues."""
from services.store.templates import DATE, INT, KEYWORD, OPAQUE, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="gold",
    version=1,
    doc="Gold items with their correct grade.",
    properties={
        "gold_id": KEYWORD,
        "query": TEXT,
        "query_norm": KEYWORD,
        "locale": KEYWORD,
        "doc": OPAQUE,
        "grade": INT,
        "create_time": DATE,
    },
)
