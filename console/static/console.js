// The host console: renders the host view the hub sends, and sends host commands. Flow rules
// (what the natural next step is, why a button is disabled) are read from the view; scores,
// ranks and previews always come from the hub.

import { bearerFetch, hostToken } from "/static/live/auth.js";
import { LiveClient } from "/static/live/client.js";
import { countdown, everyTick, formatClock } from "/static/live/clock.js";
import { contestIndex } from "/static/live/contest.js";
import { h } from "/static/live/dom.js";
import { makeT, applyI18n, errorText, getLang, setLang } from "/static/live/i18n.js";
import { DICT } from "/static/console/strings.js";

const t = makeT(DICT);
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

let client = null;
let S = {}; // the host view, by section
let tab = "scores";
let fixState = null; // the open correction dialog: {kind, action, fields}
let previewSeq = 0;

// --- the hub's answers: the host view's `actions*` sections hold, for every host action, what
// decide would answer now. A button is disabled exactly when its check says no, says why in
// the hub's words, and sends exactly the check's action and args. No rule is restated here.

const ACTION_SECTIONS = ["actions", "actions/cases", "actions/judges", "actions/groups"];

// The checks answer for the event `actions.seq`; they follow each event in a patch of their own
// (a moment after it), and until then no button is offered on the strength of an older answer.
function checksCurrent() {
  return Boolean(S.actions) && client && S.actions.seq === client.seq;
}

// The check as last sent, current or not: for what a button says (its label), never for
// whether it may be pressed.
function lastCheck(key) {
  for (const name of ACTION_SECTIONS) {
    const found = S[name] && S[name].checks && S[name].checks[key];
    if (found) return found;
  }
  return null;
}

function check(key) {
  return checksCurrent() ? lastCheck(key) : null;
}

function refusal(chk) {
  if (!chk) return t("connecting");
  if (chk.ok) return null;
  return errorText({ code: chk.code, message: chk.message }) || t("why_refused");
}

// A host-action button: data-check names its check; a refusal shows on hover and, when
// `inline`, in the text beside it.
function actButton(key, label, onPress, { cls = "", inline = true } = {}) {
  const chk = check(key);
  const reason = refusal(chk);
  const b = h("button", {
    type: "button", class: cls, disabled: Boolean(reason), title: reason, dataset: { check: key },
    onclick: reason ? null : () => onPress(chk),
  }, label);
  return reason && inline ? h("span", { class: "guarded" }, b, h("small", { class: "why" }, reason)) : b;
}

// The same for a button written in the page's HTML (the timer row).
function applyCheck(b) {
  const reason = refusal(check(b.dataset.check));
  b.disabled = Boolean(reason);
  b.title = reason || "";
}

function toast(text, kind = "ok") {
  const box = $("#toast");
  box.textContent = text;
  box.className = `toast ${kind}`;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), kind === "bad" ? 10000 : 4000); // a refusal stays to be read
}

// --- contest lookups ---

const contest = () => S.contest || { cases: [], groups: [], judges: [], rubric: [] };
const caseInfo = (id) => contestIndex(S.contest).caseInfo(id);
const groupName = (key) => contestIndex(S.contest).groupName(key);
const judgeName = (id) => contestIndex(S.contest).judgeName(id);
const statusOf = (id) => (S.run ? S.run.status[id] : null);
const caseLabel = (id) => `${caseInfo(id).title}`;

// --- commands ---

// Why a command was not applied, in words: refused by the hub (its code), never sent (no
// link), or sent with no answer in time (the client's deadline): the host must know which.
function failureText(err) {
  if (err.code === "offline") return t("not_applied_offline");
  if (err.code === "unconfirmed") return t("not_confirmed");
  return errorText(err);
}

// The action checks follow each event in a patch of their own: a command is done for the
// console once they answer for it (or after a short wait), so the next press sees them.
function checksReach(seq, ms = 2000) {
  if (S.actions && S.actions.seq >= seq) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.removeEventListener("change", onChange);
      resolve();
    };
    const onChange = () => {
      if (S.actions && S.actions.seq >= seq) done();
    };
    const timer = setTimeout(done, ms);
    client.addEventListener("change", onChange);
  });
}

