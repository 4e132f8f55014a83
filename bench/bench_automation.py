"""Automation from a team's first evaluation, and whether it earns its share, on the fixture.

    .venv/bin/python bench/bench_automation.py [--events 200000] [--queries 60] [--graders 12]
        [--rate 5] [--threshold 0.7] [--audit-share 0.1] [--learner auto] [--seed 7]

Everything through the public path, as a new team would: fixture search logs (noisy clicks) are
loaded into Elasticsearch (``QRELAY_ES_URL``, else a throw-away local node); a real ``qrelay
serve`` takes a CreateEvaluation over gRPC (pointwise + side by side, overlap 2 so that humans'
agreement with each other can be measured); the pre-judgement job runs on a local Ray with the
packaged model (no earlier labels: it auto-judges nothing and sends a calibration sample first);
simulated graders — created with OperationsService, each with their own error rate and leaning,
answering from the fixture's hidden grades — lease and submit over gRPC at ``--rate`` judgements
per second (100 graders at 20 s a judgement is 5/s), while the server's reporting worker fits the
model within the evaluation and routes; until the evaluation is COMPLETE.

Printed (one run, load average beside it):

1. the run: items, the calibration sample, human judgements, what the routing used;
2. the live result at ``--threshold`` per locale: share of items auto-judged, model–human and
   human–human Krippendorff's alpha (ordinal) on the judged audit share — the model against each
   of the two graders of an audited item, the two graders against each other, on the same items;
3. the automation–agreement curve per locale as the threshold moves, for the cosine-only
   calibration (the pre-judgement before this work), the learned model without click signals and
   with them: a model fitted on the calibration sample's judgements (what the worker's first fit
   sees) routes every other item; at each threshold, the share auto-judged and the alphas on the
   auto-judged items against two simulated graders each (the audit share's expectation: every
   auto-judged item audited). The goal holds where model–human alpha >= human–human alpha; the
   largest share where it holds is marked. Beside them: the click signals alone (they must not
   be an oracle); alpha with the hidden grades in the model's place on the same items (on items
   nearly all of one grade alpha falls for any label that never varies — there even a perfect
   model fails the alpha test); the ordinal disagreement |model − grader| against |grader −
   grader|; and a row 'rule' — the threshold fixed without looking at the audit, per locale the
   lowest one whose auto-judged items' mean confidence reaches the graders' exact agreement on the
   calibration sample (evaluators.automation.agreement_threshold). A summary table gives, per
   locale and model, the largest share on the curve and the share under the rule;
4. calibration on held-out items: reliability diagram and ECE of the learned model against the
   simulated graders on the items it was not fitted on;
5. learners side by side on the same split (logistic, scikit-learn's GBM, LightGBM if importable).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from evaluators import features as F  # noqa: E402
from evaluators.automation import agreement_threshold  # noqa: E402
from evaluators.calibration import fit_calibration  # noqa: E402
from evaluators.relevance_model import GradeModel, fit_learned, heldout_report, pair_alpha  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOKENS = {"engineer": "b-eng", "ops": "b-ops"}
START = dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc)
THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
REPLICAS = 4  # simulated grader pairs per item in the curves


# --- simulated graders -------------------------------------------------------------------------


class Graders:
    """Per-grader noise: grader ``g`` errs with probability ``err[g]`` (5–30%); an error moves the
    answer by one grade, toward the grader's leaning (strict −1, lenient +1, none) three times in
    four when they have one."""

    def __init__(self, n: int, seed: int):
        rng = np.random.default_rng([seed, 0x6AD])
        self.err = rng.uniform(0.05, 0.30, n)
        self.lean = rng.choice([-1, 0, 1], n, p=[0.25, 0.5, 0.25])
        self.rng = np.random.default_rng([seed, 0x6AE])

    def answer(self, g: int, truth: int, lo: int = 0, hi: int = 3) -> int:
        if self.rng.random() >= self.err[g]:
            return truth
        step = self.lean[g] if self.lean[g] and self.rng.random() < 0.75 else int(self.rng.choice([-1, 1]))
        moved = truth + step
        return int(np.clip(moved if lo <= moved <= hi else truth - step, lo, hi))


# --- the stack ---------------------------------------------------------------------------------


@contextlib.contextmanager
def elasticsearch(url: str | None):
    if url:
        yield url
        return
    from fixtures.elasticsearch.testing import running_elasticsearch

    d = tempfile.mkdtemp(prefix="bench-automation-es-")
    try:
        with running_elasticsearch(d, heap="1g") as u:
            yield u
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def server(es_url: str, prefix: str, log: pathlib.Path):
    env = {**os.environ, "QRELAY_ES_URL": es_url, "QRELAY_INDEX_PREFIX": prefix, "QRELAY_PORT": "0",
           "QRELAY_TOKENS": ",".join(f"{t}={r}-bench:{r}" for r, t in TOKENS.items()),
           "QRELAY_REPORTING_SECONDS": "1", "QRELAY_LOG_LEVEL": "WARNING"}
    out = open(log, "w+")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve"], env=env, stdout=out, stderr=out, cwd=ROOT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            out.seek(0)
            m = re.search(r"serving gRPC on (\S+):(\d+)", out.read())
            if m:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                out.seek(0)
                raise SystemExit(f"qrelay serve did not start:\n{out.read()[-3000:]}")
            time.sleep(0.2)
        yield f"{m.group(1)}:{m.group(2)}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        out.close()


def md(role: str):
    return (("authorization", f"Bearer {TOKENS[role]}"),)


def create_evaluation(channel, log_index: str, args) -> str:
    from services._proto.qrelay.v1 import common_pb2, evaluation_pb2 as ev, evaluation_pb2_grpc

    spec = ev.EvaluationSpec(
        log_source=ev.LogSource(index_pattern=log_index),
        rankers=[ev.Ranker(id="control", log_bucket=ev.LogBucket(bucket="control")),
                 ev.Ranker(id="treatment", log_bucket=ev.LogBucket(bucket="treatment"))],
        kinds=[common_pb2.POINTWISE, common_pb2.SIDE_BY_SIDE], depth=args.depth, overlap=2, owner_team="bench-team",
        sample_plan=ev.SamplePlan(size=args.queries, seed=args.seed, stratify_by=["locale"],
                                  bands=ev.FrequencyBands(traffic_share=ev.CutPoints(points=[0.5, 0.8]))))
    spec.log_source.window.start_time.FromDatetime(START)
    spec.log_source.window.end_time.FromDatetime(START + dt.timedelta(days=28))
    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    created = stub.CreateEvaluation(ev.CreateEvaluationRequest(
        evaluation=ev.Evaluation(display_name="first evaluation", spec=spec), request_id=uuid.uuid4().hex),
        metadata=md("engineer"), timeout=60)
    return created.name


def wait_state(channel, name: str, states: set[str], timeout: float):
    from services._proto.qrelay.v1 import evaluation_pb2 as ev, evaluation_pb2_grpc

    stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        e = stub.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=md("engineer"), timeout=30)
        if ev.EvaluationState.Name(e.state) in states:
            return e
        if ev.EvaluationState.Name(e.state) in ("FAILED", "CANCELLED") or time.monotonic() > deadline:
            raise SystemExit(f"{name} is {ev.EvaluationState.Name(e.state)}: {e.state_reason}")
        time.sleep(1)


def grade(channel, oracle, graders: Graders, locales: list[str], rate: float, name: str, timeout: float) -> int:
    """Simulated graders lease and submit until the evaluation completes; returns the judgements."""
    import grpc

    from services._proto.qrelay.v1 import (evaluation_pb2 as ev, evaluation_pb2_grpc, grading_pb2, grading_pb2_grpc,
                                           operations_pb2, operations_pb2_grpc)

    ops = operations_pb2_grpc.OperationsServiceStub(channel)
    stub = grading_pb2_grpc.GradingServiceStub(channel)
    evals = evaluation_pb2_grpc.EvaluationServiceStub(channel)
    creds = [ops.CreateGrader(operations_pb2.CreateGraderRequest(grader=operations_pb2.Grader(
        display_name=f"sim {g}", locales=locales, skills=["pointwise", "side_by_side"])), metadata=md("ops")).credential
        for g in range(len(graders.err))]
    submitted, t0, idle_since = 0, time.monotonic(), None
    while time.monotonic() - t0 < timeout:
        busy = False
        for g, cred in enumerate(creds):
            meta = (("authorization", f"Bearer {cred}"),)
            try:
                a = stub.NextAssignment(grading_pb2.NextAssignmentRequest(), metadata=meta, timeout=30)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                continue
            busy = True
            t = a.task
            if t.WhichOneof("body") == "pointwise":
                truth = oracle.grade(t.query, t.pointwise.result.doc_id)
                req = grading_pb2.SubmitJudgementRequest(name=a.name, grade=graders.answer(g, int(truth or 0)))
            else:
                gains = [oracle.dcg(t.query, [d.doc_id for d in side]) for side in (t.side_by_side.left,
                                                                                   t.side_by_side.right)]
                truth = int(np.clip(np.round(gains[1] - gains[0]), -3, 3))
                req = grading_pb2.SubmitJudgementRequest(name=a.name, preference=graders.answer(g, truth, -3, 3))
            stub.SubmitJudgement(req, metadata=meta, timeout=30)
            submitted += 1
            lag = t0 + submitted / rate - time.monotonic()
            if lag > 0:
                time.sleep(lag)
        if not busy:
            e = evals.GetEvaluation(ev.GetEvaluationRequest(name=name), metadata=md("engineer"), timeout=30)
            if ev.EvaluationState.Name(e.state) == "COMPLETE":
                return submitted
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 60:
                raise SystemExit(f"no task for a minute and {name} is still {ev.EvaluationState.Name(e.state)}")
            time.sleep(1)
        else:
            idle_since = None
    raise SystemExit(f"grading did not finish in {timeout:.0f} s")


# --- what was stored -----------------------------------------------------------------------------


def read_back(es, prefix: str, evaluation_id: str):
    from services.store import consensus, items, judgements

    rows = list(items.of_evaluation(es, prefix, evaluation_id))
    cons = {d["item_id"]: d for d in consensus.of_evaluation(es, prefix, evaluation_id)}
    votes: dict[str, list[float]] = {}
    for j in sorted(judgements.of_evaluation(es, prefix, evaluation_id, ("item_id", "grade", "preference", "submit_time")),
                    key=lambda j: j.get("submit_time") or ""):
        v = j.get("grade") if j.get("grade") is not None else j.get("preference")
        if v is not None:
            votes.setdefault(j["item_id"], []).append(float(v))
    return rows, cons, votes


def alphas(model: np.ndarray, h1: np.ndarray, h2: np.ndarray) -> tuple[float | None, float | None]:
    """Model–human alpha (the model against each of the two graders) and human–human alpha, on
    the same items."""
    if len(model) < 2:
        return None, None
    return pair_alpha(np.r_[model, model], np.r_[h1, h2]), pair_alpha(h1, h2)


def fmt(x, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    return f"{x:.0%}" if pct else f"{x:.3f}"


# --- the report ------------------------------------------------------------------------------------


def live(rows, cons, votes, e) -> None:
    """Section 2: the run at the configured threshold."""
    print("\n## 2. live routing at the configured threshold (what the run did)\n")
    print("| locale | items | auto-judged (not audited) | of them side by side | audit judged | α model–human (audit) "
          "| α human–human (audit) | α human–human (all items with 2 grades) | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |")
    locs = sorted({r["locale"] for r in rows})
    for loc in locs + ["all"]:
        mine = [r for r in rows if loc == "all" or r["locale"] == loc]
        auto = [r for r in mine if (r.get("prejudgement") or {}).get("auto") and not r.get("audit")]
        audited = [r for r in mine if r.get("audit") and r.get("kind") == "pointwise" and len(votes.get(r["item_id"], [])) >= 2]
        m = np.array([r["prejudgement"]["grade"] for r in audited], dtype=float)
        h1 = np.array([votes[r["item_id"]][0] for r in audited])
        h2 = np.array([votes[r["item_id"]][1] for r in audited])
        a_mh, a_hh = alphas(m, h1, h2)
        both = [r for r in mine if r.get("kind") == "pointwise" and len(votes.get(r["item_id"], [])) >= 2]
        a_all = pair_alpha(np.array([votes[r["item_id"]][0] for r in both]), np.array([votes[r["item_id"]][1] for r in both]))
        goal = "—" if a_mh is None or a_hh is None else ("yes" if a_mh >= a_hh and len(auto) >= 0.5 * len(mine) else "no")
        sxs = sum(1 for r in auto if r.get("kind") == "side_by_side")
        print(f"| {loc} | {len(mine)} | {len(auto)} ({len(auto) / max(len(mine), 1):.0%}) | {sxs} | {len(audited)} | {fmt(a_mh)} | "
              f"{fmt(a_hh)} | {fmt(a_all)} | {goal} |")
    from services._proto.qrelay.v1 import evaluation_pb2 as ev

    cal = e.automation.calibration
    print(f"\nrouting calibration: {ev.CalibrationSource.Name(cal.source)}, {cal.labels} labels, held-out agreement {fmt(cal.heldout_agreement if cal.HasField('heldout_agreement') else None)} "
          f"on {cal.heldout_labels}, ECE {fmt(cal.heldout_ece if cal.HasField('heldout_ece') else None)}, {cal.fits} fits")


def curve(rows, votes, graders: Graders, truth: dict[str, int], seed: int, learner: str) -> dict:
    """Section 3: the automation–agreement curves (see the module docstring)."""
    pw = [r for r in rows if r.get("kind") == "pointwise"]
    loc = np.array([r["locale"] for r in pw], dtype=object)
    y_true = np.array([truth[r["item_id"]] for r in pw])
    sample = np.array([bool(r.get("calibration_sample")) for r in pw])
    n_items = len(rows)
    train_rows = [(i, v) for i, r in enumerate(pw) if sample[i] for v in votes.get(r["item_id"], [])]
    ti = np.array([i for i, _ in train_rows], dtype=np.int64)
    ty = np.array([int(v) for _, v in train_rows])
    rest = ~sample
    # two simulated graders per item (the same pool and noise as the run), REPLICAS times over, for
    # the audit's expectation: each replica is one more pair of units in the alphas
    rng = np.random.default_rng([seed, 0xA0D17])
    h = np.array([[[graders.answer(int(g), int(t)) for g in rng.choice(len(graders.err), 2, replace=False)]
                   for _ in range(REPLICAS)] for t in y_true], dtype=float).reshape(len(pw), REPLICAS, 2)
    cols = {k: np.array([_num((r.get("prejudgement") or {}).get("features", {}).get(k)) for r in pw]) for k in F.ALL}
    X_all = {name: F.assemble(cols, names)[0] for name, names in (*F.FEATURE_SETS.items(), ("clicks_only", F.CLICKS))}
    models = {}
    cos = X_all["all"][:, F.ALL.index("cosine")]
    cal = fit_calibration(cos[ti], ty, loc[ti], min_locale=10_000, min_pooled=1, heldout=0.0)
    models["cosine-only (ordinal calibration, before)"] = cal.predict_proba(cos, loc)
    for name, label in (("clicks_only", "learned, click signals only"), ("no_clicks", "learned, no clicks"),
                        ("all", "learned, with clicks")):
        m = fit_learned(X_all[name][ti], ty, loc[ti], None, learner=learner, seed=seed, groups=ti)
        models[label] = m.predict_proba(X_all[name], loc)
    # The graders' exact agreement with each other on the calibration sample's doubly graded items
    # is the target; per locale, the lowest threshold whose auto-judged items have a mean
    # confidence (the chance a grader gives the model's grade) at least that high
    # (evaluators.automation.agreement_threshold). It reads the calibration sample and the model's
    # predictions only — no threshold is picked by looking at the audit.
    pairs = [votes[r["item_id"]][:2] for i, r in enumerate(pw) if sample[i] and len(votes.get(r["item_id"], [])) >= 2]
    t_star = float(np.mean([a == b for a, b in pairs])) if pairs else 0.7
    print(f"\ngraders' exact agreement on the calibration sample's {len(pairs)} doubly graded items: {t_star:.3f} "
          "(the target of the agreement-matched thresholds, row 'rule')")
    out: dict = {"t_star": t_star, "summary": {}}
    locs = sorted(set(loc.tolist()))
    n_loc = {x: n_items if x == "all" else sum(1 for r in rows if r["locale"] == x) for x in locs + ["all"]}

    def cell(auto: np.ndarray, g: np.ndarray, x: str) -> dict:
        m = np.repeat(g[auto], REPLICAS).astype(float)
        h1, h2 = h[auto, :, 0].ravel(), h[auto, :, 1].ravel()
        a_mh, a_hh = alphas(m, h1, h2)
        a_pf, _ = alphas(np.repeat(y_true[auto], REPLICAS).astype(float), h1, h2)
        d_mh = float(np.abs(np.r_[m, m] - np.r_[h1, h2]).mean()) if len(m) else None
        d_hh = float(np.abs(h1 - h2).mean()) if len(m) else None
        return {"share": auto.sum() / n_loc[x], "n": int(auto.sum()), "a_mh": a_mh, "a_hh": a_hh, "a_perfect": a_pf,
                "ok": a_mh is not None and a_hh is not None and a_mh >= a_hh,
                "ok_d": d_mh is not None and d_mh <= d_hh, "d_mh": d_mh, "d_hh": d_hh}

    for label, proba in models.items():
        g = proba.argmax(axis=1)
        c = proba.max(axis=1)
        print(f"\n### {label}\n")
        print("| threshold | " + " | ".join(f"{x} auto / α m–h / α h–h / α perfect–h" for x in locs + ["all"]) + " |")
        print("| ---: | " + " | ".join(":---:" for _ in locs + ["all"]) + " |")
        best: dict[str, tuple[float, float]] = {}
        at_star: dict[str, dict] = {}
        rule = np.zeros(len(pw), bool)
        t_rule = {}
        for x in locs:
            mine = rest & (loc == x)
            t_rule[x] = agreement_threshold(c[mine], t_star)
            rule |= mine & (c >= (t_rule[x] if t_rule[x] is not None else np.inf))
        for t in [*THRESHOLDS, None]:
            cells = []
            for x in locs + ["all"]:
                inloc = np.ones(len(pw), bool) if x == "all" else loc == x
                k = cell(rest & inloc & (rule if t is None else c >= t), g, x)
                if t is None:
                    at_star[x] = {**k, "t": t_rule.get(x)}
                elif k["ok"] and k["share"] > best.get(x, (0, 0))[0]:
                    best[x] = (k["share"], t)
                cells.append(f"{k['share']:.0%} / {fmt(k['a_mh'])} / {fmt(k['a_hh'])} / {fmt(k['a_perfect'])}"
                             f"{' ✓' if k['ok'] else ''}{' d' if k['ok_d'] else ''}")
            print(f"| {'rule' if t is None else f'{t:.2f}'} | " + " | ".join(cells) + " |")
        print("\nrule thresholds: " + ", ".join(f"{x} {fmt(t_rule[x])}" for x in locs))
        print("\ngoal point (largest share auto-judged with α model–human ≥ α human–human, thresholds 0.50–0.95): " + "; ".join(
            f"{x} {best[x][0]:.0%} at {best[x][1]:.2f}" if x in best else f"{x} none" for x in locs + ["all"]))
        out["summary"][label] = {"best": best, "t_star": at_star}
    print("\n✓: α model–human ≥ α human–human on the same items; d: mean |model − grader| ≤ mean |grader − grader| "
          "(ordinal disagreement, which does not depend on how varied the items are). α perfect–h: the hidden grades "
          "in the model's place on the same items — on items nearly all of one grade α falls for any label that "
          "never varies, so where α perfect–h < α human–human the α test cannot be passed even by a perfect model.")
    summary(out, locs)
    out.update({"models": models, "h": h, "rest": rest, "y_true": y_true, "ti": ti, "ty": ty, "loc": loc,
                "X": X_all["all"]})
    return out


def summary(out: dict, locs: list[str]) -> None:
    """The figure the issue asks for, per locale and model."""
    print(f"\n### the figure: share of items auto-judged where α model–human ≥ α human–human on the audit share "
          f"(expectation), per locale\n")
    print("| model | " + " | ".join(locs + ["all"]) + " |\n| --- | " + " | ".join("---:" for _ in locs + ["all"]) + " |")
    for label, s in out["summary"].items():
        best = s["best"]
        print(f"| {label}: largest share on the curve | " + " | ".join(
            f"{best[x][0]:.0%} @ {best[x][1]:.2f}" if x in best else "none" for x in locs + ["all"]) + " |")
        print(f"| {label}: agreement-matched rule (α m–h / α h–h) | " + " | ".join(
            f"{k['share']:.0%} ({fmt(k['a_mh'])} / {fmt(k['a_hh'])}){' ✓' if k['ok'] else ' ✗'}"
            for k in (s["t_star"][x] for x in locs + ["all"])) + " |")


def reliability(data: dict) -> None:
    """Section 4."""
    print("\n## 4. calibration of the learned model (with clicks) on the items it was not fitted on\n")
    proba = data["models"]["learned, with clicks"][data["rest"]]
    human = data["h"][data["rest"], 0, 0].astype(int)
    r = heldout_report(proba, human)
    print("| confidence bin | items | mean confidence | agreement with a grader |\n| --- | ---: | ---: | ---: |")
    for lo, n, conf, acc in r.reliability:
        print(f"| {lo:.1f}–{lo + 0.1:.1f} | {int(n)} | {conf:.3f} | {acc:.3f} |")
    print(f"\nECE {r.ece:.3f} over {r.n} items (against one simulated grader each; against the hidden grades: "
          f"{heldout_report(proba, data['y_true'][data['rest']]).ece:.3f})")


def learners(data: dict, seed: int) -> None:
    """Section 5."""
    print("\n## 5. learners on the same split (fitted on the calibration sample's judgements, all signals)\n")
    X = np.concatenate([data["X"], F.locale_columns(data["loc"], sorted(set(data["loc"].tolist())))], axis=1)
    ti, ty, rest, human = data["ti"], data["ty"], data["rest"], data["h"][:, 0, 0].astype(int)
    print("| learner | accuracy vs a grader | log-loss | ECE | fit ms (5-fold temperature + final) |\n| --- | ---: | ---: | ---: | ---: |")
    for name in ("logistic", "gbm", "auto"):
        t = time.perf_counter()
        m = GradeModel(name, seed=seed).fit(X[ti], ty, groups=ti)
        ms = (time.perf_counter() - t) * 1000
        p = m.predict_proba(X[rest])
        _learner_row({"gbm": "gbm (scikit-learn)", "auto": f"auto (chose {m.chosen_})"}.get(name, name), p, human[rest], ms)
    try:
        import lightgbm
    except ImportError:
        print("| LightGBM | not installed (PYTHONPATH to a lightgbm install to compare) | | | |")
        return
    t = time.perf_counter()
    clf = lightgbm.LGBMClassifier(max_depth=3, num_leaves=8, learning_rate=0.08, n_estimators=150, reg_lambda=1.0,
                                  min_child_samples=10, verbose=-1, n_jobs=1, random_state=seed).fit(X[ti], ty)
    ms = (time.perf_counter() - t) * 1000
    p = np.full((int(rest.sum()), 4), 1e-9)
    p[:, clf.classes_] = clf.predict_proba(X[rest])
    _learner_row(f"LightGBM {lightgbm.__version__} (uncalibrated, one fit)", p / p.sum(axis=1, keepdims=True), human[rest], ms)


def _learner_row(name: str, p: np.ndarray, y: np.ndarray, ms: float) -> None:
    r = heldout_report(p, y)
    ll = float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-9, 1)).mean())
    print(f"| {name} | {r.accuracy:.3f} | {ll:.3f} | {r.ece:.3f} | {ms:.0f} |")


def _num(v) -> float:
    return np.nan if v is None else float(v)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000, help="fixture search-log events to load")
    p.add_argument("--queries", type=int, default=60, help="queries the evaluation samples")
    p.add_argument("--depth", type=int, default=5, help="top-k of each ranker pooled")
    p.add_argument("--graders", type=int, default=12)
    p.add_argument("--rate", type=float, default=5.0, help="judgements per second, all graders together")
    p.add_argument("--threshold", type=float, default=0.7,
                   help="the job's (and the routing's) confidence threshold: the learned model's confidence is the "
                        "chance that a grader gives its grade, so about the graders' agreement with each other")
    p.add_argument("--audit-share", type=float, default=0.1)
    p.add_argument("--learner", default="auto", choices=("auto", "gbm", "logistic"))
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    from elasticsearch import Elasticsearch

    from fixtures.logs import loader
    from fixtures.logs.generator import GeneratorConfig, LogGenerator
    from fixtures.logs.truth import Oracle
    from ray_jobs.prejudge import job
    from services.core.settings import ElasticsearchConfig
    from services.store import templates

    t_all = time.perf_counter()
    print(f"# bench_automation  load average {os.getloadavg()[0]:.2f} at start, {os.cpu_count()} CPUs", flush=True)
    with elasticsearch(os.environ.get("QRELAY_ES_URL")) as url, tempfile.TemporaryDirectory() as tmp:
        prefix = f"qb-auto-{uuid.uuid4().hex[:8]}-"
        es = Elasticsearch(url, request_timeout=120)
        log_index = f"{prefix}logs"
        try:
            templates.install(es, prefix)
            world = LogGenerator(GeneratorConfig(seed=args.seed))
            t = time.perf_counter()
            rep = loader.load_events(es, world.events(args.events), log_index)
            print(f"# loaded {rep.created} fixture events in {time.perf_counter() - t:.0f} s", flush=True)
            oracle = Oracle(world.queries, world.corpus)
            graders = Graders(args.graders, args.seed)
            with server(url, prefix, pathlib.Path(tmp) / "serve.log") as address:
                import grpc

                with grpc.insecure_channel(address) as channel:
                    name = create_evaluation(channel, log_index, args)
                    wait_state(channel, name, {"PREJUDGING"}, 600)
                    ev_id = name.split("/")[1]
                    import ray

                    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
                    t = time.perf_counter()
                    s = job.run(es, prefix, ElasticsearchConfig(url=url, index_prefix=prefix), url,
                                job.PrejudgeConfig(ev_id, actors=1, threshold=args.threshold, audit_share=args.audit_share,
                                                   seed=args.seed, learner=args.learner),
                                log=lambda m: print(f"#   {m}", flush=True))
                    ray.shutdown()
                    print(f"# pre-judged in {time.perf_counter() - t:.0f} s: {s.items} items, {s.auto_judged} auto-judged, "
                          f"calibration sample {s.calibration_sample}", flush=True)
                    e = wait_state(channel, name, {"GRADING"}, 60)
                    locales = sorted({la.locale for la in e.automation.locales})
                    t = time.perf_counter()
                    n_j = grade(channel, oracle, graders, locales, args.rate, name, timeout=3600)
                    e = wait_state(channel, name, {"COMPLETE"}, 120)
                    print(f"# graded: {n_j} judgements in {time.perf_counter() - t:.0f} s", flush=True)
            rows, cons, votes = read_back(es, prefix, ev_id)
            truth = {r["item_id"]: oracle.grade(r["query"], r["doc"]["doc_id"]) for r in rows if r["kind"] == "pointwise"}
            n_pw = sum(1 for r in rows if r["kind"] == "pointwise")
            print("\n## 1. the run\n")
            print(f"evaluation {name}: {e.counts.queries} queries, {len(rows)} items ({n_pw} pointwise, {len(rows) - n_pw} "
                  f"side by side), overlap 2; calibration sample {s.calibration_sample} items; {n_j} human judgements by "
                  f"{args.graders} simulated graders (error rates {graders.err.min():.0%}–{graders.err.max():.0%}); "
                  f"threshold {args.threshold}, audit share {args.audit_share}")
            from services.store import evaluations

            clicks = evaluations.get(es, prefix, ev_id)["automation"].get("clicks") or {}
            print(f"click model: {clicks}")
            auto = sum(1 for r in rows if (r.get("prejudgement") or {}).get("auto") and not r.get("audit"))
            print(f"auto-judged and not audited: {auto} of {len(rows)} items ({auto / len(rows):.0%}); "
                  f"Evaluation.automation.automation_rate {e.automation.automation_rate:.0%}")
            live(rows, cons, votes, e)
            print("\n## 3. automation–agreement curves (share of all items auto-judged / α model–human / α human–human "
                  "on the auto-judged items; ✓ where the goal holds)")
            data = curve(rows, votes, graders, truth, args.seed, args.learner)
            reliability(data)
            learners(data, args.seed)
        finally:
            names = list(es.indices.get(index=f"{prefix}*", expand_wildcards="all", allow_no_indices=True))
            if names:
                es.indices.delete(index=",".join(names), ignore_unavailable=True)
            for tpl in (es.options(ignore_status=404).indices.get_index_template(name=f"{prefix}*").body or {}).get(
                    "index_templates", []):
                es.indices.delete_index_template(name=tpl["name"])
    print(f"\n# {time.perf_counter() - t_all:.0f} s in all; load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
