"""Encode each unique text once per model: dedupe, cache, length buckets, a pool of Ray actors.

Why plain actors (``ray.util.ActorPool``) rather than Ray Data ``map_batches``: by the time
anything is encoded the work is already a small in-memory list — the unique texts that missed the
embedding cache (tens of thousands of strings for a large evaluation, after a global dedupe that
Ray Data could only do with a shuffle). Ray Data's strengths (streaming a dataset bigger than
memory from storage, operator fusion, backpressure) do not apply, while its costs do: the
streaming executor's start-up, Arrow conversion of every batch and of 384-float vectors, and less
control over *which* batches go where. Actors give exactly what is needed: one model copy per
actor (loaded once), ``num_gpus`` per actor on GPU nodes, longest-batch-first dispatch for load
balance, each actor writing its vectors to the cache as soon as they exist (so a kill loses at
most the batches in flight), Ray's actor restart + task retry when a worker dies, and per-node
accounting.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from services.store.embedding_cache import cache_key

# --- pure parts ----------------------------------------------------------------------------


def dedupe(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """``(unique, inverse)`` with ``unique[inverse[i]] == texts[i]``, first-seen order.

    >>> dedupe(["a", "b", "a"])
    (['a', 'b'], array([0, 1, 0]))
    """
    pos: dict[str, int] = {}
    inverse = np.fromiter((pos.setdefault(t, len(pos)) for t in texts), dtype=np.int64, count=len(texts))
    return list(pos), inverse


def length_buckets(lengths: Sequence[int], batch_size: int, max_chars: int | None = None) -> list[np.ndarray]:
    """Batches of indices of similar length, longest first.

    Sorting by length puts texts of similar length together, so each batch pads little; at most
    ``batch_size`` texts and (if given) ``max_chars`` characters go in a batch, so a batch of long
    texts is smaller. Longest batches first: the slowest work starts earliest (LPT scheduling).

    >>> [b.tolist() for b in length_buckets([5, 50, 6, 49], 2)]
    [[1, 3], [2, 0]]
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    batches, cur, chars = [], [], 0
    for i in order:
        n = int(lengths[i])
        if cur and (len(cur) >= batch_size or (max_chars is not None and chars + n > max_chars)):
            batches.append(np.array(cur, dtype=np.int64))
            cur, chars = [], 0
        cur.append(int(i))
        chars += n
    if cur:
        batches.append(np.array(cur, dtype=np.int64))
    return batches


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two ``(n, d)`` arrays."""
    num = np.einsum("ij,ij->i", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


# --- the actor -----------------------------------------------------------------------------


class Encoder:
    """One model copy (bi-encoder, optionally a cross-encoder) on one worker; writes the cache."""

    def __init__(self, bi_path: str, bi_id: str, bi_version: str, cross_path: str | None, cross_id: str | None,
                 cross_version: str | None, device: str, dtype: str, threads: int, es_cfg, es_url: str, prefix: str):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import ray
        import torch
        from sentence_transformers import CrossEncoder, SentenceTransformer

        from services.store.client import connect

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cpu" and threads:
            torch.set_num_threads(threads)
        self.device = device
        self.dtype = _torch_dtype(dtype, device)
        self.bi = SentenceTransformer(bi_path, device=device, local_files_only=True)
        if self.dtype is not None:
            self.bi.to(self.dtype)
        self.cross = None
        if cross_path:
            self.cross = CrossEncoder(cross_path, device=device, local_files_only=True)
            if self.dtype is not None:
                self.cross.to(self.dtype)
        self.ids = {"bi": (bi_id, bi_version), "cross": (f"cross:{cross_id}", cross_version)}
        self.es = connect(es_cfg, es_url)
        self.prefix = prefix
        self.node_id = ray.get_runtime_context().get_node_id()
        self.counts: Counter = Counter()
        self.seconds = 0.0

    def info(self) -> dict:
        dims = getattr(self.bi, "get_embedding_dimension", None) or self.bi.get_sentence_embedding_dimension
        return {"node_id": self.node_id, "pid": os.getpid(), "device": self.device,
                "dtype": str(self.dtype or "float32"), "dims": int(dims())}

    def encode(self, batch: int, texts: list[str], batch_size: int) -> tuple[np.ndarray, dict]:
        """Embed ``texts`` (unit-normalised float32) and write them to the cache."""
        import torch

        from services.store import embedding_cache

        t = time.perf_counter()
        with torch.inference_mode():
            emb = self.bi.encode(texts, batch_size=batch_size, convert_to_tensor=True, normalize_embeddings=True,
                                 show_progress_bar=False)
        vecs = emb.float().cpu().numpy()
        self.seconds += time.perf_counter() - t
        model, version = self.ids["bi"]
        _, errors = embedding_cache.put_many(self.es, self.prefix, model, version,
                                             ((cache_key(model, s), s, v) for s, v in zip(texts, vecs)))
        self.counts["texts"] += len(texts)
        self.counts["cache_write_errors"] += len(errors)
        return vecs, {"batch": batch, "node_id": self.node_id, "n": len(texts), "errors": len(errors)}

    def score_pairs(self, batch: int, queries: list[str], docs: list[str], batch_size: int) -> tuple[np.ndarray, dict]:
        """Cross-encoder scores of (query, doc) pairs, cached as one-dimensional "vectors"."""
        from services.store import embedding_cache

        t = time.perf_counter()
        raw = np.asarray(self.cross.predict(list(zip(queries, docs)), batch_size=batch_size, show_progress_bar=False),
                         dtype=np.float64)
        if raw.ndim == 2 and raw.shape[1] > 1:  # a classifier head: P(last class), i.e. "relevant"
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            raw = e[:, -1] / e.sum(axis=1)
        scores = raw.reshape(-1).astype(np.float32)
        self.seconds += time.perf_counter() - t
        model, version = self.ids["cross"]
        texts = [pair_text(q, d) for q, d in zip(queries, docs)]
        _, errors = embedding_cache.put_many(self.es, self.prefix, model, version,
                                             ((cache_key(model, s), s, np.array([v])) for s, v in zip(texts, scores)))
        self.counts["pairs"] += len(texts)
        return scores, {"batch": batch, "node_id": self.node_id, "n": len(texts), "errors": len(errors)}

    def stats(self) -> dict:
        return {"node_id": self.node_id, "pid": os.getpid(), "seconds": self.seconds, **self.counts}


def pair_text(query: str, doc: str) -> str:
    return f"{query}\0{doc}"


def _torch_dtype(dtype: str, device: str):
    """``None`` (keep float32) on CPU; bf16 where the GPU supports it, else fp16, for ``auto``."""
    import torch

    if device == "cpu" or dtype == "fp32":
        return None
    if dtype == "fp16":
        return torch.float16
    if dtype == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


# --- the pool ------------------------------------------------------------------------------


@dataclass
class PoolSpec:
    actors: int
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    device: str = "auto"
    dtype: str = "auto"


@dataclass
class EncodeStats:
    unique: int = 0
    cache_hits: int = 0
    encoded: int = 0
    per_node: Counter = field(default_factory=Counter)
    seconds: float = 0.0


class EncoderPool:
    """``spec.actors`` :class:`Encoder` actors, spread over the nodes, restarted if a worker dies."""

    def __init__(self, spec: PoolSpec, bi, cross, es_cfg, es_url: str, prefix: str):
        import ray
        from ray.util import ActorPool

        gpus = spec.gpus_per_actor
        if gpus == 0 and spec.device in ("auto", "cuda") and ray.cluster_resources().get("GPU", 0) >= 1:
            gpus = 1.0
        device = "cuda" if gpus > 0 else ("cpu" if spec.device == "auto" else spec.device)
        cls = ray.remote(Encoder).options(
            num_cpus=spec.cpus_per_actor, num_gpus=gpus, max_restarts=2, max_task_retries=2,
            scheduling_strategy="SPREAD",
        )
        threads = max(1, int(spec.cpus_per_actor))
        self.actors = [
            cls.remote(bi.path, bi.model_id, bi.version, cross.path if cross else None,
                       cross.model_id if cross else None, cross.version if cross else None,
                       device, spec.dtype, threads, es_cfg, es_url, prefix)
            for _ in range(spec.actors)
        ]
        self.infos = ray.get([a.info.remote() for a in self.actors])  # raises if a model fails to load
        self.dims = int(self.infos[0]["dims"])
        self.pool = ActorPool(self.actors)

    def map(self, method: str, batches: list[tuple], on_result: Callable[[object, dict], None]) -> None:
        """Run ``method(*batch)`` over the pool; ``on_result(value, meta)`` as each finishes."""
        for value, meta in self.pool.map_unordered(lambda a, b: getattr(a, method).remote(*b), batches):
            on_result(value, meta)

    def stats(self) -> list[dict]:
        import ray

        return ray.get([a.stats.remote() for a in self.actors])

    def shutdown(self) -> None:
        import ray

        for a in self.actors:
            ray.kill(a)


def run_cached(
    es, prefix: str, pool: Callable[[], "EncoderPool"], method: str, model_id: str, model_version: str,
    texts: list[str], dims: int | None, batch_size: int, payload: Callable[[np.ndarray], tuple] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, EncodeStats]:
    """Vectors for ``texts`` (already unique) under ``model_id``: cache hits first, the misses
    through ``pool().method`` in length buckets (each actor writes what it computed to the cache).

    ``pool`` is called only when something missed, so a fully cached run starts no actor and loads
    no model. ``dims`` (``None``: from the cache, else from the pool's model). ``payload(indices)``
    builds the actor call's arguments for a bucket (default: the texts).
    """
    from services.store import embedding_cache

    t = time.perf_counter()
    stats = EncodeStats(unique=len(texts))
    keys = [cache_key(model_id, s) for s in texts]
    cached = embedding_cache.get_many(es, prefix, model_id, model_version, keys)
    if dims is None and cached:
        dims = Counter(v.size for v in cached.values()).most_common(1)[0][0]
    miss = [i for i, k in enumerate(keys) if k not in cached or cached[k].size != dims]
    actors = pool() if miss else None
    if dims is None:
        dims = actors.dims if actors is not None else 0
    out = np.zeros((len(texts), dims), dtype=np.float32)
    for i, k in enumerate(keys):
        v = cached.get(k)
        if v is not None and v.size == dims:
            out[i] = v
    stats.cache_hits = len(texts) - len(miss)
    if progress:
        progress(stats.cache_hits, len(texts))
    if miss:
        miss_arr = np.asarray(miss, dtype=np.int64)
        buckets = [miss_arr[b] for b in length_buckets([len(texts[i]) for i in miss], batch_size,
                                                        max_chars=batch_size * 160)]
        make = payload or (lambda idx: ([texts[i] for i in idx],))
        calls = [(n, *make(idx), batch_size) for n, idx in enumerate(buckets)]
        done = 0

        def take(vecs: np.ndarray, meta: dict) -> None:
            nonlocal done
            idx = buckets[meta["batch"]]
            out[idx] = np.asarray(vecs, dtype=np.float32).reshape(len(idx), dims)
            stats.per_node[meta["node_id"]] += meta["n"]
            done += meta["n"]
            if progress:
                progress(stats.cache_hits + done, len(texts))

        actors.map(method, calls, take)
        stats.encoded = len(miss)
    stats.seconds = time.perf_counter() - t
    return out, stats
