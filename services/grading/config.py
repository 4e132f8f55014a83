"""Grading settings: one typed object built once from ``QRELAY_*`` values at the edge.

>>> GradingConfig.from_mapping({"QRELAY_LEASE_SECONDS": "30"}).lease_seconds
30.0
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from services.core.settings import POSITIVE, env_choice, settings_from_env
from services.grading.faults import FaultPoints

ES_PATHS = ("grouped", "direct")
DEFAULT_GUIDELINES = Path(__file__).resolve().parents[2] / "fixtures" / "guidelines"


@dataclass(frozen=True)
class GradingConfig:
    # How long a task stays leased to a grader unless extended or submitted.
    lease_seconds: float = 600.0
    # The longest a lease may run from now after an ExtendLease.
    max_lease_seconds: float = 3600.0
    # Candidate items fetched per queue search (more: fewer searches under contention).
    queue_candidates: int = 24
    # Queue searches per NextAssignment before answering "queue empty".
    queue_pages: int = 4
    # The in-process candidate pool per (evaluations, locales, kinds): items fetched per search,
    # how long one search serves, and how many items one NextAssignment tries (one multi-get).
    pool_size: int = 256
    pool_seconds: float = 1.0
    lease_candidates: int = 8
    # Grouped path: candidates whose slots one realtime read covers, and reads per NextAssignment
    # before the paged search (Elasticsearch's cost of a read grows with its documents).
    read_candidates: int = 2
    read_tries: int = 4
    # How long evaluations-in-GRADING and grader credentials are cached per server process.
    cache_seconds: float = 2.0
    credential_cache_seconds: float = 10.0
    # Markdown guideline texts, one per scale (pointwise.md, side_by_side.md).
    guidelines_dir: Path = DEFAULT_GUIDELINES
    # Gold feedback (GetMyStats) is released in blocks of this many judgements, never per task.
    gold_feedback_every: int = 20
    # The most live leases one grader may hold at once (two tabs, an API client prefetching).
    max_live_leases: int = 10
    # How often each replica appends judgements committed on their slots only (services.grading.reconcile).
    reconcile_seconds: float = 30.0
    # How the grading path talks to Elasticsearch: "grouped" (concurrent callers' single-document
    # reads and writes share one _mget/_bulk; services.store.group_commit) or "direct" (one request
    # each, as before; kept for comparison). Either way a call is answered after ES acknowledged it.
    es_path: str = "grouped"
    # Group commit: how long a lone request waits for company before it is sent alone.
    group_wait_seconds: float = 0.002
    # Group commit: requests of each kind (mget, bulk) in flight at once; what arrives meanwhile waits
    # for the next one (fewer: bigger groups, cheaper for Elasticsearch; more: less waiting).
    group_flushers: int = 2
    # Test-only: where the server dies or stalls on purpose (QRELAY_FAULT_POINTS; services.grading.faults).
    faults: FaultPoints = field(default_factory=FaultPoints)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> "GradingConfig":
        return settings_from_env(cls, env, _ENV, guidelines_dir=Path(env.get("QRELAY_GUIDELINES_DIR") or DEFAULT_GUIDELINES),
                                 es_path=env_choice(env, "QRELAY_GRADING_ES_PATH", cls.es_path, ES_PATHS),
                                 faults=FaultPoints.parse(env.get("QRELAY_FAULT_POINTS") or ""))


# field -> (variable, check, what the check wants)
_ENV = {
    "lease_seconds": ("QRELAY_LEASE_SECONDS", *POSITIVE),
    "max_lease_seconds": ("QRELAY_LEASE_MAX_SECONDS", *POSITIVE),
    "queue_candidates": ("QRELAY_QUEUE_CANDIDATES", *POSITIVE),
    "pool_size": ("QRELAY_QUEUE_POOL_SIZE", *POSITIVE),
    "pool_seconds": ("QRELAY_QUEUE_POOL_SECONDS", *POSITIVE),
    "lease_candidates": ("QRELAY_LEASE_CANDIDATES", *POSITIVE),
    "read_candidates": ("QRELAY_READ_CANDIDATES", *POSITIVE),
    "read_tries": ("QRELAY_READ_TRIES", *POSITIVE),
    "cache_seconds": ("QRELAY_GRADING_CACHE_SECONDS", *POSITIVE),
    "credential_cache_seconds": ("QRELAY_CREDENTIAL_CACHE_SECONDS", *POSITIVE),
    "gold_feedback_every": ("QRELAY_GOLD_FEEDBACK_EVERY", *POSITIVE),
    "max_live_leases": ("QRELAY_MAX_LIVE_LEASES", *POSITIVE),
    "reconcile_seconds": ("QRELAY_RECONCILE_SECONDS", *POSITIVE),
    "group_wait_seconds": ("QRELAY_GROUP_WAIT_SECONDS", *POSITIVE),
    "group_flushers": ("QRELAY_GROUP_FLUSHERS", *POSITIVE),
}
