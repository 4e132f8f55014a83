// Workforce: grader and partner scorecards over a window (ListScorecards), sortable by any column;
// a grader or partner under the quality bar is marked, with the evidence the server gave.
"use strict";

(() => {
  const { el, fmt } = Q;
  const WINDOWS = [["7", "last 7 days"], ["30", "last 30 days"], ["90", "last 90 days"]];

  /** A share with the count behind it; null (sorted last) when nothing was counted. */
  const share = (x, count) => (Number(count) ? Number(x) : null);

  function columns(subject, partnerNames) {
    const cols = [
      { label: subject === "GRADERS" ? "Grader" : "Partner", value: (s) => s.display_name || s.subject,
        cell: (s) => [el("bdi", {}, s.display_name || fmt.id(s.subject)),
                      s.flagged ? el("span", { class: "flag-mark", title: "below the quality bar" }, " ⚑",
                                     el("span", { class: "sr" }, " flagged")) : null] },
    ];
    if (subject === "GRADERS") {
      cols.push({ label: "Partner", value: (s) => partnerNames.get(s.partner) || s.partner || "",
                  cell: (s) => (s.partner ? el("bdi", {}, partnerNames.get(s.partner) || fmt.id(s.partner)) : "in-house") });
    }
    cols.push(
      { label: "Judgements", num: true, value: (s) => Number(s.judgements), cell: (s) => fmt.int(s.judgements) },
      { label: "Per hour", num: true, title: "judgements per hour on task (hours with at least one judgement)",
        value: (s) => Number(s.throughput_per_hour),
        cell: (s) => [fmt.num(s.throughput_per_hour, 1), el("div", { class: "muted small" }, `over ${fmt.num(s.active_hours, 1)} h`)] },
      { label: "Median time", num: true, title: "median seconds on task", value: (s) => Number(s.median_seconds_on_task), cell: (s) => fmt.duration(s.median_seconds_on_task) },
      { label: "Skip rate", num: true, value: (s) => Number(s.skip_rate),
        cell: (s) => [fmt.pct(s.skip_rate, 1), el("div", { class: "muted small" }, `${fmt.int(s.skips)} skips`)] },
      { label: "Gold acc.", num: true, title: "accuracy on gold items, Wilson interval, gold judgements", value: (s) => share(s.gold_accuracy, s.gold_judgements),
        cell: (s) => (Number(s.gold_judgements)
          ? [fmt.pct(s.gold_accuracy, 1), el("div", { class: "muted small" },
               `${fmt.ci(s.gold_accuracy_interval, 2)} n=${fmt.int(s.gold_judgements)}`)]
          : "no gold judged") },
      { label: "Agreement", num: true, title: "agreement with the consensus label (items with 2 or more judgements)", value: (s) => share(s.consensus_agreement, s.consensus_judgements),
        cell: (s) => (Number(s.consensus_judgements)
          ? [fmt.pct(s.consensus_agreement, 1), el("div", { class: "muted small" }, `n=${fmt.int(s.consensus_judgements)}`)]
          : "–") },
      { label: "Reliability", num: true, title: "probability of giving the true label, as the aggregation estimated it",
        value: (s) => Q.n(s.reliability), cell: (s) => (s.reliability === undefined ? "–" : fmt.num(s.reliability, 2)) },
      { label: "Drift", value: (s) => (s.drifting ? 1 : 0),
        cell: (s) => [s.drifting ? el("b", {}, "drifting") : s.drift_p_value === undefined ? "–" : "no",
                      s.drift_p_value === undefined ? null : el("div", { class: "muted small" }, `p=${fmt.p(s.drift_p_value)}`)] },
      { label: "Cost / j.", num: true, title: "cost per judgement", value: (s) => (s.currency ? Number(s.cost_per_judgement) : null),
        cell: (s) => fmt.money(s.cost_per_judgement, s.currency) },
      { label: "Cost / reliable j.", num: true, title: "cost per reliable judgement: cost / (judgements × reliability)",
        value: (s) => (s.currency ? Q.n(s.cost_per_reliable_judgement) : null),
        cell: (s) => (s.cost_per_reliable_judgement === undefined ? "–" : fmt.money(s.cost_per_reliable_judgement, s.currency)) },
      { label: "SLA met", num: true, title: "judgements delivered within their SLA", value: (s) => share(s.sla_met_share, s.sla_judgements),
        cell: (s) => (Number(s.sla_judgements)
          ? [fmt.pct(s.sla_met_share, 1), el("div", { class: "muted small" }, `n=${fmt.int(s.sla_judgements)}`)]
          : "no SLA") },
      { label: "Flags", num: true, title: "reasons below the quality bar (listed under the row)",
        value: (s) => (s.flags || []).length, cell: (s) => ((s.flags || []).length ? `⚑ ${s.flags.length}` : "–") },
    );
    return cols;
  }

  /** Why a grader or partner is below the bar: the server's sentences, under its row. */
  function evidence(s) {
    if (!s.flagged || !(s.flags || []).length) return null;
    return el("div", { class: "evidence" }, el("span", { class: "flag-mark" }, "⚑ "),
      el("strong", {}, el("bdi", {}, s.display_name || fmt.id(s.subject)), " is below the quality bar: "),
      el("ul", {}, s.flags.map((f) => el("li", {}, el("span", { class: "flag-kind" }, f.kind.replace(/_/g, " ")), ": ", f.message))));
  }

  async function load() {
    const days = Q.params.get("days", "7");
    const partner = Q.params.get("partner", "");
    const window_ = { start_time: Q.daysAgo(Number(days)), end_time: new Date().toISOString() };
    const [graders, partners] = await Promise.all([
      Q.call("ReportingService", "ListScorecards", { subject: "GRADERS", window: window_, partner }),
      Q.call("ReportingService", "ListScorecards", { subject: "PARTNERS", window: window_ }),
    ]);
    for (const r of [graders, partners]) if (!r.ok) return Q.fail(r, "Loading the scorecards");
    const g = graders.data.scorecards || [], p = partners.data.scorecards || [];
    const partnerNames = new Map(p.map((s) => [s.subject, s.display_name]));
    const reload = () => { Q.params.set({ days: Q.$("days").value, partner: Q.$("partner").value }); load(); };
    const flagged = g.filter((s) => s.flagged).length;

    Q.$("content").replaceChildren(
      el("div", { class: "page-head" }, el("h1", {}, "Workforce"),
        el("p", { class: "muted" }, `${fmt.int(g.length)} graders (${fmt.int(flagged)} below the quality bar) and `,
           `${fmt.int(p.length)} partners, ${WINDOWS.find(([d]) => d === days)?.[1] || `last ${days} days`}. `,
           "Click a column header (or focus it and press Enter) to sort by it.")),
      el("form", { class: "controls", onsubmit: (e) => e.preventDefault() },
        Q.select("days", "Window", WINDOWS, days, reload),
        Q.select("partner", "Graders of", [["", "every partner"], ...p.map((s) => [s.subject, s.display_name || s.subject])], partner, reload)),
      el("section", { class: "card", "aria-labelledby": "h-graders" }, el("h2", { id: "h-graders" }, "Graders"),
        g.length ? Q.table({ id: "graders", sortable: true, caption: "Grader scorecards; ⚑ marks a grader below the quality bar, with the evidence",
                             columns: columns("GRADERS", partnerNames), rows: g, detail: evidence,
                             rowClass: (s) => (s.flagged ? "flagged" : undefined) })
          : el("p", { class: "muted" }, "No grader judged anything in the window.")),
      el("section", { class: "card", "aria-labelledby": "h-partners" }, el("h2", { id: "h-partners" }, "Partners"),
        p.length ? Q.table({ id: "partners", sortable: true, caption: "Partner scorecards",
                             columns: columns("PARTNERS", partnerNames), rows: p, detail: evidence,
                             rowClass: (s) => (s.flagged ? "flagged" : undefined) })
          : el("p", { class: "muted" }, "No partner's graders judged anything in the window.")));
  }

  Q.start("workforce", load);
})();
