"""The ``evaluations`` index: one document per evaluation (id = evaluation id)."""
from typing import Any, Iterable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.core.clock import now_iso, parse_time
from services.core.errors import FailedPrecondition, NotFound
from services.store import resources
from services.store.family import BOOL, DATE, INT, KEYWORD, LONG, OPAQUE, TEXT, TEXT_KW, IndexFamily

FAMILY = IndexFamily(
    name="evaluations",
    version=4,
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
                              "uncovered_dropped", "below_floor_dropped",
                              "prejudged", "auto_judged", "for_humans", "judgements", "items_done")
        }},
        # the current stage's progress (production: queries; pre-judgement: items); Watch derives ETA from it
        "progress": {"type": "object", "dynamic": "strict", "properties": {"done": LONG, "total": LONG}},
        "automation": OPAQUE,
        "grading": OPAQUE,  # human grading progress: items done, judgements, rate, ETA
        "completion": OPAQUE,  # how it completed: reason, coverage, message
        "grading_order": OPAQUE,  # how the items were ordered for graders: kind and seed (issue 12)
        "stopping": OPAQUE,  # the early-stopping rule on the headline and the decision once reached (issue 12)
        "complete_time": DATE,
        "grading_start_time": DATE,  # when it entered GRADING (scorecards' SLA clock starts here)
        "consensus": OPAQUE,  # the reporting worker's state: seeded, watermark, fitted reliability
        "series": KEYWORD,  # id of the first evaluation of a recurring series
        "run_index": INT,  # position in the series: 0 for the first evaluation, k for its k-th re-creation
        "next_run_time": DATE,  # recurring: when the next evaluation of the series is due
        "producer": KEYWORD,  # the server process producing items (claim)
        "heartbeat": DATE,  # last sign of life of the producer; stale claims are resumed
        "create_time": DATE,
        "update_time": DATE,
    },
)


# --- access -------------------------------------------------------------------------------


TERMINAL_STATES = frozenset({"COMPLETE", "CANCELLED", "FAILED"})


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def get(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, Any]:
    """The evaluation document (with ``_seq_no``/``_primary_term`` for OCC), or :class:`NotFound`."""
    try:
        r = es.get(index=index(prefix), id=evaluation_id)
    except NotFoundError:
        raise NotFound(f"evaluations/{evaluation_id} does not exist") from None
    doc = dict(r["_source"])
    doc["_seq_no"], doc["_primary_term"] = r["_seq_no"], r["_primary_term"]
    return doc


