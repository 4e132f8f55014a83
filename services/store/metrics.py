"""The ``metrics`` index: dated metric snapshots, for trends."""
from services.store.family import DATE, DOUBLE, KEYWORD, LONG, IndexFamily

FAMILY = IndexFamily(
    name="metrics",
    version=1,
    doc="Metric snapshots per evaluation, ranker, segment and measure.",
    properties={
        "snapshot_time": DATE,
        "evaluation_id": KEYWORD,
        "owner_team": KEYWORD,
        "ranker": KEYWORD,
        "segment": KEYWORD,
        "measure": KEYWORD,
        "mean": DOUBLE,
        "low": DOUBLE,
        "high": DOUBLE,
        "level": DOUBLE,
        "queries": LONG,
        "judged_share": DOUBLE,
    },
)
