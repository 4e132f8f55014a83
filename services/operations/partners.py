"""Partners (vendor/BPO firms, the in-house team) and programmes: create, read, update."""
from __future__ import annotations

import math
from typing import Any, Iterable

from elasticsearch import Elasticsearch

from services.core.errors import FieldViolation, InvalidArgument, NotFound, Violations
from services.core.clock import iso, now
from services.operations.validation import check_locales, check_name, new_id
from services.store import partners, programmes

STATUSES = ("ACTIVE", "SUSPENDED")
PARTNER_FIELDS = ("display_name", "status", "price_per_judgement", "currency")


def check_price(v: Violations, price: float, currency: str, field: str) -> None:
    """A price is finite and non-negative, in an ISO 4217 currency (required once there is a price)."""
    v.check(math.isfinite(price) and price >= 0, f"{field}.price_per_judgement", "must be a non-negative number")
    v.check(not currency or (len(currency) == 3 and currency.isalpha() and currency.isupper()), f"{field}.currency",
            "an ISO 4217 code like EUR")
    v.check(not (price > 0 and not currency), f"{field}.currency", "required with a price, e.g. USD")


def create_partner(es: Elasticsearch, prefix: str, display_name: str, status: str, request_id: str,
                   price_per_judgement: float = 0.0, currency: str = "") -> dict[str, Any]:
    v = Violations()
    check_name(v, display_name, "partner.display_name")
    check_price(v, price_per_judgement, currency, "partner")
    v.raise_if_any()
    t = iso(now())
    doc = {"partner_id": new_id("p", request_id), "request_id": request_id, "display_name": display_name,
           "status": status or "ACTIVE", "create_time": t, "update_time": t,
           **({"price_per_judgement": price_per_judgement, "currency": currency} if price_per_judgement or currency
              else {})}
    return partners.create(es, prefix, doc)[0]


def update_partner(es: Elasticsearch, prefix: str, partner_id: str, fields: dict[str, Any], paths: Iterable[str]
                   ) -> dict[str, Any]:
    paths = list(paths)
    v = Violations()
    v.check(bool(paths), "update_mask", f"name the fields to update: {', '.join(PARTNER_FIELDS)}")
    for p in paths:
        v.check(p in PARTNER_FIELDS, "update_mask", f"{p!r} cannot be updated (allowed: {', '.join(PARTNER_FIELDS)})")
    if "display_name" in paths:
        check_name(v, fields.get("display_name", ""), "partner.display_name")
    if "status" in paths:
        v.check(fields.get("status") in STATUSES, "partner.status", "ACTIVE or SUSPENDED")
    v.raise_if_any()
    current = partners.get(es, prefix, partner_id)  # NOT_FOUND first
    if {"price_per_judgement", "currency"} & set(paths):
        # the price and its currency are checked together, as they will be stored
        merged = {**current, **{p: fields[p] for p in paths}}
        check_price(v, float(merged.get("price_per_judgement") or 0.0), merged.get("currency") or "", "partner")
        v.raise_if_any()
    return partners.update(es, prefix, partner_id, {**{p: fields[p] for p in paths}, "update_time": iso(now())})


def create_programme(es: Elasticsearch, prefix: str, p: dict[str, Any], request_id: str) -> dict[str, Any]:
    v = Violations()
    check_name(v, p.get("display_name", ""), "programme.display_name")
    v.check(bool(p.get("owner_teams")), "programme.owner_teams", "at least one owner team")
    check_locales(v, p.get("locales") or [], "programme.locales", required=False)
    check_price(v, p.get("price_per_judgement", 0.0), p.get("currency") or "", "programme")
    v.check(p.get("sla_hours", 0) >= 0, "programme.sla_hours", "must not be negative")
    v.raise_if_any()
    doc = {**p, "programme_id": new_id("pr", request_id), "request_id": request_id, "create_time": iso(now())}
    return programmes.create(es, prefix, doc)[0]


def require_partner(es: Elasticsearch, prefix: str, partner_id: str, field: str) -> None:
    try:
        partners.get(es, prefix, partner_id)
    except NotFound:
        raise InvalidArgument(FieldViolation(field, f"partners/{partner_id} does not exist")) from None
