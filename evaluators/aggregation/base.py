"""Shared face of the label aggregators (after crowd-kit's ``BaseClassificationAggregator``).

Every aggregator is constructed with its hyper-parameters, then

* ``fit(data, gold=None)`` → ``self``
* ``fit_predict(data, gold=None)`` → ``labels_`` (one label per item, aligned with ``items_``)
* ``fit_predict_proba(data, gold=None)`` → ``probas_`` (``items x classes``, columns ``classes_``)

and keeps its fitted state in trailing-underscore attributes: ``items_``,
``classes_``, ``labels_``, ``probas_``, ``confidence_`` (posterior of the chosen
label), ``workers_``, ``skills_`` (per-worker reliability in [0, 1]) and, where the
model has them, ``priors_`` and ``errors_``. The EM models also keep ``guard_``
(a :class:`.guard.GuardReport`: how far their labels moved from majority vote, and
whether they fell back to it), ``converged_`` and ``n_iter_``.

``data`` is an :class:`Annotations` or anything with ``data["item"]``,
``data["worker"]``, ``data["label"]`` columns (a dict of arrays, a pandas frame),
or a 3-tuple ``(item, worker, label)``. Ids may be any hashable values; they are
encoded once with ``np.unique``. ``gold`` maps item → known label; those items are
clamped to it during fitting (gold items absent from ``data`` are ignored).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import guard


def _encode(values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    if values.dtype == object:
        try:
            ids, codes = np.unique(values, return_inverse=True)
        except TypeError:
            # Mixed, unorderable ids: encode in order of first appearance.
            lookup: dict = {}
            codes = np.fromiter((lookup.setdefault(v, len(lookup)) for v in values.tolist()),
                                dtype=np.intp, count=values.size)
            ids = np.empty(len(lookup), dtype=object)
            ids[:] = list(lookup)
            return ids, codes
    else:
        ids, codes = np.unique(values, return_inverse=True)
    return ids, codes.ravel().astype(np.intp, copy=False)


def _column(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D column, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    if arr.dtype == object and any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in arr.tolist()):
        raise ValueError(f"{name} contains missing values (None/NaN)")
    return arr


@dataclass(frozen=True, eq=False)
class Annotations:
    """Judgements as integer-coded columns: observation ``k`` is ``worker[k]`` giving ``item[k]`` the label ``classes[label[k]]``."""

    item: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    items: np.ndarray  # item ids, sorted
    workers: np.ndarray  # worker ids, sorted
    classes: np.ndarray  # label values, sorted

    @classmethod
    def from_columns(cls, item, worker, label, *, classes=None) -> "Annotations":
        """Encode raw columns. ``classes`` fixes the label domain (e.g. all grades 0..3 even if one is unused)."""
        item = _column(item, "item")
        worker = _column(worker, "worker")
        label = _column(label, "label")
        if not (item.size == worker.size == label.size):
            raise ValueError(f"item, worker and label columns differ in length: {item.size}, {worker.size}, {label.size}")
        if item.size == 0:
            raise ValueError("no annotations: the table is empty")
        items, ic = _encode(item, "item")
        workers, wc = _encode(worker, "worker")
        if classes is None:
            classes, lc = _encode(label, "label")
        else:
            classes = np.unique(_column(classes, "classes"))
            try:
                lc = np.searchsorted(classes, label)
                ok = (lc < classes.size) & (classes[np.minimum(lc, classes.size - 1)] == label)
            except TypeError as exc:
                raise ValueError(f"labels are not comparable with classes: {exc}") from None
            if not ok.all():
                raise ValueError(f"label {label[~ok][0]!r} is not one of the classes {classes.tolist()}")
            lc = lc.astype(np.intp)
        return cls(item=ic, worker=wc, label=lc, items=items, workers=workers, classes=classes)

    @property
    def n_items(self) -> int:
        return int(self.items.size)

    @property
    def n_workers(self) -> int:
        return int(self.workers.size)

    @property
    def n_classes(self) -> int:
        return int(self.classes.size)

    def __len__(self) -> int:
        return int(self.item.size)

    def numeric_classes(self) -> np.ndarray:
        """Class values as floats, for models that use grade distances; ValueError when labels are not numbers."""
        if self.classes.dtype.kind not in "iuf":
            try:
                values = self.classes.astype(float)
            except (TypeError, ValueError):
                raise ValueError("graded models need numeric labels (grades), got non-numeric labels") from None
        else:
            values = self.classes.astype(float)
        if not np.isfinite(values).all():
            raise ValueError("grades must be finite numbers")
        return values

    def encode_gold(self, gold) -> tuple[np.ndarray, np.ndarray]:
        """``gold`` (mapping item → label, or a pair of arrays) → (item codes, class codes), items absent from the data dropped."""
        if gold is None:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        if isinstance(gold, Mapping):
            g_items = np.asarray(list(gold.keys()))
            g_labels = np.asarray(list(gold.values()))
        else:
            try:
                g_items, g_labels = (np.asarray(c) for c in gold)
            except (TypeError, ValueError):
                raise ValueError("gold must be a mapping item -> label or a pair (items, labels)") from None
            if g_items.shape != g_labels.shape or g_items.ndim != 1:
                raise ValueError("gold items and labels must be 1-D of equal length")
        if g_items.size == 0:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        g_labels = _column(g_labels, "gold label")
        item_code = _lookup(self.items, g_items)
        keep = item_code >= 0
        class_code = _lookup(self.classes, g_labels[keep])
        if (class_code < 0).any():
            bad = g_labels[keep][class_code < 0][0]
            raise ValueError(f"gold label {bad!r} is not one of the classes {self.classes.tolist()}")
        return item_code[keep], class_code


def _lookup(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Positions of ``values`` in ``sorted_ids`` (np.unique output), -1 where absent."""
    if sorted_ids.dtype == object or values.dtype == object:
        index = {v: i for i, v in enumerate(sorted_ids.tolist())}
        return np.fromiter((index.get(v, -1) for v in values.tolist()), dtype=np.intp, count=values.size)
    try:
        pos = np.searchsorted(sorted_ids, values)
    except TypeError:
        index = {v: i for i, v in enumerate(sorted_ids.tolist())}
        return np.fromiter((index.get(v, -1) for v in values.tolist()), dtype=np.intp, count=values.size)
    pos = np.minimum(pos, sorted_ids.size - 1)
    found = sorted_ids[pos] == values
    return np.where(found, pos, -1).astype(np.intp)


