// The report page of one evaluation: GetEvaluation, GetEvaluationReport and CompareRankers, shown
// as they come. Segmenting, the baseline, the candidate, the smallest difference that matters and
// the stopping rule are query parameters, so a view can be linked to
// (/evaluations/ID?segment_by=locale&baseline=control&candidate=treatment&min_effect=0.01&stopping_rule=EXCLUDES_MIN_EFFECT).
// Every number is quoted as the API says to quote it (`lead`: prediction-powered, human-only or the
// label set's), with the others beside the headline, in the words `qrelay report` and `qrelay
// compare` print (services/cli/report.py).
"use strict";

(() => {
  const { el, fmt } = Q;
  const id = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
  const name = `evaluations/${id}`;

  function section(title, ...children) {
    const h = el("h2", { id: `h-${title.toLowerCase().replace(/\W+/g, "-")}` }, title);
    return el("section", { class: "card", "aria-labelledby": h.id }, h, ...children);
  }

  /** Fields the evaluation can be segmented by: its bands, then its stratify-by fields. */
  function segmentFields(ev) {
    const plan = (ev.spec && ev.spec.sample_plan) || {};
    const bands = plan.bands && (plan.bands.traffic_share || plan.bands.count_quantiles);
    return [...(bands ? ["band"] : []), ...(plan.stratify_by || [])];
  }

  function segmentLabel(key) { return key ? key.replace(/,/g, ", ") : "Overall"; }

  // --- estimates: the number to quote, and the others beside it ---------------------------

  // the CLI's words for each way of estimating (`Estimate.kind`, and `lead`'s "labels")
  const KIND = { ppi: "prediction-powered", human: "human-only", model: "model-only", labels: "label set" };

  /**
   * The number a message with `estimates` and `lead` says to quote: {value, interval, units, by}.
   * As the CLI: the lead estimate when it has an interval, else the label set's own number.
   */
  function quoted(msg, value, interval, units) {
    const e = (msg.estimates || []).find((x) => x.kind === msg.lead);
    return e && e.interval ? { value: e.value, interval: e.interval, units: e.units, by: msg.lead }
      : { value, interval, units, by: "labels" };
  }

  /** What the tables quote: "0.612 [0.580, 0.644] queries=212" and, under it, "by prediction-powered"
   * (unless the table has a column for it). */
  function quotedCell(q, { count, signed = false, by = true } = {}) {
    return [el("span", { class: "estimate" }, el("b", {}, signed ? fmt.signed(q.value) : fmt.num(q.value)), " ",
               el("span", { class: "ci" }, fmt.ci(q.interval)),
               count ? [" ", el("span", { class: "count" }, `${count}=${fmt.int(q.units)}`)] : null),
            by ? el("div", { class: `by by-${q.by}` }, `by ${KIND[q.by]}`) : null];
  }

  // --- the evaluation: what it is and where it stands --------------------------------------

  function head(ev) {
    const rankers = (ev.spec.rankers || []).map((r) => r.id);
    return el("div", { class: "page-head" },
      el("h1", {}, ev.display_name || id),
      el("p", { class: "muted" },
        el("code", {}, ev.name), " · ", el("span", { class: `state state-${ev.state}` }, fmt.state(ev.state)),
        ev.spec.owner_team ? ` · team ${ev.spec.owner_team}` : "",
        ` · created ${fmt.time(ev.create_time)}`,
        rankers.length ? ` · rankers ${rankers.join(", ")}` : ""),
      ev.state_reason && ["FAILED", "CANCELLED"].includes(ev.state) ? el("p", { class: "notice" }, ev.state_reason) : null);
  }

  function progress(ev) {
    const g = ev.grading, c = ev.completion;
    const parts = [];
    if (c && c.reason && c.reason !== "COMPLETION_REASON_UNSPECIFIED") {
      parts.push(el("p", {}, el("strong", {}, `Complete (${fmt.state(c.reason)}): `), c.message ? `${c.message}.` : "",
                    ` Coverage ${fmt.pct(c.coverage)} of items, ${fmt.pct(c.human_coverage)} of the items that needed humans;`,
                    ` completed ${fmt.time(c.complete_time)}.`));
    }
    if (g && Number(g.items_for_humans) > 0 && ev.state === "GRADING") {
      const done = Number(g.items_done), total = Number(g.items_for_humans);
      parts.push(
        el("div", { class: "progress-line" },
          el("label", { for: "grading-progress" }, "Grading"),
          el("progress", { id: "grading-progress", max: total, value: done }),
          el("span", {}, `${fmt.int(done)} of ${fmt.int(total)} items for humans done (${fmt.pct(done / total)})`)),
        el("p", { class: "muted", id: "grading-eta" },
          `${fmt.int(g.judgements)} of ${fmt.int(g.judgements_wanted)} judgements · `,
          `${fmt.num(g.judgements_per_minute, 1)} per minute over the last 10 minutes · `,
          g.eta ? `expected to finish ${fmt.time(g.eta)}` : "no ETA until judgements arrive",
          ` · ${fmt.pct(g.labelled_share)} of all items labelled`));
    }
    return parts.length ? section("Progress", ...parts) : null;
  }

  // The contract's StoppingRule values, in the words the page uses (qrelay compare --stopping-rule).
  const RULES = [["SIGN_OR_EQUIVALENCE", "is there a difference (sign or equivalence)"],
                 ["EXCLUDES_MIN_EFFECT", "does it clear the smallest difference (launch bar)"]];

  function controls(ev, segBy, baseline, candidate, minEffect, rule) {
    const fields = segmentFields(ev);
    const rankers = (ev.spec.rankers || []).map((r) => r.id);
    const two = rankers.length >= 2;
    const reload = () => {
      Q.params.set({ segment_by: Q.$("segment-by").value,
                     baseline: two ? Q.$("baseline").value : "",
                     candidate: two ? Q.$("candidate").value : "",
                     min_effect: two && Number(Q.$("min-effect").value) ? Q.$("min-effect").value : "",
                     stopping_rule: two && Q.$("stopping-rule").value !== RULES[0][0] ? Q.$("stopping-rule").value : "" });
      load();
    };
    return el("form", { class: "controls", onsubmit: (e) => e.preventDefault() },
      Q.select("segment-by", "Segment by", [["", "overall only"], ...fields.map((f) => [f, f])], segBy, reload),
      two ? Q.select("baseline", "Baseline", rankers.map((r) => [r, r]), baseline, reload) : null,
      two ? Q.select("candidate", "Candidate", rankers.map((r) => [r, r]), candidate, reload) : null,
      two ? el("label", { class: "control", for: "min-effect",
                          title: "the anytime-valid decision also stops once the headline difference is shown to be smaller" },
               "Smallest difference that matters ",
               el("input", { id: "min-effect", type: "number", min: "0", step: "any", value: minEffect, onchange: reload }))
        : null,
      two ? Q.select("stopping-rule", "Stopping rule", RULES, rule, reload) : null);
  }

  // --- metrics per ranker ---------------------------------------------------------------

  function metricTable(rep) {
    const overall = rep.segments.find((s) => !s.key) || rep.segments[0];
    if (!overall) return null;
    const measures = (overall.rankers[0] || { metrics: [] }).metrics.map((m) => m.measure);
    return Q.table({
      id: "metrics",
      caption: `Metrics per ranker, overall, with ${fmt.pct(rep.confidence)} intervals and the queries behind each mean`,
      columns: [
        { label: "Ranker", cell: (r) => r.ranker },
        ...measures.map((m, i) => ({
          label: m, num: true,
          cell: (r) => {
            const v = r.metrics[i], q = quoted(v, v.mean, v.interval, v.queries);
            return [quotedCell(q, { count: "queries" }),
                    el("div", { class: "muted small", title: "the label set's mean (every label as truth); the unweighted "
                                                            + "mean over the same queries (as trec_eval prints)" },
                       q.by === "labels" ? "" : `label set ${fmt.num(v.mean)} ${fmt.ci(v.interval)} · `,
                       `judged ${fmt.pct(v.judged_share)} · unweighted ${fmt.num(v.unweighted_mean)}`)];
          },
        })),
      ],
      rows: overall.rankers,
    });
  }

  /** Why each overall number is quoted as it is, one line per reason (as `qrelay report` prints). */
  function leadReasons(rep) {
    const overall = rep.segments.find((s) => !s.key);
    const why = new Map();
    for (const r of overall ? overall.rankers : []) {
      for (const m of r.metrics) {
        if (m.lead_reason) why.set(m.lead_reason, [...(why.get(m.lead_reason) || []), `${r.ranker} ${m.measure}`]);
      }
    }
    if (!why.size) return null;
    return el("div", { class: "why" }, el("h3", { id: "h-why-estimates" }, "Why these estimates (overall)"),
      el("ul", { id: "lead-reasons", "aria-labelledby": "h-why-estimates" },
        [...why].map(([reason, who]) => el("li", {}, el("strong", {}, `${who.join(", ")}: `), reason))));
  }

  // --- the difference ---------------------------------------------------------------------

  function differenceTable(cmp) {
    return Q.table({
      id: "differences",
      caption: `${cmp.candidate} − ${cmp.baseline}, paired, with ${fmt.pct(cmp.confidence)} intervals, each quoted as `
             + "the report leads with it; p-values and ★ are the label set's tests (randomisation, Holm-corrected "
             + "across segments)",
      columns: [
        { label: "Segment", cell: (d) => segmentLabel(d.segment) },
        { label: "Measure", cell: (d) => d.measure },
        { label: "Difference", num: true, cell: (d) => quotedCell(quoted(d, d.difference, d.interval, d.queries),
                                                                   { signed: true, by: false }) },
        { label: "By", cell: (d) => KIND[quoted(d, d.difference, d.interval, d.queries).by] },
        { label: "Label set", num: true, title: "the difference with every label taken as truth",
          cell: (d) => el("span", { class: "estimate" },
            el("b", {}, fmt.signed(d.difference)), " ", el("span", { class: "ci" }, fmt.ci(d.interval))) },
        { label: "Baseline → candidate", num: true, cell: (d) => `${fmt.num(d.baseline_mean)} → ${fmt.num(d.candidate_mean)}` },
        { label: "Queries", num: true, cell: (d) => fmt.int(d.queries) },
        { label: "p (t)", num: true, cell: (d) => fmt.p(d.p_value_t) },
        { label: "p (randomisation)", num: true, cell: (d) => fmt.p(d.p_value_permutation) },
        { label: "p (Holm)", num: true, cell: (d) => fmt.p(d.p_value_holm) },
        { label: "Significant", cell: (d) => Q.mark(d.significant) },
      ],
      rows: cmp.differences,
      rowClass: (d) => (d.significant ? "significant" : undefined),
    });
  }

  /**
   * The headline difference (first measure, overall) estimated every way — human-only, model-only,
   * prediction-powered (the API's order) and the label set's own — the one the report leads with
   * marked, and why (`lead_reason`, the CLI's "why:").
   */
  function headlineEstimates(cmp) {
    const d = cmp.differences.find((x) => !x.segment);
    if (!d) return null;
    const lead = quoted(d, d.difference, d.interval, d.queries).by;
    const rows = [...(d.estimates || []),
                  { kind: "labels", value: d.difference, interval: d.interval, units: d.queries, available: true,
                    note: "every label taken as truth: human consensus where humans judged, the model's elsewhere" }];
    const table = Q.table({
      id: "headline-estimates",
      caption: `${cmp.candidate} − ${cmp.baseline} in ${d.measure} over all queries: human-only, model-only, `
             + "prediction-powered and the label set's; ◆ marks the one the report leads with",
      columns: [
        { label: "Estimate", cell: (e) => [KIND[e.kind] || e.kind, e.kind === lead
            ? el("span", { class: "lead-mark" }, el("span", { "aria-hidden": "true" }, " ◆"), " leads") : null] },
        { label: "Difference", num: true, cell: (e) => (e.available ? fmt.signed(e.value) : "n/a") },
        { label: `${fmt.pct(cmp.confidence)} interval`, num: true,
          cell: (e) => (e.available && e.interval ? fmt.ci(e.interval) : "–") },
        { label: "p", num: true, cell: (e) => (e.p_value === undefined ? "–" : fmt.p(e.p_value)) },
        { label: "Queries", num: true, cell: (e) => fmt.int(e.units) },
        { label: "Human checks", num: true, title: "prediction-powered: model-settled items humans audited; "
            + "human-only: queries with a model-settled item that humans judged in full anyway",
          cell: (e) => (e.kind === "ppi" || e.kind === "human" ? fmt.int(e.human_checks) : "–") },
        { label: "Note", cell: (e) => [e.note || "", e.kind === "ppi" && e.available && e.lam !== undefined
            ? `${e.note ? "; " : ""}λ=${fmt.num(e.lam, 2)}` : ""] },
      ],
      rows,
      rowClass: (e) => (e.kind === lead ? "lead" : undefined),
    });
    return el("div", { class: "headline" },
      el("h3", {}, `${d.measure}, overall: how the difference is estimated`), table,
      el("p", { class: "why", id: "headline-estimates-why" }, el("strong", {}, "Why: "), d.lead_reason || "–"));
  }

  function finite(iv) { return !!iv && Number.isFinite(Q.n(iv.low)) && Number.isFinite(Q.n(iv.high)); }

  /** The anytime-valid confidence sequence of the headline difference: stop grading, or keep on. */
  function sequential(cmp) {
    const s = cmp.sequential;
    if (!s || !s.decision) return null;
    const decided = s.decision === "decided";
    const seq = (iv) => (finite(iv) ? fmt.ci(iv) : "unbounded (the sequence is silent until its burn-in)");
    return el("div", { class: "sequential", id: "sequential" },
      el("h3", {}, "Anytime-valid decision"),
      el("p", { class: `decision ${decided ? "decided" : "keep"}`, id: "sequential-decision" },
        decided ? [el("strong", {}, "Decided: "), `${s.verdict}, at query ${fmt.int(s.decided_at_look)} of ${fmt.int(s.eligible)}`]
          : [el("strong", {}, "Keep grading: "), `${fmt.int(s.looks)} of ${fmt.int(s.eligible)} queries complete`]),
      facts([
        ["Measure", `${s.measure}, ${cmp.candidate} − ${cmp.baseline}, overall`],
        ["Estimate so far", `${fmt.signed(s.estimate)} (${KIND[s.values] || s.values} per-query values)`],
        ["Sequence now", `${seq(s.interval)} after ${fmt.int(s.looks)} of ${fmt.int(s.eligible)} queries`],
        decided ? ["Sequence at the decision", `${seq(s.decided_interval)} at query ${fmt.int(s.decided_at_look)}`] : null,
        ["Stopping rule", (RULES.find(([k]) => k === s.rule) || RULES[0])[1]],
        ["Minimum effect", s.rule === "EXCLUDES_MIN_EFFECT"
          ? `+${s.min_effect}: decides once the sequence lies wholly above it (gains at least that) or wholly below it`
          : Q.n(s.min_effect) ? `±${s.min_effect} (also stops once the difference is shown to be smaller)`
            : "none: only a difference from zero decides"],
      ]),
      el("p", { class: "muted small" }, s.method));
  }

  function sxsBars(cmp) {
    if (!cmp.verdicts || !cmp.verdicts.length) return null;
    const rows = cmp.verdicts.map((v) => {
      const w = Number(v.wins), t = Number(v.ties), l = Number(v.losses), all = w + t + l;
      const q = quoted(v, v.mean_preference, v.interval, v.items);
      const label = `${segmentLabel(v.segment)}: ${cmp.candidate} preferred on ${w}, no preference on ${t}, `
                  + `${cmp.baseline} preferred on ${l} of ${all} side-by-side items`;
      const seg = (cls, count, text) => {
        const s = el("span", { class: `seg ${cls}`, title: `${text}: ${count}` }, count ? String(count) : "");
        s.style.flexGrow = String(count);  // CSSOM, allowed under the page's CSP
        return s;
      };
      return el("div", { class: "sxs-row" },
        el("div", { class: "sxs-label" }, segmentLabel(v.segment)),
        el("div", { class: "stack", role: "img", "aria-label": label },
           seg("win", w, `${cmp.candidate} better`), seg("tie", t, "no preference"), seg("loss", l, `${cmp.baseline} better`)),
        el("div", { class: "sxs-stats" },
           `mean preference ${fmt.signed(q.value, 2)} ${fmt.ci(q.interval, 2)} by ${KIND[q.by]}`,
           q.by === "labels" ? " · " : ` (label set ${fmt.signed(v.mean_preference, 2)}) · `,
           `p sign ${fmt.p(v.p_value_sign)} · p Wilcoxon ${fmt.p(v.p_value_wilcoxon)} · `,
           `${fmt.int(v.items)} items (${fmt.int(v.items_human)} by humans)`));
    });
    return section("Side by side",
      el("p", { class: "legend" },
         el("span", { class: "key win" }), ` ${cmp.candidate} better `, el("span", { class: "key tie" }), " no preference ",
         el("span", { class: "key loss" }), ` ${cmp.baseline} better (mean preference on −3..+3, positive favours ${cmp.candidate})`),
      el("div", { id: "sxs-bars" }, rows));
  }

  // --- per segment ------------------------------------------------------------------------

  function segmentTable(rep, cmp) {
    const segments = rep.segments.filter((s) => s.key);
    if (!segments.length) return null;
    const measure = ((segments[0].rankers[0] || {}).metrics || [{}])[0].measure;
    const diff = new Map((cmp ? cmp.differences : []).filter((d) => d.measure === measure).map((d) => [d.segment, d]));
    const metricOf = (s, ranker) => {
      const r = s.rankers.find((x) => x.ranker === ranker);
      return r && r.metrics.find((m) => m.measure === measure);
    };
    const columns = [
      { label: "Segment", cell: (s) => segmentLabel(s.key), value: (s) => s.key },
      { label: "Traffic share", num: true, cell: (s) => fmt.pct(s.traffic_share, 1), value: (s) => s.traffic_share },
      { label: "Queries sampled", num: true, cell: (s) => fmt.int(s.queries_sampled), value: (s) => Number(s.queries_sampled) },
      ...rep.rankers.map((ranker) => ({
        label: `${ranker} ${measure}`, num: true,
        value: (s) => { const m = metricOf(s, ranker); return m ? Q.n(quoted(m, m.mean, m.interval, m.queries).value) : null; },
        cell: (s) => { const m = metricOf(s, ranker); return m ? quotedCell(quoted(m, m.mean, m.interval, m.queries), { count: "n" }) : "no judged query"; },
      })),
    ];
    if (cmp) {
      columns.push(
        { label: `Δ ${cmp.candidate} − ${cmp.baseline}`, num: true,
          value: (s) => { const d = diff.get(s.key); return d ? Q.n(quoted(d, d.difference, d.interval, d.queries).value) : null; },
          cell: (s) => { const d = diff.get(s.key); return d ? quotedCell(quoted(d, d.difference, d.interval, d.queries), { count: "n", signed: true }) : "–"; } },
        { label: "p (Holm)", num: true, value: (s) => Q.n((diff.get(s.key) || {}).p_value_holm),
          cell: (s) => fmt.p((diff.get(s.key) || {}).p_value_holm) },
        { label: "Significant", value: (s) => ((diff.get(s.key) || {}).significant ? 1 : 0),
          cell: (s) => Q.mark((diff.get(s.key) || {}).significant) });
    }
    return Q.table({
      id: "segments", sortable: true, columns, rows: segments,
      caption: `${measure} per segment${cmp ? `; ★ marks a difference significant after Holm correction across segments` : ""}`,
      rowClass: (s) => ((diff.get(s.key) || {}).significant ? "significant" : undefined),
    });
  }

  // --- coverage, automation, agreement, grading, label set --------------------------------

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  function coverage(rep) {
    const c = rep.coverage || {}, a = rep.automation || {}, r = rep.agreement || {}, g = rep.grading || {};
    const items = Number(c.items);
    const parts = [
      el("div", {}, el("h3", {}, "Coverage"), facts([
        ["Queries complete", `${fmt.int(c.queries_complete)} of ${fmt.int(c.queries)} (metrics are over these)`],
        ["Items labelled", `${fmt.int(c.items_labelled)} of ${fmt.int(c.items)} (${fmt.pct(Number(c.items_labelled) / items)})`],
        ["… by humans", fmt.int(c.items_human)], ["… by the model", fmt.int(c.items_model)],
        ["… ties (identical lists)", fmt.int(c.items_tie)],
        ["Traffic covered", fmt.pct(c.traffic_covered, 1)],
      ])),
      el("div", {}, el("h3", {}, "Automation"), facts([
        ["Automation rate", `${fmt.pct(a.automation_rate, 1)} (${fmt.int(a.auto_judged)} items settled by the model)`],
        ["Audit share judged", `${fmt.int(a.audit_judged)} of ${fmt.int(a.audit)} audit items`],
        ["Model–human agreement", a.agreement === undefined ? "no audit item judged yet"
          : `${fmt.pct(a.agreement, 1)} on ${fmt.int(a.audit_judged)} audit items`],
      ])),
      el("div", {}, el("h3", {}, "Graders"), facts([
        ["Krippendorff's α (pointwise)", r.krippendorff_alpha === undefined ? "–"
          : `${fmt.num(r.krippendorff_alpha)} over ${fmt.int(r.units)} items, ${fmt.int(r.judgements)} judgements`],
        ["Krippendorff's α (side by side)", r.krippendorff_alpha_sxs === undefined ? "–"
          : `${fmt.num(r.krippendorff_alpha_sxs)} over ${fmt.int(r.units_sxs)} items`],
        ["Judgements", `${fmt.int(g.judgements)} by ${fmt.int(g.graders)} graders`],
        ["Gold", `${fmt.int(g.gold_correct)} of ${fmt.int(g.gold_judgements)} gold judgements correct`],
        ["Time on task", `${fmt.duration(g.seconds_on_task)} in all, median ${fmt.duration(g.median_seconds_on_task)} per judgement`],
        ["Cost", fmt.money(g.cost, g.currency)],
      ])),
    ];
    const locales = a.locales || [];
    const perLocale = locales.length ? Q.table({
      id: "automation-locales", caption: "Automation per locale",
      columns: [
        { label: "Locale", cell: (l) => l.locale },
        { label: "Items", num: true, cell: (l) => fmt.int(l.items) },
        { label: "Settled by the model", num: true, cell: (l) => fmt.int(l.auto_judged) },
        { label: "Automation rate", num: true, cell: (l) => fmt.pct(l.automation_rate, 1) },
        { label: "Audit judged", num: true, cell: (l) => `${fmt.int(l.audit_judged)} of ${fmt.int(l.audit)}` },
        { label: "Agreement", num: true, cell: (l) => (l.agreement === undefined ? "–" : `${fmt.pct(l.agreement, 1)} (n=${fmt.int(l.audit_judged)})`) },
      ],
      rows: locales,
    }) : null;
    return section("Coverage and automation", el("div", { class: "columns" }, parts), perLocale);
  }

  /** The label set the numbers used and its lineage: who made the labels, under which guideline
   * versions, with which model and calibration, aggregated how (as `qrelay report` prints it).
   * Counts only: no item, gold or otherwise, and no grader is named. */
  function labelSet(ls, rep) {
    ls = ls || {};
    const c = rep.coverage || {}, g = rep.grading || {};
    const items = Q.n(c.items);
    const share = (x) => (items ? fmt.pct(Number(x) / items, 1) : "–");
    const counts = Q.table({
      id: "label-counts", caption: "Labels by who made them (gold items are kept out of the items and the metrics)",
      columns: [
        { label: "Labels", cell: (r) => r.what },
        { label: "Count", num: true, cell: (r) => fmt.int(r.n) },
        { label: "Share of items", num: true, cell: (r) => (r.gold ? "–" : share(r.n)) },
        { label: "Counted", cell: (r) => r.unit },
      ],
      rows: [
        { what: "Human consensus", n: c.items_human, unit: "items labelled by aggregating human judgements" },
        { what: "Model", n: c.items_model, unit: "items the model settled alone (auto-judged)" },
        { what: "Tie", n: c.items_tie, unit: "side-by-side items whose two lists were identical" },
        { what: "Gold", n: g.gold_judgements, gold: true,
          unit: `judgements of gold items, ${fmt.int(g.gold_correct)} matched the gold label` },
      ],
    });
    const consensus = (ls.consensus || []).length ? Q.table({
      id: "label-consensus", caption: "How human judgements became consensus labels",
      columns: [
        { label: "Kind", cell: (x) => fmt.state(x.kind) },
        { label: "Method", cell: (x) => x.method },
        { label: "Human labels", num: true, cell: (x) => fmt.int(x.labels) },
        { label: "Parameters", cell: (x) => {
          const ps = Object.entries(x.parameters || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          return ps.length ? el("ul", { class: "params" }, ps.map(([k, v]) => el("li", {}, el("code", {}, k), ` = ${v}`))) : "–";
        } },
        { label: "Reliability fit", cell: (x) => (x.fit_id
          ? [el("code", {}, x.fit_id), ` on ${fmt.int(x.fitted_on)} judgements`, x.fit_time ? `, ${fmt.time(x.fit_time)}` : ""]
          : "not fitted yet") },
      ],
      rows: ls.consensus,
    }) : null;
    const models = (ls.models || []).length ? Q.table({
      id: "label-models", caption: "Pre-judgement models and the calibrations that turned their scores into labels",
      columns: [
        { label: "Model", cell: (m) => m.model },
        { label: "Calibration", cell: (m) => (m.calibration_id ? el("code", {}, m.calibration_id) : "unrecorded") },
        { label: "Items it labelled", num: true, title: "items with a label from this model and calibration, settled "
            + "by it or sent to humans", cell: (m) => fmt.int(m.items) },
        { label: "Threshold", num: true, title: "confidence at or above which routing let the model settle an item",
          cell: (m) => fmt.num(m.threshold, 2) },
        { label: "Audit share", num: true, title: "share of model-settled items drawn for a human audit",
          cell: (m) => fmt.pct(m.audit_share, 1) },
      ],
      rows: ls.models,
    }) : null;
    const guidelines = (ls.guidelines || []).length ? Q.table({
      id: "label-guidelines", caption: "Guideline versions the human judgements were made under",
      columns: [
        { label: "Kind", cell: (x) => fmt.state(x.kind) },
        { label: "Version", cell: (x) => x.version },
        { label: "Judgements", num: true, cell: (x) => fmt.int(x.judgements) },
      ],
      rows: ls.guidelines,
    }) : null;
    return section("Label set",
      facts([
        ["Version", ls.version ? el("code", {}, ls.version) : "–"],
        ls.source ? ["Labels from", [el("code", {}, ls.source), ` (re-scored: ${fmt.int(ls.relabelled_items)} items matched, `
                                     + `${fmt.int(ls.unmatched_items)} not)`]] : null,
        ["Consensus method", ls.method || "no human labels yet"], ["Pre-judgement model", ls.model || "–"],
        ["Brought up to date", fmt.time(ls.update_time)], ["Report made", fmt.time(rep.report_time)],
      ]),
      el("div", { class: "columns tables" }, counts, guidelines),
      consensus, models);
  }

  // --- the page ---------------------------------------------------------------------------

  function problem(r, what) {
    return el("p", { class: "notice", role: "status" }, el("strong", {}, `No ${what} yet: `), r.data.message);
  }

  async function load() {
    const content = Q.$("content");
    const evr = await Q.call("EvaluationService", "GetEvaluation", { name });
    if (!evr.ok) return Q.fail(evr, "Loading the evaluation");
    const ev = evr.data;
    const rankers = (ev.spec.rankers || []).map((r) => r.id);
    const fields = segmentFields(ev);
    const segBy = Q.params.get("segment_by", fields.includes("locale") ? "locale" : "");
    const baseline = Q.params.get("baseline", rankers[0]);
    const candidate = Q.params.get("candidate", rankers[1]);
    const minEffect = Q.params.get("min_effect", "");
    const rule = Q.params.get("stopping_rule", RULES[0][0]);
    const segment_by = segBy ? segBy.split(",") : [];
    const [rep, cmp] = await Promise.all([
      Q.call("ReportingService", "GetEvaluationReport", { name, segment_by }),
      rankers.length >= 2 ? Q.call("ReportingService", "CompareRankers",
                                   { name, baseline, candidate, segment_by, min_effect: Number(minEffect) || 0,
                                     stopping_rule: rule })
        : Promise.resolve(null),
    ]);
    for (const r of [rep, cmp]) if (r && (r.status === 401 || r.status === 403)) return Q.fail(r);

    const parts = [head(ev), progress(ev), controls(ev, segBy, baseline, candidate, minEffect, rule)];
    if (!rep.ok) {
      parts.push(problem(rep, "report"));
    } else {
      const r = rep.data;
      if (r.partial) parts.push(el("p", { class: "notice", id: "partial" }, el("strong", {}, "Partial report: "), r.partial_reason));
      parts.push(section("Metrics", metricTable(r), leadReasons(r), el("p", { class: "muted small" }, r.estimator)));
      if (cmp && cmp.ok) {
        parts.push(section("Difference",
          el("blockquote", { class: "summary", id: "summary" }, cmp.data.summary),
          headlineEstimates(cmp.data), sequential(cmp.data),
          el("h3", {}, "Every measure and segment"), differenceTable(cmp.data)), sxsBars(cmp.data));
      } else if (cmp) {
        parts.push(problem(cmp, "comparison"));
      }
      const seg = segmentTable(r, cmp && cmp.ok ? cmp.data : null);
      if (seg) parts.push(section("Segments", seg));
      parts.push(coverage(r), labelSet(r.label_set, r));
    }
    content.replaceChildren(...parts.filter(Boolean));
  }

  Q.start("report", load);
})();
