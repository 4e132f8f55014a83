"""The ``graders`` index: graders, their locales, skills, status and credential hash."""
from services.store.templates import DATE, KEYWORD, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="graders",
    version=1,
    doc="Graders (never the credential itself, only its hash).",
    properties={
        "grader_id": KEYWORD,
        "request_id": KEYWORD,
        "display_name": TEXT_KW,
        "partner": KEYWORD,
        "locales": KEYWORD,
        "skills": KEYWORD,
        "status": KEYWORD,
        "programmes": KEYWORD,
        "credential_sha256": KEYWORD,
        "create_time": DATE,
        "update_time": DATE,
    },
)
