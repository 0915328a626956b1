// The judge pad: sign in by link or code, follow the hall from the hub's judge view, enter a
// score with steppers, review it, and hand it to the shared client's persistent outbox.
// The pad never decides a score: it shows what the hub sends and the hub's answers.

import { JUDGE_TOKEN_KEY, tokenStore } from "/static/live/auth.js";
import { LiveClient } from "/static/live/client.js";
import { countdown as countdownOf, everyTick } from "/static/live/clock.js";
import { contestIndex } from "/static/live/contest.js";
import { fill, h } from "/static/live/dom.js";
import { makeT, getLang, setLang, applyI18n, errorText } from "/static/live/i18n.js";
import { STRINGS } from "./strings.js";
import { rubricScale, prepare, toUnits, fromUnits, stepBy } from "./units.js";

const t = makeT(STRINGS);
const savedToken = tokenStore(JUDGE_TOKEN_KEY);
const $ = (id) => document.getElementById(id);

// What the page itself remembers, beside the client's view of the hub.
const ui = {
  client: null,
  token: null,
  drafts: {}, // case -> {criterion key: units or null}
  editing: new Set(), // cases being revised after a receipt
  notices: {}, // case -> {code, title, at}: refusals of delivered scores
  modal: null, // {kind: "review", case, values} | {kind: "signout"}
  wakeLock: null,
  wakeLockAsked: false,
  wakeWanted: false,
  battery: null,
};

// --- the token: from the link's #t=, or typed; kept in localStorage, never in the address bar ---

function normalizeCode(text) {
  return String(text || "").trim().toUpperCase().replace(/[\s-]/g, "");
}

function storageKey(name) {
  return `judge_pad.${name}.${normalizeCode(ui.token)}`;
}

function loadJSON(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null") ?? fallback;
  } catch {
    return fallback;
  }
}

function takeTokenFromLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("t");
  if (token) {
    savedToken.set(token);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return token;
}

// A judge card's link opened on a pad that is already open: sign in with that card.
function onHashChange() {
  const token = takeTokenFromLink();
  if (!token || token === ui.token) return;
  if (ui.client) ui.client.stop();
  ui.client = null;
  signIn(token);
}

function signIn(token) {
  ui.token = token;
  savedToken.set(token);
  ui.drafts = loadJSON(storageKey("drafts"), {});
  ui.notices = loadJSON(storageKey("notices"), {});
  ui.editing = new Set();
  showPad();
  const client = new LiveClient({ role: "judge", token, outboxKey: storageKey("outbox") });
  ui.client = client;
  client.addEventListener("status", (ev) => onStatus(client, ev.detail));
  client.addEventListener("welcome", (ev) => onWelcome(client, ev.detail));
  client.addEventListener("snapshot", () => reportBattery());
  client.addEventListener("change", () => render());
  client.addEventListener("outbox", () => render());
  client.addEventListener("delivered", (ev) => onDelivered(ev.detail));
  client.start();
  render();
}

function signOut(message = null) {
  if (ui.client) ui.client.stop();
  ui.client = null;
  ui.token = null;
  ui.modal = null;
  savedToken.clear();
  releaseWakeLock();
  showLogin(message);
}

function onStatus(client, detail) {
  if (client !== ui.client) return;
  if (detail.status === "denied") {
    signOut(detail.code === 4401 ? t("bad_code") : errorText({ code: "forbidden" }));
    return;
  }
  render(); // a pending score says "sending" only while the link is up
}

// Runs before the snapshot that flushes the outbox. Scores confirmed against another log (a
// rehearsal, a store started afresh) must never reach this one.
function onWelcome(client, frame) {
  showJudge(frame.judge);
  const key = storageKey("epoch");
  const known = localStorage.getItem(key);
  if (known && known !== frame.epoch) {
    if (client.outbox.length) client.outbox = [];
    ui.drafts = {};
    ui.notices = {};
    saveDrafts();
    localStorage.setItem(storageKey("notices"), "{}");
  }
  localStorage.setItem(key, frame.epoch);
}

