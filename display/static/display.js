// The big screen: draws the screen the hub chose (public view `screen.view`) on a fixed
// 1920×1080 stage scaled to the window. Every number shown is a string the hub sent.

import { LiveClient, watchLink } from "/static/live/client.js";
import { countdown, everyTick, wallClock } from "/static/live/clock.js";
import { contestIndex } from "/static/live/contest.js";
import { h, setText } from "/static/live/dom.js";
import { applyI18n, getLang, makeT } from "/static/live/i18n.js";
import { STRINGS } from "./strings.js";

const t = makeT(STRINGS);
const stage = document.getElementById("stage");
const $ = Object.fromEntries([...document.querySelectorAll("[data-el]")].map((n) => [n.dataset.el, n]));
const client = new LiveClient({ role: "display" });

const STAGE_W = 1920;
const STAGE_H = 1080;
// ?speed=4 plays the reveal four times faster (rehearsals, tests); the hall gets the default.
const SPEED = Math.max(0.1, Number(new URLSearchParams(location.search).get("speed")) || 1);
const STEP_MS = 450 / SPEED; // between two judges' totals appearing
const PAUSE_MS = 500 / SPEED; // before the strike-through, and again before the count-up
const COUNT_MS = 1400 / SPEED;

// --- scaling: one layout for every projector ---

function fit() {
  const scale = Math.min(innerWidth / STAGE_W, innerHeight / STAGE_H);
  stage.style.transform = `translate(-50%, -50%) scale(${scale})`;
}
addEventListener("resize", fit);
fit();
applyI18n(t);

// --- helpers ---

// Count-up of a decimal string the hub sent: intermediate frames only; the caller ends on
// the exact string. Returns a cancel function.
export function countUp(node, target, ms, done) {
  const decimals = (target.split(".")[1] || "").length;
  const end = Number(target);
  const start = performance.now();
  let frame = 0;
  const step = (now) => {
    const p = Math.min(1, (now - start) / ms);
    if (p >= 1 || !Number.isFinite(end)) {
      node.textContent = target;
      done?.();
      return;
    }
    const eased = 1 - (1 - p) ** 3;
    node.textContent = (end * eased).toFixed(decimals);
    frame = requestAnimationFrame(step);
  };
  frame = requestAnimationFrame(step);
  return () => cancelAnimationFrame(frame);
}

// --- screens ---

function renderWelcome(s, maps) {
  setText($.welcomeTitle, s.contest?.title);
  setText($.welcomeTheme, s.contest?.theme);
  $.welcomeGroups.replaceChildren(...(s.contest?.groups || []).map((g) => h("li", {}, g.name)));
}

function renderBetween(s, maps) {
  const st = s.stage || {};
  const c = maps.caseInfo(st.case);
  setText($.betweenGroup, maps.groupName(st.group));
  setText($.betweenCount, st.of ? t("casesInGroup", { n: st.of }) : "");
  setText($.betweenTitle, c.title);
  setText($.betweenMeta, [c.unit, c.presenter].filter(Boolean).join(" · "));
}

function renderStage(s, maps) {
  const st = s.stage || {};
  const c = maps.caseInfo(st.case);
  const skipped = st.status === "skipped";
  setText($.stagePill, skipped ? t("statusSkipped") : t("onStage"));
  $.timer.hidden = skipped; // a presenter who is absent has no countdown
  setText($.stageGroup, maps.groupName(st.group));
  setText($.stageOrder, st.index ? `${st.index} / ${st.of}` : "");
  setText($.stageTitle, c.title);
  setText($.stageUnit, c.unit);
  setText($.stagePresenter, c.presenter);
  $.stageTitle.classList.toggle("long", (c.title || "").length > 26);
  tick();
}

// The countdown runs between patches, on the server's clock.
function tick() {
  const timer = client.state.stage?.timer;
  if (!timer || stage.dataset.screen !== "stage") return;
  const cd = countdown(timer, client.serverNow());
  setText($.timerClock, cd.text);
  $.timer.classList.toggle("warn", cd.warn);
  $.timer.classList.toggle("over", cd.over);
  $.timer.classList.toggle("paused", !cd.running);
  setText($.timerLabel, t(cd.label));
}
everyTick(tick);

function renderScoring(s, maps) {
  const p = s.progress || {};
  const c = maps.caseInfo(p.case);
  setText($.scoringGroup, maps.groupName(c.group));
  setText($.scoringTitle, c.title);
  setText($.scoringStatus, p.status === "closed" ? t("scoringClosed") : t("scoring"));
  // The hub counts and names each judge's standing; the screen only draws it.
  const expected = (p.expected || []).length;
  const done = p.done ?? 0;
  setText($.scoringCount, `${done} / ${expected}`);
  $.scoringCount.dataset.done = String(done === expected && expected > 0);
  const standing = p.standing || {};
  const dots = [...maps.judges.values()].map((j) => {
    const state = standing[j.id] || "waiting";
    return h("li", { class: `dot ${state}`, dataset: { judge: j.id, state } },
      h("span", { class: "dot-mark" }, state === "submitted" ? "✓" : ""),
      h("span", { class: "dot-name" }, j.name),
      h("span", { class: "dot-state" }, t(state)));
  });
  $.dots.classList.toggle("many", dots.length > 9);
  $.dots.replaceChildren(...dots);
}

