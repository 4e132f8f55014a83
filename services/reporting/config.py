"""Settings of the reporting worker (consensus kept current, completion), from ``QRELAY_*`` values.

>>> ReportingConfig.from_mapping({"QRELAY_REPORTING_SECONDS": "0.5"}).interval_seconds
0.5
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from services.core.settings import POSITIVE, settings_from_env

#: QRELAY_ADAPTIVE_AUDIT: a fixed extra share, or what the verdict needs (services.reporting.adaptive)
ADAPTIVE_AUDIT_MODES = ("share", "verdict")


@dataclass(frozen=True)
class ReportingConfig:
    # Seconds between two passes of the worker over the evaluations in GRADING.
    interval_seconds: float = 10.0
    # Refit the graders' reliability model after this many new judgements, or after
    # `refit_growth` times the judgements it was fitted on, whichever is more: a refit reads
    # every judgement of the evaluation, so refits get rarer as the evaluation grows and the
    # total cost of refitting stays a small multiple of reading everything once.
    refit_every: int = 1000
    refit_growth: float = 0.25
    # Each pass re-reads the judgements submitted up to this long before the newest one it has
    # seen: a judgement becomes searchable after the index refresh (about 1 s) and replicas'
    # clocks differ; re-reading one is harmless (an item's consensus is a function of all its
    # judgements), missing one is not.
    slack_seconds: float = 60.0
    # Another replica takes over an evaluation whose worker has not beaten for this long.
    claim_seconds: float = 120.0
    # The judgement rate behind the grading ETA is measured over this window.
    rate_window_seconds: float = 600.0
    # Routing within the evaluation (services.reporting.routing): fit the pre-judgement model on
    # the evaluation's own labels once there are this many and (for an evaluation nothing
    # calibrated before) this share of its calibration sample is labelled — a grader skipping
    # an item must not hold everything up; refit after this many new labels or this share more
    # than the last fit, whichever is more; route a locale's items once it has this many labels,
    # and give a locale a model of its own from this many.
    routing_min_labels: int = 30
    routing_sample_ready: float = 0.9
    routing_refit_every: int = 25
    routing_refit_growth: float = 0.25
    routing_min_locale_labels: int = 5
    routing_min_locale_model: int = 200
    # Adaptive audit (services.reporting.adaptive, issue 12): this share of the model-settled items
    # goes to humans beyond the random audit share, spread over strata by Neyman's rule on the
    # headline difference; 0 (the default) keeps the random audit share alone — the extra share
    # is extra human work, a choice for the operator.
    adaptive_audit_share: float = 0.0
    # ``verdict``: instead of a fixed extra share, in evaluations that stop early, as many checks per
    # stratum as bring the anytime-valid decision after the fewest human judgements
    # (services.reporting.adaptive); ``share``: the above.
    adaptive_audit: str = "share"

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> "ReportingConfig":
        return settings_from_env(cls, env, _ENV)


# field -> (variable, check, what the check wants)
_ENV = {
    "interval_seconds": ("QRELAY_REPORTING_SECONDS", *POSITIVE),
    "refit_every": ("QRELAY_CONSENSUS_REFIT_EVERY", *POSITIVE),
    "refit_growth": ("QRELAY_CONSENSUS_REFIT_GROWTH", *POSITIVE),
    "slack_seconds": ("QRELAY_CONSENSUS_SLACK_SECONDS", *POSITIVE),
    "claim_seconds": ("QRELAY_REPORTING_CLAIM_SECONDS", *POSITIVE),
    "routing_min_labels": ("QRELAY_ROUTING_MIN_LABELS", *POSITIVE),
    "adaptive_audit_share": ("QRELAY_ADAPTIVE_AUDIT_SHARE", lambda x: 0 <= x <= 1, "must lie in [0, 1]"),
    "adaptive_audit": ("QRELAY_ADAPTIVE_AUDIT", lambda x: x in ADAPTIVE_AUDIT_MODES,
                       f"must be one of {', '.join(ADAPTIVE_AUDIT_MODES)}"),
}