def as_annotations(data, classes=None) -> Annotations:
    """Accept an :class:`Annotations`, a column mapping/frame with item/worker/label, or a 3-tuple."""
    if isinstance(data, Annotations):
        return data
    if isinstance(data, tuple) and len(data) == 3:
        return Annotations.from_columns(*data, classes=classes)
    try:
        columns = (data["item"], data["worker"], data["label"])
    except (KeyError, TypeError, IndexError, ValueError):
        raise ValueError("data must be Annotations, a table with 'item', 'worker' and 'label' columns, "
                         "or a tuple (item, worker, label)") from None
    return Annotations.from_columns(*(np.asarray(c) for c in columns), classes=classes)


class BaseAggregator:
    """Base of the classification aggregators; subclasses implement :meth:`_fit`."""

    classes: object = None  # optional fixed label domain

    def fit(self, data, gold=None):
        """Fit on ``data`` (see module doc); ``gold`` maps item → known label. Returns ``self``."""
        ann = as_annotations(data, classes=getattr(self, "classes", None))
        g_items, g_classes = ann.encode_gold(gold)
        probas, skills, extra = self._fit(ann, g_items, g_classes)
        mode = getattr(self, "guard", None)
        if mode is not None:  # the EM models; "off" still reports, silently
            probas, extra["guard_"] = guard.guard(vote_counts(ann), probas, mode=mode,
                                                  max_shift=self.max_shift, name=type(self).__name__,
                                                  reference=guard.gold_shares(g_classes, ann.n_classes))
        if g_items.size:
            probas[g_items] = 0.0
            probas[g_items, g_classes] = 1.0
        self.items_ = ann.items
        self.classes_ = ann.classes
        self.workers_ = ann.workers
        self.probas_ = probas
        best = probas.argmax(axis=1)  # ties: the lowest class
        self.labels_ = ann.classes[best]
        self.confidence_ = probas[np.arange(probas.shape[0]), best]
        self.skills_ = skills
        for name, value in extra.items():
            setattr(self, name, value)
        return self

    def fit_predict(self, data, gold=None) -> np.ndarray:
        """Fit and return ``labels_`` (aligned with ``items_``)."""
        return self.fit(data, gold).labels_

    def fit_predict_proba(self, data, gold=None) -> np.ndarray:
        """Fit and return ``probas_`` (rows aligned with ``items_``, columns with ``classes_``)."""
        return self.fit(data, gold).probas_

    def _fit(self, ann: Annotations, gold_items: np.ndarray, gold_classes: np.ndarray):
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"


def check_em_params(n_iter, tol, guard_mode="fallback", max_shift=0.25, **non_negative) -> None:
    """Validate the hyper-parameters every EM aggregator shares (ValueError naming the bad one)."""
    guard.check_mode(guard_mode, max_shift)
    if isinstance(n_iter, bool) or int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    if not (tol >= 0):
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    for name, value in non_negative.items():
        if not (value >= 0):
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def vote_counts(ann: Annotations, weights=None) -> np.ndarray:
    """``(items, classes)`` matrix of (weighted) votes."""
    k = ann.n_classes
    return np.bincount(ann.item * k + ann.label, weights=weights,
                       minlength=ann.n_items * k).reshape(ann.n_items, k).astype(float)


def agreement_skills(ann: Annotations, labels_code: np.ndarray) -> np.ndarray:
    """Per worker: share of their labels equal to the aggregated label."""
    hits = np.bincount(ann.worker, weights=(ann.label == labels_code[ann.item]).astype(float),
                       minlength=ann.n_workers)
    return hits / np.bincount(ann.worker, minlength=ann.n_workers)