let revealKey = null;
let revealTimers = [];

function cancelReveal() {
  for (const cancel of revealTimers) cancel();
  revealTimers = [];
}

function later(fn, ms) {
  const id = setTimeout(fn, ms);
  revealTimers.push(() => clearTimeout(id));
}

function revealPlace(s, maps, r) {
  const board = s[`board/${r.group}`];
  const rank = t("rankInGroup", { rank: r.rank }) + (r.tied ? ` (${t("tied")})` : "");
  setText($.revealRank, rank);
  const provisional = board && !board.final ? ` · ${t("provisional")}` : "";
  setText($.revealPrize, r.prize ? r.prize + provisional : t("noPrize"));
  $.revealPrize.dataset.prize = String(maps.prizeRank(r.group, r.prize));
}

// Judges' totals one after another, then high and low struck through, then the final
// counted up to the hub's string; drawn at once when the page (re)loads on this screen.
function renderReveal(s, maps, animate) {
  const r = s.result || {};
  const key = JSON.stringify(r);
  if (key === revealKey) {
    if (r.case) revealPlace(s, maps, r);
    return;
  }
  revealKey = key;
  cancelReveal();
  const c = maps.caseInfo(r.case);
  setText($.revealGroup, maps.groupName(r.group));
  setText($.revealTitle, c.title);
  const high = new Set(r.dropped_high || []);
  const low = new Set(r.dropped_low || []);
  const items = (r.totals || []).map(({ judge, total }) => {
    const drop = high.has(judge) ? "high" : low.has(judge) ? "low" : null;
    return h("li", { class: `total${drop ? ` dropped ${drop}` : ""}`, dataset: { judge } },
      h("span", { class: "total-name" }, maps.judgeName(judge)),
      h("span", { class: "total-value" }, total),
      h("span", { class: "total-tag" }, drop ? t(drop) : ""));
  });
  $.totals.classList.toggle("many", items.length > 9);
  $.totals.replaceChildren(...items);
  const method = s.contest?.aggregation?.method;
  setText($.dropRule, method === "trimmed_mean" && s.contest.aggregation.drop === 1 ? t("dropRule") : "");
  revealPlace(s, maps, r);
  const finish = () => {
    setText($.finalValue, r.final ?? "");
    $.finalValue.dataset.done = "1";
    $.revealPlace.classList.add("in");
  };
  if (!animate || !r.case) {
    for (const li of items) li.classList.add("in");
    $.totals.classList.add("struck");
    finish();
    return;
  }
  $.totals.classList.remove("struck");
  $.revealPlace.classList.remove("in");
  $.finalValue.dataset.done = "0";
  setText($.finalValue, "");
  items.forEach((li, i) => later(() => li.classList.add("in"), PAUSE_MS + i * STEP_MS));
  const afterTotals = PAUSE_MS + items.length * STEP_MS + PAUSE_MS;
  later(() => $.totals.classList.add("struck"), afterTotals);
  later(() => revealTimers.push(countUp($.finalValue, r.final, COUNT_MS, finish)), afterTotals + PAUSE_MS);
}

// Group board: rows keyed by case; rows that changed place slide there (FLIP).
const boardLists = new Map();

function boardList(group) {
  let list = boardLists.get(group);
  if (!list) {
    list = h("ol", { class: "board", dataset: { group } });
    boardLists.set(group, list);
  }
  if ($.boardLists.firstChild !== list) $.boardLists.replaceChildren(list);
  return list;
}

function boardRow(maps, group, row, node) {
  const c = maps.caseInfo(row.case);
  const band = maps.prizeRank(group, row.prize);
  node.className = `row band-${band}${row.boundary_tie ? " boundary" : ""}`;
  node.dataset.case = row.case;
  node.dataset.rank = String(row.rank);
  node.replaceChildren(
    h("span", { class: "row-rank" }, String(row.rank)),
    h("span", { class: "row-case" }, h("span", { class: "row-title" }, c.title),
      h("span", { class: "row-unit" }, c.unit)),
    h("span", { class: "row-tags" },
      row.tied ? h("span", { class: "tag" }, t("tied")) : null,
      row.boundary_tie ? h("span", { class: "tag warn" }, t("boundaryTie")) : null),
    h("span", { class: "row-final" }, row.final),
    h("span", { class: "row-prize" }, row.prize || ""));
}