async function send(action, args = {}) {
  if (!client) return false;
  try {
    const ack = await client.command(action, args);
    await checksReach(ack.seq);
    toast(t("done", { what: t(`act_${action}`) }));
    return true;
  } catch (err) {
    toast(`${t(`act_${action}`)}: ${failureText(err)}`, "bad");
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

// --- the next step: the hub's next_step, with its own answer ---

function nextStep() {
  const ns = checksCurrent() && S.actions.next_step;
  if (!ns) return { label: "…", why: t("connecting"), key: "" };
  const vars = { title: ns.case ? caseLabel(ns.case) : "", n: ns.submitted, m: ns.expected };
  let confirm = null;
  if (ns.confirm === "close_early") confirm = t("confirm_close_early", vars);
  if (ns.confirm === "reveal") confirm = t("confirm_reveal", { title: caseLabel(ns.case), final: ns.final ?? "?" });
  let why = null;
  if (!ns.action) why = ns.label === "ns_done" ? t("why_all_done") : refusal(ns) || "…";
  else if (!ns.ok) why = refusal(ns);
  return { key: ns.key || "", action: ns.action, args: ns.args, label: t(ns.label, vars), confirm, why };
}

let stepping = false; // one next step in flight at a time: a double press must not do two

async function doNextStep() {
  const step = nextStep();
  if (!step.action || step.why || stepping) return;
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
  btn.replaceChildren(h("span", {}, step.label), h("kbd", {}, "N"));
  btn.disabled = Boolean(step.why);
  btn.title = step.why || t("shortcut");
  btn.dataset.action = step.action || "";
  btn.dataset.check = step.key;
  $("#next-why").textContent = step.why || t("shortcut");
}

// --- panels ---

function statusBadge(status) {
  return h("span", { class: `badge st-${status}` }, t(`st_${status}`));
}

function renderRunShow() {
  const box = $("#runshow");
  const parts = [];
  for (const g of contest().groups) {
    const ids = S.run.order.filter((c) => caseInfo(c).group === g.key);
    const board = S[`board/${g.key}`] || { rows: [], done: 0, total: ids.length };
    parts.push(h("h2", {}, g.name, h("small", {}, ` ${board.done}/${board.total}`)));
    const list = h("ol", { class: "cases" });
    ids.forEach((id, i) => {
      const info = caseInfo(id);
      const st = statusOf(id);
      const row = board.rows.find((r) => r.case === id);
      // What the hub would accept for this case; staging shows its refusal too (why not now).
      const actions = [];
      if (lastCheck(`stage:${id}`)?.ok || id !== S.run.current) {
        actions.push(actButton(`stage:${id}`, t("b_stage"), (c) => guarded(c.action, c.args), { cls: "small" }));
      }
      if (lastCheck(`move:${id}`)?.ok) actions.push(actButton(`move:${id}`, t("b_move"), () => openFix("move", { case: id }), { cls: "small" }));
      if (lastCheck(`skip:${id}`)?.ok) actions.push(actButton(`skip:${id}`, t("b_skip"), () => openFix("skip", { case: id }), { cls: "small" }));
      list.append(h("li", { class: `case ${id === S.run.current ? "current" : ""} st-${st}`, dataset: { case: id } },
        h("span", { class: "num" }, String(i + 1)),
        h("div", { class: "ctitle", title: info.title }, info.title),
        statusBadge(st),
        h("div", { class: "meta", title: `${info.presenter || ""} · ${info.unit || ""}` }, `${info.presenter || ""} · ${info.unit || ""}`),
        row ? h("span", { class: "final" }, `${row.final}${row.prize ? " " + row.prize : ""}`)
          : h("div", { class: "acts" }, actions)));
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
    h("div", { class: "alert", dataset: { group: g.key } }, `⚠ ${g.name}: ${t("tie_banner")} `,
      resolveButton(g.key)));
}

function resolveButton(group) {
  return actButton(`resolve_tie:${group}`, t("b_resolve"), () => openFix("resolve_tie", { group }), { cls: "danger small", inline: false });
}

function renderCurrent() {
  const box = $("#current");
  const cur = S.run.current;
  if (!cur) {
    box.replaceChildren(h("div", { class: "idle" }, t("no_current")), h("div", { class: "meta" }, screenText()), ...tieAlerts());
    return;
  }
  const info = caseInfo(cur);
  box.replaceChildren(
    h("div", { class: "where" }, `${groupName(info.group)} · ${t("nth", { i: S.stage.index, n: S.stage.of })}`, statusBadge(statusOf(cur))),
    h("div", { class: "ctitle big" }, info.title),
    h("div", { class: "meta" }, `${info.presenter || ""} · ${info.unit || ""} · ${screenText()}`),
    ...tieAlerts());
}

function screenText() {
  const sc = S.screen || {};
  const g = sc.group ? ` ${groupName(sc.group)}` : "";
  return `${t("big_screen")}: ${t(`mode_${sc.mode}`)}${sc.mode === "auto" ? ` (${t(`view_${sc.view}`)})` : g}`;
}

function renderTimer() {
  const comment = lastCheck("timer:comment");
  const cb = $("#comment-timer");
  cb.hidden = !comment; // present only when the contest has a comments countdown
  if (comment) cb.textContent = t("t_comment", { time: formatClock(comment.args.seconds * 1000) });
  const add = lastCheck("timer:add");
  $("#timer-add").textContent = t("t_add", { s: add ? add.args.seconds : "" });
  for (const b of $$(".timer-row [data-check]")) applyCheck(b);
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
  const cd = countdown(S.stage.timer, client.serverNow());
  clock.textContent = cd.text;
  clock.className = `clock ${cd.running ? "running" : "paused"} ${cd.over ? "over" : cd.warn ? "warn" : ""}`;
}

const STANDING_NOTE = {
  recused: "recused", absent: "absent", waiting: "waiting_score", missing: "waiting_score",
  dropped_high: "dropped_high", dropped_low: "dropped_low",
};

function renderScores() {
  const box = $("#tab-scores");
  const sc = S.scores || {};
  if (!sc.case) {
    box.replaceChildren(h("p", { class: "muted" }, t("no_current")));
    return;
  }
  const wb = sc.would_be || {};
  const standing = sc.standing || {};
  const crit = contest().single ? [] : contest().rubric;
  const head = h("tr", {}, h("th", {}, t("judge")), ...crit.map((c) => h("th", {}, c.name)), h("th", {}, t("total")), h("th", {}, ""));
  const rows = contest().judges.map((j) => {
    const e = sc.entries[j.id];
    // The hub's standing of each judge on this case (views.judge_standing): words only here.
    const note = t(STANDING_NOTE[standing[j.id]] || "") || "";
    const dropped = standing[j.id] === "dropped_high" || standing[j.id] === "dropped_low";
    return h("tr", { class: `${dropped ? "dropped" : ""} ${e ? "" : "none"}`, dataset: { judge: j.id } },
      h("td", {}, j.name),
      ...crit.map((c) => h("td", { class: "num" }, e ? e.values[c.key] ?? "" : "")),
      h("td", { class: "num total" }, e ? e.total : "—"),
      h("td", { class: "note" }, note));
  });
  const final = wb.error
    ? h("p", { class: "wouldbe warn" }, `${t("would_be")}: ${errorText({ code: wb.error, message: wb.message })}`)
    : h("p", { class: "wouldbe" }, `${t(statusOf(sc.case) === "revealed" ? "final" : "would_be")}: `, h("strong", { id: "would-be" }, wb.final), ` (${t("unrounded")} ${shortDecimal(wb.unrounded)})`);
  box.replaceChildren(h("table", { class: "grid scores" }, h("thead", {}, head), h("tbody", {}, rows)), final);
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

function renderBoards() {
  const box = $("#tab-boards");
  const parts = [];
  for (const g of contest().groups) {
    const board = S[`board/${g.key}`];
    const ties = boundaryTies(g.key);
    const head = h("h3", {}, g.name, board.final ? h("small", {}, ` · ${t("group_final")}`) : h("small", {}, ` · ${t("pending_n", { n: board.pending.length })}`));
    parts.push(head);
    if (ties.length) {
      parts.push(h("p", { class: "warn" }, `⚠ ${t("tie_banner")}`, " ", resolveButton(g.key)));
    }
    // r.tie is the hub's tie note (scoring.tie_note): "boundary_tie", "tied" or null
    const rows = board.rows.map((r) => h("tr", { class: r.tie === "boundary_tie" ? "tie" : r.tie ? "tied" : "", dataset: { case: r.case } },
      h("td", { class: "num" }, String(r.rank)), h("td", {}, caseLabel(r.case)), h("td", { class: "num" }, r.final),
      h("td", {}, r.prize || ""), h("td", {}, r.tie ? t(r.tie) : "")));
    parts.push(rows.length ? h("table", { class: "grid board", dataset: { group: g.key } },
      h("thead", {}, h("tr", {}, ...["rank", "case", "final", "prize", ""].map((k) => h("th", { class: ["rank", "final"].includes(k) ? "num" : "" }, k ? t(k) : "")))),
      h("tbody", {}, rows)) : h("p", { class: "muted" }, t("no_results")));
  }
  box.replaceChildren(...parts);
}

function renderScreen() {
  const box = $("#tab-screen");
  const sc = S.screen || {};
  const send1 = (c) => send(c.action, c.args);
  const parts = [h("p", { class: "now" }, screenText())];
  parts.push(h("div", { class: "row wrap" },
    actButton("show:auto", t("scr_auto"), send1, { cls: sc.mode === "auto" ? "on" : "" }),
    actButton("show:welcome", t("scr_welcome"), send1, { cls: sc.mode === "welcome" ? "on" : "" })));
  for (const g of contest().groups) {
    const aw = (S.awards && S.awards.groups[g.key]) || { shown: 0, steps: 0 };
    const on = (mode) => (sc.mode === mode && sc.group === g.key ? "on" : "");
    parts.push(h("div", { class: "row wrap group-screen", dataset: { group: g.key } },
      h("strong", {}, g.name),
      actButton(`show:board:${g.key}`, t("scr_board"), send1, { cls: on("board") }),
      actButton(`show:awards:${g.key}`, t("scr_awards"), send1, { cls: on("awards") }),
      actButton(`award_step:${g.key}`, t("scr_award_step", { k: aw.shown, n: aw.steps }),
        (c) => guarded(c.action, c.args, t("confirm_award_step")), { cls: "primary" })));
  }
  box.replaceChildren(...parts);
}

const FIXES = ["reopen", "void", "absent", "present", "skip", "move", "resolve_tie", "undo_reveal"];

function renderFix() {
  $("#tab-fix").replaceChildren(h("div", { class: "fixes" }, FIXES.map((kind) =>
    h("div", { class: "fix-item" }, actButton(kind, t(`act_${kind}`), () => openFix(kind, {}), { cls: "fix" }),
      h("small", { class: "muted" }, t(`help_${kind}`))))));
}

function ago(ms) {
  if (!ms) return t("never");
  const s = Math.max(0, Math.round((client.serverNow() - ms) / 1000));
  return s < 60 ? t("s_ago", { s }) : t("m_ago", { m: Math.floor(s / 60) });
}

const SCORED = new Set(["submitted", "counted", "dropped_high", "dropped_low"]);

function renderJudges() {
  const box = $("#judges");
  const cur = S.run.current;
  box.replaceChildren(...(S.judges || []).map((j) => {
    const badges = [];
    if (j.absent) badges.push(h("span", { class: "badge absent", title: j.absent }, t("absent")));
    if (j.recused) badges.push(h("span", { class: "badge recused" }, t("recused")));
    if (cur && j.standing === "waiting") badges.push(h("span", { class: "badge todo" }, t("not_submitted")));
    else if (cur && SCORED.has(j.standing)) badges.push(h("span", { class: "badge done" }, t("submitted")));
    const battery = j.battery == null ? "" : `${Math.round(j.battery * 100)}%${j.charging ? "⚡" : ""}`;
    // The corrections the hub would accept for this judge now.
    const acts = ["void", "absent", "present"].filter((a) => lastCheck(`${a}:${j.id}`)?.ok).map((a) =>
      actButton(`${a}:${j.id}`, t(`b_${a}`), () => openFix(a, { judge: j.id }), { cls: "small" }));
    // While the console's own link is down, the hub's word on who is online is old news.
    const presence = !linkUp() ? "unknown" : j.online ? "online" : "offline";
    return h("div", { class: `judge ${presence}`, dataset: { judge: j.id, presence } },
      h("div", { class: "jline" }, h("span", { class: "dot", title: t(presence) }), h("strong", {}, j.name),
        ...badges, h("span", { class: "battery" }, battery)),
      h("div", { class: "jline small" }, h("span", { class: "seen" }, `${t(presence)} · ${t("last_seen")} ${ago(j.last_seen)}`),
        h("span", { class: "acts" }, acts)));
  }));
}

function linkUp() {
  return Boolean(client) && client.status === "online";
}

// The link's state, plainly: the badge, and a banner over the page while it is down (what is
// shown may be stale and commands are refused until it is back).
function renderConn() {
  if (!client) return;
  const st = client.status;
  $("#conn").textContent = t(`conn_${st}`);
  $("#conn").className = `conn ${st}`;
  $("#link-down").hidden = st === "online" || st === "connecting";
}

function renderAll() {
  renderConn();
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
  const res = await bearerFetch(path, { body });
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
  const res = await bearerFetch(`/results/${what}`);
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
    const a = h("a", { href: url, download: name ? name[1] : what });
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
  sel.replaceChildren(h("option", { value: "" }, t("all_cases")), ...contest().cases.map((c) => h("option", { value: c.id }, `${c.id} · ${c.title}`)));
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

let auditSeq = 0;

async function loadAudit() {
  const c = $("#audit-case").value;
  const mine = ++auditSeq;
  const data = await api(`/console/api/audit${c ? `?case=${encodeURIComponent(c)}` : ""}`);
  if (mine !== auditSeq) return; // a later request (another filter) answers instead
  $("#audit-head").textContent = `#${data.head.seq} ${data.head.hash.slice(0, 16)}… ${data.chain_ok ? "✓" : "✗"}`;
  $("#audit-head").title = data.head.hash;
  const rows = data.events.slice().reverse().map((ev) => h("tr", { class: ev.reason ? "has-reason" : "", dataset: { type: ev.type } },
    h("td", { class: "num" }, String(ev.seq)),
    h("td", {}, ev.time ? new Date(ev.time).toLocaleTimeString(getLang() === "en" ? "en-GB" : "zh-CN", { hour12: false }) : ""),
    h("td", {}, ev.actor === "host" ? t("host") : ev.actor === "system" ? t("system") : judgeName(ev.actor)),
    h("td", {}, t(`ev_${ev.type}`)),
    h("td", {}, eventDetails(ev)),
    h("td", { class: "reason" }, ev.reason || "")));
  $("#audit-table").replaceChildren(
    h("thead", {}, h("tr", {}, ...["seq", "time", "actor", "event", "details", "reason_col"].map((k) => h("th", {}, t(k))))),
    h("tbody", {}, rows));
}

// --- corrections: a reason, a preview of the ranking diff, then confirm ---

function select(id, options, value) {
  return h("select", { id, onchange: schedulePreview }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

// The cases the hub found tied in a group (a prize-boundary tie first), in its order.
function tiedOrder(group) {
  const chk = group ? check(`resolve_tie:${group}`) : null;
  return chk ? [...(chk.args.order || [])] : [];
}

function tieOrderList(cases) {
  const list = h("ol", { id: "tie-order", class: "tie-order" });
  const redraw = () => {
    list.replaceChildren(...fixState.order.map((c, i) => h("li", { dataset: { case: c } }, h("span", {}, caseLabel(c)),
      h("button", { type: "button", class: "small", disabled: i === 0, title: t("up"), onclick: () => moveTie(i, -1) }, "↑"),
      h("button", { type: "button", class: "small", disabled: i === fixState.order.length - 1, title: t("down"), onclick: () => moveTie(i, 1) }, "↓"))));
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
  const accepted = (prefix, ids) => ids.filter((id) => check(`${prefix}:${id}`)?.ok);
  if (kind === "reopen" || kind === "undo_reveal") {
    const c = kind === "reopen" ? cur : S.corrections.reveals.at(-1);
    fields.push(h("p", { class: "target" }, `${t("case")}: `, h("strong", {}, c ? caseLabel(c) : "—")));
  } else if (kind === "void") {
    fields.push(h("p", { class: "target" }, `${t("case")}: `, h("strong", {}, cur ? caseLabel(cur) : "—")));
    fields.push(h("label", {}, t("judge"), " ", select("fix-judge", accepted("void", judges.map((j) => j.id)).map((j) => [j, `${judgeName(j)} (${S.scores.entries[j]?.total ?? "—"})`]), preset.judge)));
  } else if (kind === "absent") {
    fields.push(h("label", {}, t("judge"), " ", select("fix-judge", accepted("absent", judges.map((j) => j.id)).map((j) => [j, judgeName(j)]), preset.judge)));
  } else if (kind === "present") {
    fields.push(h("label", {}, t("judge"), " ", select("fix-judge", accepted("present", judges.map((j) => j.id)).map((j) => [j, judgeName(j)]), preset.judge)));
  } else if (kind === "skip") {
    const ok = accepted("skip", S.run.order);
    fields.push(h("label", {}, t("case"), " ", select("fix-case", ok.map((c) => [c, caseLabel(c)]), preset.case || cur)));
  } else if (kind === "move") {
    const ok = accepted("move", S.run.order);
    fields.push(h("label", {}, t("case"), " ", select("fix-case", ok.map((c) => [c, caseLabel(c)]), preset.case)));
    fields.push(h("label", {}, t("move_after"), " ", select("fix-after", [["", t("front")], ...S.run.order.map((c) => [c, `${caseLabel(c)} (${groupName(caseInfo(c).group)})`])], preset.after || "")));
  } else if (kind === "resolve_tie") {
    const groups = accepted("resolve_tie", contest().groups.map((g) => g.key));
    const group = preset.group || groups[0];
    fields.push(h("label", {}, t("group"), " ", select("fix-group", groups.map((g) => [g, groupName(g)]), group)));
    fields.push(h("p", { class: "muted" }, t("tie_pick")));
    fields.push(tieOrderList(tiedOrder(group)));
    $("#fix-fields").addEventListener("change", onTieGroup);
  }
  $("#fix-title").textContent = t(`act_${kind}`);
  $("#fix-fields").replaceChildren(...fields);
  $("#fix-reason").value = "";
  $("#fix-preview").replaceChildren(h("p", { class: "muted" }, t("previewing")));
  $("#fix").returnValue = "";
  $("#fix").showModal();
  $("#fix-reason").focus();
  schedulePreview();
}

function onTieGroup(ev) {
  if (!fixState || fixState.kind !== "resolve_tie" || ev.target.id !== "fix-group") return;
  $("#tie-order").replaceWith(tieOrderList(tiedOrder(ev.target.value)));
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
    box.replaceChildren(h("p", { class: "warn refusal" }, t("refused"), ": ", errorText(data.error)));
    return;
  }
  const parts = [];
  const c = data.case;
  if (c) {
    const fmt = (x) => x.final || (x.error ? errorText({ code: x.error, message: x.message }) : t("none"));
    const bits = [];
    if (c.status_before !== c.status_after) bits.push(`${t(`st_${c.status_before}`)} → ${t(`st_${c.status_after}`)}`);
    if (fmt(c.before) !== fmt(c.after)) bits.push(`${t("would_be")} ${fmt(c.before)} → ${fmt(c.after)}`);
    if (bits.length) parts.push(h("p", { class: "case-diff" }, `${caseLabel(c.case)}: ${bits.join(" · ")}`));
  }
  for (const g of data.groups) {
    if (!g.changed) {
      parts.push(h("p", { class: "muted" }, `${g.name}: ${t("no_rank_change")}`));
      continue;
    }
    const ids = [...new Set([...g.after.rows.map((r) => r.case), ...g.before.rows.map((r) => r.case)])];
    const rows = ids.map((id) => {
      const b = g.before.rows.find((r) => r.case === id);
      const a = g.after.rows.find((r) => r.case === id);
      const changed = cell(b) !== cell(a);
      return h("tr", { class: changed ? "changed" : "" }, h("td", {}, caseLabel(id)), h("td", {}, cell(b)), h("td", {}, changed ? "→" : ""), h("td", {}, cell(a)));
    });
    parts.push(h("h4", {}, `${g.name}: ${t("rank_diff")}`),
      h("table", { class: "grid diff", dataset: { group: g.group } },
        h("thead", {}, h("tr", {}, h("th", {}, t("case")), h("th", {}, t("before")), h("th", {}, ""), h("th", {}, t("after_change")))),
        h("tbody", {}, rows)));
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
    $("#fix-preview").prepend(h("p", { class: "warn refusal" }, t("refused"), ": ", failureText(err)));
  }
}

function closeFix() {
  fixState = null;
  $("#fix-fields").removeEventListener("change", onTieGroup);
  if ($("#fix").open) $("#fix").close();
}

// --- sign-in ---

function signOut(message = "") {
  hostToken.clear();
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
    renderConn();
    if (st === "denied") signOut(t("bad_token"));
    else if (S.run) renderJudges(); // judges' presence is only as fresh as the console's link
  });
  client.addEventListener("change", () => {
    S = client.state;
    // which event the page shows, once its action checks have come too (tests wait on it)
    if (checksCurrent()) document.body.dataset.seq = String(client.seq);
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
    hostToken.set(token);
    $("#signin-error").textContent = t("connecting");
    connect(token);
  });
  $("#signout").addEventListener("click", () => signOut());
  $("#next-step").addEventListener("click", doNextStep);
  // The timer row and the case actions send their check's own action and args.
  const confirms = {
    "timer:reset": () => t("confirm_reset"),
    "timer:comment": (c) => t("confirm_comment", { time: formatClock(c.args.seconds * 1000) }),
    close: () => (S.actions.next_step.key === "close" ? nextStep().confirm : null),
    reveal: () => (S.actions.next_step.key === "reveal" ? nextStep().confirm : null),
  };
  for (const b of $$(".timer-row [data-check]")) {
    b.addEventListener("click", async () => {
      const key = b.dataset.check;
      const chk = check(key);
      if (!chk || !chk.ok) return;
      const ok = await guarded(chk.action, chk.args, confirms[key] ? confirms[key](chk) : null);
      // The guest reviewers' comments (点评) get their own countdown: reset to it, then start.
      const start = check("timer:start");
      if (ok && key === "timer:comment" && start) send(start.action, start.args);
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
  everyTick(() => {
    if (S.run) {
      tick();
      if (Date.now() % 5000 < 260) renderJudges();
    }
  });
  showTab("scores");
  const token = hostToken.get();
  if (token) connect(token);
  else $("#signin").hidden = false;
}

boot();
