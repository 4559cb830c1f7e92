"use strict";
(async () => {
  await WB.init("findings");
  const {t, api, el, pick} = WB;
  const list = document.getElementById("list");
  const form = document.getElementById("filters");
  let all = [], labs = null;

  function options(select, values, label) {
    const keep = select.value;
    select.replaceChildren(el("option", {value: ""}, t("filter.all")),
      ...values.map(v => el("option", {value: v}, label(v))));
    select.value = values.includes(keep) ? keep : "";
  }
  function fillFilters() {
    const uniq = key => [...new Set(all.map(f => f[key]).filter(Boolean))].sort();
    options(document.getElementById("f-family"), uniq("family"), v => t("family." + v));
    options(document.getElementById("f-severity"), ["violation", "warning", "info"], v => t("severity." + v));
    // Regions in hierarchy order: each region after its parent, indented by depth.
    const regions = uniq("region");
    const depth = c => { let d = 0, p = (labs.region[c] || {}).parent; while (p) { d++; p = (labs.region[p] || {}).parent; } return d; };
    options(document.getElementById("f-region"), regions, v => "\u3000".repeat(Math.max(0, depth(v) - 1)) + WB.codeLabel(labs, "region", v));
    options(document.getElementById("f-tradeType"), uniq("tradeType"), v => WB.codeLabel(labs, "trade-type", v));
  }
  function within(region, wanted) {   // a finding in a county matches a filter on its city or province
    for (let r = region; r; r = (labs.region[r] || {}).parent) if (r === wanted) return true;
    return false;
  }
  // Credit codes named in the evidence (bidders, winners, subjects) link to their credit page.
  function entities(ev) {
    const found = new Set();
    JSON.stringify(ev || {}).replace(/"([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})"/g, (_, c) => found.add(c));
    return [...found];
  }
  // Evidence as a labelled table: keys by their labels (ev.* in the message catalogue), codes by their
  // labels where the catalogue names the key's code list, nested values as nested tables.
  function evidenceTable(ev) {
    const schemes = (WB.messages.evidence || {}).scheme || {};
    const value = (v, k) => {
      if (v === null || v === undefined) return "—";
      if (Array.isArray(v)) return v.map(x => value(x, k)).flatMap((x, i) => i ? [el("br"), x] : [x]);
      if (typeof v === "object") return evidenceTable(v);
      const s = String(v);
      return schemes[k] ? WB.codeLabel(labs, schemes[k], s) : s;
    };
    return el("table", {class: "evidence"}, Object.entries(ev || {}).map(([k, v]) =>
      el("tr", {}, el("th", {title: k}, WB.t("ev." + k) === "ev." + k ? k : WB.t("ev." + k)), el("td", {}, value(v, k)))));
  }
  function render() {
    const f = Object.fromEntries(new FormData(form));
    const shown = all.filter(x =>
      (!f.family || x.family === f.family) && (!f.severity || x.severity === f.severity) &&
      (!f.region || within(x.region, f.region)) && (!f.tradeType || x.tradeType === f.tradeType) &&
      (!f.from || (x.date && x.date >= f.from)) && (!f.to || (x.date && x.date <= f.to)));
    document.getElementById("count").textContent = shown.length;
    list.replaceChildren(...shown.map(x => el("article", {class: "finding " + x.severity, "data-rule": x.rule},
      el("div", {class: "meta"},
        el("span", {class: x.severity}, t("severity." + x.severity)), " · ", x.rule, " · ", t("family." + x.family),
        " · ", t("col.record"), ": ", el("a", {href: "/pages/record?id=" + encodeURIComponent(x.record), class: "record"}, x.title || x.record),
        x.region ? " · " + WB.codeLabel(labs, "region", x.region) : "",
        x.tradeType ? " · " + WB.codeLabel(labs, "trade-type", x.tradeType) : "",
        x.date ? " · " + x.date : ""),
      el("p", {class: "message"}, pick(x.message)),
      el("p", {class: "basis"}, t("col.basis"), ": ", x.basis || "—"),
      entities(x.evidence).length ? el("p", {class: "entities"}, t("nav.entity"), ": ",
        entities(x.evidence).flatMap((c, i) => [i ? " " : "", el("a", {href: "/pages/entity?code=" + c}, c)])) : "",
      el("details", {}, el("summary", {}, t("col.evidence")), evidenceTable(x.evidence)))));
  }
  async function load() {
    if (WB.needToken(list)) return;
    try {
      labs = await WB.labels();
      all = await api("/workbench/findings");
      fillFilters(); render();
    } catch (e) { WB.showError(list, e); }
  }
  form.addEventListener("change", render);
  form.addEventListener("reset", () => setTimeout(render));
  WB.onLang(() => { if (labs) { fillFilters(); render(); } });
  document.addEventListener("prtkg:token", load);
  load();
})();
