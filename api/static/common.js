// Shared by every workbench page: the message catalogue, language switch, staff token, API calls, tables.
"use strict";
const WB = (() => {
  let messages = {zh: {}, en: {}};
  let lang = sessionStorage.getItem("prtkg.lang") || "zh";   // zh by default
  const listeners = [];

  // Display order of a code list (stages as the procedure runs), from the catalogue; unknown codes last.
  function ordered(values, scheme) {
    const order = (messages.order || {})[scheme] || [];
    const rank = v => order.includes(v) ? order.indexOf(v) : order.length;
    return values.slice().sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }
  function t(key) { return (messages[lang] || {})[key] || messages.zh[key] || key; }
  function pick(texts) {   // a {zh, en} object from the API
    if (!texts) return "";
    return texts[lang] || texts.zh || texts.en || Object.values(texts)[0] || "";
  }
  function applyLabels(root) {
    (root || document).querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(el.dataset.i18n); });
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = t(document.body.dataset.title || "app.title") + " · " + t("app.title");
  }
  function setLang(l) {
    lang = l; sessionStorage.setItem("prtkg.lang", l); applyLabels();
    listeners.forEach(fn => fn(l));
  }
  function onLang(fn) { listeners.push(fn); }

  function token() { return sessionStorage.getItem("prtkg.token") || ""; }

  async function api(path, opts) {
    opts = opts || {};
    const headers = Object.assign({Accept: "application/json"}, opts.headers || {});
    if (token()) headers.Authorization = "Bearer " + token();
    const res = await fetch(path, Object.assign({}, opts, {headers}));
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
    if (!res.ok) {
      const d = body && body.detail !== undefined ? body.detail : body;
      const msg = typeof d === "string" ? d : (d && d.message ? pick(d.message) : JSON.stringify(d));
      const err = new Error(res.status === 401 ? t("token.missing") + " (" + msg + ")" : msg);
      err.status = res.status; throw err;
    }
    return body;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined) e.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c));
    return e;
  }

  // Staff pages ask for nothing until a token is given, so an anonymous visit makes no refused request.
  function needToken(target) {
    if (token()) return false;
    target.replaceChildren(el("p", {class: "error need-token", role: "alert"}, t("token.missing")));
    return true;
  }

  function showError(target, err) {
    target.replaceChildren(el("p", {class: "error", role: "alert"}, t("error.prefix") + err.message));
  }

  // A table whose columns sort on a header click (numbers numerically, text by locale).
  function sortableTable(columns, rows, render) {
    const table = el("table", {class: "results sortable"});
    const thead = el("thead", {}, el("tr", {}, columns.map((c, i) =>
      el("th", {"data-col": i, onclick: () => sortBy(i)}, c))));
    const tbody = el("tbody");
    table.append(thead, tbody);
    let order = {col: -1, dir: 1};
    function fill() {
      tbody.replaceChildren(...rows.map(r => el("tr", {}, r.map((v, i) =>
        el("td", {}, render ? render(v, i, r) : (v === null || v === undefined ? "" : String(v)))))));
    }
    function key(v) { return v === null || v === undefined ? "" : (typeof v === "object" ? v.sort || "" : v); }
    function sortBy(i) {
      order = {col: i, dir: order.col === i ? -order.dir : 1};
      rows.sort((a, b) => {
        const x = key(a[i]), y = key(b[i]);
        const nx = Number(x), ny = Number(y);
        const c = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y), "zh");
        return c * order.dir;
      });
      thead.querySelectorAll("th").forEach((th, j) => th.dataset.sort = j === i ? (order.dir > 0 ? "asc" : "desc") : "");
      fill();
    }
    fill();
    return table;
  }

  // A cell a spreadsheet would evaluate as a formula gets a leading apostrophe, as the server's
  // text/csv does (prtkg/querying.py csv_cell); plain numbers, negative ones too, stay as they are.
  const FORMULA = /^[=+\-@\t\r＝＋－＠]/, NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
  function defuse(s) { return FORMULA.test(s) && !NUMBER.test(s) ? "'" + s : s; }
  function csv(columns, rows) {
    const q = v => { const s = defuse(v === null || v === undefined ? "" : String(v)); return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
    return [columns, ...rows].map(r => r.map(q).join(",")).join("\r\n") + "\r\n";
  }

  function header(active) {
    const nav = el("nav", {class: "top"},
      el("strong", {"data-i18n": "app.title"}),
      ...[["sparql", "/"], ["findings", "/pages/findings"], ["coverage", "/pages/coverage"], ["entity", "/pages/entity"]]
        .map(([k, href]) => el("a", {href, class: k === active ? "active" : "", id: "nav-" + k, "data-i18n": "nav." + k})),
      el("span", {class: "spacer"}));
    const input = el("input", {type: "password", id: "token", autocomplete: "off", size: 24});
    const status = el("span", {id: "token-status", class: "muted"});
    const tokenBox = el("form", {class: "token", id: "token-form", onsubmit: e => {
      e.preventDefault();
      sessionStorage.setItem("prtkg.token", input.value.trim()); input.value = "";
      status.dataset.i18n = "token.saved"; applyLabels(tokenBox);
      document.dispatchEvent(new CustomEvent("prtkg:token"));
    }}, el("label", {for: "token", "data-i18n": "token.label"}), input,
      el("button", {type: "submit", "data-i18n": "token.save"}),
      el("button", {type: "button", "data-i18n": "token.clear", onclick: () => {
        sessionStorage.removeItem("prtkg.token"); status.textContent = ""; delete status.dataset.i18n; }}), status);
    if (token()) status.dataset.i18n = "token.saved";
    const switcher = el("button", {type: "button", id: "lang-switch", "data-i18n": "lang.switch",
      onclick: () => setLang(lang === "zh" ? "en" : "zh")});
    nav.append(tokenBox, switcher);
    document.body.prepend(nav);
  }

  async function init(active) {
    messages = await (await fetch("/static/messages.json")).json();
    header(active);
    applyLabels();
  }

  // IRIs as prefixed names, the way the queries write them.
  const PREFIXES = [["prtkg:", "https://w3id.org/prtkg/ontology#"], ["code:", "https://w3id.org/prtkg/code/"],
    ["id:", "https://w3id.org/prtkg/id/"], ["prov:", "http://www.w3.org/ns/prov#"], ["skos:", "http://www.w3.org/2004/02/skos/core#"],
    ["rdfs:", "http://www.w3.org/2000/01/rdf-schema#"], ["rdf:", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"],
    ["xsd:", "http://www.w3.org/2001/XMLSchema#"], ["owl:", "http://www.w3.org/2002/07/owl#"]];
  function shortIri(iri) {
    for (const [p, ns] of PREFIXES) if (iri.startsWith(ns) && /^[\w.\/-]*$/.test(iri.slice(ns.length))) return p + iri.slice(ns.length);
    return iri;
  }
  // The page an IRI has in the workbench: an organisation's credit page, a record's page.
  function pageOf(iri) {
    const ent = iri.match(/^https:\/\/w3id\.org\/prtkg\/id\/entity\/([0-9A-Z]{18})$/);
    if (ent) return "/pages/entity?code=" + ent[1];
    const proj = iri.match(/^https:\/\/w3id\.org\/prtkg\/id\/project\/([^\/]+)$/);
    if (proj) return "/pages/record?id=" + proj[1];
    return null;
  }
  // A moment in China time with the zone named.
  function chinaTime(value) {
    if (!value) return "—";
    const d = new Date(value);
    if (isNaN(d)) return value;
    const c = new Date(d.getTime() + 8 * 3600 * 1000);
    return c.toISOString().slice(0, 16).replace("T", " ") + " UTC+8";
  }

  let labelCache = null;
  async function labels() { return labelCache || (labelCache = await api("/workbench/labels")); }
  function codeLabel(labs, scheme, code) {
    if (!code) return "—";
    const e = (labs[scheme] || {})[code];
    if (!e) return code;
    return pick(scheme === "region" ? e.labels : e);
  }

  return {t, pick, ordered, api, el, init, needToken, onLang, applyLabels, sortableTable, csv, showError, labels, codeLabel,
          shortIri, pageOf, chinaTime, get messages() { return messages; },
          get lang() { return lang; }, token};
})();
