// Trends: a measure's snapshots over time (ListMetricSnapshots with all_segments), one line per
// segment value (per locale by default) with its confidence band, and the regression alerts
// (ListAlerts) marked where they were raised. The chart is uPlot (vendor/); a table beside it
// lists every value for screen readers and for reading exact numbers.
"use strict";

(() => {
  const { el, fmt } = Q;
  const MEASURES = ["ndcg_cut_10", "P_10", "recip_rank", "map", "err_cut_10", "ndcg_exp_cut_10", "recall_10"];
  const WINDOWS = [["30", "last 30 days"], ["90", "last 90 days"], ["180", "last 180 days"], ["365", "last year"]];
  // distinguishable on white and for the common colour-vision deficiencies (Okabe–Ito)
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
  const ALERT = "#C00000";
  let resize = null;

  /** "locale=es-MX" → ["locale", "es-MX"]; "" → ["overall", "all queries"]; crossed keys → null. */
  function splitKey(key) {
    if (!key) return ["overall", "all queries"];
    if (key.includes(",")) return null;
    const i = key.indexOf("=");
    return i < 0 ? null : [key.slice(0, i), key.slice(i + 1)];
  }

  function rgba(hex, alpha) {
    const v = parseInt(hex.slice(1), 16);
    return `rgba(${v >> 16}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
  }

  /** Lines per segment value, aligned on one time axis (uPlot's data layout), plus the alert points. */
  function seriesOf(snapshots, alerts, field) {
    const lines = new Map();  // value → Map(time → snapshot)
    for (const s of snapshots) {
      const kv = splitKey(s.segment);
      if (!kv || kv[0] !== field) continue;
      if (!lines.has(kv[1])) lines.set(kv[1], new Map());
      lines.get(kv[1]).set(Date.parse(s.snapshot_time) / 1000, s);
    }
    const names = [...lines.keys()].sort();
    // an alert sits on the snapshot of the evaluation that raised it (else at its own time)
    const marks = alerts.map((a) => {
      const kv = splitKey(a.segment);
      const line = kv && kv[0] === field ? lines.get(kv[1]) : null;
      const at = line ? [...line.entries()].find(([, s]) => s.evaluation === a.evaluation) : null;
      return { alert: a, line: kv ? kv[1] : a.segment, t: at ? at[0] : Date.parse(a.create_time) / 1000, y: Number(a.value) };
    }).filter((m) => lines.has(m.line));
    const xs = [...new Set([...names.flatMap((v) => [...lines.get(v).keys()]), ...marks.map((m) => m.t)])].sort((a, b) => a - b);
    const col = (v, f) => xs.map((t) => { const s = lines.get(v).get(t); return s ? f(s) : null; });
    return {
      xs, names, marks,
      lines: names.map((v) => ({
        name: v,
        mean: col(v, (s) => Number(s.value.mean)),
        low: col(v, (s) => Number((s.value.interval || {}).low)),
        high: col(v, (s) => Number((s.value.interval || {}).high)),
        count: lines.get(v).size,
      })),
      // one marker series per line, so alerts of two lines at one time both show
      alertLines: [...new Set(marks.map((m) => m.line))].map((line) => xs.map((t) => {
        const m = marks.find((x) => x.t === t && x.line === line);
        return m ? m.y : null;
      })),
    };
  }

  function draw(box, s, measure) {
    const series = [{}];
    const data = [s.xs];
    const bands = [];
    // every band first, then every line, so no band's tint falls over another locale's line
    s.lines.forEach((line, i) => {
      const color = PALETTE[i % PALETTE.length];
      series.push({ label: `${line.name} high`, stroke: "transparent", points: { show: false }, spanGaps: true },
                  { label: `${line.name} low`, stroke: "transparent", points: { show: false }, spanGaps: true });
      data.push(line.high, line.low);
      bands.push({ series: [series.length - 2, series.length - 1], fill: rgba(color, 0.14) });
    });
    s.lines.forEach((line, i) => {
      const color = PALETTE[i % PALETTE.length];
      series.push({ label: line.name, stroke: color, width: 2, spanGaps: true, points: { show: true, size: 6, fill: color } });
      data.push(line.mean);
    });
    for (const ys of s.alertLines) {
      // the alerts: markers only, no line between them, drawn over the lines
      series.push({ label: "alerts", stroke: ALERT, width: 0, paths: () => null,
                    points: { show: true, size: 14, width: 2, stroke: ALERT, fill: "transparent" } });
      data.push(ys);
    }
    const width = () => Math.max(320, box.clientWidth);
    const plot = new uPlot({
      width: width(), height: 360, series, bands, legend: { show: false },
      scales: { x: { time: true } },
      axes: [{ stroke: "#6b7079", grid: { stroke: "#eeece8" } },
             { stroke: "#6b7079", grid: { stroke: "#eeece8" }, label: measure, size: 60 }],
    }, data, box);
    window.removeEventListener("resize", resize || (() => {}));
    resize = () => plot.setSize({ width: width(), height: 360 });
    window.addEventListener("resize", resize);
    window.qrelay.charts.trends = {
      plot, lines: s.lines.map((l, i) => ({ name: l.name, points: l.count, color: PALETTE[i % PALETTE.length] })),
      alerts: s.marks.length, alertColor: ALERT,
    };
    return plot;
  }

  function legend(s) {
    return el("ul", { class: "chart-legend", "aria-hidden": "true" },
      s.lines.map((l, i) => el("li", {}, el("span", { class: `swatch c${i % PALETTE.length}` }), `${l.name} (${l.count})`)),
      s.marks.length ? el("li", {}, el("span", { class: "swatch alert" }), `alert (${s.marks.length})`) : null);
  }

  function valuesTable(snapshots, field, alerts) {
    const raised = new Set(alerts.map((a) => `${a.evaluation}|${a.segment}`));
    const rows = snapshots.filter((s) => (splitKey(s.segment) || [])[0] === field)
      .sort((a, b) => b.snapshot_time.localeCompare(a.snapshot_time));
    return Q.table({
      id: "snapshots", sortable: true,
      caption: "The values drawn: every snapshot, newest first",
      columns: [
        { label: "Taken", value: (s) => s.snapshot_time, cell: (s) => fmt.time(s.snapshot_time) },
        { label: field, cell: (s) => splitKey(s.segment)[1] },
        { label: "Mean", num: true, value: (s) => Number(s.value.mean), cell: (s) => Q.estimate(s.value.mean, s.value.interval, s.value.queries, "queries") },
        { label: "Judged", num: true, value: (s) => Number(s.value.judged_share), cell: (s) => fmt.pct(s.value.judged_share) },
        { label: "Log window ends", value: (s) => s.window_end, cell: (s) => fmt.date(s.window_end) },
        { label: "Evaluation", cell: (s) => el("a", { href: `/${s.evaluation}` }, fmt.id(s.evaluation)) },
        { label: "Alert", value: (s) => (raised.has(`${s.evaluation}|${s.segment}`) ? 1 : 0),
          cell: (s) => (raised.has(`${s.evaluation}|${s.segment}`) ? el("span", { class: "alert-mark" }, "▼ alert") : "") },
      ],
      rows,
    });
  }

  function alertsTable(alerts) {
    return Q.table({
      id: "alerts", sortable: true,
      caption: "Regression alerts in the window, newest first",
      columns: [
        { label: "Raised", value: (a) => a.create_time, cell: (a) => fmt.time(a.create_time) },
        { label: "Segment", cell: (a) => a.segment || "overall" },
        { label: "Ranker", cell: (a) => a.ranker },
        { label: "Measure", cell: (a) => a.measure },
        { label: "Value", num: true, value: (a) => Number(a.value), cell: (a) => fmt.num(a.value) },
        { label: "Baseline", num: true, value: (a) => Number(a.baseline),
          cell: (a) => `${fmt.num(a.baseline)} (${fmt.int(a.baseline_snapshots)} snapshots)` },
        { label: "Drop", num: true, value: (a) => Number(a.drop), cell: (a) => `${fmt.signed(a.drop)} ${fmt.ci(a.interval)}` },
        { label: "p", num: true, value: (a) => Number(a.p_value), cell: (a) => fmt.p(a.p_value) },
        { label: "Webhook", cell: (a) => a.delivery || "none" },
        { label: "What happened", cell: (a) => a.message },
      ],
      rows: alerts,
    });
  }

  async function load() {
    const measure = Q.params.get("measure", "ndcg_cut_10");
    const days = Q.params.get("days", "90");
    const team = Q.params.get("team", "");
    const window_ = { start_time: Q.daysAgo(Number(days)), end_time: new Date().toISOString() };
    const [snaps, alertsR] = await Promise.all([
      Q.callAll("ReportingService", "ListMetricSnapshots",
                { measure, all_segments: true, window: window_, page_size: 1000, owner_team: team }, "snapshots"),
      Q.callAll("ReportingService", "ListAlerts", { window: window_, page_size: 1000, owner_team: team }, "alerts"),
    ]);
    if (!snaps.ok) return Q.fail(snaps, "Loading the snapshots");
    if (!alertsR.ok) return Q.fail(alertsR, "Loading the alerts");
    const snapshots = snaps.data.snapshots;
    const rankers = [...new Set(snapshots.map((s) => s.ranker))].sort();
    const ranker = Q.params.get("ranker", rankers.includes("treatment") ? "treatment" : rankers[0] || "");
    const fields = [...new Set(snapshots.map((s) => (splitKey(s.segment) || [])[0]).filter(Boolean))].sort();
    const field = Q.params.get("by", fields.includes("locale") ? "locale" : fields[0] || "overall");
    const mine = snapshots.filter((s) => s.ranker === ranker);
    const alerts = alertsR.data.alerts.filter((a) => a.measure === measure && a.ranker === ranker);

    const reload = () => {
      Q.params.set({ measure: Q.$("measure").value, ranker: Q.$("ranker").value, by: Q.$("by").value,
                     days: Q.$("days").value, team: Q.$("team").value.trim() });
      load();
    };
    const measures = MEASURES.includes(measure) ? MEASURES : [measure, ...MEASURES];
    const controls = el("form", { class: "controls", onsubmit: (e) => { e.preventDefault(); reload(); } },
      Q.select("measure", "Measure", measures.map((m) => [m, m]), measure, reload),
      Q.select("ranker", "Ranker", (rankers.length ? rankers : [""]).map((r) => [r, r || "none yet"]), ranker, reload),
      Q.select("by", "Lines per", (fields.length ? fields : ["overall"]).map((f) => [f, f]), field, reload),
      Q.select("days", "Window", WINDOWS, days, reload),
      el("label", { class: "control", for: "team" }, "Team ", el("input", { id: "team", type: "text", value: team, placeholder: "any" })));

    const s = seriesOf(mine, alerts, field);
    const head = el("div", { class: "page-head" }, el("h1", {}, "Trends"),
      el("p", { class: "muted" }, `${measure} of ${ranker || "—"} per ${field}, ${WINDOWS.find(([d]) => d === days)?.[1] || `last ${days} days`}: `,
         `${fmt.int(mine.length)} snapshots; shaded bands are ${fmt.pct(((mine[0] || {}).value || {}).interval?.level || 0.95)} confidence intervals; `,
         "circled points are regression alerts."));
    const chartBox = el("div", { id: "trend-chart", class: "chart", role: "img",
      "aria-label": `Line chart of ${measure} for ${ranker} over time, ${s.lines.length} lines (${s.names.join(", ")}), `
                  + `${s.marks.length} alerts; the table below lists every value` });
    const alertOthers = alertsR.data.alerts.length - alerts.length;
    Q.$("content").replaceChildren(head, controls,
      el("section", { class: "card", "aria-label": "Chart" },
        s.lines.length ? [legend(s), chartBox] : el("p", { class: "muted", id: "no-snapshots" },
          "No snapshots of this measure in the window: snapshots are written when an evaluation completes.")),
      el("section", { class: "card", "aria-label": "Values" }, valuesTable(mine, field, alerts)),
      el("section", { class: "card", "aria-label": "Alerts" },
        alerts.length ? alertsTable(alerts) : el("p", { class: "muted" }, `No alert on ${measure} of ${ranker} in the window.`),
        alertOthers > 0 ? el("p", { class: "muted small" }, `${alertOthers} more alerts on other measures or rankers.`) : null));
    if (s.lines.length) draw(chartBox, s, measure);
  }

  Q.start("trends", load);
})();
