// What every dashboard page shares: the header, sign-in, calls through /api/{Service}/{Method},
// number formatting, and accessible sortable tables. No rules live here: every number comes from
// the gRPC API as it is, and the server decides who may see it (a grader's credential gets
// PERMISSION_DENIED, which the page says plainly).
"use strict";

const Q = (() => {
  const KEY = "qrelay.credential";  // the graders' app signs in under the same key
  const state = { token: sessionStorage.getItem(KEY) || "" };
  // what the tests and a curious reader can inspect: the charts each page drew
  window.qrelay = { charts: {} };

  // --- DOM -------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** el("td", {class: "num", title: "…"}, "text", node, …) */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // --- calls -----------------------------------------------------------------------------

  async function call(service, method, body) {
    try {
      const r = await fetch(`/api/${service}/${method}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}` },
        body: JSON.stringify(body || {}),
      });
      const data = await r.json().catch(() => ({ code: "UNAVAILABLE", message: "bad answer from the server" }));
      return { ok: r.ok, status: r.status, data };
    } catch (e) {
      return { ok: false, status: 0, data: { code: "UNAVAILABLE", message: "cannot reach qrelay" } };
    }
  }

  /** Every page of a List call (`items` names the repeated field), up to `maxPages`. */
  async function callAll(service, method, body, items, maxPages = 20) {
    const out = [];
    let token = "";
    for (let i = 0; i < maxPages; i++) {
      const r = await call(service, method, { ...body, page_token: token });
      if (!r.ok) return r;
      out.push(...(r.data[items] || []));
      token = r.data.next_page_token;
      if (!token) break;
    }
    return { ok: true, status: 200, data: { [items]: out } };
  }

  // --- formatting: never a number without the count behind it ----------------------------

  // a number, or null when there is none (absent, or NaN: proto3 JSON writes "NaN" for a mean
  // over no queries, which the page shows as "–" beside its count of 0)
  const n = (x) => {
    const v = x === undefined || x === null || x === "" ? NaN : Number(x);
    return Number.isNaN(v) ? null : v;
  };
  const fmt = {
    num(x, digits = 3) { x = n(x); return x === null ? "–" : x.toFixed(digits); },
    signed(x, digits = 3) { x = n(x); return x === null ? "–" : (x > 0 ? "+" : x < 0 ? "−" : "±") + Math.abs(x).toFixed(digits); },
    int(x) { x = n(x); return x === null ? "–" : Math.round(x).toLocaleString("en-US"); },
    pct(x, digits = 0) { x = n(x); return x === null ? "–" : `${(x * 100).toFixed(digits)}%`; },
    ci(iv, digits = 3) {
      return iv && n(iv.low) !== null && n(iv.high) !== null ? `[${fmt.num(iv.low, digits)}, ${fmt.num(iv.high, digits)}]` : "";
    },
    p(x) { x = n(x); return x === null ? "–" : x < 0.001 ? "<0.001" : x.toFixed(3); },
    time(ts) {
      if (!ts) return "–";
      const d = new Date(ts);
      return Number.isNaN(d.getTime()) ? ts : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    },
    date(ts) { return ts ? new Date(ts).toISOString().slice(0, 10) : "–"; },
    duration(seconds) {
      const s = n(seconds);
      if (s === null) return "–";
      if (s < 90) return `${Math.round(s)} s`;
      if (s < 5400) return `${Math.round(s / 60)} min`;
      return `${(s / 3600).toFixed(1)} h`;
    },
    money(x, currency) { return currency ? `${fmt.num(x, 2)} ${currency}` : "–"; },
    state(s) { return (s || "").toLowerCase().replace(/_/g, " "); },
    id(name) { return (name || "").split("/").pop(); },
  };

  // --- tables ----------------------------------------------------------------------------

  /**
   * A table a keyboard and a screen reader can use: a caption, column headers with scope, and —
   * when `sortable` — a button in each header that sorts by that column (aria-sort says how).
   * columns: [{label, title?, num?, value: row → sort key, cell: row → text | Node | [..]}]
   * detail: row → Node or null, shown in a full-width row under its row (and sorted with it)
   */
  function table({ caption, columns, rows, sortable = false, rowClass, rowHeader = 0, id, detail }) {
    const t = el("table", { class: "data", id });
    if (caption) t.append(el("caption", {}, caption));
    const tbody = el("tbody");
    const sort = { col: -1, dir: 1 };
    const ths = columns.map((c, i) => {
      const th = el("th", { scope: "col", class: c.num ? "num" : undefined, title: c.title });
      if (sortable) {
        th.setAttribute("aria-sort", "none");
        th.append(el("button", { type: "button", class: "sort", onclick: () => sortBy(i) }, c.label,
                     el("span", { class: "arrow", "aria-hidden": "true" })));
      } else {
        th.append(c.label);
      }
      return th;
    });
    t.append(el("thead", {}, el("tr", {}, ths)), tbody);

    function render(list) {
      tbody.replaceChildren(...list.flatMap((row) => {
        const cls = rowClass ? rowClass(row) : undefined;
        const tr = el("tr", { class: cls }, columns.map((c, i) => el(i === rowHeader ? "th" : "td",
          { class: c.num ? "num" : undefined, scope: i === rowHeader ? "row" : undefined }, c.cell(row))));
        const more = detail && detail(row);
        return more ? [tr, el("tr", { class: `detail ${cls || ""}` }, el("td", { colspan: columns.length }, more))] : [tr];
      }));
    }

    function sortBy(i) {
      sort.dir = sort.col === i ? -sort.dir : (columns[i].num ? -1 : 1);  // numbers: largest first
      sort.col = i;
      const key = columns[i].value || ((r) => String(columns[i].cell(r)));
      const sorted = rows.slice().sort((a, b) => {
        const x = key(a), y = key(b);
        const missing = (v) => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));
        if (missing(x) || missing(y)) return missing(x) - missing(y);  // missing values always last
        return (typeof x === "number" ? x - y : String(x).localeCompare(String(y))) * sort.dir;
      });
      ths.forEach((th, j) => th.setAttribute("aria-sort", j === i ? (sort.dir > 0 ? "ascending" : "descending") : "none"));
      render(sorted);
    }

    render(rows);
    return t;
  }

  /** A value with its interval and count, e.g. "0.612 [0.580, 0.644] n=212". */
  function estimate(value, interval, count, countLabel = "n") {
    return el("span", { class: "estimate" }, el("b", {}, fmt.num(value)), " ",
              el("span", { class: "ci" }, fmt.ci(interval)), " ",
              el("span", { class: "count" }, `${countLabel}=${fmt.int(count)}`));
  }

  /** The significance mark: a symbol for the eye, words for a screen reader. */
  function mark(significant, text) {
    return significant
      ? el("span", { class: "sig", title: text || "significant after Holm correction" }, "★",
           el("span", { class: "sr" }, ` ${text || "significant after Holm correction"}`))
      : el("span", { class: "nonsig" }, el("span", { "aria-hidden": "true" }, "–"), el("span", { class: "sr" }, "not significant"));
  }

  // --- page frame, sign-in and errors -----------------------------------------------------

  const NAV = [["/evaluations", "Evaluations"], ["/trends", "Trends"], ["/workforce", "Workforce"]];

  function frame(title) {
    document.title = `qrelay · ${title}`;
    const here = location.pathname;
    const nav = el("nav", { "aria-label": "Dashboards" }, NAV.map(([href, label]) =>
      el("a", { href, "aria-current": here === href || (href === "/evaluations" && here.startsWith("/evaluations/")) ? "page" : undefined }, label)));
    const out = el("button", { type: "button", class: "link", id: "signout", hidden: true, onclick: signOut }, "Sign out");
    document.body.prepend(el("header", { class: "bar" }, el("a", { class: "brand", href: "/evaluations" }, "qrelay"), nav, out));
    const main = $("main");
    main.prepend(
      el("section", { id: "signin", class: "card narrow", hidden: true },
        el("h1", {}, "Sign in"),
        el("p", { class: "muted" }, "The dashboards are for search engineers and ops leads: paste your qrelay token."),
        el("form", { id: "signin-form", onsubmit: (e) => { e.preventDefault(); signIn($("credential").value); } },
          el("input", { id: "credential", type: "password", autocomplete: "off", "aria-label": "Token" }),
          el("button", { type: "submit", class: "primary" }, "Sign in")),
        el("p", { id: "signin-error", class: "error", role: "alert" })),
      el("div", { id: "problem", class: "notice", role: "alert", hidden: true }));
  }

  let loader = null;

  function signIn(credential) {
    state.token = credential.trim();
    sessionStorage.setItem(KEY, state.token);
    $("signin-error").textContent = "";
    run();
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    state.token = "";
    location.reload();
  }

  function showSignIn(message) {
    $("signin").hidden = false;
    $("content").hidden = true;
    $("signout").hidden = true;
    $("signin-error").textContent = message || "";
    $("credential").focus();
  }

  /**
   * Says why a call failed. A bad token goes back to sign-in; a role the server refused (a
   * grader's) sees the server's sentence and nothing of the page.
   */
  function fail(r, where) {
    if (r.status === 401) {
      sessionStorage.removeItem(KEY);
      state.token = "";
      showSignIn("That token was not recognised. Check it and try again.");
      return;
    }
    const box = $("problem");
    box.replaceChildren();
    if (r.status === 403) {
      $("content").hidden = true;
      box.append(el("strong", {}, "This page is not for your role. "), r.data.message + ". ",
                 "Graders work in the ",
                 el("a", { href: "/" }, "graders' app"), ".");
    } else {
      box.append(el("strong", {}, `${where || "The request"} failed: `), `${r.data.message} (${r.data.code})`);
      for (const v of r.data.violations || []) box.append(el("div", {}, `${v.field}: ${v.description}`));
    }
    box.hidden = false;
  }

  function clearProblem() { $("problem").hidden = true; }

  async function run() {
    if (!state.token) return showSignIn();
    $("signin").hidden = true;
    $("signout").hidden = false;
    $("content").hidden = false;
    clearProblem();
    await loader();
  }

  /** Sets up the page and runs `load` once signed in. */
  function start(title, load) {
    frame(title);
    loader = load;
    run();
  }

  /** A <select> with a label; `options` are [value, text] pairs. */
  function select(id, label, options, value, onchange) {
    const s = el("select", { id, onchange });
    for (const [v, text] of options) s.append(el("option", { value: v, selected: v === value }, text));
    return el("label", { class: "control", for: id }, label, " ", s);
  }

  /** Query-string state, so a page's view can be linked to. */
  const params = {
    get(k, fallback) { return new URLSearchParams(location.search).get(k) ?? fallback; },
    set(values) {
      const u = new URLSearchParams(location.search);
      for (const [k, v] of Object.entries(values)) (v === "" || v === null || v === undefined) ? u.delete(k) : u.set(k, v);
      history.replaceState(null, "", `${location.pathname}${u.toString() ? "?" + u : ""}`);
    },
  };

  /** Days ago as an RFC 3339 time. */
  function daysAgo(days) { return new Date(Date.now() - days * 86400e3).toISOString(); }

  return { $, el, call, callAll, fmt, table, estimate, mark, start, fail, clearProblem, select, params, daysAgo, n };
})();

// One page shell serves every dashboard; the path says which page's script to run (in order,
// after the chart library where the page draws one).
(() => {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  const scripts = path === "/evaluations" ? ["evaluations.js"]
    : path.startsWith("/evaluations/") ? ["report.js"]
    : path === "/trends" ? ["vendor/uPlot.iife.min.js", "trends.js"]
    : path === "/workforce" ? ["workforce.js"] : [];
  for (const src of scripts) {
    const s = document.createElement("script");
    s.src = `/static/${src}`;
    s.async = false;
    document.head.append(s);
  }
})();
