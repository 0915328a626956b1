// The host console: renders the host view the hub sends, and sends host commands. Flow rules
// (what the natural next step is, why a button is disabled) are read from the view; scores,
// ranks and previews always come from the hub.

import { LiveClient, timerRemaining, formatClock } from "/static/live/client.js";
import { makeT, applyI18n, errorText, getLang, setLang } from "/static/live/i18n.js";
import { DICT } from "/static/console/strings.js";

const TOKEN_KEY = "live.console.token";
const t = makeT(DICT);
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

let client = null;
let S = {}; // the host view, by section
let tab = "scores";
let fixState = null; // the open correction dialog: {kind, action, fields}
let previewSeq = 0;

// --- small DOM helpers: text goes in as text, never as HTML ---

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function guardButton(label, reason, onClick, cls = "") {
  // A disabled button says why, both on hover and in the text beside it.
  const b = el("button", { type: "button", class: cls, disabled: Boolean(reason), title: reason || null }, label);
  if (!reason) b.addEventListener("click", onClick);
  return reason ? el("span", { class: "guarded" }, b, el("small", { class: "why" }, reason)) : b;
}

function toast(text, kind = "ok") {
  const box = $("#toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 4000);
}

// --- contest lookups ---

const contest = () => S.contest || { cases: [], groups: [], judges: [], rubric: [] };
const caseInfo = (id) => contest().cases.find((c) => c.id === id) || { id, title: id, group: "" };
const groupName = (key) => (contest().groups.find((g) => g.key === key) || { name: key }).name;
const judgeName = (id) => (contest().judges.find((j) => j.id === id) || { name: id }).name;
const statusOf = (id) => (S.run ? S.run.status[id] : null);
const caseLabel = (id) => `${caseInfo(id).title}`;

function currentStatus() {
  return S.run && S.run.current ? S.run.status[S.run.current] : null;
}

function timerFresh() {
  const tm = S.stage && S.stage.timer;
  return !tm || (tm.running_since == null && tm.elapsed_ms === 0);
}

function timerRunning() {
  return Boolean(S.stage && S.stage.timer && S.stage.timer.running_since != null);
}

function nextWaiting() {
  const order = S.run.order;
  const start = S.run.current ? order.indexOf(S.run.current) + 1 : 0;
  return [...order.slice(start), ...order.slice(0, start)].find((c) => S.run.status[c] === "waiting") || null;
}

// --- commands ---

async function send(action, args = {}) {
  if (!client) return false;
  try {
    await client.command(action, args);
    toast(t("done", { what: t(`act_${action}`) }));
    return true;
  } catch (err) {
    toast(errorText(err), "bad");
    return false;
  }
}

function confirmBox(title, text) {
  const dlg = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  dlg.returnValue = "";
  dlg.showModal();
  $("#confirm-ok").focus();
  return new Promise((resolve) => {
    dlg.addEventListener("close", () => resolve(dlg.returnValue === "ok"), { once: true });
  });
}

async function guarded(action, args, confirmText) {
  if (confirmText && !(await confirmBox(t(`act_${action}`), confirmText))) return false;
  return send(action, args);
}

// --- the next step ---

function nextStep() {
  if (!S.run) return { label: "…", why: t("connecting") };
  const cur = S.run.current;
  const status = currentStatus();
  if (!cur || status === "revealed" || status === "skipped") {
    const next = nextWaiting();
    if (!next) return { label: t("ns_done"), why: t("why_all_done") };
    return { action: "next", args: {}, label: t(cur ? "ns_next" : "ns_first", { title: caseLabel(next) }) };
  }
  if (status === "on_stage") {
    if (timerFresh()) return { action: "timer", args: { op: "start" }, label: t("ns_timer") };
    return { action: "open", args: {}, label: t("ns_open") };
  }
  const prog = S.progress || { submitted: [], expected: [] };
  const got = prog.expected.filter((j) => prog.submitted.includes(j)).length;
  if (status === "scoring") {
    const missing = prog.expected.length - got;
    return {
      action: "close", args: {}, label: t("ns_close", { n: got, m: prog.expected.length }),
      confirm: missing > 0 ? t("confirm_close_early", { n: got, m: prog.expected.length }) : null,
    };
  }
  if (status === "closed") {
    const wb = S.scores && S.scores.would_be;
    if (wb && wb.error) return { label: t("ns_reveal"), why: errorText({ code: wb.error, message: wb.message }) };
    return {
      action: "reveal", args: {}, label: t("ns_reveal"),
      confirm: t("confirm_reveal", { title: caseLabel(cur), final: wb ? wb.final : "?" }),
    };
  }
  return { label: "…" };
}

let stepping = false; // one next step in flight at a time: a double press must not do two

async function doNextStep() {
  const step = nextStep();
  if (!step.action || stepping) return;
  stepping = true;
  $("#next-step").blur();
  try {
    await guarded(step.action, step.args, step.confirm);
  } finally {
    stepping = false;
  }
}

function renderNext() {
  const step = nextStep();
  const btn = $("#next-step");
  btn.replaceChildren(el("span", {}, step.label), el("kbd", {}, "N"));
  btn.disabled = !step.action;
  btn.title = step.why || t("shortcut");
  btn.dataset.action = step.action || "";
  $("#next-why").textContent = step.why || t("shortcut");
}

// --- panels ---

function statusBadge(status) {
  return el("span", { class: `badge st-${status}` }, t(`st_${status}`));
}

function inProgressReason() {
  const st = currentStatus();
  return st === "scoring" || st === "closed" ? t("why_in_progress") : null;
}

function renderRunShow() {
  const box = $("#runshow");
  const parts = [];
  for (const g of contest().groups) {
    const ids = S.run.order.filter((c) => caseInfo(c).group === g.key);
    parts.push(el("h2", {}, g.name, el("small", {}, ` ${ids.filter((c) => ["revealed", "skipped"].includes(statusOf(c))).length}/${ids.length}`)));
    const board = S[`board/${g.key}`] || { rows: [] };
    const list = el("ol", { class: "cases" });
    ids.forEach((id, i) => {
      const info = caseInfo(id);
      const st = statusOf(id);
      const row = board.rows.find((r) => r.case === id);
      const actions = [];
      if (st === "waiting") {
        actions.push(guardButton(t("b_stage"), inProgressReason(), () => guarded("stage", { case: id }), "small"));
        actions.push(el("button", { type: "button", class: "small", on: { click: () => openFix("move", { case: id }) } }, t("b_move")));
      }
      if (st === "waiting" || st === "on_stage") {
        actions.push(el("button", { type: "button", class: "small", on: { click: () => openFix("skip", { case: id }) } }, t("b_skip")));
      }
      if (st === "skipped") {
        actions.push(guardButton(t("b_stage"), inProgressReason(), () => guarded("stage", { case: id }), "small"));
      }
      list.append(el("li", { class: `case ${id === S.run.current ? "current" : ""} st-${st}`, dataset: { case: id } },
        el("span", { class: "num" }, String(i + 1)),
        el("div", { class: "ctitle", title: info.title }, info.title),
        statusBadge(st),
        el("div", { class: "meta", title: `${info.presenter || ""} · ${info.unit || ""}` }, `${info.presenter || ""} · ${info.unit || ""}`),
        row ? el("span", { class: "final" }, `${row.final}${row.prize ? " " + row.prize : ""}`)
          : el("div", { class: "acts" }, actions)));
    });
    parts.push(list);
  }
  box.replaceChildren(...parts);
  const cur = $(".case.current", box);
  if (cur && renderRunShow.lastCurrent !== S.run.current) cur.scrollIntoView({ block: "nearest" });
  renderRunShow.lastCurrent = S.run.current;
}

function tieAlerts() {
  // A tie at a prize boundary blocks that group's awards: say so where the host is looking.
  return contest().groups.filter((g) => boundaryTies(g.key).length).map((g) =>
    el("div", { class: "alert", dataset: { group: g.key } }, `⚠ ${g.name}: ${t("tie_banner")} `,
      el("button", { type: "button", class: "danger small", on: { click: () => openFix("resolve_tie", { group: g.key }) } }, t("b_resolve"))));
}

function renderCurrent() {
  const box = $("#current");
  const cur = S.run.current;
  if (!cur) {
    box.replaceChildren(el("div", { class: "idle" }, t("no_current")), el("div", { class: "meta" }, screenText()), ...tieAlerts());
    return;
  }
  const info = caseInfo(cur);
  box.replaceChildren(
    el("div", { class: "where" }, `${groupName(info.group)} · ${t("nth", { i: S.stage.index, n: S.stage.of })}`, statusBadge(statusOf(cur))),
    el("div", { class: "ctitle big" }, info.title),
    el("div", { class: "meta" }, `${info.presenter || ""} · ${info.unit || ""} · ${screenText()}`),
    ...tieAlerts());
}

function screenText() {
  const sc = S.screen || {};
  const g = sc.group ? ` ${groupName(sc.group)}` : "";
  return `${t("big_screen")}: ${t(`mode_${sc.mode}`)}${sc.mode === "auto" ? ` (${t(`view_${sc.view}`)})` : g}`;
}

function renderTimer() {
  const cur = S.run.current;
  const none = cur ? null : t("why_no_case");
  const running = timerRunning();
  const reasons = {
    start: none || (running ? t("why_running") : null),
    pause: none || (!running ? t("why_not_running") : null),
    resume: none || (running ? t("why_running") : timerFresh() ? t("why_use_start") : null),
    add: none,
    reset: none,
    comment: none || (running ? t("why_running") : null),
  };
  const commentSeconds = contest().comment_seconds || 0;
  const cb = $("#comment-timer");
  cb.hidden = !commentSeconds;
  cb.textContent = t("t_comment", { time: formatClock(commentSeconds * 1000) });
  for (const b of $$("[data-timer]")) {
    const r = reasons[b.dataset.timer];
    b.disabled = Boolean(r);
    b.title = r || "";
  }
  const st = currentStatus();
  const wb = S.scores && S.scores.would_be;
  const acts = {
    open: st === "on_stage" ? null : cur ? t("why_status", { st: t(`st_${st}`) }) : none,
    close: st === "scoring" ? null : cur ? t("why_status", { st: t(`st_${st}`) }) : none,
    reveal: st !== "closed" ? (cur ? t("why_status", { st: t(`st_${st}`) }) : none) : wb && wb.error ? errorText({ code: wb.error }) : null,
  };
  for (const b of $$("[data-act]")) {
    const r = acts[b.dataset.act];
    b.disabled = Boolean(r);
    b.title = r || "";
  }
  tick();
}

function tick() {
  if (!S.stage) return;
  const clock = $("#clock");
  if (!S.run.current) {
    clock.textContent = "--:--";
    clock.className = "clock";
    return;
  }
  const ms = timerRemaining(S.stage.timer, client.serverNow());
  clock.textContent = formatClock(ms);
  clock.className = `clock ${timerRunning() ? "running" : "paused"} ${ms < 0 ? "over" : ms < 60000 ? "low" : ""}`;
}

function renderScores() {
  const box = $("#tab-scores");
  const sc = S.scores || {};
  if (!sc.case) {
    box.replaceChildren(el("p", { class: "muted" }, t("no_current")));
    return;
  }
  const wb = sc.would_be || {};
  const high = new Set(wb.dropped_high || []);
  const low = new Set(wb.dropped_low || []);
  const prog = S.progress || { recused: [], absent: [] };
  const crit = contest().single ? [] : contest().rubric;
  const head = el("tr", {}, el("th", {}, t("judge")), ...crit.map((c) => el("th", {}, c.name)), el("th", {}, t("total")), el("th", {}, ""));
  const rows = contest().judges.map((j) => {
    const e = sc.entries[j.id];
    let note = "";
    if (prog.recused.includes(j.id)) note = t("recused");
    else if (prog.absent.includes(j.id)) note = t("absent");
    else if (!e) note = t("waiting_score");
    else if (high.has(j.id)) note = t("dropped_high");
    else if (low.has(j.id)) note = t("dropped_low");
    const dropped = high.has(j.id) || low.has(j.id);
    return el("tr", { class: `${dropped ? "dropped" : ""} ${e ? "" : "none"}`, dataset: { judge: j.id } },
      el("td", {}, j.name),
      ...crit.map((c) => el("td", { class: "num" }, e ? e.values[c.key] ?? "" : "")),
      el("td", { class: "num total" }, e ? e.total : "—"),
      el("td", { class: "note" }, note));
  });
  const final = wb.error
    ? el("p", { class: "wouldbe warn" }, `${t("would_be")}: ${errorText({ code: wb.error, message: wb.message })}`)
    : el("p", { class: "wouldbe" }, `${t(statusOf(sc.case) === "revealed" ? "final" : "would_be")}: `, el("strong", { id: "would-be" }, wb.final), ` (${t("unrounded")} ${shortDecimal(wb.unrounded)})`);
  box.replaceChildren(el("table", { class: "grid scores" }, el("thead", {}, head), el("tbody", {}, rows)), final);
}

function shortDecimal(text) {
  // Display only: a repeating mean is cut (not rounded) after six places and marked with "…".
  const [whole, frac = ""] = String(text).split(".");
  return frac.length > 6 ? `${whole}.${frac.slice(0, 6)}…` : String(text);
}

function boundaryTies(group) {
  const board = S[`board/${group}`];
  return board ? board.rows.filter((r) => r.boundary_tie) : [];
}

function awardsReason(group) {
  const board = S[`board/${group}`];
  if (!board || !board.final) return t("why_group_not_final");
  if (boundaryTies(group).length) return t("why_tie");
  return null;
}

function renderBoards() {
  const box = $("#tab-boards");
  const parts = [];
  for (const g of contest().groups) {
    const board = S[`board/${g.key}`];
    const ties = boundaryTies(g.key);
    const head = el("h3", {}, g.name, board.final ? el("small", {}, ` · ${t("group_final")}`) : el("small", {}, ` · ${t("pending_n", { n: board.pending.length })}`));
    parts.push(head);
    if (ties.length) {
      parts.push(el("p", { class: "warn" }, `⚠ ${t("tie_banner")}`, " ",
        el("button", { type: "button", class: "danger small", on: { click: () => openFix("resolve_tie", { group: g.key }) } }, t("b_resolve"))));
    }
    const rows = board.rows.map((r) => el("tr", { class: r.boundary_tie ? "tie" : r.tied ? "tied" : "" , dataset: { case: r.case } },
      el("td", { class: "num" }, String(r.rank)), el("td", {}, caseLabel(r.case)), el("td", { class: "num" }, r.final),
      el("td", {}, r.prize || ""), el("td", {}, r.boundary_tie ? t("boundary_tie") : r.tied ? t("tied") : "")));
    parts.push(rows.length ? el("table", { class: "grid board", dataset: { group: g.key } },
      el("thead", {}, el("tr", {}, ...["rank", "case", "final", "prize", ""].map((k) => el("th", { class: ["rank", "final"].includes(k) ? "num" : "" }, k ? t(k) : "")))),
      el("tbody", {}, rows)) : el("p", { class: "muted" }, t("no_results")));
  }
  box.replaceChildren(...parts);
}

function renderScreen() {
  const box = $("#tab-screen");
  const sc = S.screen || {};
  const parts = [el("p", { class: "now" }, screenText())];
  const row = el("div", { class: "row wrap" },
    el("button", { type: "button", class: sc.mode === "auto" ? "on" : "", on: { click: () => send("show", { screen: "auto" }) } }, t("scr_auto")),
    el("button", { type: "button", class: sc.mode === "welcome" ? "on" : "", on: { click: () => send("show", { screen: "welcome" }) } }, t("scr_welcome")));
  parts.push(row);
  for (const g of contest().groups) {
    const aw = (S.awards && S.awards.groups[g.key]) || { shown: 0, steps: 0 };
    const showingAwards = sc.mode === "awards" && sc.group === g.key;
    let stepReason = null;
    if (!showingAwards) stepReason = t("why_show_awards_first");
    else if (aw.shown >= aw.steps) stepReason = t("why_awards_done");
    else stepReason = awardsReason(g.key);
    parts.push(el("div", { class: "row wrap group-screen", dataset: { group: g.key } },
      el("strong", {}, g.name),
      el("button", { type: "button", class: sc.mode === "board" && sc.group === g.key ? "on" : "", on: { click: () => send("show", { screen: "board", group: g.key }) } }, t("scr_board")),
      guardButton(t("scr_awards"), awardsReason(g.key), () => send("show", { screen: "awards", group: g.key }), showingAwards ? "on" : ""),
      guardButton(t("scr_award_step", { k: aw.shown, n: aw.steps }), stepReason, () => guarded("award_step", { group: g.key }, t("confirm_award_step")), "primary")));
  }
  box.replaceChildren(...parts);
}

function renderFix() {
  const box = $("#tab-fix");
  const cur = S.run.current;
  const st = currentStatus();
  const scored = S.scores && S.scores.entries ? Object.keys(S.scores.entries) : [];
  const reveals = (S.corrections && S.corrections.reveals) || [];
  const anyTie = contest().groups.some((g) => (S[`board/${g.key}`].rows || []).some((r) => r.tied));
  const items = [
    ["reopen", !cur ? t("why_no_case") : st !== "closed" ? t("why_reopen") : null],
    ["void", !cur ? t("why_no_case") : st === "revealed" ? t("why_undo_first") : !scored.length ? t("why_no_scores") : null],
    ["absent", null],
    ["present", Object.keys((S.corrections && S.corrections.absent) || {}).length ? null : t("why_no_absent")],
    ["skip", null],
    ["move", null],
    ["resolve_tie", anyTie ? null : t("why_no_tie")],
    ["undo_reveal", reveals.length ? null : t("why_no_reveal")],
  ];
  box.replaceChildren(el("div", { class: "fixes" }, items.map(([kind, reason]) =>
    el("div", { class: "fix-item" }, guardButton(t(`act_${kind}`), reason, () => openFix(kind, {}), "fix"),
      el("small", { class: "muted" }, t(`help_${kind}`))))));
}

function ago(ms) {
  if (!ms) return t("never");
  const s = Math.max(0, Math.round((client.serverNow() - ms) / 1000));
  return s < 60 ? t("s_ago", { s }) : t("m_ago", { m: Math.floor(s / 60) });
}

function renderJudges() {
  const box = $("#judges");
  const cur = S.run.current;
  const st = currentStatus();
  box.replaceChildren(...(S.judges || []).map((j) => {
    const badges = [];
    if (j.absent) badges.push(el("span", { class: "badge absent", title: j.absent }, t("absent")));
    if (j.recused) badges.push(el("span", { class: "badge recused" }, t("recused")));
    if (cur && !j.recused && !j.absent) badges.push(el("span", { class: `badge ${j.submitted ? "done" : "todo"}` }, t(j.submitted ? "submitted" : "not_submitted")));
    const battery = j.battery == null ? "" : `${Math.round(j.battery * 100)}%${j.charging ? "⚡" : ""}`;
    const acts = [];
    if (j.submitted && st !== "revealed") acts.push(el("button", { type: "button", class: "small", on: { click: () => openFix("void", { judge: j.id }) } }, t("b_void")));
    if (!j.absent) acts.push(el("button", { type: "button", class: "small", on: { click: () => openFix("absent", { judge: j.id }) } }, t("b_absent")));
    else acts.push(el("button", { type: "button", class: "small", on: { click: () => openFix("present", { judge: j.id }) } }, t("b_present")));
    return el("div", { class: `judge ${j.online ? "online" : "offline"}`, dataset: { judge: j.id } },
      el("div", { class: "jline" }, el("span", { class: "dot", title: t(j.online ? "online" : "offline") }), el("strong", {}, j.name),
        ...badges, el("span", { class: "battery" }, battery)),
      el("div", { class: "jline small" }, el("span", { class: "seen" }, `${t(j.online ? "online" : "offline")} · ${t("last_seen")} ${ago(j.last_seen)}`),
        el("span", { class: "acts" }, acts)));
  }));
}

function renderAll() {
  if (!S.run) return;
  $("#title").textContent = contest().title;
  renderRunShow();
  renderCurrent();
  renderNext();
  renderTimer();
  renderScores();
  renderBoards();
  renderScreen();
  renderFix();
  renderJudges();
  if (!$("#audit-case").options.length) fillAuditCases();
}

// --- tabs ---

function showTab(name) {
  tab = name;
  for (const b of $$("[data-tab]")) b.classList.toggle("on", b.dataset.tab === name);
  for (const s of $$(".tab")) s.hidden = s.id !== `tab-${name}`;
  if (name === "audit") loadAudit();
}

// --- host-only HTTP ---

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401) {
    signOut(t("bad_token"));
    throw new Error("unauthorized");
  }
  return res.json();
}

