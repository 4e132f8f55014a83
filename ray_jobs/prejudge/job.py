"""The pre-judgement job: read items, embed unique texts, score, calibrate, route, write back.

Runs under ``ray job submit`` (the driver joins the cluster named by ``RAY_ADDRESS``) and locally
(``qrelay prejudge`` or ``python -m ray_jobs.prejudge``: joins a running local Ray or starts one).

Phases, each safe to repeat (so a killed run is finished by running it again):

1. check: the evaluation exists and is PREJUDGING (or GRADING with a stream an earlier run left
   unfinished: the run resumes it), the models resolve offline, every item has text — nothing is
   written before these pass;
2. read: the items by sliced PIT readers, every text interned once; the human labels too;
3. order: whole queries in *waves*, in the order graders are served (priority, then the query's
   order key), the calibration sample in the first (:mod:`ray_jobs.prejudge.stream`);
4. signals that need no embedding, once: BM25 from Elasticsearch, a click model fitted on the
   evaluation's logs, the rankers' ranks (:mod:`ray_jobs.prejudge.signals`);
5. per wave: encode — cache lookup by (model, text hash); the misses go in length buckets to the
   actor pool, and each actor writes its vectors to the cache at once (a rerun recomputes
   nothing cached) — then cosine (or the cross-encoder's score) and interaction components.
   The first wave also encodes the labels and calibrates: a learned model of the grade on the
   signals, fitted on the programme's human labels (:func:`evaluators.relevance_model.fit_learned`)
   for every locale with enough of them, the cosine-only prior (which never auto-judges) for
   the others. Then route + write: confident items are auto-judged (an audit share still goes to
   humans); in locales nobody has labelled yet, a stratified random *calibration sample* goes to
   graders first (raised priority), so that the reporting worker can fit the model within the
   evaluation and route the rest (:mod:`services.reporting.routing`); every pointwise item keeps
   its signals with its pre-judgement, so the server re-scores it without Ray. Bulk partial
   updates by item id (rewrites, never duplicates), each item marked ``scored``.

Streamed pre-judgement (the default): after the first wave the evaluation moves PREJUDGING →
GRADING with the automation report, so graders start on the first queries while the rest are
encoded; graders are never served an item before its wave is written (``scored``), and the
waves follow their order. The stream ends early when the evaluation's question is answered
(early stop: the queries not yet scored are not needed), or it is cancelled or complete.
``stream=False`` scores everything as one wave before grading opens.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from evaluators import features as F
from evaluators.automation import Routing, automation_by_locale, calibration_sample, route, sample_size
from evaluators.calibration import PRIOR_CONFIDENCE_CAP, predict_preference
from evaluators.lineage import digest
from evaluators.relevance_model import LEARNERS, LearnedCalibration, fit_learned
from ray_jobs.prejudge import models, signals, stream
from ray_jobs.prejudge.calibrate import calibrate, gather_labels
from ray_jobs.prejudge.encode import EncoderPool, PoolSpec, pair_text, run_cached
from ray_jobs.prejudge.read import read_items
from services.core import clock
from services.core.errors import FailedPrecondition, Unavailable
from services.core.logmapping import LogFieldMapping
from services.store import evaluations
from services.store import prejudgements as store

FROM_STATE, TO_STATE = "PREJUDGING", "GRADING"
# Where a locale's calibration came from (Evaluation.automation.calibration.source).
PRIOR, EARLIER, WITHIN = "prior", "earlier_evaluations", "within_evaluation"
DEFAULT_PRIORITY = 50  # EvaluationSpec.priority when unset


class RayUnavailable(Unavailable):
    """The Ray cluster cannot be reached."""


class EmptyTexts(FailedPrecondition):
    """Some items have no query or no document text."""


class ModelNotLoadable(FailedPrecondition):
    """A configured model cannot be loaded offline."""


@dataclass(frozen=True)
class PrejudgeConfig:
    """Everything the job needs besides Elasticsearch; built once by the entry point."""

    evaluation_id: str
    model: str | None = None  # None: the packaged all-MiniLM-L6-v2
    cross_encoder: str | None = None
    threshold: float = 0.8
    audit_share: float = 0.05
    seed: int = 0
    actors: int | None = None  # None: one per CPU of the cluster (per GPU on GPU clusters), at most 8
    cpus_per_actor: float = 1.0
    batch_size: int = 64
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto (bf16/fp16 on GPU, fp32 on CPU) | fp32 | fp16 | bf16
    min_locale_labels: int = 200  # a locale's own model (cosine calibration and learned model) from this many labels
    min_pooled_labels: int = 30  # a pooled model from this many labels of the programme
    min_covered_labels: int = 30  # ... and it serves a locale with at least this many of them
    label_limit: int = 20_000
    read_slices: int = 2
    write_chunk: int = 1000
    features: str = "all"  # a key of evaluators.features.FEATURE_SETS
    learner: str = "auto"  # a key of evaluators.relevance_model.LEARNERS ("auto": the lower out-of-fold log-loss)
    log_mapping: LogFieldMapping | None = None  # None: the fixture layout
    # The calibration sample of locales nobody labelled yet: this share of their items, at least
    # sample_min and at most sample_max, gold items counted in; its items' priority is raised
    # by sample_priority_boost so graders get them first.
    sample_share: float = 0.15
    sample_min: int = 60
    sample_max: int = 400
    sample_priority_boost: int = 1
    # Streamed pre-judgement (issue 12): score whole queries in the order graders are served, a wave
    # at a time, and open grading after the first wave (ray_jobs.prejudge.stream); off: one wave.
    stream: bool = True
    first_wave_queries: int = 50
    wave_growth: float = 2.0

    def check(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise FailedPrecondition(f"threshold {self.threshold} is not in [0, 1]")
        if not 0.0 <= self.audit_share <= 1.0:
            raise FailedPrecondition(f"audit share {self.audit_share} is not in [0, 1]")
        if self.actors is not None and self.actors < 1:
            raise FailedPrecondition("actors must be at least 1")
        if self.batch_size < 1:
            raise FailedPrecondition("batch size must be at least 1")
        if self.features not in F.FEATURE_SETS:
            raise FailedPrecondition(f"feature set {self.features!r} is not one of {', '.join(F.FEATURE_SETS)}")
        if self.learner not in LEARNERS:
            raise FailedPrecondition(f"learner {self.learner!r} is not one of {', '.join(LEARNERS)}")
        if not 0.0 <= self.sample_share <= 1.0:
            raise FailedPrecondition(f"calibration sample share {self.sample_share} is not in [0, 1]")
        if self.first_wave_queries < 1:
            raise FailedPrecondition("the first wave needs at least 1 query")
        if not self.wave_growth >= 1.0:
            raise FailedPrecondition(f"wave growth {self.wave_growth} is below 1")


@dataclass
class Summary:
    evaluation_id: str
    items: int = 0
    pointwise: int = 0
    side_by_side: int = 0
    unique_texts: int = 0
    cache_hits: int = 0
    encoded: int = 0
    pair_cache_hits: int = 0
    pairs_scored: int = 0
    labels: int = 0
    auto_judged: int = 0
    audit: int = 0
    for_humans: int = 0
    calibration_sample: int = 0
    written: int = 0
    write_errors: int = 0
    waves: int = 0
    scored: int = 0
    stream_stopped: str = ""  # why the stream ended before every item was scored ("" when it did not)
    texts_per_node: dict = field(default_factory=dict)
    actors: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    state: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a concrete ``host:port`` nobody listens on (``ray.init`` would retry for minutes)."""
    import socket

    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local" and the like: ray.init resolves them
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"the Ray cluster at {address} cannot be reached ({exc.strerror or exc})") from None


