"""The ``assignments`` index: leases. A lease is ``op_type=create`` on slot id ``item:slot``;
expiry and reclaim use optimistic concurrency (``if_seq_no``/``if_primary_term``)."""
from dataclasses import dataclass
from typing import Any, Iterable

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from services.core.clock import parse_time
from services.store.atomic import Doc, readable
from services.store.scan import scan
from services.store.family import BOOL, DATE, INT, KEYWORD, OPAQUE, TEXT, IndexFamily

FAMILY = IndexFamily(
    name="assignments",
    version=2,
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
        # what a submit needs without reading the item again
        "locale": KEYWORD,
        "partner": KEYWORD,
        "gold": BOOL,
        "gold_label": INT,  # never shown to the grader
        "overlap": INT,  # the item's slots, so a submit can count the finished ones
        "skip_reason": KEYWORD,
        "skip_comment": TEXT,
        # earlier holders of this slot: [{assignment_id, grader, state, reason, comment, time}]
        "previous": OPAQUE,
        # the judgement committed with the slot, written to `judgements` right after (retry-safe)
        "pending": OPAQUE,
        "update_time": DATE,
        "seat": INT,  # the grader's seat (services.store.seats) the lease occupies
    },
)


# --- access -------------------------------------------------------------------------------
# A slot document is the lock: whoever creates it (op_type=create) or replaces a free one with
# the seq_no/primary_term it read (optimistic concurrency) holds it. Reads are by id (realtime).


@dataclass(frozen=True)
class Slot:
    """A slot document as read, with what optimistic concurrency needs to replace it."""

    slot_id: str
    doc: dict[str, Any] | None  # None: never leased
    seq_no: int | None = None
    primary_term: int | None = None

    def ref(self, prefix: str) -> Doc:
        """The slot as a conditional write (``services.store.atomic``) expects it."""
        return Doc(index(prefix), self.slot_id, self.doc, self.seq_no, self.primary_term)

    @classmethod
    def of(cls, doc: Doc) -> "Slot":
        return cls(doc.id, doc.source, doc.seq_no, doc.primary_term)


def index(prefix: str) -> str:
    return FAMILY.index(prefix)


def slot_id(item_id: str, slot: int) -> str:
    return f"{item_id}:{slot}"


def get_slots(es: Elasticsearch, prefix: str, ids: Iterable[str]) -> dict[str, Slot]:
    """Slots by id in one realtime multi-get (missing ones have ``doc=None``)."""
    return get_slots_with(es, prefix, ids)[0]


def get_slots_with(es: Elasticsearch, prefix: str, ids: Iterable[str],
                   others: Iterable[dict[str, Any]] = ()) -> tuple[dict[str, Slot], list[dict[str, Any]]]:
    """Slots by id plus other documents (mget specs ``{"_index", "_id"[, "_source"]}``) in the same
    realtime multi-get (one round trip). Returns (slots, the other documents' raw mget entries in order: ``found``, ``_source``,
    ``_seq_no``, ``_primary_term``)."""
    ids, others = list(ids), list(others)
    if not ids and not others:
        return {}, []
    docs = [{"_index": index(prefix), "_id": i} for i in ids] + others
    r = readable(es.mget(docs=docs, realtime=True)["docs"])
    out = {}
    for d in r[:len(ids)]:
        if d.get("found"):
            out[d["_id"]] = Slot(d["_id"], d["_source"], d["_seq_no"], d["_primary_term"])
        else:
            out[d["_id"]] = Slot(d["_id"], None)
    return out, list(r[len(ids):])


def get_slot(es: Elasticsearch, prefix: str, sid: str) -> Slot:
    try:
        r = es.get(index=index(prefix), id=sid, realtime=True)
    except NotFoundError:
        return Slot(sid, None)
    return Slot(sid, r["_source"], r["_seq_no"], r["_primary_term"])