function renderBoard(s, maps, group) {
  const board = s[`board/${group}`] || { rows: [], pending: [], skipped: [], revealed: 0, total: 0, waiting: 0 };
  setText($.boardTitle, `${maps.groupName(group)} · ${t("board")}`);
  setText($.boardMarker, board.final ? t("final") : t("inProgress"));
  $.boardMarker.dataset.final = String(Boolean(board.final));
  setText($.boardCount, t("revealedOf", { n: board.revealed, of: board.total }));
  const waiting = board.waiting;
  const foot = [waiting ? t("pendingCount", { n: waiting }) : "",
    board.skipped.length ? t("skippedCount", { n: board.skipped.length }) : ""];
  setText($.boardFoot, board.rows.length ? foot.filter(Boolean).join(" · ") : t("noRows"));

  const list = boardList(group);
  list.classList.toggle("compact", board.rows.length > 10);
  const before = new Map([...list.children].map((n) => [n.dataset.case, n.offsetTop]));
  const old = new Map([...list.children].map((n) => [n.dataset.case, n]));
  const nodes = board.rows.map((row) => {
    const node = old.get(row.case) || h("li");
    boardRow(maps, group, row, node);
    return node;
  });
  list.replaceChildren(...nodes);
  const moved = [];
  for (const node of nodes) {
    const was = before.get(node.dataset.case);
    node.style.transition = "none";
    if (was === undefined) {
      if (before.size) node.classList.add("enter");
      continue;
    }
    const dy = was - node.offsetTop;
    if (dy) {
      node.style.transform = `translateY(${dy}px)`;
      node.classList.add("moved");
      moved.push(node);
    }
  }
  void list.offsetHeight; // commit the starting positions before sliding
  requestAnimationFrame(() => {
    for (const node of moved) {
      node.style.transition = "transform 900ms cubic-bezier(.2,.7,.2,1)";
      node.style.transform = "";
    }
  });
}

let awardsShown = new Map();

function awardEntry(maps, item) {
  const c = maps.caseInfo(item.case);
  return h("li", { class: "award", dataset: { case: item.case } },
    h("span", { class: "award-case" }, h("span", { class: "award-title" }, c.title),
      h("span", { class: "award-unit" }, c.unit)),
    h("span", { class: "award-final" }, item.final));
}

function renderAwards(s, maps, group) {
  const g = s.awards?.groups?.[group] || { steps: 0, shown: 0, levels: [] };
  setText($.awardsTitle, `${maps.groupName(group)} · ${t("awards")}`);
  const left = g.steps - g.shown;
  setText($.awardsCount, g.shown === 0 ? "" : left ? t("awardsPending", { n: left }) : t("awardsDone"));
  const fresh = (awardsShown.get(group) ?? g.shown) < g.shown;
  awardsShown.set(group, g.shown);
  if (!g.levels.length) {
    $.awardsBody.replaceChildren(h("p", { class: "awards-soon" }, t("awardsSoon")));
    return;
  }
  // The level just announced is the big one; the earlier ones stay visible beside it.
  const levels = g.levels.map((level, i) => {
    const latest = i === g.levels.length - 1;
    const band = maps.prizeRank(group, level.prize);
    return h("section", {
      class: `level band-${band}${latest ? " latest" : ""}${latest && fresh ? " enter" : ""}`,
      dataset: { prize: level.prize },
    }, h("h2", { class: "level-name" }, level.prize),
    h("ol", { class: `level-cases${level.cases.length > 5 ? " many" : ""}` },
      ...level.cases.map((item) => awardEntry(maps, item))));
  });
  const latest = levels.pop();
  $.awardsBody.replaceChildren(latest, h("div", { class: "earlier" }, ...levels.reverse()));
}

// --- the frame ---

let seenSnapshot = false;

function render() {
  const s = client.state;
  if (!s.screen) return;
  const maps = contestIndex(s.contest);
  const view = s.screen.view;
  const group = s.screen.group;
  const changed = stage.dataset.screen !== view;
  stage.dataset.screen = view; // first, so the board can measure its rows while visible
  stage.dataset.group = group || "";
  setText($.barTitle, s.contest?.title);
  const barGroup = view === "stage" || view === "scoring" ? s.stage?.group
    : view === "reveal" ? s.result?.group : view === "board" || view === "awards" ? group : null;
  setText($.barGroup, barGroup ? maps.groupName(barGroup) : "");
  if (view === "welcome") renderWelcome(s, maps);
  else if (view === "between") renderBetween(s, maps);
  else if (view === "stage") renderStage(s, maps);
  else if (view === "scoring") renderScoring(s, maps);
  else if (view === "reveal") renderReveal(s, maps, seenSnapshot);
  else if (view === "board") renderBoard(s, maps, group);
  else if (view === "awards") renderAwards(s, maps, group);
  if (changed) stage.dataset.shownAt = String(Date.now());
  seenSnapshot = true;
}

function freshness() {
  stage.dataset.seq = String(client.seq ?? "");
  setText($.freshText, `#${client.seq ?? "–"} · ${t("updated")} ${wallClock()}`);
}

client.addEventListener("change", () => {
  render();
  freshness();
});
client.addEventListener("status", (ev) => { stage.dataset.status = ev.detail.status; });
watchLink(client, (stale) => {
  $.reconnect.hidden = !stale;
  stage.classList.toggle("stale", stale);
});
document.documentElement.lang = getLang() === "en" ? "en" : "zh-CN";
client.start();
