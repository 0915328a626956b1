// The printable judge cards: fetched with the host token (the cards carry judge secrets),
// one card per judge with its QR code (made by the hub) and the short code to type.

import { bearerFetch, hostToken } from "/static/live/auth.js";
import { h } from "/static/live/dom.js";
import { makeT, applyI18n, getLang, setLang } from "/static/live/i18n.js";
import { CARDS } from "/static/console/strings.js";

const t = makeT(CARDS);
const $ = (sel) => document.querySelector(sel);

async function load() {
  if (!hostToken.get()) {
    $("#cards-error").textContent = t("cards_signin");
    return;
  }
  const base = $("#base").value.trim();
  const res = await bearerFetch(`/console/api/cards${base ? `?base=${encodeURIComponent(base)}` : ""}`);
  if (!res.ok) {
    $("#cards-error").textContent = res.status === 401 ? t("bad_token") : res.statusText;
    return;
  }
  const data = await res.json();
  $("#cards-error").textContent = "";
  $("#base").value = data.base;
  const cards = data.cards.map((c) => {
    const qr = h("div", { class: "qr" });
    qr.innerHTML = c.svg; // an SVG the hub made with segno from our own URL, not user text
    return h("article", { class: "card", dataset: { judge: c.id } },
      h("div", { class: "ctitle" }, data.title), h("div", { class: "name" }, c.name), h("div", { class: "unit" }, c.unit),
      qr, h("div", { class: "scan" }, t("card_scan")),
      h("div", { class: "code" }, h("span", { class: "label" }, `${t("card_code")} `), h("strong", {}, c.code)),
      h("div", { class: "url" }, data.base + "/pad"));
  });
  $("#cards").replaceChildren(...cards);
}

applyI18n(t);
for (const b of document.querySelectorAll(".lang-toggle")) {
  b.textContent = getLang() === "en" ? "中文" : "English";
  b.addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    location.reload();
  });
}
$("#base-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  load();
});
$("#print").addEventListener("click", () => print());
load();
