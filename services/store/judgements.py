"""The ``judgements`` index: append-only (``op_type=create``, id from the assignment), never updated."""
from services.store.templates import BOOL, DATE, INT, KEYWORD, LONG, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="judgements",
    version=1,
    doc="Human judgements, un-randomised to (ranker_a, ranker_b) for SxS; append-only.",
    properties={
        "judgement_id": KEYWORD,
        "assignment_id": KEYWORD,
        "item_id": KEYWORD,
        "evaluation_id": KEYWORD,
        "grader": KEYWORD,
        "partner": KEYWORD,
        "locale": KEYWORD,
        "kind": KEYWORD,
        "grade": INT,
        "preference": INT,  # positive: ranker_b better
        "shown_preference": INT,  # as the grader saw the sides
        "flipped": BOOL,
        "gold": BOOL,
        "gold_correct": BOOL,
        "flagged": BOOL,
        "comment": TEXT,
        "submit_time": DATE,
        "time_on_task_ms": LONG,
    },
)
