"""Prediction-powered report numbers: interval widths human-only vs prediction-powered, the human
judgements each needs for ±0.01 on NDCG@10, coverage of the per-query estimator, and what the
estimates cost a cold report.

    python bench/bench_ppi.py [--queries 1000] [--reps 1000] [--skip-es]

1. **Widths** — labelled fixture evaluations (fixtures/evaluations/labelled.py: the fixture's
   query universe and rankers, three simulated judgements per item humans see, each off by one
   grade 15% of the time, the model's label on every item, off by one as often as a single
   human unless the scenario says "good" (3%) or "biased" (+1 grade on 40% of items)) written to Elasticsearch (QRELAY_ES_URL, else a throw-away local node) and
   reported in process (services.reporting.report/compare). Per routing scenario: NDCG@10 of the
   candidate and the candidate − baseline difference — the label set's interval (model labels
   taken as truth), human-only, prediction-powered (λ, audits) and the lead; the anytime-valid
   decision. Then the human judgements behind each and, scaled by (half-width / 0.01)², the
   judgements each would need for ±0.01 on the candidate's NDCG@10.
2. **Coverage** (no Elasticsearch) — queries drawn from a population with known human NDCG@5,
   a model that over-grades, routing that settles 60% of items and audits 25% of those, one
   audit draw per repetition: how often each 95% interval covers the population mean, and its
   mean width.
3. **Cost** — per-query values of a cold report with and without the prediction-powered ones
   (the per-item expansion is a second and third pass of the trec_eval kernels).

Prints the load average beside the timings: on a shared machine they compare only within one run.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = [  # name, labelled.build keywords
    ("all human", dict(auto_share=0.0)),
    ("settle 15%, audit 70%", dict(auto_share=0.15, audit_share=0.7)),
    ("settle 60%, audit 25%", dict(auto_share=0.6, audit_share=0.25)),
    ("settle 60%, audit 25%, biased model", dict(auto_share=0.6, audit_share=0.25, model_bias=0.4)),
    ("settle 60%, audit 25%, good model", dict(auto_share=0.6, audit_share=0.25, model_noise=0.03)),
    ("settle 80%, audit 10%", dict(auto_share=0.8, audit_share=0.1)),
]


def _es():
    from fixtures.elasticsearch.testing import running_elasticsearch
    from services.core.settings import es_from_env
    from services.store.client import connect

    stack = ExitStack()
    url = os.environ.get("QRELAY_ES_URL")
    if not url:
        url = stack.enter_context(running_elasticsearch(Path(stack.enter_context(
            __import__("tempfile").TemporaryDirectory()))))
    return stack, connect(es_from_env(os.environ), url.rstrip("/"))


def _fmt(e, digits=4) -> str:
    if not e or not e.get("available", True) or "interval" not in e:
        return "n/a"
    return f"±{(e['interval']['high'] - e['interval']['low']) / 2:.{digits}f}"


def widths(queries: int) -> None:
    from fixtures.evaluations import labelled
    from services.reporting import compare, report
    from services.reporting.cache import LabelCache

    stack, es = _es()
    prefix = f"qb-ppi-{uuid.uuid4().hex[:6]}-"
    rows, needs = [], []
    try:
        for i, (name, kw) in enumerate(SCENARIOS):
            lab = labelled.build(f"ppi{i}", queries, **kw)
            labelled.write(es, prefix, lab)
            cache = LabelCache(es, prefix)
            r = report.build(es, prefix, cache, f"ppi{i}", ["ndcg_cut_10"])
            m = next(x for x in r["segments"][0]["rankers"] if x["ranker"] == "treatment")["metrics"][0]
            c = compare.build(es, prefix, cache, f"ppi{i}", "control", "treatment")
            d = c["differences"][0]
            e, de = ({x["kind"]: x for x in y["estimates"]} for y in (m, d))
            seq = c["sequential"]
            look = f"{seq['decided_at_look']}/{seq['eligible']}" if seq["decision"] == "decided" else "keep grading"
            rows.append([name, f"{m['mean']:.4f}", f"±{(m['interval']['high'] - m['interval']['low']) / 2:.4f}",
                         _fmt(e["human"]), _fmt(e["ppi"]), f"{e['ppi'].get('lam', float('nan')):.2f}",
                         f"{e['ppi']['human_checks']:,}", m["lead"], _fmt(de["human"]), _fmt(de["ppi"]), d["lead"], look])
            judged = len(lab.judgements)  # human judgements behind the evaluation (overlap 3)
            half = {k: (v["interval"]["high"] - v["interval"]["low"]) / 2 for k, v in e.items() if "interval" in v}
            need = {k: judged * (h / 0.01) ** 2 for k, h in half.items()}
            needs.append([name, f"{judged:,}", f"{need['human']:,.0f}" if "human" in need else "n/a",
                          f"{need['ppi']:,.0f}" if "ppi" in need else "n/a"])
    finally:
        for n in es.indices.get(index=prefix + "*"):
            es.indices.delete(index=n)
        stack.close()
    print(f"\n1. NDCG@10 of the candidate and the difference, {queries:,} queries (labelled fixture, 12 strata)")
    _table(["routing", "label set", "±", "human-only", "ppi", "λ", "audits", "lead", "diff human", "diff ppi",
            "diff lead", "anytime-valid"], rows)
    print("\n   human judgements behind it, and for ±0.01 on the candidate's NDCG@10 (scaled by (half-width/0.01)²)")
    _table(["routing", "judgements", "human-only ±0.01", "ppi ±0.01"], needs)


def coverage(reps: int) -> None:
    from evaluators.reporting import per_query_values, ppi_estimate, query_values, stratified

    rng = np.random.default_rng(2024)
    pop, per, nq = 5000, 8, 200
    truth = rng.integers(0, 4, (pop, per))
    model = np.clip(truth + rng.choice([-1, 0, 0, 0, 1], truth.shape) + (rng.random(truth.shape) < 0.3), 0, 3)
    settled = rng.random(truth.shape) < 0.6
    ranks = np.tile(np.arange(1, per + 1), nq)[None, :]
    query = np.repeat(np.arange(nq), per)
    m = "ndcg_cut_5"
    target = per_query_values(np.repeat(np.arange(pop), per), truth.ravel(), np.tile(np.arange(1, per + 1), pop)[None, :],
                              pop, [m], max_grade=3).values[m][0].mean()
    s = np.zeros(nq, dtype=np.int64)
    hits = {k: 0 for k in ("ppi", "label set", "model only")}
    width = {k: [] for k in hits}
    t = time.perf_counter()
    for _ in range(reps):
        drawn = rng.choice(pop, nq, replace=False)
        tr, mo, st = truth[drawn].ravel(), model[drawn].ravel(), settled[drawn].ravel()
        routed = ~st | (rng.random(st.size) < 0.25)
        v = query_values(query, mo, np.where(routed, tr, -1), routed, np.where(st, 0.25, 1.0), ranks, nq, [m],
                         max_grade=3)
        hybrid = per_query_values(query, np.where(routed, tr, mo), ranks, nq, [m], max_grade=3).values[m][0]
        ests = {"ppi": ppi_estimate(v.ppi[m][0], v.human[m][0], v.inclusion, v.labelled, s, [1.0]).ppi,
                "label set": stratified(hybrid, s, [1.0]), "model only": stratified(v.model[m][0], s, [1.0])}
        for k, e in ests.items():
            hits[k] += e.low <= target <= e.high
            width[k].append(e.high - e.low)
    secs = time.perf_counter() - t
    print(f"\n2. Coverage of 95% intervals for the population's human NDCG@5 ({target:.4f}): {reps:,} evaluations of "
          f"{nq} queries × {per} items, 60% settled by a model that over-grades, 25% of those audited "
          f"({secs:.1f} s, load {os.getloadavg()[0]:.1f})")
    _table(["interval", "coverage", "mean width"],
           [[k, f"{hits[k] / reps:.1%}", f"{np.mean(width[k]):.4f}"] for k in hits])
    se = np.sqrt(0.95 * 0.05 / reps)
    print(f"   (binomial SE of a 95% coverage over {reps:,} repetitions: {se:.1%})")


def cost(queries: int) -> None:
    from evaluators.reporting import per_query_values
    from fixtures.evaluations import labelled
    from services.reporting import estimates, labels

    lab = labelled.build("cost", queries, auto_share=0.6, audit_share=0.25)
    pw = [d for d in lab.consensus if d["kind"] == "pointwise"]
    qids = sorted({d["query_id"] for d in pw})
    qix = {q: i for i, q in enumerate(qids)}
    items = labels.Items(item_id=[d["item_id"] for d in pw], doc_id=[d["doc_id"] for d in pw])
    items.query = np.array([qix[d["query_id"]] for d in pw])
    items.locale = np.zeros(len(pw), dtype=np.int64)
    items.source = np.array([labels.SOURCE[d["source"]] for d in pw])
    items.audit = np.array([d["audit"] for d in pw])
    items.needs_humans = np.array([d["needs_humans"] for d in pw])
    items.model_label = np.array([d.get("model_label", np.nan) for d in pw], dtype=float)
    items.label = np.array([d["label"] for d in pw])
    items.ranks = np.array([[d["ranks"].get(r, 0) for d in pw] for r in ("control", "treatment")])
    ls = labels.LabelSet("cost", ["control", "treatment"], qids, [""] * len(qids), np.zeros(len(qids), np.int64),
                         np.ones(len(qids)), [""], items, labels.empty(2), 0, (), {}, {}, None, 0, audit_share=0.25)
    measures = ["ndcg_cut_10", "P_10", "recip_rank", "map"]
    t = time.perf_counter()
    pm = per_query_values(items.query, items.label, items.ranks, len(qids), measures)
    plain = time.perf_counter() - t
    t = time.perf_counter()
    estimates.pointwise_values(ls, measures, pm.max_grade)
    ppi = time.perf_counter() - t
    print(f"\n3. Per-query values of a cold report, {queries:,} queries, {len(pw):,} pointwise items, 4 measures "
          f"(load {os.getloadavg()[0]:.1f})")
    _table(["", "seconds"], [["label set (trec_eval kernels)", f"{plain:.2f}"],
                             ["+ model-only, human-only, prediction-powered", f"{ppi:.2f}"]])


def to_precision(queries: int, reps: int) -> None:
    """Human judgements for ±0.01 on the headline (NDCG@10, treatment − control) and to its verdict:
    naive (humans judge every item) vs PPI with a random audit vs PPI with the adaptive audit at
    the same number of audits, and the anytime-valid sequence's price (issue 12); then the 5%
    random audit qrelay prejudge uses by default, and the adaptive audit for the verdict steered by
    what that 5% pilot showed (``QRELAY_ADAPTIVE_AUDIT=verdict``). Two models: the
    fixture's (off by one as often as a single human, everywhere) and one as good in most locales
    but weak in two (off by one on 45% of their items) — where the adaptive audit has something to find."""
    from fixtures.evaluations import labelled

    t0 = time.perf_counter()
    lab = labelled.build("need", queries, auto_share=0.6, audit_share=0.25, side_by_side=False, overlap=1)
    pw = [d for d in lab.consensus if d["kind"] == "pointwise"]
    truth = np.array([lab.truth[d["item_id"]] for d in pw])
    model = np.array([int(d["model_label"]) for d in pw])
    rng = np.random.default_rng(12)
    weak = np.isin([d["locale"] for d in pw], ["ja-JP", "ar-SA"])
    off = (rng.random(truth.size) < 0.45) & weak
    weak_model = np.where(weak, np.clip(truth + np.where(off, rng.choice([-1, 1], truth.size), 0), 0, 3), model)
    print(f"\n4. Human judgements for ±0.01 on the headline (NDCG@10, treatment − control) and to the anytime-valid "
          f"verdict: labelled fixture, {queries:,} queries, 60% of items settled by the model, one simulated grader "
          f"per item (off by one 15% of the time), {reps} repetitions each")
    for name, labels_ in (("fixture model (errors alike in every stratum)", model),
                          ("model weak in ja-JP and ar-SA (off by one on 45% there)", weak_model)):
        _need(lab, pw, truth, labels_, reps, name, rng)
    print(f"   ({time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}) 'for ±0.01' scales each design's "
          "judgements by (half-width / 0.01)²; the anytime-valid column by the sequence's width at the last look "
          "instead (it may be read at every look); 'to the anytime verdict': human judgements (expected, per "
          "query) until the sequence excludes 0, queries in random order as the query-complete order serves them")


def _need(lab, pw, truth, model, reps: int, name: str, rng) -> None:
    from evaluators.reporting import headline_sequence, ppi_estimate, query_values, stratified
    from evaluators.reporting.audit import audit_inclusion, residual_sd, verdict_inclusion
    from evaluators.reporting.strata import coefficients

    strata = [x["key"] for x in lab.evaluation["strata"]]
    w = np.array([x["weight"] for x in lab.evaluation["strata"]])
    qids = sorted({d["query_id"] for d in pw})
    qix = {q: i for i, q in enumerate(qids)}
    query = np.array([qix[d["query_id"]] for d in pw])
    nq = len(qids)
    q_stratum = np.zeros(nq, dtype=np.int64)
    q_stratum[query] = [strata.index(d["stratum"]) for d in pw]
    st = q_stratum[query]
    ranks = np.array([[d["ranks"].get(r, 0) for d in pw] for r in ("control", "treatment")])
    settled = np.array([d["source"] == "model" or bool(d["audit"]) for d in pw])
    m = "ndcg_cut_10"
    floor, share = 0.10, 0.25  # the adaptive audit: 10% random everywhere, the rest of a 25% budget by Neyman
    n_h = np.bincount(st[settled], minlength=len(w)).astype(float)
    q_h = np.bincount(q_stratum, minlength=len(w)).astype(float)
    everyone = np.ones(truth.size, bool)

    def human_labels():  # one grader per item, off by one 15% of the time (the fixture's noise)
        off = rng.random(truth.size) < 0.15
        return np.clip(truth + np.where(off, rng.choice([-1, 1], truth.size), 0), 0, 3)

    def design(pi, human):
        routed = ~settled | (rng.random(truth.size) < pi)
        v = query_values(query, model, np.where(routed, human, -1), routed, pi, ranks, nq, [m], max_grade=3)
        y, hh = v.ppi[m][1] - v.ppi[m][0], v.human[m][1] - v.human[m][0]
        ok = np.isfinite(y) & np.isfinite(hh)
        r = ppi_estimate(y[ok], hh[ok], v.inclusion[ok], v.labelled[ok], q_stratum[ok], w)
        return r.ppi, int(routed.sum()), y, ok, v

    def to_verdict(values, ok, pi_items, order) -> float:
        done = order[ok[order]]
        dec = headline_sequence(values, q_stratum, w, order=done).decision
        work = np.bincount(query, weights=pi_items, minlength=nq)  # expected human judgements per query
        return float(work[done[:dec.look]].sum()) if dec.stop else float("nan")

    low = 0.05  # qrelay prejudge's default random audit share: the pilot the verdict audit starts from
    scale = nq * coefficients(q_stratum, w)  # the sequence's units (headline_sequence)
    rows = {k: [] for k in ("naive", "ppi", "adaptive", "ppi5", "verdict")}
    verdict = {k: [] for k in rows}
    cs_ratio, pis, pis_v = [], [], []
    for _ in range(reps):
        human = human_labels()
        order = rng.permutation(nq)
        v = query_values(query, model, human, everyone, np.ones(truth.size), ranks, nq, [m], max_grade=3)
        dn = v.human[m][1] - v.human[m][0]
        e = stratified(dn, q_stratum, w)
        rows["naive"].append((e.high - e.low, truth.size))
        verdict["naive"].append(to_verdict(dn, np.isfinite(dn), np.ones(truth.size), order))
        pi_r = np.where(settled, share, 1.0)
        e, used, y, ok, v = design(pi_r, human)
        rows["ppi"].append((e.high - e.low, used))
        verdict["ppi"].append(to_verdict(y, ok, pi_r, order))
        # adaptive: Neyman on the residuals that a random audit showed (this repetition's, as a pilot)
        audits = np.bincount(q_stratum, weights=v.audits, minlength=len(w))
        dm = v.model[m][1] - v.model[m][0]
        usable = np.isfinite(y - dm)
        n_usable = np.bincount(st[settled & usable[query]], minlength=len(w)).astype(float)
        s_h = residual_sd(y, dm, q_stratum, np.full(len(w), share), n_usable, audits, len(w))
        pi_h = audit_inclusion(w, s_h, settled=n_h, queries=q_h, audit_share=floor, extra_share=share - floor)
        pis.append(pi_h)
        pi_a = np.where(settled, pi_h[st], 1.0)
        e, used, ya, oka, _ = design(pi_a, human)
        rows["adaptive"].append((e.high - e.low, used))
        verdict["adaptive"].append(to_verdict(ya, oka, pi_a, order))
        sq = headline_sequence(ya, q_stratum, w, order=order[oka[order]])
        cs_ratio.append((sq.high - sq.low) / (e.high - e.low))
        # today's default: a 5% random audit; and the verdict audit, steered by what that pilot showed
        pi_5 = np.where(settled, low, 1.0)
        e, used, y5, ok5, v5 = design(pi_5, human)
        rows["ppi5"].append((e.high - e.low, used))
        verdict["ppi5"].append(to_verdict(y5, ok5, pi_5, order))
        dm5 = v5.model[m][1] - v5.model[m][0]
        usable5 = np.isfinite(y5 - dm5)
        n5 = np.bincount(st[settled & usable5[query]], minlength=len(w)).astype(float)
        s_v = residual_sd(scale * y5, scale * dm5, q_stratum, np.full(len(w), low), n5,
                          np.bincount(q_stratum, weights=v5.audits, minlength=len(w)), len(w))
        # the label set the worker reads A from: humans' labels on their items, the model's on settled
        # ones (the pilot's few audits aside)
        ls_items = np.where(settled, model, human)
        ls_v = query_values(query, ls_items, ls_items, everyone, np.ones(truth.size), ranks, nq, [m], max_grade=3)
        full = scale * (ls_v.human[m][1] - ls_v.human[m][0])
        pi_hv = verdict_inclusion(s_v, settled_per_query=n_h / nq, human_per_query=float((~settled).sum()) / nq,
                                  variance_all_human=float(np.nanvar(full)), floor=np.full(len(w), low))
        pis_v.append(pi_hv)
        pi_v = np.where(settled, pi_hv[st], 1.0)
        e, used, yv, okv, _ = design(pi_v, human)
        rows["verdict"].append((e.high - e.low, used))
        verdict["verdict"].append(to_verdict(yv, okv, pi_v, order))
    vt = query_values(query, model, truth, everyone, np.ones(truth.size), ranks, nq, [m], max_grade=3)
    true_d = stratified(vt.human[m][1] - vt.human[m][0], q_stratum, w).mean
    ratio = float(np.mean(cs_ratio))
    print(f"\n   {name}: true difference {true_d:+.4f} over the sampled queries; {truth.size:,} pooled items, "
          f"{settled.mean():.0%} settled; adaptive audit probability per stratum (mean over repetitions) "
          + ", ".join(f"{k} {p:.2f}" for k, p in zip(strata, np.mean(pis, axis=0)))
          + "; verdict audit (from a 5% pilot) " + ", ".join(f"{k} {p:.2f}" for k, p in zip(strata, np.mean(pis_v, axis=0))))
    table = []
    for k, label in (("naive", "naive: humans judge every item"), ("ppi", f"PPI, random audit {share:.0%}"),
                     ("adaptive", f"PPI + adaptive audit ({floor:.0%} random + Neyman, {share:.0%} in all)"),
                     ("ppi5", f"PPI, random audit {low:.0%} (qrelay prejudge's default)"),
                     ("verdict", "PPI + adaptive audit for the verdict (QRELAY_ADAPTIVE_AUDIT=verdict)")):
        hw = np.mean([r[0] for r in rows[k]]) / 2
        used = np.mean([r[1] for r in rows[k]])
        need = used * (hw / 0.01) ** 2
        ver = np.array(verdict[k])
        table.append([label, f"{used:,.0f}", f"±{hw:.4f}", f"{need:,.0f}",
                      f"{need * ratio ** 2:,.0f}" if k == "adaptive" else "",
                      f"{np.nanmedian(ver):,.0f} ({np.isfinite(ver).mean():.0%} decided)" if np.isfinite(ver).any()
                      else "not decided"])
    _table(["design", "judgements (all queries)", "95% ±", "for ±0.01", "for ±0.01 anytime-valid",
            "to the anytime verdict (median)"], table)


def _table(header, rows) -> None:
    widths_ = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    for row in [header] + rows:
        print("   " + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths_))))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--reps", type=int, default=1000)
    p.add_argument("--skip-es", action="store_true", help="only the coverage, cost and judgements-needed sections")
    p.add_argument("--need-reps", type=int, default=20, help="repetitions of the judgements-needed section")
    p.add_argument("--only-need", action="store_true", help="only the judgements-needed section (issue 12)")
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    if args.only_need:
        to_precision(args.queries, args.need_reps)
        return 0
    if not args.skip_es:
        widths(args.queries)
    coverage(args.reps)
    cost(max(args.queries, 5000))
    to_precision(args.queries, args.need_reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