function onDelivered({ item, answer }) {
  if (item.type !== "score") return;
  if (answer.type === "ack") {
    delete ui.notices[item.case];
  } else {
    ui.notices[item.case] = { code: answer.code, message: answer.message, at: Date.now() };
  }
  localStorage.setItem(storageKey("notices"), JSON.stringify(ui.notices));
  render();
}

// The device lost its network: a socket that looks open is dead (or soon will be), so drop it
// now; until the link returns, a confirmed score waits in the outbox instead of being lost in it.
function onOffline() {
  ui.client?.restart();
  renderConnection();
}

// --- screens ---

function showLogin(message = null) {
  $("pad").hidden = true;
  $("who").hidden = true;
  $("modal").hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.hidden = !message;
  err.textContent = message || "";
  renderConnection();
  $("code").focus();
}

function showPad() {
  $("login").hidden = true;
  $("pad").hidden = false;
}

function showJudge(judge) {
  if (!judge) return;
  $("judge-name").textContent = judge.name;
  $("who").hidden = false;
}

function renderConnection() {
  const client = ui.client;
  $("conn").hidden = !client;
  let status = client ? client.status : "denied";
  if (client && navigator.onLine === false) status = "offline";
  $("conn").dataset.status = status;
  $("conn-text").textContent = t(`conn_${status}`);
  const n = client ? client.outbox.length : 0;
  const badge = $("outbox-badge");
  badge.hidden = n === 0;
  badge.textContent = t("pending_badge", { n });
}

// --- the view, read from the hub's sections ---

function view() {
  return ui.client ? ui.client.state : {};
}

function caseInfo(id) {
  return contestIndex(view().contest).cases.get(id);
}

function groupName(key) {
  return contestIndex(view().contest).groupName(key);
}

function pendingFor(caseId) {
  return ui.client ? ui.client.outbox.find((f) => f.type === "score" && f.case === caseId) : null;
}

function rubric() {
  const rb = view().contest?.rubric || [];
  const decimals = rubricScale(rb);
  return { decimals, criteria: rb.map((c) => prepare(c, decimals)) };
}

function formatTime(ms) {
  return new Date(ms).toLocaleTimeString(getLang() === "en" ? "en-GB" : "zh-CN", { hour12: false });
}

// What the pad is about now: the hub says (me.phase); "loading" until the first snapshot.
function phaseOf(state) {
  return state.run && state.me ? state.me.phase : "loading";
}

// --- rendering ---

function render() {
  if (!ui.client) return;
  renderConnection();
  const state = view();
  if (state.me) showJudge(state.me);
  if (state.contest) $("contest-title").textContent = state.contest.title;
  const phase = phaseOf(state);
  document.body.dataset.phase = phase;
  fill($("notices"), renderNotices(state));
  fill($("case-panel"), renderPanel(state, phase));
  fill($("mine"), renderMine(state));
  renderModal(state);
  tick();
  keepAwake(phase === "on_stage" || phase === "scoring");
}

function renderNotices(state) {
  return Object.entries(ui.notices).map(([caseId, n]) => {
    const title = caseInfo(caseId)?.title || caseId;
    return h("div", { class: "notice refused", role: "alert", dataset: { case: caseId, code: n.code } },
      h("div", { class: "notice-text" },
        h("strong", {}, `${t("refused_title")}：《${title}》`), " ",
        errorText({ code: n.code, message: n.message })),
      h("button", { type: "button", class: "btn ghost", onclick: () => dismissNotice(caseId) }, t("dismiss")));
  });
}

function dismissNotice(caseId) {
  delete ui.notices[caseId];
  localStorage.setItem(storageKey("notices"), JSON.stringify(ui.notices));
  render();
}

function caseCard(state, caseId, { compact = false, clock = false } = {}) {
  const info = caseInfo(caseId) || { title: caseId, unit: "", presenter: "", group: "" };
  const stage = state.stage && state.stage.case === caseId ? state.stage : null;
  const status = state.run?.status?.[caseId] || "waiting";
  return h("div", { class: `case-card${compact ? " compact" : ""}`, dataset: { case: caseId } },
    h("div", { class: "case-info" },
      h("div", { class: "case-meta" },
        h("span", { class: "group" }, groupName(info.group)),
        stage ? h("span", { class: "order", id: "case-order" }, `${stage.index} / ${stage.of}`) : null,
        h("span", { class: `chip st-${status}`, id: "case-status" }, t(`st_${status}`))),
      h("h2", { class: "case-title", id: "case-title" }, info.title),
      h("div", { class: "case-who" },
        h("span", { class: "unit" }, info.unit),
        info.presenter ? h("span", { class: "presenter" }, `${t("presenter")}：${info.presenter}`) : null)),
    clock ? countdown() : null);
}