def connect_ray(address: str | None = None, env: dict | None = None) -> None:
    """Join ``address`` (or ``RAY_ADDRESS``, or a running local cluster) or start a local Ray."""
    import os

    import ray

    if ray.is_initialized():
        return
    concrete = address or (env if env is not None else os.environ).get("RAY_ADDRESS")
    if concrete:
        _probe(concrete)
    try:
        ray.init(address=address, include_dashboard=False if not address else None, log_to_driver=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayUnavailable(f"the Ray cluster at {address or 'RAY_ADDRESS/local'} cannot be reached ({first})") from None


def _default_actors(cfg: PrejudgeConfig) -> int:
    import ray

    res = ray.cluster_resources()
    if cfg.device != "cpu" and res.get("GPU", 0) >= 1:
        return max(1, min(8, int(res["GPU"])))
    return max(1, min(8, int(res.get("CPU", 1) // cfg.cpus_per_actor)))


def preflight(es, prefix: str, cfg: PrejudgeConfig) -> tuple[models.ModelRef, models.ModelRef | None, bool]:
    """The checks that need neither Ray nor a model load: options, evaluation and state, model
    names; and whether the run resumes a stream an earlier run left unfinished (GRADING)."""
    cfg.check()
    ev = evaluations.get(es, prefix, cfg.evaluation_id)
    resuming = evaluations.streaming(ev)
    if ev["state"] != FROM_STATE and not resuming:
        raise FailedPrecondition(
            f"evaluations/{cfg.evaluation_id} is {ev['state']}, not {FROM_STATE}: nothing to pre-judge")
    try:
        bi = models.resolve(cfg.model)
        cross = models.resolve(cfg.cross_encoder, kind="cross-encoder") if cfg.cross_encoder else None
    except models.ModelUnavailable as exc:
        raise ModelNotLoadable(str(exc)) from None
    return bi, cross, resuming


def run(
    es, prefix: str, es_cfg, es_url: str, cfg: PrejudgeConfig, log: Callable[[str], None] = print,
) -> Summary:
    """Run the job for ``cfg.evaluation_id`` (Ray must be connected: :func:`connect_ray`)."""
    t0 = time.perf_counter()
    summary = Summary(cfg.evaluation_id)
    ev_id = cfg.evaluation_id

    # 1. check
    bi, cross, resuming = preflight(es, prefix, cfg)

    # 2. read
    t = time.perf_counter()
    items = read_items(es, prefix, ev_id, slices=cfg.read_slices)
    if items.empty:
        shown = ", ".join(items.empty[:3]) + (" …" if len(items.empty) > 3 else "")
        raise EmptyTexts(f"{len(items.empty)} item(s) of evaluations/{ev_id} have an empty query or document "
                         f"text ({shown}); fix or drop them, the evaluation stays {FROM_STATE}")
    ev = evaluations.get(es, prefix, ev_id)
    labels = gather_labels(es, prefix, items, cfg.label_limit, ev.get("owner_team"), ev_id)
    summary.items, summary.pointwise, summary.side_by_side = items.n, len(items.pw_id), len(items.sx_id)
    summary.unique_texts, summary.labels = len(items.texts), len(labels)
    summary.seconds["read"] = time.perf_counter() - t
    log(f"read {items.n} items ({summary.pointwise} pointwise, {summary.side_by_side} side-by-side), "
        f"{len(items.texts)} unique texts, {len(labels)} human labels")

    # 3. the order: waves of whole queries, in the order graders are served (one wave unless streaming)
    lab_loc = np.asarray(labels.locale, dtype=object)
    covered = _covered(lab_loc, cfg)
    sample, sample_p = _calibration_sample(items, covered, cfg)
    summary.calibration_sample = int(sample.sum())
    n_pw, n_sx = len(items.pw_id), len(items.sx_id)
    waves = stream.plan(
        [(q, loc, st) for q, loc, st in zip(items.pw_query_norm, items.pw_locale, items.pw_stratum)]
        + [(q, loc, st) for q, loc, st in zip(items.sx_query_norm, items.sx_locale, items.sx_stratum)],
        np.r_[items.arrays("pw_priority"), items.arrays("sx_priority")],
        np.r_[items.arrays("pw_order"), items.arrays("sx_order")].astype(float),
        np.r_[sample, np.zeros(n_sx, bool)], cfg.first_wave_queries if cfg.stream else 0, cfg.wave_growth)
    summary.waves = len(waves)

    # 4. the signals that need no embedding (BM25, clicks, ranks), once for every row
    t = time.perf_counter()
    sig = signals.compute(es, prefix, ev, items, labels, cfg.log_mapping or LogFieldMapping(), log)
    summary.seconds["signals"] = time.perf_counter() - t

    # 5. per wave: encode (the actor pool starts only if something missed the cache), score, route, write
    spec = PoolSpec(actors=cfg.actors or _default_actors(cfg), cpus_per_actor=cfg.cpus_per_actor,
                    device=cfg.device, dtype=cfg.dtype)
    started: list[EncoderPool] = []

    def pool() -> EncoderPool:
        if not started:
            import ray

            try:
                started.append(EncoderPool(spec, bi, cross, es_cfg, es_url, prefix))
            except ray.exceptions.RayError as exc:
                raise ModelNotLoadable(f"the model could not be loaded on a Ray worker: {_cause(exc)}") from None
            log(f"started {spec.actors} encoder actor(s) on {len({i['node_id'] for i in started[0].infos})} node(s)")
        return started[0]

    last = [0.0]

    def progress(phase: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 2.0 or done == total:
                last[0] = now
                evaluations.update_counts(es, prefix, ev_id, {}, automation={"progress": {
                    "phase": phase, "done": done, "total": total}}, progress={"done": done, "total": total})
                log(f"{phase}: {done}/{total}")
        return report

    texts = items.texts.texts
    per_node: Counter = Counter()
    vecs: list[np.ndarray] = []  # one (texts, dims) array once the first texts are encoded
    have = np.zeros(len(texts), bool)

    def encode(idx: np.ndarray, report: Callable | None) -> None:
        need = np.unique(np.asarray(idx, np.int64))
        need = need[~have[need]]
        if not len(need):
            return
        v, st = run_cached(es, prefix, pool, "encode", bi.model_id, bi.version, [texts[i] for i in need], None,
                           cfg.batch_size, progress=report)
        if not vecs:
            vecs.append(np.zeros((len(texts), v.shape[1]), np.float32))
        vecs[0][need] = v
        have[need] = True
        summary.cache_hits += st.cache_hits
        summary.encoded += st.encoded
        per_node.update(st.per_node)

    def score(q: np.ndarray, d: np.ndarray, cos: np.ndarray, report: Callable | None) -> np.ndarray:
        """The model's score of rows (q, d): the cosine, or the cross-encoder's score."""
        if cross is None or not len(q):
            return cos
        vals, pst = _cross_scores(es, prefix, pool, cross, texts, q, d, cfg, report)
        summary.pair_cache_hits += pst.cache_hits
        summary.pairs_scored += pst.encoded
        per_node.update(pst.per_node)
        return vals

    q_pw, d_pw = items.arrays("pw_q").astype(np.int64), items.arrays("pw_d").astype(np.int64)
    sr_item = items.arrays("sr_item").astype(np.int64)
    q_sr = items.arrays("sx_q").astype(np.int64)[sr_item] if len(sr_item) else np.zeros(0, np.int64)
    d_sr = items.arrays("sr_d").astype(np.int64)
    q_lab, d_lab = np.asarray(labels.q, np.int64), np.asarray(labels.d, np.int64)
    gold_row = np.asarray(labels.pw_row, dtype=np.int64)
    names = F.FEATURE_SETS[cfg.features]
    pw_loc = np.asarray(items.pw_locale, dtype=object)
    sx_loc = np.asarray(items.sx_locale, dtype=object)
    all_loc = np.concatenate([pw_loc, sx_loc])
    all_ids = items.pw_item + items.sx_item
    doc_ids = items.pw_id + items.sx_id
    total = len(doc_ids)
    gold = np.concatenate([items.arrays("pw_gold").astype(bool), items.arrays("sx_gold").astype(bool)])
    ident = items.arrays("sx_identical").astype(bool) if n_sx else np.zeros(0, bool)
    identical = np.concatenate([np.zeros(n_pw, bool), ident])
    already = np.concatenate([items.arrays("pw_scored").astype(bool), items.arrays("sx_scored").astype(bool)]) \
        if total else np.zeros(0, bool)
    # what the waves fill in: scores, labels, confidences and routing of every item scored so far
    s_pw, s_sr = np.full(n_pw, np.nan), np.full(len(q_sr), np.nan)
    pw_grade, conf = np.zeros(n_pw, int), np.full(total, np.nan)
    sx_pref, sx_delta = np.zeros(n_sx), np.zeros(n_sx)
    auto, audit, needs = np.zeros(total, bool), np.zeros(total, bool), np.zeros(total, bool)
    scored = np.zeros(total, bool)
    model_id = bi.model_id + (f"+cross:{cross.model_id}" if cross else "")
    model_version = bi.version + (f"+{cross.version}" if cross else "")
    source = {str(loc): (EARLIER if loc in covered else PRIOR) for loc in set(all_loc.tolist())}
    # from the spec, not the item, so that a re-run raises it by the boost once
    base_priority = int((ev.get("spec") or {}).get("priority") or DEFAULT_PRIORITY)
    cal = learned = basis = None
    calibration_id = ""
    stopped = ""
    t_first = None

    try:
        for k, wave in enumerate(waves):
            t = time.perf_counter()
            pw_idx = wave[wave < n_pw]
            sx_idx = wave[wave >= n_pw] - n_pw
            sr_idx = np.flatnonzero(np.isin(sr_item, sx_idx))
            rows_q, rows_d = np.r_[q_pw[pw_idx], q_sr[sr_idx]], np.r_[d_pw[pw_idx], d_sr[sr_idx]]
            if k == 0:
                # the first wave also encodes what calibrates: the labels (gold items' rows among them)
                encode(np.r_[q_lab, d_lab, rows_q, rows_d], progress("encode"))
                if not vecs:
                    vecs.append(np.zeros((len(texts), 0), np.float32))
                basis = signals.basis(vecs[0], rows_q, rows_d, q_lab, d_lab)
                signals.embed(sig, "lab", np.arange(len(q_lab)), q_lab, d_lab, vecs[0], basis)
                gr = gold_row[gold_row >= 0]
                signals.embed(sig, "pw", gr, q_pw[gr], d_pw[gr], vecs[0], basis)
                s_lab = score(q_lab, d_lab, sig.lab["cosine"], progress("cross"))
                if cross is not None:  # the cross-encoder's score stands where the bi-encoder's cosine was
                    sig.lab["cosine"] = s_lab
                X_lab = sig.matrix("lab", names)
                X_lab[gold_row >= 0] = sig.matrix("pw", names)[gr]  # gold labels: the signals of the item itself
                cal = calibrate(s_lab, labels, cfg.min_locale_labels, cfg.min_pooled_labels, cfg.seed)
                if covered:
                    pair = q_lab * (len(texts) + 1) + d_lab
                    learned = fit_learned(X_lab, np.asarray(labels.grade, dtype=int), lab_loc,
                                          np.asarray(labels.random, bool), min_locale=cfg.min_locale_labels,
                                          learner=cfg.learner, seed=cfg.seed, groups=pair)
                # label lineage: which fit turned scores into labels (the cosine calibration and the learned model)
                calibration_id = digest({"cosine": cal.describe(), "learned": learned.report if learned else None,
                                         "learner": cfg.learner if learned else None, "features": list(names)})
                log(f"calibration: {len(labels)} human labels of the programme; learned model for "
                    f"{', '.join(sorted(covered)) or 'no locale'}, the prior elsewhere")
            else:
                encode(np.r_[rows_q, rows_d], None)
            signals.embed(sig, "pw", pw_idx, q_pw[pw_idx], d_pw[pw_idx], vecs[0], basis)
            signals.embed(sig, "sr", sr_idx, q_sr[sr_idx], d_sr[sr_idx], vecs[0], basis)
            s_pw[pw_idx] = score(q_pw[pw_idx], d_pw[pw_idx], sig.pw["cosine"][pw_idx], None)
            s_sr[sr_idx] = score(q_sr[sr_idx], d_sr[sr_idx], sig.sr["cosine"][sr_idx], None)
            if cross is not None:
                sig.pw["cosine"][pw_idx], sig.sr["cosine"][sr_idx] = s_pw[pw_idx], s_sr[sr_idx]

            # predict
            if len(pw_idx):
                proba = _proba(cal, learned, covered, sig.matrix("pw", names)[pw_idx], s_pw[pw_idx], pw_loc[pw_idx])
                pw_grade[pw_idx] = proba.argmax(axis=1)
                c = proba[np.arange(len(pw_idx)), pw_grade[pw_idx]]
                conf[pw_idx] = np.where(np.isin(pw_loc[pw_idx], list(covered)), c, np.minimum(c, PRIOR_CONFIDENCE_CAP))
            if len(sx_idx):
                local = np.searchsorted(sx_idx, sr_item[sr_idx])
                X_sr = sig.matrix("sr", names)[sr_idx]
                pr = _proba(cal, learned, covered, X_sr, s_sr[sr_idx], sx_loc[sr_item[sr_idx]]) if len(sr_idx) \
                    else np.zeros((0, 4))
                p, c, dl = predict_preference(local, items.arrays("sr_side")[sr_idx], items.arrays("sr_rank")[sr_idx],
                                              items.arrays("sr_doc")[sr_idx], pr, len(sx_idx))
                c = np.where(np.isin(sx_loc[sx_idx], list(covered)), c, np.minimum(c, PRIOR_CONFIDENCE_CAP))
                tie = ident[sx_idx]
                sx_pref[sx_idx], sx_delta[sx_idx] = np.where(tie, 0.0, p), np.where(tie, 0.0, dl)
                conf[n_pw + sx_idx] = np.where(tie, 1.0, c)
            r = route(conf[wave], [all_ids[i] for i in wave], cfg.threshold, cfg.audit_share, cfg.seed,
                      gold=gold[wave], identical=identical[wave])
            auto[wave], audit[wave], needs[wave] = r.auto, r.audit, r.needs_humans
            summary.seconds[f"wave {k}"] = time.perf_counter() - t

            # write, unless the evaluation moved on: cancelled, completed, or its question answered
            doc = evaluations.get(es, prefix, ev_id)
            decided = bool((doc.get("stopping") or {}).get("decided"))
            if k == 0 and not resuming:
                if doc["state"] != FROM_STATE or doc.get("cancel_requested"):
                    raise FailedPrecondition(f"evaluations/{ev_id} became {doc['state']} while pre-judging; "
                                             "nothing written")
            elif doc["state"] != TO_STATE or doc.get("cancel_requested") or decided:
                stopped = ("its question was answered (early stop): the queries not yet scored are not needed"
                           if decided else f"the evaluation is {doc['state']}"
                           + (" (cancel requested)" if doc.get("cancel_requested") else ""))
                log(f"stream stopped after {k} of {len(waves)} waves: {stopped}")
                break
            stamp = clock.now_iso()
            feats = F.assemble(sig.pw, F.ALL)[0]

            def update(i: int) -> tuple[str, dict[str, Any]]:
                pj: dict[str, Any] = {"model": model_id, "model_version": model_version, "auto": bool(auto[i]),
                                      "confidence": round(float(conf[i]), 6), "time": stamp,
                                      "calibration": source[str(all_loc[i])], "calibration_id": calibration_id}
                fields: dict[str, Any] = {"needs_humans": bool(needs[i]), "audit": bool(audit[i]),
                                          "prejudgement": pj, "scored": True}
                if auto[i] and not identical[i]:
                    fields["audit_probability"] = cfg.audit_share
                if i < n_pw:
                    pj.update(score=round(float(s_pw[i]), 6), grade=int(pw_grade[i]), preference=None,
                              features={f: (None if np.isnan(v) else round(float(v), 6)) for f, v in zip(F.ALL, feats[i])})
                    if not np.isnan(sample_p[i]):
                        fields.update(calibration_sample=bool(sample[i]), sample_probability=round(float(sample_p[i]), 6))
                    if sample[i]:
                        fields["priority"] = base_priority + cfg.sample_priority_boost
                else:
                    j = i - n_pw
                    pj.update(score=round(float(sx_delta[j]), 6), grade=None, preference=float(sx_pref[j]))
                return doc_ids[i], fields

            # a resumed run leaves what an earlier run scored alone: graders may be judging it
            todo = wave[~already[wave]]
            for start in range(0, len(todo), cfg.write_chunk):
                ok, errors = store.write(es, prefix, (update(int(i)) for i in todo[start:start + cfg.write_chunk]))
                summary.written += ok
                summary.write_errors += len(errors)
                if errors:
                    raise Unavailable(f"{len(errors)} pre-judgement writes failed (first: {_bulk_error(errors[0])}); "
                                      "run the job again to finish")
            scored[wave] = True
            store.refresh_items(es, prefix)  # before the counts say so: what they count is searchable
            more = k + 1 < len(waves)
            counts = {"prejudged": int(scored.sum()), "auto_judged": int(auto.sum()), "for_humans": int(needs.sum())}
            prog = {"phase": "stream" if more else "done", "done": int(scored.sum()), "total": total}
            if k == 0 and not resuming:
                evaluations.update_counts(es, prefix, ev_id, counts)
                automation = _automation(cfg, model_id, model_version, covered, labels, lab_loc, learned, cal,
                                         calibration_id, names, source, sig, summary, all_loc, scored, auto, audit,
                                         needs, stamp, prog)
                doc = evaluations.transition(
                    es, prefix, ev_id, [FROM_STATE], TO_STATE, fields={"automation": automation,
                                                                      "grading_start_time": clock.now_iso()},
                    reason=f"pre-judged by {model_id}: {int(auto.sum())} of {int(scored.sum())} auto-judged"
                           + (f" (first of {len(waves)} waves; the rest are scored while grading runs)" if more else ""))
                t_first = time.perf_counter() - t0
            else:
                evaluations.update_counts(es, prefix, ev_id, counts, automation={"progress": prog})
            log(f"wave {k + 1}/{len(waves)}: {len(wave)} items scored ({int(scored.sum())}/{total})"
                + (", grading open" if k == 0 else ""))
    finally:
        summary.actors = started[0].stats() if started else []
        if started:
            started[0].shutdown()
    summary.texts_per_node = dict(per_node)
    summary.seconds["to_grading"] = t_first if t_first is not None else float("nan")

    # the final automation report over everything scored (worker-kept parts — audit agreement,
    # the routing's state — are left as they are: the update merges)
    stamp = clock.now_iso()
    automation = _automation(cfg, model_id, model_version, covered, labels, lab_loc, learned, cal, calibration_id,
                             names, source, sig, summary, all_loc, scored, auto, audit, needs, stamp,
                             {"phase": "done", "done": int(scored.sum()), "total": total, "stopped": stopped})
    for key in ("audit_agreement", "routing", "calibration_sample"):
        automation.pop(key)
    for row in automation["locales"].values():
        row.pop("agreement")
    counts = {"prejudged": int(scored.sum()), "auto_judged": int(auto.sum()), "for_humans": int(needs.sum())}
    if scored.any() and (resuming or t_first is not None):
        evaluations.update_counts(es, prefix, ev_id, counts, automation=automation)
    summary.auto_judged = int(auto.sum())
    summary.audit = int(audit.sum())
    summary.for_humans = int(needs.sum())
    summary.scored = int(scored.sum())
    summary.stream_stopped = stopped
    summary.state = evaluations.get(es, prefix, ev_id)["state"]
    summary.seconds["total"] = time.perf_counter() - t0
    log(f"done: {int(scored.sum())} of {total} items scored, {summary.auto_judged} auto-judged ({summary.audit} audited), "
        f"{summary.for_humans} for humans ({summary.calibration_sample} of them the calibration sample); "
        f"evaluation is {summary.state}")
    return summary


def _automation(cfg: PrejudgeConfig, model_id: str, model_version: str, covered: set[str], labels, lab_loc, learned,
                cal, calibration_id: str, names: list[str], source: dict[str, str], sig, summary: Summary,
                all_loc: np.ndarray, scored: np.ndarray, auto: np.ndarray, audit: np.ndarray, needs: np.ndarray,
                stamp: str, progress: dict[str, Any]) -> dict[str, Any]:
    """``Evaluation.automation`` over the items scored so far (see the contract)."""
    total = len(all_loc)
    locales = automation_by_locale(list(all_loc[scored]), Routing(auto=auto[scored], audit=audit[scored],
                                                                  needs_humans=needs[scored]))
    heldout = ((learned.report if learned else cal.report) or {}).get("locales", {})
    n_lab = {str(loc): int((lab_loc == loc).sum()) for loc in set(lab_loc.tolist())}
    for loc, row in locales.items():
        row["calibration_source"] = source.get(loc, PRIOR)
        row["calibration_labels"] = n_lab.get(loc, 0) if loc in covered else 0
        row["calibration"] = heldout.get(loc) if loc in covered else None
        row["agreement"] = None  # kept current by the reporting worker while the audit share is judged
    n = int(scored.sum())
    return {
        "model": model_id, "model_version": model_version, "threshold": cfg.threshold,
        "audit_share": cfg.audit_share, "seed": cfg.seed, "items": total, "scored": n,
        "auto_judged": int(auto.sum()), "audit": int(audit.sum()), "for_humans": int(needs.sum()),
        "automation_rate": float((auto & ~audit).sum() / n) if n else 0.0,
        "locales": locales, "labels": labels.source, "calibration_id": calibration_id,
        "calibration": {
            "source": EARLIER if covered else PRIOR, "labels": int(len(labels)) if covered else 0,
            "heldout": (learned.report if learned else {}), "learner": cfg.learner, "features": list(names),
            "fit_time": stamp, "fits": 1 if learned else 0,
            "locales": {loc: {"source": source.get(loc, PRIOR), "labels": n_lab.get(loc, 0)} for loc in sorted(source)},
            "cosine": cal.describe(),
        },
        "calibration_sample": {"items": summary.calibration_sample, "labelled": 0,
                               "complete": summary.calibration_sample == 0,
                               "locales": sorted(loc for loc, src in source.items() if src == PRIOR)},
        "features": list(F.ALL), "feature_set": cfg.features, "clicks": sig.clicks,
        "routing": {"fitted_on": 0, "fits": 0, "routed": 0},
        "audit_agreement": {}, "progress": progress,
        "stream": {"waves": summary.waves, "first_wave_queries": cfg.first_wave_queries if cfg.stream else 0},
        "run": {"unique_texts": summary.unique_texts, "cache_hits": summary.cache_hits, "encoded": summary.encoded,
                "texts_per_node": summary.texts_per_node, "time": stamp},
    }


def _covered(label_locales: np.ndarray, cfg: PrejudgeConfig) -> set[str]:
    """Locales a model learned from the programme's labels may serve: enough labels in all, and
    enough of that locale's."""
    if len(label_locales) < cfg.min_pooled_labels:
        return set()
    names, counts = np.unique(label_locales.astype(str), return_counts=True) if len(label_locales) else ([], [])
    return {str(n) for n, c in zip(names, counts) if c >= cfg.min_covered_labels}


def _proba(cal, learned: LearnedCalibration | None, covered: set[str], X: np.ndarray, cosine: np.ndarray,
           locales: np.ndarray) -> np.ndarray:
    """Grade probabilities: the learned model where it covers the locale, else the cosine
    calibration (whose confidence the caller caps: the prior never auto-judges)."""
    proba = cal.predict_proba(cosine, locales)
    m = np.isin(locales, list(covered))
    if learned is not None and m.any():
        proba[m] = learned.predict_proba(X[m], locales[m])
    return proba


def _calibration_sample(items, covered: set[str], cfg: PrejudgeConfig) -> tuple[np.ndarray, np.ndarray]:
    """The calibration sample of the pointwise items in locales no learned model covers:
    stratified by the evaluation's strata, gold items counted in (they are labelled already)."""
    loc = np.asarray(items.pw_locale, dtype=object)
    gold = items.arrays("pw_gold").astype(bool)
    open_ = ~np.isin(loc, list(covered)) if len(loc) else np.zeros(0, bool)
    eligible = open_ & ~gold
    if not eligible.any():
        return np.zeros(len(loc), bool), np.full(len(loc), np.nan)
    size = sample_size(int(open_.sum()), cfg.sample_share, cfg.sample_min, cfg.sample_max) - int((open_ & gold).sum())
    strata = [st or lo for st, lo in zip(items.pw_stratum, items.pw_locale)]
    return calibration_sample(items.pw_item, strata, eligible, max(size, 0), cfg.seed)


def _cross_scores(es, prefix, pool, cross, texts, q_all, d_all, cfg, report):
    """Cross-encoder scores of every (query, doc) row, each unique pair scored once (and cached)."""
    pair_ids = q_all.astype(np.int64) * (len(texts) + 1) + d_all.astype(np.int64)
    uniq, inverse = np.unique(pair_ids, return_inverse=True)
    uq, ud = uniq // (len(texts) + 1), uniq % (len(texts) + 1)
    ptexts = [pair_text(texts[q], texts[d]) for q, d in zip(uq, ud)]
    vals, st = run_cached(
        es, prefix, pool, "score_pairs", f"cross:{cross.model_id}", cross.version, ptexts, 1, cfg.batch_size,
        payload=lambda idx: ([texts[uq[i]] for i in idx], [texts[ud[i]] for i in idx]), progress=report,
    )
    return vals[:, 0][inverse.ravel()], st


def _cause(exc: BaseException) -> str:
    text = str(exc)
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line and ("Error" in line or "error" in line):
            return line[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else type(exc).__name__


def _bulk_error(info: dict) -> str:
    op = next(iter(info.values()), {})
    err = op.get("error", {})
    return f"{op.get('_id')}: {err.get('type', '')} {err.get('reason', '')}".strip()