// Results (成绩公示, 评分表, exports) are host-only: fetched with the token in the header, then
// shown (a page to print) or saved (a file), so the token never appears in a URL.
async function openResults(what) {
  $("#results-menu").open = false;
  const res = await fetch(`/results/${what}`, { headers: { Authorization: `Bearer ${localStorage.getItem(TOKEN_KEY)}` } });
  if (res.status === 401) {
    signOut(t("bad_token"));
    return;
  }
  if (!res.ok) {
    toast(`${t("results_failed")} (${res.status})`, "err");
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  if (what.startsWith("export.")) {
    const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
    const a = el("a", { href: url, download: name ? name[1] : what });
    document.body.append(a);
    a.click();
    a.remove();
  } else {
    window.open(url, "_blank");
  }
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function fillAuditCases() {
  const sel = $("#audit-case");
  sel.replaceChildren(el("option", { value: "" }, t("all_cases")), ...contest().cases.map((c) => el("option", { value: c.id }, `${c.id} · ${c.title}`)));
}

function eventDetails(ev) {
  const d = ev.data || {};
  const bits = [];
  if (d.case) bits.push(caseLabel(d.case));
  if (d.judge) bits.push(judgeName(d.judge));
  if (d.total) bits.push(`${t("total")} ${d.total}`);
  if (d.op) bits.push(`${d.op}${d.seconds ? ` ${d.seconds}s` : ""}`);
  if ("after" in d) bits.push(`${t("after")} ${d.after ? caseLabel(d.after) : t("front")}`);
  if (d.order) bits.push(d.order.map(caseLabel).join(" > "));
  if (d.screen) bits.push(`${d.screen}${d.group ? ` ${groupName(d.group)}` : ""}`);
  if (d.title) bits.push(d.title);
  if (ev.type === "award_step") bits.push(groupName(d.group));
  return bits.join(" · ");
}

async function loadAudit() {
  const c = $("#audit-case").value;
  const data = await api(`/console/api/audit${c ? `?case=${encodeURIComponent(c)}` : ""}`);
  $("#audit-head").textContent = `#${data.head.seq} ${data.head.hash.slice(0, 16)}… ${data.chain_ok ? "✓" : "✗"}`;
  $("#audit-head").title = data.head.hash;
  const rows = data.events.slice().reverse().map((ev) => el("tr", { class: ev.reason ? "has-reason" : "", dataset: { type: ev.type } },
    el("td", { class: "num" }, String(ev.seq)),
    el("td", {}, ev.time ? new Date(ev.time).toLocaleTimeString(getLang() === "en" ? "en-GB" : "zh-CN", { hour12: false }) : ""),
    el("td", {}, ev.actor === "host" ? t("host") : ev.actor === "system" ? t("system") : judgeName(ev.actor)),
    el("td", {}, t(`ev_${ev.type}`)),
    el("td", {}, eventDetails(ev)),
    el("td", { class: "reason" }, ev.reason || "")));
  $("#audit-table").replaceChildren(
    el("thead", {}, el("tr", {}, ...["seq", "time", "actor", "event", "details", "reason_col"].map((k) => el("th", {}, t(k))))),
    el("tbody", {}, rows));
}

// --- corrections: a reason, a preview of the ranking diff, then confirm ---

function select(id, options, value) {
  return el("select", { id, on: { change: schedulePreview } }, options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
}

function tieBlocks(group) {
  // Cases that share a rank, grouped; the boundary ones first.
  const rows = (S[`board/${group}`] || { rows: [] }).rows.filter((r) => r.tied);
  const byRank = new Map();
  for (const r of rows) byRank.set(r.rank, [...(byRank.get(r.rank) || []), r]);
  return [...byRank.values()].sort((a, b) => Number(b[0].boundary_tie) - Number(a[0].boundary_tie));
}

function tieOrderList(cases) {
  const list = el("ol", { id: "tie-order", class: "tie-order" });
  const redraw = () => {
    list.replaceChildren(...fixState.order.map((c, i) => el("li", { dataset: { case: c } }, el("span", {}, caseLabel(c)),
      el("button", { type: "button", class: "small", disabled: i === 0, title: t("up"), on: { click: () => moveTie(i, -1) } }, "↑"),
      el("button", { type: "button", class: "small", disabled: i === fixState.order.length - 1, title: t("down"), on: { click: () => moveTie(i, 1) } }, "↓"))));
  };
  const moveTie = (i, d) => {
    const o = fixState.order;
    [o[i], o[i + d]] = [o[i + d], o[i]];
    redraw();
    schedulePreview();
  };
  fixState.order = cases;
  redraw();
  return list;
}

function openFix(kind, preset) {
  const cur = S.run.current;
  fixState = { kind, preset };
  const fields = [];
  const judges = contest().judges;
  const scored = S.scores && S.scores.entries ? Object.keys(S.scores.entries) : [];
  if (kind === "reopen" || kind === "undo_reveal") {
    const c = kind === "reopen" ? cur : S.corrections.reveals.at(-1);
    fields.push(el("p", { class: "target" }, `${t("case")}: `, el("strong", {}, c ? caseLabel(c) : "—")));
  } else if (kind === "void") {
    fields.push(el("p", { class: "target" }, `${t("case")}: `, el("strong", {}, cur ? caseLabel(cur) : "—")));
    fields.push(el("label", {}, t("judge"), " ", select("fix-judge", judges.filter((j) => scored.includes(j.id)).map((j) => [j.id, `${j.name} (${S.scores.entries[j.id].total})`]), preset.judge)));
  } else if (kind === "absent") {
    fields.push(el("label", {}, t("judge"), " ", select("fix-judge", judges.filter((j) => !(S.corrections.absent || {})[j.id]).map((j) => [j.id, j.name]), preset.judge)));
  } else if (kind === "present") {
    fields.push(el("label", {}, t("judge"), " ", select("fix-judge", judges.filter((j) => (S.corrections.absent || {})[j.id]).map((j) => [j.id, j.name]), preset.judge)));
  } else if (kind === "skip") {
    const ok = S.run.order.filter((c) => ["waiting", "on_stage"].includes(statusOf(c)));
    fields.push(el("label", {}, t("case"), " ", select("fix-case", ok.map((c) => [c, caseLabel(c)]), preset.case || cur)));
  } else if (kind === "move") {
    const ok = S.run.order.filter((c) => statusOf(c) === "waiting");
    fields.push(el("label", {}, t("case"), " ", select("fix-case", ok.map((c) => [c, caseLabel(c)]), preset.case)));
    fields.push(el("label", {}, t("move_after"), " ", select("fix-after", [["", t("front")], ...S.run.order.map((c) => [c, `${caseLabel(c)} (${groupName(caseInfo(c).group)})`])], preset.after || "")));
  } else if (kind === "resolve_tie") {
    const groups = contest().groups.filter((g) => tieBlocks(g.key).length);
    const group = preset.group || (groups[0] && groups[0].key);
    fields.push(el("label", {}, t("group"), " ", select("fix-group", groups.map((g) => [g.key, g.name]), group)));
    const block = group ? tieBlocks(group)[0] || [] : [];
    fields.push(el("p", { class: "muted" }, t("tie_pick")));
    fields.push(tieOrderList(block.map((r) => r.case)));
    $("#fix-fields").addEventListener("change", onTieGroup);
  }
  $("#fix-title").textContent = t(`act_${kind}`);
  $("#fix-fields").replaceChildren(...fields);
  $("#fix-reason").value = "";
  $("#fix-preview").replaceChildren(el("p", { class: "muted" }, t("previewing")));
  $("#fix").returnValue = "";
  $("#fix").showModal();
  $("#fix-reason").focus();
  schedulePreview();
}

function onTieGroup(ev) {
  if (!fixState || fixState.kind !== "resolve_tie" || ev.target.id !== "fix-group") return;
  const block = tieBlocks(ev.target.value)[0] || [];
  $("#tie-order").replaceWith(tieOrderList(block.map((r) => r.case)));
}

function fixCommand() {
  const kind = fixState.kind;
  const reason = $("#fix-reason").value.trim();
  const v = (id) => ($(`#${id}`) ? $(`#${id}`).value : undefined);
  const args = { reason };
  if (kind === "void" || kind === "absent" || kind === "present") args.judge = v("fix-judge");
  if (kind === "skip") args.case = v("fix-case");
  if (kind === "move") {
    args.case = v("fix-case");
    args.after = v("fix-after") || null;
  }
  if (kind === "resolve_tie") {
    args.group = v("fix-group");
    args.order = [...fixState.order];
  }
  return { action: kind, args };
}

function schedulePreview() {
  clearTimeout(schedulePreview.timer);
  schedulePreview.timer = setTimeout(runPreview, 150);
}

async function runPreview() {
  if (!fixState) return;
  const { action, args } = fixCommand();
  const mine = ++previewSeq;
  // The preview shows what the command would do; the reason is checked apart, on confirm.
  const data = await api("/console/api/preview", { action, args: { ...args, reason: args.reason || "…" } });
  if (mine !== previewSeq || !fixState) return;
  fixState.previewOk = data.ok;
  renderPreview(data);
  updateFixOk();
}

function updateFixOk() {
  const ok = $("#fix-ok");
  const reason = $("#fix-reason").value.trim();
  const why = !fixState || !fixState.previewOk ? t("why_refused") : !reason ? t("why_reason") : null;
  ok.disabled = Boolean(why);
  ok.title = why || "";
}

function cell(row) {
  return row ? `${row.rank}. ${row.final}${row.prize ? ` ${row.prize}` : ""}${row.boundary_tie ? " ⚠" : ""}` : "—";
}

function renderPreview(data) {
  const box = $("#fix-preview");
  if (!data.ok) {
    box.replaceChildren(el("p", { class: "warn refusal" }, t("refused"), ": ", errorText(data.error)));
    return;
  }
  const parts = [];
  const c = data.case;
  if (c) {
    const fmt = (x) => x.final || (x.error ? errorText({ code: x.error, message: x.message }) : t("none"));
    const bits = [];
    if (c.status_before !== c.status_after) bits.push(`${t(`st_${c.status_before}`)} → ${t(`st_${c.status_after}`)}`);
    if (fmt(c.before) !== fmt(c.after)) bits.push(`${t("would_be")} ${fmt(c.before)} → ${fmt(c.after)}`);
    if (bits.length) parts.push(el("p", { class: "case-diff" }, `${caseLabel(c.case)}: ${bits.join(" · ")}`));
  }
  for (const g of data.groups) {
    if (!g.changed) {
      parts.push(el("p", { class: "muted" }, `${g.name}: ${t("no_rank_change")}`));
      continue;
    }
    const ids = [...new Set([...g.after.rows.map((r) => r.case), ...g.before.rows.map((r) => r.case)])];
    const rows = ids.map((id) => {
      const b = g.before.rows.find((r) => r.case === id);
      const a = g.after.rows.find((r) => r.case === id);
      const changed = cell(b) !== cell(a);
      return el("tr", { class: changed ? "changed" : "" }, el("td", {}, caseLabel(id)), el("td", {}, cell(b)), el("td", {}, changed ? "→" : ""), el("td", {}, cell(a)));
    });
    parts.push(el("h4", {}, `${g.name}: ${t("rank_diff")}`),
      el("table", { class: "grid diff", dataset: { group: g.group } },
        el("thead", {}, el("tr", {}, el("th", {}, t("case")), el("th", {}, t("before")), el("th", {}, ""), el("th", {}, t("after_change")))),
        el("tbody", {}, rows)));
  }
  box.replaceChildren(...parts);
}

async function confirmFix(ev) {
  ev.preventDefault();
  if (!fixState) return;
  const { action, args } = fixCommand();
  if (!args.reason) return updateFixOk();
  try {
    await client.command(action, args);
    toast(t("done", { what: t(`act_${action}`) }));
    closeFix();
  } catch (err) {
    $("#fix-preview").prepend(el("p", { class: "warn refusal" }, t("refused"), ": ", errorText(err)));
  }
}

function closeFix() {
  fixState = null;
  $("#fix-fields").removeEventListener("change", onTieGroup);
  if ($("#fix").open) $("#fix").close();
}

// --- sign-in ---

function signOut(message = "") {
  localStorage.removeItem(TOKEN_KEY);
  if (client) client.stop();
  client = null;
  S = {};
  $("#app").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
  $("#token").value = "";
  $("#token").focus();
}

function connect(token) {
  client = new LiveClient({ role: "host", token });
  client.addEventListener("status", (e) => {
    const st = e.detail.status;
    $("#conn").textContent = t(`conn_${st}`);
    $("#conn").className = `conn ${st}`;
    if (st === "denied") signOut(t("bad_token"));
  });
  client.addEventListener("change", () => {
    S = client.state;
    if ($("#app").hidden) {
      $("#signin").hidden = true;
      $("#app").hidden = false;
    }
    renderAll();
    if (fixState) updateFixOk();
  });
  client.start();
}

function toggleLang() {
  setLang(getLang() === "en" ? "zh" : "en");
  applyI18n(t);
  for (const b of $$(".lang-toggle")) b.textContent = getLang() === "en" ? "中文" : "English";
  $("#audit-case").replaceChildren();
  if (client) $("#conn").textContent = t(`conn_${client.status}`);
  renderAll();
  if (tab === "audit") loadAudit();
}

function boot() {
  applyI18n(t);
  for (const b of $$(".lang-toggle")) {
    b.textContent = getLang() === "en" ? "中文" : "English";
    b.addEventListener("click", toggleLang);
  }
  $("#signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = $("#token").value.trim();
    if (!token) return;
    localStorage.setItem(TOKEN_KEY, token);
    $("#signin-error").textContent = t("connecting");
    connect(token);
  });
  $("#signout").addEventListener("click", () => signOut());
  $("#next-step").addEventListener("click", doNextStep);
  for (const b of $$("[data-timer]")) {
    b.addEventListener("click", () => {
      const op = b.dataset.timer;
      if (op === "comment") {
        // The guest reviewers' comments (点评) get their own countdown: reset to it, then start.
        const seconds = contest().comment_seconds;
        guarded("timer", { op: "reset", seconds }, t("confirm_comment", { time: formatClock(seconds * 1000) }))
          .then((ok) => ok && send("timer", { op: "start" }));
        return;
      }
      const args = op === "add" ? { op, seconds: 30 } : { op };
      guarded("timer", args, op === "reset" ? t("confirm_reset") : null);
    });
  }
  for (const b of $$("[data-act]")) {
    b.addEventListener("click", () => {
      const a = b.dataset.act;
      const step = nextStep();
      guarded(a, {}, step.action === a ? step.confirm : a === "reveal" ? t("confirm_reveal", { title: caseLabel(S.run.current), final: (S.scores.would_be || {}).final || "?" }) : null);
    });
  }
  for (const b of $$("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  for (const b of $$("[data-tab-open]")) b.addEventListener("click", () => showTab(b.dataset.tabOpen));
  for (const b of $$("[data-results]")) b.addEventListener("click", () => openResults(`${b.dataset.results}${b.dataset.results.startsWith("export.") ? "" : `?lang=${getLang()}`}`));
  $("#audit-case").addEventListener("change", loadAudit);
  $("#audit-refresh").addEventListener("click", loadAudit);
  $("#fix-reason").addEventListener("input", updateFixOk);
  $("#fix-ok").addEventListener("click", confirmFix);
  $("#fix").addEventListener("close", () => { fixState = null; });
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest && ev.target.closest("input, textarea, select, dialog")) return;
    if ($("#app").hidden || document.querySelector("dialog[open]") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "n" || ev.key === "N" || ev.key === " ") {
      ev.preventDefault();
      doNextStep();
    }
  });
  setInterval(() => {
    if (S.run) {
      tick();
      if (Date.now() % 5000 < 260) renderJudges();
    }
  }, 250);
  showTab("scores");
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) connect(token);
  else $("#signin").hidden = false;
}

boot();
