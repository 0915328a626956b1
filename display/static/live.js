// The audience's phone page: the same public view as the big screen, as a light scrolling
// page (now on stage, the latest revealed result, each group's standings as tabs).

import { LiveClient, watchLink } from "/static/live/client.js";
import { countdown, everyTick, wallClock } from "/static/live/clock.js";
import { contestIndex } from "/static/live/contest.js";
import { h } from "/static/live/dom.js";
import { applyI18n, getLang, makeT, setLang } from "/static/live/i18n.js";
import { STRINGS } from "./strings.js";

const t = makeT(STRINGS);
const $ = Object.fromEntries([...document.querySelectorAll("[data-el]")].map((n) => [n.dataset.el, n]));
const client = new LiveClient({ role: "audience" });
let tab = null; // the group whose standings are open; follows the stage until the user picks one
let picked = false;

const lang = getLang();
setLang(lang);
applyI18n(t);
$.lang.textContent = t("langSwitch");
$.lang.href = `?lang=${lang === "en" ? "zh" : "en"}`;

const STATUS = { on_stage: "statusOnStage", scoring: "statusScoring", closed: "statusClosed",
  revealed: "statusRevealed", skipped: "statusSkipped" };

function renderNow(s, maps) {
  const st = s.stage || {};
  if (!st.case) {
    $.nowBody.replaceChildren(h("p", { class: "muted" }, s.run?.finished ? t("awardsDone") : t("startingSoon")));
    return;
  }
  const c = maps.caseInfo(st.case);
  const p = s.progress || {};
  const done = p.done ?? 0;
  const status = st.status;
  const extra = status === "scoring" || status === "closed" ? ` ${done} / ${(p.expected || []).length}` : "";
  $.nowBody.replaceChildren(
    h("p", { class: "meta" }, h("span", {}, maps.groupName(st.group)),
      h("span", { class: "order" }, `${st.index} / ${st.of}`),
      h("span", { class: `status ${status}` }, t(STATUS[status] || "statusOnStage") + extra)),
    h("p", { class: "case-title" }, c.title),
    h("p", { class: "muted" }, [c.unit, c.presenter].filter(Boolean).join(" · ")),
    ...(status === "on_stage" ? [h("p", { class: "clock" }, "")] : []));
  tick();
}

function tick() {
  const node = $.nowBody.querySelector(".clock");
  const timer = client.state.stage?.timer;
  if (!node || !timer) return;
  const cd = countdown(timer, client.serverNow());
  node.textContent = cd.text;
  node.classList.toggle("warn", cd.warn);
  node.classList.toggle("over", cd.over);
}
everyTick(tick);

function renderLatest(s, maps) {
  const r = s.result || {};
  if (!r.case) {
    $.latestBody.replaceChildren(h("p", { class: "muted" }, t("nothingYet")));
    return;
  }
  const c = maps.caseInfo(r.case);
  const high = new Set(r.dropped_high || []);
  const low = new Set(r.dropped_low || []);
  const board = s[`board/${r.group}`];
  const provisional = board && !board.final ? ` · ${t("provisional")}` : "";
  $.latestBody.replaceChildren(
    h("p", { class: "meta" }, maps.groupName(r.group)),
    h("p", { class: "case-title" }, c.title),
    h("div", { class: "final-line" },
      h("span", { class: "final", "data-el": "final" }, r.final),
      h("span", { class: "place" }, t("rankInGroup", { rank: r.rank }) + (r.tied ? ` (${t("tied")})` : ""),
        h("br"), h("span", { class: `prize band-${maps.prizeRank(r.group, r.prize)}` },
          r.prize ? r.prize + provisional : t("noPrize")))),
    h("ul", { class: "totals" }, ...(r.totals || []).map(({ judge, total }) => {
      const drop = high.has(judge) ? "high" : low.has(judge) ? "low" : null;
      return h("li", { class: drop ? `dropped ${drop}` : "", dataset: { judge } },
        h("span", { class: "who" }, maps.judgeName(judge)),
        h(drop ? "s" : "span", { class: "v" }, total));
    })));
}

function renderTabs(s, maps) {
  const groups = s.contest?.groups || [];
  if (!picked) tab = s.stage?.group || s.screen?.group || tab || groups[0]?.key;
  $.tabs.replaceChildren(...groups.map((g) => h("button", {
    type: "button", role: "tab", class: g.key === tab ? "on" : "", "aria-selected": String(g.key === tab),
    dataset: { group: g.key },
  }, g.name)));
}

$.tabs.addEventListener("click", (ev) => {
  const btn = ev.target.closest("button[data-group]");
  if (!btn) return;
  tab = btn.dataset.group;
  picked = true;
  render();
});

function renderBoard(s, maps) {
  const board = s[`board/${tab}`];
  if (!board) {
    $.board.replaceChildren();
    return;
  }
  const head = h("p", { class: "board-head" },
    h("span", { class: `marker${board.final ? " final" : ""}` }, board.final ? t("final") : t("inProgress")),
    h("span", { class: "muted" }, t("revealedOf", { n: board.revealed, of: board.total })));
  const rows = board.rows.map((row) => {
    const c = maps.caseInfo(row.case);
    return h("li", { class: `row band-${maps.prizeRank(tab, row.prize)}`, dataset: { case: row.case } },
      h("span", { class: "rank" }, String(row.rank)),
      h("span", { class: "name" }, h("span", { class: "title" }, c.title), h("span", { class: "unit" }, c.unit)),
      h("span", { class: "score" }, row.final, h("small", {}, row.prize || "")));
  });
  $.board.replaceChildren(head, rows.length ? h("ol", { class: "rows", dataset: { group: tab } }, ...rows)
    : h("p", { class: "muted" }, t("noRows")));
}

function render() {
  const s = client.state;
  if (!s.contest) return;
  const maps = contestIndex(s.contest);
  $.title.textContent = s.contest.title;
  $.main.dataset.screen = s.screen?.view || "";
  renderNow(s, maps);
  renderLatest(s, maps);
  renderTabs(s, maps);
  renderBoard(s, maps);
}

client.addEventListener("change", () => {
  render();
  $.fresh.textContent = `#${client.seq ?? "–"} · ${t("updated")} ${wallClock()}`;
  $.main.dataset.seq = String(client.seq ?? "");
});
watchLink(client, (stale) => {
  $.reconnect.hidden = !stale;
  document.body.classList.toggle("stale", stale);
});
client.start();