function countdown() {
  return h("div", { class: "countdown", id: "countdown" },
    h("span", { class: "cd-label", id: "cd-label" }, t("time_left")),
    h("span", { class: "cd-clock", id: "cd-clock" }, "--:--"));
}

function tick() {
  const el = $("cd-clock");
  if (!el || !ui.client) return;
  const cd = countdownOf(view().stage?.timer, ui.client.serverNow());
  if (!cd) return;
  el.textContent = cd.text;
  $("countdown").classList.toggle("over", cd.over);
  $("countdown").classList.toggle("warn", cd.warn);
  $("cd-label").textContent = cd.over ? t("overtime") : t("time_left");
}

function message(kind, title, note = null, ...extra) {
  return h("div", { class: `message ${kind}`, id: `msg-${kind}` },
    h("div", { class: "message-title" }, title),
    note ? h("div", { class: "message-note" }, note) : null,
    ...extra);
}

function renderPanel(state, phase) {
  const cur = state.run?.current;
  switch (phase) {
    case "loading":
      return [message("loading", t("loading"))];
    case "over":
      return [message("over", t("over_title"), t("over_note"))];
    case "absent":
      return [message("absent", t("absent_title"), t("absent_note"))];
    case "waiting":
      return [message("waiting", t("waiting_title"), t("waiting_start")), ...upNext(state)];
    case "recused":
      return [caseCard(state, cur), message("recused", t("recused_title"), t("recused_note"))];
    case "on_stage":
      return [caseCard(state, cur, { clock: true }), entry(state, cur, { open: false })];
    case "scoring":
      return [caseCard(state, cur, { compact: true }), scoringBody(state, cur)];
    case "closed":
      return [caseCard(state, cur, { compact: true }), lockedBody(state, cur, t("closed_title"))];
    case "revealed":
      return [caseCard(state, cur, { compact: true }), lockedBody(state, cur, t("revealed_title")),
        ...upNext(state)];
    case "skipped":
      return [caseCard(state, cur, { compact: true }), message("skipped", t("skipped_title")),
        ...upNext(state)];
    default:
      return [caseCard(state, cur)];
  }
}

function upNext(state) {
  const next = state.run?.next; // the case `next` would stage: the hub says which
  if (!next) return [];
  const info = caseInfo(next);
  return [h("div", { class: "up-next", id: "up-next" },
    h("div", { class: "up-next-label" }, t("next_up")),
    h("div", { class: "up-next-title" }, info?.title || next),
    h("div", { class: "up-next-meta" }, `${groupName(info?.group)} · ${info?.unit || ""}`))];
}

// While open: a receipt (with revise), a pending item, or the entry steppers.
function scoringBody(state, caseId) {
  const mine = state.me.scores[caseId];
  const pending = pendingFor(caseId);
  if (pending && !ui.editing.has(caseId)) return pendingBox(pending, caseId, true);
  if (mine && !ui.editing.has(caseId)) return receipt(mine, { canRevise: true, caseId });
  return entry(state, caseId, { open: true, revising: Boolean(mine || pending) });
}

function lockedBody(state, caseId, title) {
  const mine = state.me.scores[caseId];
  const pending = pendingFor(caseId);
  const parts = [h("div", { class: "locked-title" }, title)];
  if (mine) parts.push(receipt(mine, { locked: true }));
  else if (pending) parts.push(pendingBox(pending, caseId, false));
  else if (!ui.notices[caseId]) parts.push(h("div", { class: "message-note" }, t("no_score")));
  return h("div", { class: "locked-body" }, ...parts);
}

