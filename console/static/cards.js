// The printable judge cards: fetched with the host token (the cards carry judge secrets),
// one card per judge with its QR code (made by the hub) and the short code to type.

import { makeT, applyI18n, getLang, setLang } from "/static/live/i18n.js";
import { CARDS } from "/static/console/strings.js";

const t = makeT(CARDS);
const TOKEN_KEY = "live.console.token";
const $ = (sel) => document.querySelector(sel);

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function load() {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) {
    $("#cards-error").textContent = t("cards_signin");
    return;
  }
  const base = $("#base").value.trim();
  const res = await fetch(`/console/api/cards${base ? `?base=${encodeURIComponent(base)}` : ""}`,
    { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) {
    $("#cards-error").textContent = res.status === 401 ? t("bad_token") : res.statusText;
    return;
  }
  const data = await res.json();
  $("#cards-error").textContent = "";
  $("#base").value = data.base;
  const cards = data.cards.map((c) => {
    const card = el("article", "card");
    card.dataset.judge = c.id;
    card.append(el("div", "ctitle", data.title), el("div", "name", c.name), el("div", "unit", c.unit));
    const qr = el("div", "qr");
    qr.innerHTML = c.svg; // an SVG the hub made with segno from our own URL, not user text
    card.append(qr, el("div", "scan", t("card_scan")));
    const code = el("div", "code");
    code.append(el("span", "label", `${t("card_code")} `), el("strong", "", c.code));
    card.append(code, el("div", "url", data.base + "/pad"));
    return card;
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
