"""Graders: create (with a one-time credential), read, update, suspend (leases released)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

from elasticsearch import Elasticsearch

from services.core.errors import FieldViolation, InvalidArgument, Violations
from services.grading.dispatch import Dispatcher
from services.core.clock import iso, now
from services.operations import credentials
from services.operations.partners import require_partner
from services.aip import id_of
from services.operations.validation import check_locales, check_name, check_terms, new_id
from services.store import graders, programmes

STATUSES = ("ACTIVE", "SUSPENDED")
UPDATABLE = ("display_name", "partner", "locales", "skills", "status", "programmes")


def _check(es: Elasticsearch, prefix: str, g: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """Validate the named fields of a grader message (as a dict); returns the stored form."""
    v = Violations()
    out: dict[str, Any] = {}
    paths = set(paths)
    if "display_name" in paths:
        check_name(v, g.get("display_name", ""), "grader.display_name")
        out["display_name"] = g.get("display_name", "")
    if "locales" in paths:
        check_locales(v, list(g.get("locales") or []), "grader.locales")
        out["locales"] = sorted(set(g.get("locales") or []))
    if "skills" in paths:
        skills = [s.strip() for s in g.get("skills") or []]
        check_terms(v, skills, "grader.skills")
        out["skills"] = sorted(set(skills))
    if "status" in paths:
        v.check(g.get("status") in STATUSES, "grader.status", "ACTIVE or SUSPENDED")
        out["status"] = g.get("status")
    partner_id = ""
    if "partner" in paths and g.get("partner"):
        try:
            partner_id = id_of(g["partner"], "partners", "grader.partner")
        except InvalidArgument as exc:
            v.items.extend(exc.violations)
        out["partner"] = partner_id
    elif "partner" in paths:
        out["partner"] = ""
    prog_ids: list[str] = []
    if "programmes" in paths:
        for i, name in enumerate(g.get("programmes") or []):
            try:
                prog_ids.append(id_of(name, "programmes", f"grader.programmes[{i}]"))
            except InvalidArgument as exc:
                v.items.extend(exc.violations)
        out["programmes"] = sorted(set(prog_ids))
    v.raise_if_any()
    if partner_id:
        require_partner(es, prefix, partner_id, "grader.partner")
    if prog_ids:
        known = {p["programme_id"] for p in programmes.get_many(es, prefix, prog_ids)}
        missing = [p for p in prog_ids if p not in known]
        if missing:
            raise InvalidArgument([FieldViolation("grader.programmes", f"programmes/{m} does not exist") for m in missing])
    return out


MAX_GRACE_SECONDS = 30 * 86400
DEFAULT_GRACE_SECONDS = 3600


def _credential(secret: bytes, grader_id: str, purpose: str, request_id: str) -> str:
    """A derived credential with a request id (a retry gets the same one), a random one without."""
    if request_id:
        return credentials.derive(secret, grader_id, purpose, request_id)
    return credentials.issue(grader_id)[0]


def create(es: Elasticsearch, prefix: str, secret: bytes, g: dict[str, Any], request_id: str
           ) -> tuple[dict[str, Any], str]:
    """A new active grader and its credential (only its hash is stored). A retry with the same
    ``request_id`` returns the same grader and credential, while that is the grader's current one."""
    fields = _check(es, prefix, g, ("display_name", "partner", "locales", "skills", "programmes"))
    grader_id = new_id("g", request_id)
    credential = _credential(secret, grader_id, "create", request_id)
    t = iso(now())
    doc = {"grader_id": grader_id, "request_id": request_id, **fields, "status": "ACTIVE",
           "credential_sha256": credentials.sha256(credential), "create_time": t, "update_time": t}
    stored, created = graders.create(es, prefix, doc)
    if created or stored.get("credential_sha256") == credentials.sha256(credential):
        return stored, credential
    return stored, ""


def rotate(es: Elasticsearch, prefix: str, secret: bytes, grader_id: str, grace_seconds: float | None,
           request_id: str) -> tuple[dict[str, Any], str, str]:
    """A new current credential; the replaced ones keep working ``grace_seconds`` (None: an hour).
    Returns (grader, credential, when the replaced ones stop)."""
    grace = DEFAULT_GRACE_SECONDS if grace_seconds is None else grace_seconds
    if not 0 <= grace <= MAX_GRACE_SECONDS:
        raise InvalidArgument(FieldViolation("grace_period", f"between 0 and {MAX_GRACE_SECONDS // 86400} days"))
    doc = graders.get(es, prefix, grader_id)
    credential = _credential(secret, grader_id, "rotate", request_id)
    digest = credentials.sha256(credential)
    at = now()
    ends = iso(at + timedelta(seconds=grace))
    if doc.get("credential_sha256") == digest:  # a retry of this very rotation
        ended = [p["expire_time"] for p in doc.get("previous_credentials") or ()]
        return doc, credential, max(ended, default=iso(at))
    previous = [{"sha256": p["sha256"], "expire_time": min(p["expire_time"], ends)}
                for p in doc.get("previous_credentials") or () if p["expire_time"] > iso(at)]
    if doc.get("credential_sha256"):
        previous.append({"sha256": doc["credential_sha256"], "expire_time": ends})
    doc = graders.update(es, prefix, grader_id, {"credential_sha256": digest, "previous_credentials": previous,
                                                 "update_time": iso(at)})
    return doc, credential, ends


def revoke(es: Elasticsearch, prefix: str, grader_id: str, reason: str) -> dict[str, Any]:
    """No credential of the grader works any more, current or in a grace period."""
    if len(reason) > 2000:
        raise InvalidArgument(FieldViolation("reason", "at most 2000 characters"))
    graders.get(es, prefix, grader_id)
    return graders.update(es, prefix, grader_id, {"credential_sha256": "", "previous_credentials": [],
                                                  "status_reason": reason, "update_time": iso(now())})


def update(es: Elasticsearch, prefix: str, dispatcher: Dispatcher, grader_id: str, g: dict[str, Any],
           paths: Iterable[str]) -> dict[str, Any]:
    paths = list(paths)
    v = Violations()
    v.check(bool(paths), "update_mask", f"name the fields to update: {', '.join(UPDATABLE)}")
    for p in paths:
        v.check(p in UPDATABLE, "update_mask", f"{p!r} cannot be updated (allowed: {', '.join(UPDATABLE)})")
    v.raise_if_any()
    graders.get(es, prefix, grader_id)  # NOT_FOUND before validating against other resources
    fields = _check(es, prefix, g, paths)
    if "status" not in fields:
        return graders.update(es, prefix, grader_id, {**fields, "update_time": iso(now())})
    doc = graders.update_status(es, prefix, grader_id, {**fields, "update_time": iso(now())})
    if doc.get("status") == "SUSPENDED":
        dispatcher.release_all(grader_id, doc["status_version"])
    return doc


def suspend(es: Elasticsearch, prefix: str, dispatcher: Dispatcher, grader_id: str, reason: str) -> dict[str, Any]:
    """No new tasks from now on (checked on every NextAssignment), live leases back to the pool."""
    if len(reason) > 2000:
        raise InvalidArgument(FieldViolation("reason", "at most 2000 characters"))
    doc = graders.update_status(es, prefix, grader_id, {"status": "SUSPENDED", "status_reason": reason,
                                                        "update_time": iso(now())})
    dispatcher.release_all(grader_id, doc["status_version"])
    return doc