function breakdown(values) {
  const { criteria } = rubric();
  return h("table", { class: "breakdown" },
    ...criteria.map((c) => h("tr", {},
      h("th", {}, c.name),
      h("td", {}, values[c.key] ?? "—"),
      h("td", { class: "of" }, `/ ${c.max}`))));
}

function receipt(mine, { canRevise = false, locked = false, caseId = null }) {
  return h("div", { class: `receipt${locked ? " locked" : ""}`, id: "receipt" },
    h("div", { class: "receipt-head" },
      h("span", { class: "received", id: "received" }, t("received_at", { time: formatTime(mine.at) })),
      locked ? h("span", { class: "lock", id: "locked" }, t("locked")) : null),
    h("div", { class: "receipt-total" },
      h("span", { class: "label" }, t("total")),
      h("span", { class: "value", id: "receipt-total" }, mine.total)),
    breakdown(mine.values),
    canRevise ? h("div", { class: "receipt-actions" },
      h("p", { class: "hint" }, t("revise_note")),
      h("button", { type: "button", class: "btn big", id: "revise", onclick: () => startRevise(caseId, mine) },
        t("revise"))) : null);
}

function pendingBox(item, caseId, canRevise) {
  const online = ui.client?.status === "online";
  const total = totalOf(item.criteria || { total: item.total });
  return h("div", { class: "pending-box", id: "pending" },
    h("div", { class: "receipt-head" }, h("span", { class: "pending-label" }, t("pending"))),
    h("div", { class: "receipt-total" },
      h("span", { class: "label" }, t("total")),
      h("span", { class: "value" }, total)),
    breakdown(item.criteria || { total: item.total }),
    h("p", { class: "hint" }, online ? t("sending_note") : t("pending_note")),
    canRevise ? h("button", { type: "button", class: "btn big", onclick: () => startRevise(caseId, null, item) },
      t("revise")) : null);
}

function totalOf(values) {
  const { decimals } = rubric();
  let sum = 0;
  for (const v of Object.values(values)) sum += toUnits(v, decimals);
  return fromUnits(sum, decimals);
}

function startRevise(caseId, mine, item = null) {
  const values = item ? item.criteria || { total: item.total } : mine.values;
  const { decimals } = rubric();
  ui.drafts[caseId] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toUnits(v, decimals)]));
  saveDrafts();
  ui.editing.add(caseId);
  render();
}

function draftFor(caseId, criteria) {
  const draft = ui.drafts[caseId] || {};
  for (const c of criteria) if (!(c.key in draft)) draft[c.key] = null;
  ui.drafts[caseId] = draft;
  return draft;
}

function saveDrafts() {
  // Only the drafts of cases still open matter; keep the storage small.
  const status = view().run?.status || {};
  for (const id of Object.keys(ui.drafts)) {
    if (status[id] && !["on_stage", "scoring", "waiting"].includes(status[id])) delete ui.drafts[id];
  }
  localStorage.setItem(storageKey("drafts"), JSON.stringify(ui.drafts));
}

function setValue(caseId, key, units) {
  ui.drafts[caseId][key] = units;
  saveDrafts();
  render();
}

