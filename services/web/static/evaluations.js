// The evaluations list (ListEvaluations, newest first): where each stands, and a way to its report.
"use strict";

(() => {
  const { el, fmt } = Q;
  const STATES = ["PENDING", "PRODUCING", "PREJUDGING", "GRADING", "COMPLETE", "CANCELLED", "FAILED"];
  let rows = [], next = "";

  function progress(e) {
    const g = e.grading;
    if (e.state === "COMPLETE" && e.completion) return e.completion.message || fmt.state(e.completion.reason);
    if (!g || !Number(g.items_for_humans)) return "–";
    return `${fmt.int(g.items_done)} of ${fmt.int(g.items_for_humans)} items for humans done`
         + (g.eta && e.state === "GRADING" ? `, ETA ${fmt.time(g.eta)}` : "");
  }

  function render() {
    const t = Q.table({
      id: "evaluations", sortable: true,
      caption: "Evaluations, newest first; the name opens the report",
      columns: [
        { label: "Evaluation", value: (e) => e.display_name || e.name,
          cell: (e) => el("a", { href: `/${e.name}` }, e.display_name || fmt.id(e.name)) },
        { label: "State", value: (e) => STATES.indexOf(e.state), cell: (e) => el("span", { class: `state state-${e.state}` }, fmt.state(e.state)) },
        { label: "Team", cell: (e) => (e.spec && e.spec.owner_team) || "–" },
        { label: "Rankers", cell: (e) => ((e.spec && e.spec.rankers) || []).map((r) => r.id).join(", ") },
        { label: "Queries", num: true, value: (e) => Number(e.counts && e.counts.queries), cell: (e) => fmt.int(e.counts && e.counts.queries) },
        { label: "Items", num: true, value: (e) => Number(e.counts && e.counts.items), cell: (e) => fmt.int(e.counts && e.counts.items) },
        { label: "Labelled", num: true, value: (e) => Q.n(e.grading && e.grading.labelled_share),
          cell: (e) => (e.grading ? fmt.pct(e.grading.labelled_share) : "–") },
        { label: "Grading", value: (e) => Q.n(e.grading && e.grading.items_done), cell: progress },
        { label: "Created", value: (e) => e.create_time, cell: (e) => fmt.time(e.create_time) },
      ],
      rows,
    });
    const more = next ? el("button", { type: "button", id: "more", onclick: () => page(false) }, "More evaluations") : null;
    Q.$("list").replaceChildren(rows.length ? t : el("p", { class: "muted" }, "No evaluations match."), more || "");
  }

  async function page(fresh) {
    if (fresh) { rows = []; next = ""; }
    const state = Q.$("state-filter").value;
    const team = Q.$("team-filter").value.trim();
    Q.params.set({ state, team });
    const r = await Q.call("EvaluationService", "ListEvaluations", {
      page_size: 50, page_token: next, owner_team: team, states: state ? [state] : [] });
    if (!r.ok) return Q.fail(r, "Listing evaluations");
    rows = rows.concat(r.data.evaluations || []);
    next = r.data.next_page_token || "";
    render();
  }

  Q.start("evaluations", async () => {
    const reload = () => page(true);
    Q.$("content").replaceChildren(
      el("div", { class: "page-head" }, el("h1", {}, "Evaluations")),
      el("form", { class: "controls", onsubmit: (e) => { e.preventDefault(); reload(); } },
        Q.select("state-filter", "State", [["", "any"], ...STATES.map((s) => [s, fmt.state(s)])], Q.params.get("state", ""), reload),
        el("label", { class: "control", for: "team-filter" }, "Team ",
           el("input", { id: "team-filter", type: "text", value: Q.params.get("team", ""), placeholder: "any" })),
        el("button", { type: "submit" }, "Filter")),
      el("div", { id: "list" }));
    await page(true);
  });
})();
