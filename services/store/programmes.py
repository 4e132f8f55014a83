"""The ``programmes`` index: who grades what, at what price and SLA."""
from services.store.templates import DATE, DOUBLE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="programmes",
    version=1,
    doc="Grading programmes.",
    properties={
        "programme_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "owner_teams": KEYWORD,
        "locales": KEYWORD,
        "price_per_judgement": DOUBLE,
        "currency": KEYWORD,
        "sla_hours": DOUBLE,
        "create_time": DATE,
    },
)
