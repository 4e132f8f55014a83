"""What runs once an evaluation is COMPLETE: the one call site of completion hooks.

The reporting worker calls :func:`on_complete` right after the evaluation moved GRADING →
COMPLETE (with its final consensus written), and again after a crash until one call returned:
at least once, so whatever plugs in here must be idempotent (derive document ids from the
evaluation). Trends (a metric snapshot per ranker × segment × measure) and alerts (the
regression check against the series' trailing baseline, webhook delivery in the background)
plug in here.
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from services.reporting import trends


def on_complete(es: Elasticsearch, prefix: str, evaluation_id: str) -> None:
    """Run the completion hooks of one evaluation: its metric snapshots, then the regression
    check against its series (idempotent: snapshot and alert ids derive from the evaluation)."""
    trends.on_complete(es, prefix, evaluation_id)
