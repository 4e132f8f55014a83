"""The ``assignments`` index: leases. A lease is ``op_type=create`` on slot id ``item:slot``;
expiry and reclaim use optimistic concurrency (``if_seq_no``/``if_primary_term``)."""
from services.store.templates import BOOL, DATE, INT, KEYWORD, IndexFamily

FAMILY = IndexFamily(
    name="assignments",
    version=1,
    doc="Leases of item slots to graders; state LEASED, SUBMITTED, SKIPPED or EXPIRED.",
    properties={
        "assignment_id": KEYWORD,
        "slot_id": KEYWORD,
        "slot": INT,
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "grader": KEYWORD,
        "kind": KEYWORD,
        "state": KEYWORD,
        "flipped": BOOL,  # SxS: ranker_a shown on the right
        "lease_start": DATE,
        "lease_expire": DATE,
        "judgement_id": KEYWORD,
    },
)