def transition(
    es: Elasticsearch,
    prefix: str,
    evaluation_id: str,
    allowed_from: Iterable[str],
    to: str,
    reason: str = "",
    fields: dict[str, Any] | None = None,
    retries: int = 5,
) -> dict[str, Any]:
    """Move an evaluation to state ``to`` if it is in one of ``allowed_from``.

    Optimistic concurrency (``if_seq_no``/``if_primary_term``) makes the check-and-set atomic
    across processes (servers, Ray jobs). Raises :class:`FailedPrecondition` naming the
    current state otherwise. Returns the new document.
    """
    allowed = set(allowed_from)
    for _ in range(retries):
        doc = get(es, prefix, evaluation_id)
        if doc["state"] == to and to in allowed and not fields:
            return doc
        if doc["state"] not in allowed:
            raise FailedPrecondition(
                f"evaluations/{evaluation_id} is {doc['state']}, not {' or '.join(sorted(allowed))}"
            )
        update = {"state": to, "update_time": now_iso(), **({"state_reason": reason} if reason else {}), **(fields or {})}
        try:
            es.update(index=index(prefix), id=evaluation_id, doc=update,
                      if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"], refresh="wait_for")
        except ConflictError:
            continue  # someone else changed it; re-read and re-check
        doc.update(update)
        return doc
    raise FailedPrecondition(f"evaluations/{evaluation_id} kept changing under us; retry")


def streaming(doc: dict[str, Any]) -> bool:
    """Whether the pre-judgement job is still scoring items of this GRADING evaluation (streamed
    pre-judgement: ``automation.progress.phase`` is ``done`` once it has finished)."""
    phase = ((doc.get("automation") or {}).get("progress") or {}).get("phase")
    return doc.get("state") == "GRADING" and phase not in (None, "done")


def update_counts(es: Elasticsearch, prefix: str, evaluation_id: str, counts: dict[str, int], **fields: Any) -> None:
    """Set (not add) the given counters and fields; last writer wins, counters are recomputed, not incremented."""
    body = {"counts": counts, "update_time": now_iso(), **fields}
    es.update(index=index(prefix), id=evaluation_id, doc=body, retry_on_conflict=5)


def create(es: Elasticsearch, prefix: str, evaluation_id: str, doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create the evaluation unless one with this id exists; returns (document, created)."""
    created = resources.create_once(es, index(prefix), evaluation_id, doc)
    return get(es, prefix, evaluation_id), created


def list_page(
    es: Elasticsearch, prefix: str, page_size: int, after: list | None = None,
    owner_team: str | None = None, states: Iterable[str] = (),
) -> tuple[list[dict[str, Any]], list | None]:
    """Newest first; ``after`` is the sort key of the previous page's last hit."""
    filters: list[dict] = [{"term": {"owner_team": owner_team}}] if owner_team else []
    states = list(states)
    if states:
        filters.append({"terms": {"state": states}})
    return resources.page(es, index(prefix), page_size, [{"create_time": "desc"}, {"evaluation_id": "desc"}],
                          after, filters)


def stale_productions(es: Elasticsearch, prefix: str, heartbeat_before: str) -> list[str]:
    """Evaluations waiting for production, or whose producer stopped beating (crashed)."""
    q = {"bool": {"should": [
        {"term": {"state": "PENDING"}},
        {"bool": {"filter": [{"term": {"state": "PRODUCING"}}],
                  "should": [{"range": {"heartbeat": {"lt": heartbeat_before}}},
                             {"bool": {"must_not": {"exists": {"field": "heartbeat"}}}}],
                  "minimum_should_match": 1}},
    ], "minimum_should_match": 1}}
    r = es.search(index=index(prefix), query=q, size=1000, _source=False, sort=[{"create_time": "asc"}])
    return [h["_id"] for h in r["hits"]["hits"]]


def ids_of_team(es: Elasticsearch, prefix: str, owner_team: str | None, limit: int = 10_000) -> list[str]:
    """Ids of the evaluations ``owner_team`` owns (those without an owner team when it is empty),
    newest first: the programme whose graders' labels calibrate its pre-judgements."""
    q = {"term": {"owner_team": owner_team}} if owner_team else {"bool": {"must_not": {"exists": {"field": "owner_team"}}}}
    r = es.search(index=index(prefix), query=q, size=limit, _source=False, sort=[{"create_time": "desc"}])
    return [h["_id"] for h in r["hits"]["hits"]]


def ids_in_state(es: Elasticsearch, prefix: str, state: str, limit: int = 1000) -> list[str]:
    """Ids of evaluations in ``state`` (oldest first)."""
    r = es.search(index=index(prefix), query={"term": {"state": state}}, size=limit, _source=False,
                  sort=[{"create_time": "asc"}])
    return [h["_id"] for h in r["hits"]["hits"]]


def claim_worker(es: Elasticsearch, prefix: str, evaluation_id: str, owner: str, now: str, stale_before: str,
                 states: Iterable[str] = ("GRADING",)) -> dict[str, Any] | None:
    """Take or keep the reporting worker's claim on an evaluation (``consensus.owner`` and
    ``consensus.heartbeat``) if it is in one of ``states`` and the claim is free, ours, or its
    heartbeat is older than ``stale_before``. Optimistic concurrency makes one replica win a
    race. Returns the document as claimed, None when someone else holds it (or it moved on)."""
    doc = get(es, prefix, evaluation_id)
    state = doc.get("consensus") or {}
    if doc["state"] not in set(states):
        return None
    holder, beat = state.get("owner"), state.get("heartbeat")
    if holder and holder != owner and beat and parse_time(beat) >= parse_time(stale_before):
        return None
    try:
        es.update(index=index(prefix), id=evaluation_id, doc={"consensus": {"owner": owner, "heartbeat": now}},
                  if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"])
    except ConflictError:
        return None
    doc["consensus"] = {**state, "owner": owner, "heartbeat": now}
    return doc


def release_worker(es: Elasticsearch, prefix: str, evaluation_id: str, owner: str) -> None:
    """Give the worker's claim back (at shutdown) if ``owner`` still holds it."""
    doc = get(es, prefix, evaluation_id)
    if (doc.get("consensus") or {}).get("owner") != owner:
        return
    try:
        es.update(index=index(prefix), id=evaluation_id, doc={"consensus": {"owner": None, "heartbeat": None}},
                  if_seq_no=doc["_seq_no"], if_primary_term=doc["_primary_term"])
    except ConflictError:
        pass  # changed meanwhile: the claim goes stale on its own


def completed_since(es: Elasticsearch, prefix: str, since: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Evaluations that became COMPLETE at or after ``since``: ``{evaluation_id, completion}``."""
    r = es.search(index=index(prefix), size=limit, _source=["evaluation_id", "completion"],
                  query={"bool": {"filter": [{"term": {"state": "COMPLETE"}},
                                             {"range": {"complete_time": {"gte": since}}}]}})
    return [h["_source"] for h in r["hits"]["hits"]]


def due_recurrences(es: Elasticsearch, prefix: str, now: str, limit: int = 100) -> list[dict[str, Any]]:
    """First evaluations of recurring series whose next run is due at ``now`` (with
    ``_seq_no``/``_primary_term`` for :func:`update_if_unchanged`), earliest due first."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=limit, seq_no_primary_term=True,
                  query={"range": {"next_run_time": {"lte": now}}}, sort=[{"next_run_time": "asc"}])
    return [{**h["_source"], "_seq_no": h["_seq_no"], "_primary_term": h["_primary_term"]} for h in r["hits"]["hits"]]


def update_if_unchanged(es: Elasticsearch, prefix: str, doc: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Set ``fields`` on the version of ``doc`` that was read (its ``_seq_no``/``_primary_term``);
    False when another writer changed it first."""
    try:
        es.update(index=index(prefix), id=doc["evaluation_id"], doc=fields, if_seq_no=doc["_seq_no"],
                  if_primary_term=doc["_primary_term"], refresh="wait_for")
    except ConflictError:
        return False
    return True


def stop_series(es: Elasticsearch, prefix: str, evaluation_id: str) -> dict[str, Any]:
    """End a recurring series: its first evaluation gets no ``next_run_time``. Returns the document."""
    es.update(index=index(prefix), id=evaluation_id, doc={"next_run_time": None, "update_time": now_iso()},
              retry_on_conflict=5, refresh="wait_for")
    return get(es, prefix, evaluation_id)


def get_many(es: Elasticsearch, prefix: str, evaluation_ids: Iterable[str],
             fields: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """``evaluation_id -> document`` for those that exist (realtime multi-get)."""
    ids = sorted(set(evaluation_ids))
    if not ids:
        return {}
    r = es.mget(index=index(prefix), ids=ids, realtime=True, **({"_source": fields} if fields is not None else {}))
    return {d["_id"]: d["_source"] for d in r["docs"] if d.get("found")}