// One large stepper per criterion, quick picks below it; the total and the submit button last.
function entry(state, caseId, { open, revising = false }) {
  const { decimals, criteria } = rubric();
  const draft = draftFor(caseId, criteria);
  const fmt = (u) => fromUnits(u, decimals);
  const rows = criteria.map((c) => {
    const v = draft[c.key];
    const set = (u) => setValue(caseId, c.key, u);
    const stepBtn = (delta, label) => h("button", {
      type: "button", class: "btn step", "aria-label": label, disabled: v == null,
      dataset: { key: c.key, delta: String(delta) },
      onclick: () => set(stepBy(v, delta, c.maxU, c.stepU)),
    }, label);
    return h("div", { class: `crit${c.steps.length > 2 ? " many" : ""}`, dataset: { key: c.key } },
      h("div", { class: "crit-head" },
        h("span", { class: "crit-name" }, c.name),
        h("span", { class: "crit-max" }, t("max_of", { max: c.max }))),
      h("div", { class: "stepper" },
        [...c.steps].reverse().map((s) => stepBtn(-s, `−${fmt(s)}`)),
        h("output", { class: `value${v == null ? " unset" : ""}`, dataset: { key: c.key } },
          v == null ? "—" : fmt(v)),
        c.steps.map((s) => stepBtn(s, `+${fmt(s)}`))),
      h("div", { class: "picks" }, ...c.picks.map((p) => h("button", {
        type: "button", class: `btn pick${p === v ? " on" : ""}`, dataset: { key: c.key, value: fmt(p) },
        onclick: () => set(p),
      }, fmt(p)))));
  });
  const missing = criteria.filter((c) => draft[c.key] == null).length;
  const untouched = missing === criteria.length;
  const sum = criteria.reduce((s, c) => s + (draft[c.key] ?? 0), 0);
  const maxSum = criteria.reduce((s, c) => s + c.maxU, 0);
  let label = t("submit");
  if (!open) label = t("wait_open");
  else if (missing) label = t("missing_n", { n: missing });
  return h("div", { class: "entry", id: "entry" },
    open ? null : h("p", { class: "hint prefill" }, t("prefill_note")),
    untouched ? h("p", { class: "hint" }, t("pick_first")) : null,
    h("div", { class: `crits${criteria.length === 1 ? " single" : ""}` }, ...rows),
    h("div", { class: "total-bar" },
      h("div", { class: "live-total" },
        h("span", { class: "label" }, t("total")),
        h("span", { class: `value${untouched ? " unset" : ""}`, id: "live-total" },
          untouched ? "—" : fmt(sum)),
        h("span", { class: "of" }, `/ ${fmt(maxSum)}`)),
      revising ? h("button", { type: "button", class: "btn big ghost", id: "cancel-revise",
        onclick: () => { ui.editing.delete(caseId); render(); } }, t("cancel_revise")) : null,
      h("button", { type: "button", class: "btn primary big", id: "submit",
        disabled: !open || missing > 0, onclick: () => openReview(caseId) }, label)));
}

// --- review, then the outbox ---

function openReview(caseId) {
  const { decimals, criteria } = rubric();
  const draft = ui.drafts[caseId];
  const values = Object.fromEntries(criteria.map((c) => [c.key, fromUnits(draft[c.key], decimals)]));
  ui.modal = { kind: "review", case: caseId, values };
  render();
}

function confirmReview() {
  const { case: caseId, values } = ui.modal;
  const single = view().contest?.single;
  const frame = { type: "score", case: caseId };
  if (single) frame.total = Object.values(values)[0];
  else frame.criteria = values;
  ui.modal = null;
  ui.editing.delete(caseId);
  ui.client.enqueue(frame);
  render();
}

function renderModal(state) {
  const modal = $("modal");
  const m = ui.modal;
  if (!m) {
    modal.hidden = true;
    return;
  }
  modal.hidden = false;
  const close = () => { ui.modal = null; render(); };
  if (m.kind === "review") {
    const title = caseInfo(m.case)?.title || m.case;
    const stillOpen = state.run?.status?.[m.case] === "scoring";
    fill($("sheet"),
      h("h2", {}, t("review_title")),
      h("p", { class: "review-q", id: "review-q" }, t("review_q", { title, total: totalOf(m.values) })),
      breakdown(m.values),
      stillOpen ? null : h("p", { class: "error" }, errorText({ code: "scoring_closed" })),
      h("div", { class: "sheet-actions" },
        h("button", { type: "button", class: "btn big", id: "review-back", onclick: close }, t("back_edit")),
        h("button", { type: "button", class: "btn primary big", id: "review-confirm", disabled: !stillOpen,
          onclick: confirmReview }, t("confirm"))));
  } else if (m.kind === "signout") {
    const n = ui.client ? ui.client.outbox.length : 0;
    fill($("sheet"),
      h("h2", {}, t("not_me")),
      h("p", {}, t("signout_q", { name: state.me?.name || "" })),
      n ? h("p", { class: "hint" }, t("signout_pending", { n })) : null,
      h("div", { class: "sheet-actions" },
        h("button", { type: "button", class: "btn big", id: "signout-cancel", onclick: close }, t("cancel")),
        h("button", { type: "button", class: "btn danger big", id: "signout-yes", onclick: () => signOut() },
          t("signout_yes"))));
  }
}

