// The report page of one evaluation: GetEvaluation, GetEvaluationReport and CompareRankers, shown
// as they come. Segmenting, the baseline and the candidate are query parameters, so a view can be
// linked to (/evaluations/ID?segment_by=locale&baseline=control&candidate=treatment).
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

  function controls(ev, segBy, baseline, candidate) {
    const fields = segmentFields(ev);
    const rankers = (ev.spec.rankers || []).map((r) => r.id);
    const reload = () => {
      Q.params.set({ segment_by: Q.$("segment-by").value,
                     baseline: Q.$("baseline") ? Q.$("baseline").value : "",
                     candidate: Q.$("candidate") ? Q.$("candidate").value : "" });
      load();
    };
    return el("form", { class: "controls", onsubmit: (e) => e.preventDefault() },
      Q.select("segment-by", "Segment by", [["", "overall only"], ...fields.map((f) => [f, f])], segBy, reload),
      rankers.length >= 2 ? Q.select("baseline", "Baseline", rankers.map((r) => [r, r]), baseline, reload) : null,
      rankers.length >= 2 ? Q.select("candidate", "Candidate", rankers.map((r) => [r, r]), candidate, reload) : null);
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
            const v = r.metrics[i];
            return [Q.estimate(v.mean, v.interval, v.queries, "queries"),
                    el("div", { class: "muted small", title: "unweighted mean over the same queries (as trec_eval prints)" },
                       `judged ${fmt.pct(v.judged_share)} · unweighted ${fmt.num(v.unweighted_mean)}`)];
          },
        })),
      ],
      rows: overall.rankers,
    });
  }

  // --- the difference ---------------------------------------------------------------------

  function differenceTable(cmp) {
    return Q.table({
      id: "differences",
      caption: `${cmp.candidate} − ${cmp.baseline}, paired, with ${fmt.pct(cmp.confidence)} intervals; p-values Holm-corrected across segments`,
      columns: [
        { label: "Segment", cell: (d) => segmentLabel(d.segment) },
        { label: "Measure", cell: (d) => d.measure },
        { label: "Difference", num: true, cell: (d) => el("span", { class: "estimate" },
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

  function sxsBars(cmp) {
    if (!cmp.verdicts || !cmp.verdicts.length) return null;
    const rows = cmp.verdicts.map((v) => {
      const w = Number(v.wins), t = Number(v.ties), l = Number(v.losses), all = w + t + l;
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
           `mean preference ${fmt.signed(v.mean_preference, 2)} ${fmt.ci(v.interval, 2)} · `,
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
        value: (s) => { const m = metricOf(s, ranker); return m ? m.mean : null; },
        cell: (s) => { const m = metricOf(s, ranker); return m ? Q.estimate(m.mean, m.interval, m.queries) : "no judged query"; },
      })),
    ];
    if (cmp) {
      columns.push(
        { label: `Δ ${cmp.candidate} − ${cmp.baseline}`, num: true,
          value: (s) => (diff.get(s.key) || {}).difference,
          cell: (s) => { const d = diff.get(s.key); return d ? `${fmt.signed(d.difference)} ${fmt.ci(d.interval)}` : "–"; } },
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

  function labelSet(ls, rep) {
    ls = ls || {};
    return section("Label set", facts([
      ["Consensus method", ls.method || "–"], ["Pre-judgement model", ls.model || "–"],
      ["Version", ls.version ? el("code", {}, ls.version) : "–"], ["Brought up to date", fmt.time(ls.update_time)],
      ["Estimator", rep.estimator || "–"], ["Report made", fmt.time(rep.report_time)],
    ]));
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
    const segment_by = segBy ? segBy.split(",") : [];
    const [rep, cmp] = await Promise.all([
      Q.call("ReportingService", "GetEvaluationReport", { name, segment_by }),
      rankers.length >= 2 ? Q.call("ReportingService", "CompareRankers", { name, baseline, candidate, segment_by })
        : Promise.resolve(null),
    ]);
    for (const r of [rep, cmp]) if (r && (r.status === 401 || r.status === 403)) return Q.fail(r);

    const parts = [head(ev), progress(ev), controls(ev, segBy, baseline, candidate)];
    if (!rep.ok) {
      parts.push(problem(rep, "report"));
    } else {
      const r = rep.data;
      if (r.partial) parts.push(el("p", { class: "notice", id: "partial" }, el("strong", {}, "Partial report: "), r.partial_reason));
      parts.push(section("Metrics", metricTable(r), el("p", { class: "muted small" }, r.estimator)));
      if (cmp && cmp.ok) {
        parts.push(section("Difference",
          el("blockquote", { class: "summary", id: "summary" }, cmp.data.summary),
          differenceTable(cmp.data)), sxsBars(cmp.data));
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
