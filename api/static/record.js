// One record as a reader wants it: title, parties, dates, amounts, documents, its findings; the raw
// triples behind a toggle. Labels of properties and codes come from the ontology, in the page's language.
"use strict";
(async () => {
  await WB.init("");
  const {t, api, el} = WB;
  const out = document.getElementById("record");
  const id = new URLSearchParams(location.search).get("id");
  let rec = null, labs = null;

  const label = iri => WB.pick((rec.labels || {})[iri]) || WB.shortIri(iri);
  const section = (key, rows, columns) => [el("h2", {id: "sec-" + key.split(".")[1]}, t(key)),
    rows.length ? WB.sortableTable(columns.map(t), rows, v => v && v.nodeType ? v : (v === null || v === undefined ? "" : String(v)))
      : el("p", {class: "muted"}, t("record.none"))];
  function render() {
    document.title = (rec.title || rec.id) + " · " + t("app.title");
    out.replaceChildren(
      el("h1", {id: "record-title"}, rec.title || rec.id),
      el("p", {class: "meta"}, rec.id, " · ", t("record.kind"), ": ", WB.codeLabel(labs, "record-kind", rec.kind),
        " · ", t("record.source"), ": ", rec.source, " · ", t("record.loadedAt"), ": ", WB.chinaTime(rec.loadedAt)),
      ...section("record.findings", rec.findings.map(f => [el("span", {class: f.severity}, t("severity." + f.severity)),
        f.rule, WB.pick(f.message)]), ["col.severity", "col.rule", "col.message"]),
      ...section("record.parties", rec.parties.map(p => [label(p.role),
        el("a", {href: "/pages/entity?code=" + encodeURIComponent(p.code)}, p.name || p.code), p.code, p.of]),
        ["record.role", "entity.name", "entity.code", "record.of"]),
      ...section("record.dates", rec.dates.map(d => [label(d.property), d.value.includes("T") ? WB.chinaTime(d.value) : d.value, d.of]),
        ["record.property", "record.value", "record.of"]),
      ...section("record.amounts", rec.amounts.map(a => [a.type ? label(a.type) : "", Number(a.amount).toLocaleString(WB.lang === "zh" ? "zh-CN" : "en"),
        a.currency || "", a.of]), ["record.type", "record.amount", "record.currency", "record.of"]),
      ...section("record.documents", rec.documents.map(d => [d.type || "", d.published || "",
        d.url ? el("a", {href: d.url, rel: "noopener noreferrer", target: "_blank"}, d.url) : "", d.of]),
        ["record.type", "record.published", "record.link", "record.of"]),
      el("details", {id: "raw"}, el("summary", {}, t("record.raw") + " (" + rec.triples.length + ")"),
        WB.sortableTable([t("record.subject"), t("record.predicate"), t("record.object")],
          rec.triples.map(([s, p, o]) => [WB.shortIri(s), label(p), o.startsWith("http") ? WB.shortIri(o) : o]))));
  }
  async function load() {
    if (!id) { out.replaceChildren(el("p", {class: "error"}, t("record.none"))); return; }
    if (WB.needToken(out)) return;
    try {
      labs = labs || await WB.labels();
      rec = await api("/workbench/record/" + encodeURIComponent(id));
      render();
    } catch (e) { rec = null; WB.showError(out, e); }
  }
  WB.onLang(() => { if (rec) render(); });
  document.addEventListener("prtkg:token", load);
  load();
})();
