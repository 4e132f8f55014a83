"""The ``partners`` index: vendor/BPO firms and the in-house team."""
from services.store.templates import DATE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="partners",
    version=1,
    doc="Partners.",
    properties={
        "partner_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "status": KEYWORD,
        "create_time": DATE,
        "update_time": DATE,
    },
)
