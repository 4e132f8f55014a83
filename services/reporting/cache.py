"""Label sets and computed answers kept in memory, keyed by the label-set version.

A report needs every consensus document of its evaluation; reading them is the cold cost.
The version of a label set is a digest of what changes whenever any label changes (one small
aggregation, :func:`services.store.consensus.state`), so a warm report reads that aggregation
and no document, and answers computed from a label set (comparisons run randomisation tests)
are kept under the same version. A new label changes the version; the old entries age out
(least recently used first). One server process holds one cache; replicas each hold theirs.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any, Callable

from elasticsearch import Elasticsearch

from services.reporting import labels
from services.reporting.scope import Evaluation
from services.store import consensus


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


class LabelCache:
    """:class:`~services.reporting.labels.LabelSet` per evaluation and version, and answers per
    version and request."""

    def __init__(self, es: Elasticsearch, prefix: str, label_sets: int = 8, answers: int = 256):
        self.es, self.prefix = es, prefix
        self._sets = _LRU(label_sets)
        self._answers = _LRU(answers)
        self._loading: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def version(self, ev: Evaluation) -> tuple[str, dict]:
        """The label-set version (a digest) and the state it digests."""
        state = consensus.state(self.es, self.prefix, ev.evaluation_id)
        shape = [ev.rankers, ev.strata_keys]
        digest = hashlib.sha256(json.dumps([state, shape], sort_keys=True, default=str).encode()).hexdigest()
        return digest[:16], state

    def label_set(self, ev: Evaluation) -> tuple[labels.LabelSet, str, dict]:
        """``(label set, version, state)``; read from Elasticsearch only when the version is new."""
        version, state = self.version(ev)
        key = (ev.evaluation_id, version)
        found = self._sets.get(key)
        if found is not None:
            return found, version, state
        with self._guard:
            lock = self._loading.setdefault(ev.evaluation_id, threading.Lock())
        with lock:  # one cold read per evaluation at a time; the others wait for it
            found = self._sets.get(key)
            if found is None:
                found = labels.load(self.es, self.prefix, ev.evaluation_id, ev.rankers, ev.strata_keys)
                routing = ev.doc.get("automation") or {}
                found.audit_share = routing.get("audit_share")
                found.threshold = routing.get("threshold")
                self._sets.put(key, found)
        return found, version, state

    def relabelled(self, ev: Evaluation, source: Evaluation) -> tuple[labels.LabelSet, str, dict]:
        """``ev``'s pooled items with ``source``'s labels (:func:`labels.relabel`); the version names both."""
        base, v_base, _ = self.label_set(ev)
        other, v_source, state = self.label_set(source)
        version = hashlib.sha256(f"{v_base}\x1f{source.evaluation_id}\x1f{v_source}".encode()).hexdigest()[:16]
        key = (ev.evaluation_id, "relabel", source.evaluation_id, version)
        found = self._sets.get(key)
        if found is None:
            found = labels.relabel(base, other)
            self._sets.put(key, found)
        return found, version, state

    def answer(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``key`` (which must include the version)."""
        found = self._answers.get(key)
        if found is None:
            found = compute()
            self._answers.put(key, found)
        return found
