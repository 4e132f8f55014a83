// The graders' app: every action is one GradingService call through /api/{Method}.
// No rules live here — the server decides what a task is, what a rating may be, and when a lease ends.
"use strict";

const $ = (id) => document.getElementById(id);
const RTL = /^(ar|he|fa|ur|ps|yi)(-|$)/i;
const POINTWISE = [[0, "Irrelevant"], [1, "Related"], [2, "Highly relevant"], [3, "Perfect"]];
const SXS = [[-3, "Left much better"], [-2, "Left better"], [-1, "Left slightly better"], [0, "About the same"],
             [1, "Right slightly better"], [2, "Right better"], [3, "Right much better"]];
const SKIP_KEYS = { "1": "WRONG_LANGUAGE", "2": "PAGE_BROKEN", "3": "OFFENSIVE", "4": "OTHER" };

const state = { token: sessionStorage.getItem("qrelay.credential") || "", assignment: null, kind: null,
                rating: null, expired: false, busy: false, done: 0, timer: null, retry: null, view: null };

async function api(method, body) {
  try {
    const r = await fetch(`/api/${method}`, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${state.token}` },
      body: JSON.stringify(body || {}),
    });
    const data = await r.json().catch(() => ({ code: "UNAVAILABLE", message: "bad answer from the server" }));
    return { ok: r.ok, status: r.status, data };
  } catch (e) {
    return { ok: false, status: 0, data: { code: "UNAVAILABLE", message: "cannot reach qrelay" } };
  }
}

function show(view) {
  state.view = view;
  for (const id of ["signin", "queue", "task"]) $(id).hidden = id !== view;
  $("stats").hidden = $("signout").hidden = view === "signin";
  if (view !== "task") { clearInterval(state.timer); $("skip-panel").hidden = true; }
}

function notice(text) { $("notice").textContent = text; $("notice").hidden = !text; }

// --- sign-in -------------------------------------------------------------------------------

async function signIn(credential) {
  state.token = credential.trim();
  const r = await api("GetMyStats");
  if (r.status === 403) {
    // not a grader's credential: engineers and ops leads work on the dashboards
    sessionStorage.setItem("qrelay.credential", state.token);
    location.assign("/evaluations");
    return;
  }
  if (!r.ok) {
    state.token = "";
    $("signin-error").textContent = r.status === 401 ? "That credential was not recognised. Check it and try again."
      : `Could not sign in: ${r.data.message}`;
    return;
  }
  sessionStorage.setItem("qrelay.credential", state.token);
  paintStats(r.data);
  queue();
}

function signOut() {
  sessionStorage.removeItem("qrelay.credential");
  state.token = ""; state.assignment = null;
  $("credential").value = ""; $("signin-error").textContent = "";
  show("signin"); $("credential").focus();
}

// --- stats ---------------------------------------------------------------------------------

function paintStats(s) {
  $("st-session").textContent = state.done;
  $("st-today").textContent = s.done_today;
  $("st-streak").textContent = s.streak_days;
  $("st-gold").textContent = Number(s.gold_judged) ? `${Math.round(s.gold_accuracy * 100)}%` : "–";
}

async function refreshStats() {
  const r = await api("GetMyStats");
  if (r.ok) paintStats(r.data);
}

// --- queue ---------------------------------------------------------------------------------

function queue(title, text) {
  clearTimeout(state.retry);
  $("queue-title").textContent = title || "Ready when you are";
  $("queue-text").textContent = text || "Tasks come one at a time. Rate with the number keys, press Enter to submit.";
  show("queue");
  $("start").focus();
}

async function next() {
  if (state.busy) return;
  state.busy = true;
  clearTimeout(state.retry);
  const r = await api("NextAssignment");
  state.busy = false;
  if (r.ok) return showTask(r.data);
  if (r.status === 401) return signOut();
  if (r.status === 404) {
    queue("No tasks for you right now", "Your queue is empty — nicely done. We'll look again every 30 seconds; press Enter to look now.");
    state.retry = setTimeout(next, 30000);
    return;
  }
  if (r.status === 403) return queue("Your account is paused", r.data.message + " Contact your team lead.");
  queue("Can't reach the task queue", `${r.data.message}. Press Enter to try again.`);
}

// --- a task --------------------------------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function resultNode(doc, tag) {
  const n = el(tag);
  const a = el("a", "title", doc.title || doc.url || doc.doc_id);
  a.href = /^https?:\/\//.test(doc.url) ? doc.url : "#";
  a.target = "_blank"; a.rel = "noopener noreferrer";
  n.append(a, el("div", "url", doc.url || ""), el("div", "snippet", doc.snippet || ""));
  return n;
}

function showTask(a) {
  state.assignment = a; state.rating = null; state.expired = false;
  const t = a.task;
  state.kind = t.pointwise ? "pointwise" : "side_by_side";
  const dir = RTL.test(t.locale) ? "rtl" : "ltr";
  $("task").dir = dir;
  $("query").textContent = t.query; $("query").lang = t.locale;
  $("locale").textContent = t.locale;
  notice("");
  $("pointwise").hidden = state.kind !== "pointwise";
  $("sxs").hidden = state.kind !== "side_by_side";
  if (state.kind === "pointwise") {
    const box = $("pw-result");
    box.replaceChildren(...resultNode(t.pointwise.result, "div").childNodes);
    box.dir = dir; box.lang = t.locale;
  } else {
    for (const side of ["left", "right"]) {
      const ol = $(side);
      ol.replaceChildren(...t.side_by_side[side].map((d) => resultNode(d, "li")));
      ol.dir = dir; ol.lang = t.locale;
    }
  }
  const scale = state.kind === "pointwise" ? POINTWISE : SXS;
  $("scale").replaceChildren(...scale.map(([v, name], i) => {
    const b = el("button");
    b.setAttribute("role", "radio"); b.setAttribute("aria-checked", "false"); b.dataset.value = v;
    const key = state.kind === "pointwise" ? String(v) : String(i + 1);
    b.append(el("span", "key", state.kind === "pointwise" ? key : (v > 0 ? `+${v}` : String(v))),
             el("span", "name", state.kind === "pointwise" ? name : `${name} · ${key}`));
    b.addEventListener("click", () => rate(v));
    return b;
  }));
  // the scale reads left to right so "left"/"right" keep their meaning in any script
  $("scale").dir = "ltr";
  $("guidelines-text").replaceChildren(markdown(a.guidelines || ""));
  $("flag").checked = false; $("comment").value = "";
  $("submit").disabled = true; $("skip-panel").hidden = true;
  show("task");
  tick();
  state.timer = setInterval(tick, 1000);
}

function rate(v) {
  if (state.expired) return;
  state.rating = v;
  for (const b of $("scale").children) b.setAttribute("aria-checked", String(Number(b.dataset.value) === v));
  $("submit").disabled = false;
}

function tick() {
  const left = Math.round((Date.parse(state.assignment.lease_expire_time) - Date.now()) / 1000);
  if (left <= 0) return expire();
  const m = Math.floor(left / 60), s = String(left % 60).padStart(2, "0");
  $("timer").textContent = `${m}:${s} left`;
  $("timer").classList.toggle("low", left < 60);
}

function expire(message) {
  clearInterval(state.timer);
  state.expired = true;
  $("timer").textContent = "time is up";
  $("submit").disabled = true;
  notice(message || "Time ran out on this task, so it went back to the pool for someone else. Nothing was saved. Press Enter for the next task.");
}

async function submit() {
  if (state.busy || state.expired || state.rating === null) return;
  state.busy = true;
  const field = state.kind === "pointwise" ? "grade" : "preference";
  const r = await api("SubmitJudgement", { name: state.assignment.name, [field]: state.rating,
                                           comment: $("comment").value, flagged: $("flag").checked });
  state.busy = false;
  if (r.ok) { state.done += 1; refreshStats(); return next(); }
  if (r.status === 401) return signOut();
  if (r.status === 409) return expire(/expired|no longer yours|released/.test(r.data.message)
    ? undefined : `${r.data.message}. Press Enter for the next task.`);
  if (r.status === 503 || r.status === 0 || r.status === 504)
    return notice("Couldn't reach the service. Your rating is still here — press Enter to send it again.");
  notice(r.data.message);
}

async function skip(reason) {
  if (state.busy) return;
  $("skip-panel").hidden = true;
  if (state.expired) return next();
  state.busy = true;
  const r = await api("SkipAssignment", { name: state.assignment.name, reason, comment: $("comment").value });
  state.busy = false;
  if (r.ok || r.status === 409) return next();
  notice(r.data.message);
}

function toggleGuidelines() {
  $("guidelines").hidden = !$("guidelines").hidden;
}

// --- a small, safe markdown subset for the guideline texts (headings, lists, tables, bold) ----

function inline(text, into) {
  for (const [i, part] of text.split(/\*\*(.+?)\*\*/).entries()) {
    into.append(i % 2 ? el("b", "", part) : document.createTextNode(part));
  }
  return into;
}

function markdown(src) {
  const root = document.createDocumentFragment();
  let list = null, table = null;
  for (const line of src.split("\n")) {
    const s = line.trim();
    if (!s.startsWith("|")) table = null;
    if (!s.startsWith("- ")) list = null;
    if (!s) continue;
    if (s.startsWith("#")) { root.append(inline(s.replace(/^#+\s*/, ""), el("h1"))); continue; }
    if (s.startsWith("- ")) {
      if (!list) { list = el("ul"); root.append(list); }
      list.append(inline(s.slice(2), el("li"))); continue;
    }
    if (s.startsWith("|")) {
      const cells = s.slice(1, -1).split("|").map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      if (!table) { table = el("table"); root.append(table); }
      const tr = el("tr");
      for (const c of cells) tr.append(inline(c, el(table.children.length ? "td" : "th")));
      table.append(tr); continue;
    }
    root.append(inline(s, el("p")));
  }
  return root;
}

// --- keyboard first ------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (e.altKey || e.metaKey || (e.ctrlKey && e.key !== "Enter")) return;
  const typing = e.target === $("comment") || e.target === $("credential");
  if (typing) {
    if (e.target === $("comment") && e.key === "Escape") { $("comment").blur(); e.preventDefault(); }
    if (e.target === $("comment") && e.key === "Enter" && e.ctrlKey) { e.preventDefault(); submit(); }
    return;
  }
  if (state.view === "queue" && e.key === "Enter") { e.preventDefault(); return next(); }
  if (state.view !== "task") return;
  const key = e.key.toLowerCase();
  if (!$("skip-panel").hidden) {
    if (SKIP_KEYS[key]) { e.preventDefault(); return skip(SKIP_KEYS[key]); }
    if (key === "escape") { $("skip-panel").hidden = true; return; }
    return;
  }
  if (key === "enter") { e.preventDefault(); return state.expired ? next() : submit(); }
  if (key === "g") return toggleGuidelines();
  if (key === "escape" && !$("guidelines").hidden) return toggleGuidelines();
  if (key === "s") { $("skip-panel").hidden = false; return; }
  if (key === "f") { $("flag").checked = !$("flag").checked; return; }
  if (key === "c") { e.preventDefault(); $("comment").focus(); return; }
  if (/^[0-9]$/.test(key)) {
    const n = Number(key);
    if (state.kind === "pointwise" && n <= 3) rate(n);
    if (state.kind === "side_by_side" && n >= 1 && n <= 7) rate(n - 4);
  }
});

$("signin-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("credential").value); });
$("signout").addEventListener("click", signOut);
$("start").addEventListener("click", next);
$("submit").addEventListener("click", submit);
$("skip").addEventListener("click", () => { $("skip-panel").hidden = false; });
$("guidelines-btn").addEventListener("click", toggleGuidelines);
$("guidelines-close").addEventListener("click", toggleGuidelines);
for (const li of document.querySelectorAll(".reasons li")) li.addEventListener("click", () => skip(li.dataset.reason));

if (state.token) { show("queue"); refreshStats(); queue(); } else { show("signin"); $("credential").focus(); }
