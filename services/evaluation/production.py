"""Producing an evaluation's items in the background: sample, fetch lists, pool, write.

A production is idempotent and resumable: item ids derive from content, the sample from the
seed, so running it again (after a crash, or an Elasticsearch outage) rewrites the same
documents. A claim with a heartbeat on the evaluation document keeps two server replicas
from producing the same evaluation at once; a claim whose heartbeat went stale is resumed.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from elasticsearch import ApiError, Elasticsearch, TransportError

from evaluators.lineage import digest
from evaluators.sampling import InfeasiblePlan, frequency_bands, query_order, stratified_sample
from services.core import clock
from services.core.logmapping import LogFieldMapping
from services.core.errors import FailedPrecondition
from services.core.querynorm import normalize_query
from services.evaluation import hygiene
from services.evaluation.mustache import TemplateError, render_json
from services.evaluation.pooling import QueryResults, gold_count, gold_items, pointwise_items, side_by_side_items
from services.evaluation.spec import Spec, from_proto, proto_from_json
from services.store import documents, evaluations, gold, items, logs

log = logging.getLogger("qrelay.production")

CHUNK = 250  # sampled queries per round of fetch → pool → write
HEARTBEAT_STALE_S = 60


class Cancelled(Exception):
    """The evaluation left PRODUCING (cancelled) while we worked."""


@dataclass
class Unit:
    """One sampling unit: a normalised query within its group (stratify-by field values)."""

    query_norm: str
    group: tuple[str, ...]
    keys: list[str] = field(default_factory=list)  # raw key-field values that normalise to it
    count: int = 0
    buckets: set[str] = field(default_factory=set)  # ranker buckets that logged results for it


@dataclass(frozen=True)
class Sample:
    units: list[Unit]
    stratum_of: list[str]
    strata: list[dict]
    dropped: dict[str, int]


def sample(es: Elasticsearch, source: logs.LogSource, spec: Spec, kfield: str, group_paths: list[str],
           bucket_path: str | None) -> Sample:
    """Frequencies from a composite aggregation → hygiene → coverage → floor → bands → stratified draw.

    Coverage: a query is only comparable if every log-bucket ranker logged results for it in
    the window (with A/B logs a query seen once was seen by one bucket only); others are
    dropped and counted, and the strata describe the comparable population.
    """
    plan = spec.plan
    wanted_buckets = {r.bucket for r in spec.rankers if r.bucket is not None}
    units: dict[tuple[str, tuple[str, ...]], Unit] = {}
    dropped = {"pii": 0, "garbage": 0, "below_floor": 0, "uncovered": 0}
    rejected: set[tuple[str, tuple[str, ...]]] = set()
    paths = group_paths + ([bucket_path] if wanted_buckets and bucket_path else [])
    for key, values, n in logs.query_frequencies(es, source, kfield, paths):
        group = values[:len(group_paths)]
        norm = normalize_query(key)
        ident = (norm, group)
        if ident in rejected:
            continue
        unit = units.get(ident)
        if unit is None:
            why = hygiene.rejection(norm)
            if why:
                rejected.add(ident)
                dropped["garbage" if why in (hygiene.EMPTY, hygiene.GARBAGE) else "pii"] += 1
                continue
            unit = units[ident] = Unit(norm, group)
        if key not in unit.keys:
            unit.keys.append(key)
        unit.count += n
        if len(values) > len(group_paths):
            unit.buckets.add(values[-1])
    covered = [u for u in units.values() if wanted_buckets <= u.buckets] if wanted_buckets else list(units.values())
    dropped["uncovered"] = len(units) - len(covered)
    kept = [u for u in covered if u.count >= max(plan.min_frequency, 1)]
    dropped["below_floor"] = len(covered) - len(kept)
    kept.sort(key=lambda u: (u.group, u.query_norm))  # a stable order makes the seed reproduce the sample
    counts = np.array([u.count for u in kept], dtype=np.int64)

    # strata: band (computed within each group, e.g. "tail of es-MX") × group values
    groups = sorted({u.group for u in kept})
    group_ix = {g: i for i, g in enumerate(groups)}
    g_of = np.array([group_ix[u.group] for u in kept], dtype=np.int64)
    n_bands = len(plan.band_names) if plan.band_mode else 1
    band_of = np.zeros(len(kept), dtype=np.int64)
    if plan.band_mode:
        cuts = np.array(plan.cut_points)
        for gi in range(len(groups)):
            members = np.flatnonzero(g_of == gi)
            kw = {plan.band_mode: cuts}
            band_of[members] = frequency_bands(counts[members], **kw)
    labels = [
        "|".join(([plan.band_names[b]] if plan.band_mode else []) + [v or "(none)" for v in groups[g]]) or "all"
        for g in range(len(groups)) for b in range(n_bands)
    ]
    stratum = g_of * n_bands + band_of
    fixed = None
    if plan.fixed_counts is not None:
        unknown = sorted(set(plan.fixed_counts) - set(labels))
        if unknown:
            raise InfeasiblePlan(f"fixed_counts name strata the logs do not have: {', '.join(unknown)} "
                                 f"(strata: {', '.join(labels) or 'none'})")
        fixed = np.array([plan.fixed_counts.get(label, 0) for label in labels], dtype=np.int64)
    if not kept:
        raise InfeasiblePlan("no query in the window passes hygiene, bucket coverage and the frequency floor")
    drawn = stratified_sample(counts, stratum, len(labels), plan.size, traffic_weighted=plan.traffic_weighted,
                              fixed=fixed, seed=plan.seed, labels=labels)
    strata = [
        {"key": labels[s], "population_queries": int(drawn.population_queries[s]),
         "population_traffic": int(drawn.population_traffic[s]), "weight": float(drawn.weights[s]),
         "sampled": int(drawn.allocated[s])}
        for s in range(len(labels))
    ]
    chosen = [kept[i] for i in drawn.chosen]
    return Sample(chosen, [labels[s] for s in drawn.stratum_of_chosen], strata, dropped)


class Producer:
    """Runs productions on a small thread pool inside the server process."""

    def __init__(self, es: Elasticsearch, prefix: str, mapping: LogFieldMapping, *, workers: int = 2,
                 outage_seconds: float = 300.0, owner: str | None = None):
        self.es, self.prefix, self.mapping = es, prefix, mapping
        self.outage_seconds = outage_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="produce")
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="produce-sweep", daemon=True)

    def start(self, sweep_seconds: float = 30.0) -> None:
        """Resume what nobody is producing now, and keep doing so every ``sweep_seconds``
        (a replica that crashed, or a production that gave up while Elasticsearch was down)."""
        self._sweep_seconds = sweep_seconds
        self._sweeper.start()

    def _sweep(self) -> None:
        while not self._stopping.is_set():
            try:
                self.resume_stale()
            except Exception as exc:  # noqa: BLE001 - Elasticsearch down: try again next round
                log.warning("cannot look for stale productions", extra={"error": str(exc)})
            self._stopping.wait(self._sweep_seconds)

    # -- scheduling ---------------------------------------------------------------------------
    def submit(self, evaluation_id: str) -> None:
        with self._lock:
            if evaluation_id in self._active or self._stopping.is_set():
                return
            self._active.add(evaluation_id)
        self._pool.submit(self._run_logged, evaluation_id)

    def resume_stale(self) -> list[str]:
        """Pick up productions nobody is running (after a crash or restart)."""
        cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=HEARTBEAT_STALE_S)).isoformat()
        ids = evaluations.stale_productions(self.es, self.prefix, cutoff)
        for evaluation_id in ids:
            self.submit(evaluation_id)
        return ids

    def shutdown(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run_logged(self, evaluation_id: str) -> None:
        try:
            self.run(evaluation_id)
        except Exception:  # noqa: BLE001 - a background thread must not die silently
            log.exception("production crashed", extra={"evaluation": evaluation_id})
        finally:
            with self._lock:
                self._active.discard(evaluation_id)

    # -- one production -----------------------------------------------------------------------
    def run(self, evaluation_id: str) -> None:
        try:
            self._with_retries(lambda: self._produce(evaluation_id))
        except Cancelled:
            # final counts, then the claim is released: a watcher knows production has stopped
            self._with_retries(lambda: self._refresh_counts(evaluation_id, producer=None))
            log.info("production stopped: evaluation left PRODUCING", extra={"evaluation": evaluation_id})
        except (InfeasiblePlan, FailedPrecondition, TemplateError, documents.SearchRejected) as exc:
            self._fail(evaluation_id, f"FAILED_PRECONDITION: {exc}")
        except (TransportError, ApiError) as exc:
            self._fail(evaluation_id, f"Elasticsearch unavailable for more than {self.outage_seconds:.0f} s: {exc}")

    def _with_retries(self, fn: Callable[[], None]) -> None:
        """Run ``fn``; while Elasticsearch is unreachable, wait and run it again (it is idempotent)."""
        deadline = time.monotonic() + self.outage_seconds
        delay = 0.5
        while True:
            try:
                return fn()
            except (TransportError, ApiError) as exc:
                if isinstance(exc, ApiError) and exc.meta.status not in (429, 502, 503, 504):
                    raise
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise
                log.warning("Elasticsearch unavailable; production will resume", extra={"error": str(exc)})
                time.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _fail(self, evaluation_id: str, reason: str) -> None:
        log.warning("production failed", extra={"evaluation": evaluation_id, "reason": reason})
        try:
            evaluations.transition(self.es, self.prefix, evaluation_id, {"PENDING", "PRODUCING"}, "FAILED", reason)
        except Exception:  # noqa: BLE001 - still down: the stale claim is resumed by the next sweep
            log.exception("could not record the failure", extra={"evaluation": evaluation_id})

    def _claim(self, evaluation_id: str) -> dict:
        doc = evaluations.get(self.es, self.prefix, evaluation_id)
        if doc["state"] not in ("PENDING", "PRODUCING"):
            raise Cancelled()
        return evaluations.transition(self.es, self.prefix, evaluation_id, {"PENDING", "PRODUCING"}, "PRODUCING",
                                      fields={"producer": self.owner, "heartbeat": clock.now_iso()})

    def _check(self, evaluation_id: str, counts: dict, progress: dict) -> None:
        """Heartbeat + progress; raises :class:`Cancelled` if the evaluation left PRODUCING."""
        if self._stopping.is_set():
            raise Cancelled()
        doc = evaluations.get(self.es, self.prefix, evaluation_id)
        if doc["state"] != "PRODUCING":
            raise Cancelled()
        evaluations.update_counts(self.es, self.prefix, evaluation_id, counts, heartbeat=clock.now_iso(),
                                  progress=progress)

    def _refresh_counts(self, evaluation_id: str, **fields) -> None:
        doc = evaluations.get(self.es, self.prefix, evaluation_id)
        counts = {**doc.get("counts", {}), **items.counts_by(self.es, self.prefix, evaluation_id)}
        evaluations.update_counts(self.es, self.prefix, evaluation_id, counts, **fields)

    def _produce(self, evaluation_id: str) -> None:
        doc = self._claim(evaluation_id)
        spec = from_proto(doc.get("display_name", ""), proto_from_json(doc["spec"]))
        types = logs.field_types(self.es, spec.index_pattern)
        kfield = logs.query_key_field(self.mapping, types)
        group_paths = [logs.resolve_field(f, self.mapping, types) for f in spec.plan.stratify_by]
        filters = tuple((logs.resolve_field(f, self.mapping, types) or f, v) for f, v in spec.filters)
        source = logs.LogSource(spec.index_pattern, spec.start, spec.end, filters, self.mapping)

        drawn = sample(self.es, source, spec, kfield, group_paths, logs.resolve_field("bucket", self.mapping, types))
        counts = {"queries": len(drawn.units), "pii_dropped": drawn.dropped["pii"],
                  "garbage_dropped": drawn.dropped["garbage"], "uncovered_dropped": drawn.dropped["uncovered"],
                  "below_floor_dropped": drawn.dropped["below_floor"], "items": 0, "gold_items": 0, "identical_pairs": 0}
        # issue 12: whole queries in a random order within strata, recorded so it can be replayed
        order = order_seed(spec.plan.seed, evaluation_id)
        keys = query_order(drawn.stratum_of, order) if spec.query_complete else None
        evaluations.update_counts(self.es, self.prefix, evaluation_id, counts, strata=drawn.strata,
                                  heartbeat=clock.now_iso(), progress={"done": 0, "total": len(drawn.units)},
                                  grading_order={"kind": "query_complete" if keys is not None else "item_random",
                                                 "seed": order})
        common = {
            "evaluation_id": evaluation_id, "overlap": spec.overlap, "priority": spec.priority,
            "deadline": spec.deadline.isoformat() if spec.deadline else None,
            "needs_humans": True, "scored": False, "audit": False, "judgements": 0, "gold": False, "identical": False,
            "create_time": doc["create_time"],
        }
        locale_in_group = (spec.plan.stratify_by.index("locale") if "locale" in spec.plan.stratify_by else None)
        live = 0
        for start in range(0, len(drawn.units), CHUNK):
            chunk = drawn.units[start:start + CHUNK]
            strata = drawn.stratum_of[start:start + CHUNK]
            results = self._results(source, spec, kfield, group_paths, chunk, strata, locale_in_group)
            batch = []
            for i, q in enumerate(results):
                made = []
                if spec.pointwise:
                    made += pointwise_items(evaluation_id, q, [r.id for r in spec.rankers], common)
                if spec.side_by_side:
                    made += side_by_side_items(evaluation_id, q, [r.id for r in spec.rankers], common)
                if keys is not None:
                    for it in made:
                        it["order_key"] = float(keys[start + i])
                batch += made
            items.write(self.es, self.prefix, batch)
            live += sum(1 for it in batch if it["kind"] == "pointwise")
            counts["items"] = counts.get("items", 0) + len(batch)
            counts["identical_pairs"] += sum(1 for it in batch if it.get("identical"))
            self._check(evaluation_id, counts, {"done": start + len(chunk), "total": len(drawn.units)})

        if spec.gold_share > 0 and spec.pointwise:
            want = gold_count(live, spec.gold_share)
            locales = sorted({q for q in (u.group[locale_in_group] for u in drawn.units)} if locale_in_group is not None else set())
            picked = gold.sample(self.es, self.prefix, want, seed=spec.plan.seed, locales=locales)
            golden = gold_items(evaluation_id, picked, common)
            if keys is not None:
                # a gold query is served as a whole, at a random place in the order, like a live one
                for it in golden:
                    it["order_key"] = gold_order_key(order, it["query_norm"])
            items.write(self.es, self.prefix, golden)

        counts.update(items.counts_by(self.es, self.prefix, evaluation_id))
        evaluations.transition(self.es, self.prefix, evaluation_id, {"PRODUCING"}, "PREJUDGING",
                               fields={"counts": counts, "heartbeat": clock.now_iso(), "progress": {"done": 0, "total": 0}})
        log.info("production done", extra={"evaluation": evaluation_id, "counts": counts})

    def _results(self, source, spec: Spec, kfield, group_paths, chunk: list[Unit], strata: list[str],
                 locale_in_group) -> list[QueryResults]:
        """Each unit's lists per ranker (logged bucket or live template), cut to depth k."""
        m = self.mapping
        out = [QueryResults(u.query_norm, u.query_norm, u.group[locale_in_group] if locale_in_group is not None else "",
                            stratum, group=u.group, traffic=u.count) for u, stratum in zip(chunk, strata)]
        by_group: dict[tuple[str, ...], list[int]] = {}
        for i, u in enumerate(chunk):
            by_group.setdefault(u.group, []).append(i)
        for ranker in spec.rankers:
            if ranker.bucket is None:
                continue
            for group, idx in by_group.items():
                extra = [{"term": {m.bucket: ranker.bucket}}]
                extra += [{"term": {p: v}} for p, v in zip(group_paths, group) if v]
                latest = logs.latest_results(self.es, source, kfield, [k for i in idx for k in chunk[i].keys], extra)
                for i in idx:
                    hits = [latest[k] for k in chunk[i].keys if k in latest]
                    if not hits:
                        continue
                    newest = max(hits, key=lambda h: str(logs.get_path(h, m.timestamp) or ""))
                    q = out[i]
                    raw = logs.get_path(newest, m.query)
                    if isinstance(raw, str) and raw.strip():
                        q.query = raw.strip()
                    if not q.locale:
                        q.locale = str(logs.get_path(newest, m.locale) or "")
                    results = logs.get_path(newest, m.results) or []
                    results = sorted(results, key=lambda r: r.get(m.result_position) or 0)[: spec.depth]
                    q.lists[ranker.id] = [{
                        "doc_id": r.get(m.result_doc_id), "title": r.get(m.result_title or "", ""),
                        "snippet": r.get(m.result_snippet or "", ""), "url": r.get(m.result_url or "", ""),
                    } for r in results if r.get(m.result_doc_id) is not None]
        for ranker in spec.rankers:
            if ranker.template is None:
                continue
            t = ranker.template
            bodies = [render_json(t.source, {**t.params, "query": q.query, "locale": q.locale, "size": spec.depth})
                      for q in out]
            for body in bodies:
                body["size"] = spec.depth
            lists = documents.msearch(self.es, t.index, bodies,
                                      {"title": t.title_field, "snippet": t.snippet_field, "url": t.url_field})
            for q, docs in zip(out, lists):
                q.lists[ranker.id] = docs
        return out


def order_seed(plan_seed: int, evaluation_id: str) -> int:
    """The grading order's seed: the sample plan's seed with the evaluation's id, so two evaluations
    on the same plan are not graded in the same pattern (recorded in ``grading_order.seed``)."""
    return int(digest({"plan_seed": int(plan_seed), "evaluation": evaluation_id}, 15), 16)


def gold_order_key(seed: int, query_norm: str) -> float:
    """A gold query's order key: uniform in [0, 1) like a live query's, the same for its items."""
    return int(digest({"order": seed, "gold_query": query_norm}, 13), 16) / 16 ** 13