// --- the judge's own scores, every case so far ---

function renderMine(state) {
  const head = h("h3", {}, t("mine"));
  if (!state.run || !state.me) return [head];
  const rows = [];
  for (const id of state.run.order) {
    const status = state.run.status[id];
    const mine = state.me.scores[id];
    const pending = pendingFor(id);
    if (status === "waiting" && !mine && !pending) continue;
    let value;
    let cls = "";
    const sent = pending && (pending.criteria || { total: pending.total });
    if (pending) [value, cls] = [`${t("pending")} · ${totalOf(sent)}`, "pending"];
    else if (mine) [value, cls] = [mine.total, "scored"];
    else if (ui.notices[id]) [value, cls] = [t("m_refused"), "refused"];
    else if (state.me.recused.includes(id)) [value, cls] = [t("m_recused"), "recused"];
    else if (status === "skipped") [value, cls] = [t("st_skipped"), "none"];
    else [value, cls] = [t("m_none"), "none"];
    const info = caseInfo(id);
    const here = id === state.run.current && !state.run.finished;
    rows.push(h("li", { class: `mine-row ${cls}${here ? " current" : ""}`, dataset: { case: id } },
      h("span", { class: "mine-title" }, info?.title || id),
      h("span", { class: "mine-time" }, mine && !pending ? formatTime(mine.at) : ""),
      h("span", { class: "mine-value" }, value)));
  }
  return [head, rows.length ? h("ol", { class: "mine-list" }, ...rows) : h("p", { class: "hint" }, t("mine_empty"))];
}

// --- tablet habits: keep the screen on while scoring; report the battery to the host ---

async function keepAwake(wanted) {
  ui.wakeWanted = wanted;
  if (!("wakeLock" in navigator)) return;
  if (!wanted) return releaseWakeLock();
  if (ui.wakeLock || ui.wakeLockAsked || document.visibilityState !== "visible") return;
  ui.wakeLockAsked = true;
  try {
    const lock = await navigator.wakeLock.request("screen");
    ui.wakeLock = lock;
    document.body.dataset.awake = "1";
    if (!ui.wakeWanted) releaseWakeLock(); // scoring ended while the request was pending
    lock.addEventListener("release", () => {
      if (ui.wakeLock === lock) ui.wakeLock = null;
      delete document.body.dataset.awake;
    });
  } catch {
    ui.wakeLock = null; // refused (battery saver, not visible): the pad works without it
  } finally {
    ui.wakeLockAsked = false;
  }
}

function releaseWakeLock() {
  if (ui.wakeLock) ui.wakeLock.release().catch(() => {});
  ui.wakeLock = null;
}

async function reportBattery() {
  if (!navigator.getBattery) return;
  try {
    if (!ui.battery) {
      ui.battery = await navigator.getBattery();
      ui.battery.addEventListener("levelchange", sendBattery);
      ui.battery.addEventListener("chargingchange", sendBattery);
    }
    sendBattery();
  } catch {
    /* no battery information: nothing to report */
  }
}

function sendBattery() {
  const b = ui.battery;
  if (!b || !ui.client) return;
  ui.client.sendRaw({ type: "presence", battery: Math.min(1, Math.max(0, b.level)), charging: Boolean(b.charging) });
}

// --- start ---

function applyLang() {
  applyI18n(t);
  document.title = t("page_title");
  $("code").placeholder = t("code_placeholder");
}

function init() {
  applyLang();
  $("lang").addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    applyLang();
    if (ui.client) render();
    else renderConnection();
  });
  $("not-me").addEventListener("click", () => {
    ui.modal = { kind: "signout" };
    render();
  });
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = normalizeCode($("code").value);
    if (!code) {
      showLogin(t("empty_code"));
      return;
    }
    $("code").value = "";
    signIn(code);
  });
  addEventListener("online", renderConnection);
  addEventListener("offline", onOffline);
  document.addEventListener("visibilitychange", () => render());
  addEventListener("hashchange", onHashChange);
  everyTick(tick);

  takeTokenFromLink();
  const token = savedToken.get();
  if (token) signIn(token);
  else showLogin();
}

init();