def claim(es: Elasticsearch, prefix: str, slot: Slot, doc: dict[str, Any]) -> Slot | None:
    """Take ``slot`` with ``doc``: create it if it never existed, else replace exactly the version
    read. Returns the slot as written (with its new seq_no/primary_term, so the holder can replace
    it later without reading it again); None when another writer got there first (nothing changed)."""
    try:
        if slot.doc is None:
            r = es.create(index=index(prefix), id=slot.slot_id, document=doc)
        else:
            r = es.index(index=index(prefix), id=slot.slot_id, document=doc,
                         if_seq_no=slot.seq_no, if_primary_term=slot.primary_term)
    except ConflictError:
        return None
    return Slot(slot.slot_id, doc, r["_seq_no"], r["_primary_term"])


def replace(es: Elasticsearch, prefix: str, slot: Slot, doc: dict[str, Any], refresh: bool = False) -> Slot | None:
    """Replace the version of ``slot`` that was read; returns the slot as written (new version),
    or None if it changed meanwhile."""
    try:
        r = es.index(index=index(prefix), id=slot.slot_id, document=doc,
                     if_seq_no=slot.seq_no, if_primary_term=slot.primary_term,
                     **({"refresh": "wait_for"} if refresh else {}))
    except ConflictError:
        return None
    return Slot(slot.slot_id, doc, r["_seq_no"], r["_primary_term"])


def live_of(es: Elasticsearch, prefix: str, grader: str, size: int = 1000) -> list[Slot]:
    """The grader's live (LEASED) slots. Refreshes first, so leases taken a moment ago count."""
    es.indices.refresh(index=index(prefix))
    r = es.search(index=index(prefix), size=size, seq_no_primary_term=True, query={"bool": {"filter": [
        {"term": {"grader": grader}}, {"term": {"state": "LEASED"}}]}})
    return [Slot(h["_id"], h["_source"], h["_seq_no"], h["_primary_term"]) for h in r["hits"]["hits"]]


def submitted_since(es: Elasticsearch, prefix: str, since: str | None, page: int = 1000
                    ) -> Iterable[list[dict[str, Any]]]:
    """Pages of the judgements committed on SUBMITTED slots updated at or after ``since`` (None: all),
    oldest first (``search_after`` on update time and slot id; memory stays one page)."""
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"state": "SUBMITTED"}}]}}
    if since:
        query["bool"]["filter"].append({"range": {"update_time": {"gte": since}}})
    after = None
    while True:
        body: dict[str, Any] = {"size": page, "query": query, "_source": ["pending"],
                                "sort": [{"update_time": "asc"}, {"slot_id": "asc"}]}
        if after:
            body["search_after"] = after
        hits = es.search(index=index(prefix), **body)["hits"]["hits"]
        pending = [h["_source"]["pending"] for h in hits if (h["_source"] or {}).get("pending")]
        if pending:
            yield pending
        if len(hits) < page:
            return
        after = hits[-1]["sort"]


def skips_in_window(es: Elasticsearch, prefix: str, start: str, end: str,
                    evaluation_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every skip in ``[start, end)``: ``{grader, evaluation_id, time}``. A skip is on its
    slot while the slot stays SKIPPED, and moves into the slot's ``previous`` history when the item
    is leased again (then ``time`` is that re-lease, shortly after the skip); a slot skipped in
    the window was updated in it or later, so only those slots are read."""
    f: list[dict] = [{"range": {"update_time": {"gte": start}}}]
    if evaluation_ids is not None:
        f.append({"terms": {"evaluation_id": evaluation_ids}})
    t0, t1 = parse_time(start), parse_time(end)
    out = []
    for doc in scan(es, index(prefix), {"bool": {"filter": f}}, ["grader", "evaluation_id", "state", "update_time",
                                                                 "previous"]):
        held = [{"grader": doc["grader"], "state": doc["state"], "time": doc.get("update_time")},
                *(doc.get("previous") or ())]
        out += [{"grader": h["grader"], "evaluation_id": doc["evaluation_id"], "time": h["time"]}
                for h in held if h.get("state") == "SKIPPED" and h.get("time") and t0 <= parse_time(h["time"]) < t1]
    return out
