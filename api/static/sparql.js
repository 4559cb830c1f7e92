"use strict";
(async () => {
  await WB.init("sparql");
  const {t, api, el} = WB;
  const PREFIXES = "PREFIX prtkg: <https://w3id.org/prtkg/ontology#>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n" +
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" +
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n\n";
  // Autocompleters that fetch prefix.cc / LOV are left out: the workbench must not call the network.
  const yasqe = new Yasqe(document.getElementById("editor"), {
    value: PREFIXES + "SELECT ?rule (COUNT(?f) AS ?n) WHERE {\n  GRAPH <urn:prtkg:findings> { ?f prtkg:rule ?rule }\n} GROUP BY ?rule ORDER BY DESC(?n)\n",
    persistenceId: null, showQueryButton: false, autocompleters: ["variables"], createShareableLink: null,
    resizeable: true, editorHeight: "260px",
  });
  const results = document.getElementById("results");
  const count = document.getElementById("count");
  const csvButton = document.getElementById("csv");
  let last = null;

  function cellText(b) { return b ? b.value : ""; }
  // An IRI reads as its prefixed name with its label beside it, and links to its page where it has one.
  let iriLabels = {};
  function cell(v) {
    if (!v || v.type !== "uri") return v ? v.value : "";
    const short = WB.shortIri(v.value), page = WB.pageOf(v.value), label = WB.pick(iriLabels[v.value]);
    return el("span", {class: "iri", title: v.value},
      page ? el("a", {href: page}, short) : short, label ? el("span", {class: "iri-label"}, " " + label) : null);
  }
  async function show(data) {
    let display;
    if (data && data.boolean !== undefined) {
      last = {columns: [t("sparql.ask")], rows: [[String(data.boolean)]]};
      display = last.rows;
    } else {
      const vars = data.head.vars, bindings = data.results.bindings;
      last = {columns: vars, rows: bindings.map(b => vars.map(v => cellText(b[v])))};
      const iris = [...new Set(bindings.flatMap(b => vars.map(v => b[v]).filter(x => x && x.type === "uri").map(x => x.value)))];
      iriLabels = {};
      if (iris.length) {
        try { iriLabels = await api("/workbench/labels", {method: "POST", body: JSON.stringify(iris.slice(0, 2000)),
                                                          headers: {"Content-Type": "application/json"}}); }
        catch (e) { iriLabels = {}; }   // labels are a help: the results stand without them
      }
      display = bindings.map(b => vars.map(v => ({sort: cellText(b[v]), b: b[v]})));
    }
    count.textContent = last.rows.length + " " + t("sparql.rows");
    results.replaceChildren(last.rows.length ?
      WB.sortableTable(last.columns, display, v => v && typeof v === "object" ? cell(v.b) : v) :
      el("p", {}, t("sparql.noRows")));
    csvButton.disabled = false;
  }
  async function run(promise) {
    results.replaceChildren(el("p", {class: "muted"}, "…"));
    try { await show(await promise); } catch (e) { last = null; csvButton.disabled = true; count.textContent = ""; WB.showError(results, e); }
  }
  document.getElementById("run").addEventListener("click", () => run(api("/sparql", {
    method: "POST", body: yasqe.getValue(),
    headers: {"Content-Type": "application/sparql-query", Accept: "application/sparql-results+json"}})));
  csvButton.addEventListener("click", () => {
    if (!last) return;
    const a = el("a", {href: URL.createObjectURL(new Blob(["\ufeff" + WB.csv(last.columns, last.rows)], {type: "text/csv"})),
                       download: "results.csv"});
    document.body.append(a); a.click(); a.remove();
  });

  // Saved questions: zh/en titles in the sidebar, their parameters as form fields.
  const saved = document.getElementById("saved");
  const form = document.getElementById("params");
  const fields = document.getElementById("param-fields");
  let questions = [], current = null;
  async function field(p) {
    const id = "param-" + p.name;
    let input;
    if (p.type.startsWith("code/")) {
      const labs = await WB.labels();
      const scheme = labs[p.type.slice(5)];
      if (scheme && !Array.isArray(scheme)) {
        input = el("select", {id, name: p.name}, Object.keys(scheme).sort().map(c =>
          el("option", {value: c, selected: c === p.default ? "" : null}, WB.codeLabel(labs, p.type.slice(5), c) + " (" + c + ")")));
      }
    }
    if (!input) input = el("input", {id, name: p.name, value: p.default,
      type: p.type === "date" ? "date" : p.type === "integer" ? "number" : "text"});
    // The parameter's label in the page's language (param.* in the message catalogue), its name as a hint.
    const key = "param." + p.name, known = t(key) !== key;
    return el("label", {for: id, title: p.name + (p.description ? " — " + p.description : "")},
      el("span", {"data-i18n": known ? key : null}, known ? t(key) : p.name), input);
  }
  async function choose(q) {
    current = q;
    saved.querySelectorAll("li").forEach(li => li.classList.toggle("active", li.dataset.name === q.name));
    document.getElementById("saved-description").textContent = WB.pick(q.description);
    fields.replaceChildren(...await Promise.all(q.params.map(field)));
    form.hidden = false;
    // The question's text goes into the editor, to read or to adapt (its parameters stay ?variables).
    try { yasqe.setValue((await api("/workbench/queries/" + encodeURIComponent(q.name))).text); }
    catch (e) { WB.showError(results, e); }
  }
  function listSaved() {
    saved.replaceChildren(...questions.map(q => el("li", {"data-name": q.name, class: current && current.name === q.name ? "active" : "",
      onclick: () => choose(q)}, WB.pick(q.title))));
    if (current) document.getElementById("saved-description").textContent = WB.pick(current.description);
  }
  form.addEventListener("submit", e => {
    e.preventDefault();
    const qs = new URLSearchParams(new FormData(form));
    run(api("/queries/" + encodeURIComponent(current.name) + "?" + qs, {headers: {Accept: "application/sparql-results+json"}}));
  });
  async function loadSaved() {
    if (WB.needToken(saved)) return;
    try { questions = await api("/queries"); listSaved(); }
    catch (e) { WB.showError(saved, e); }
  }
  // An old link to a record (/?record=ID) goes to the record's page.
  const record = new URLSearchParams(location.search).get("record");
  if (record) location.replace("/pages/record?id=" + encodeURIComponent(record));
  WB.onLang(() => { listSaved(); if (current) fields.querySelectorAll("[data-i18n]").forEach(s => { s.textContent = t(s.dataset.i18n); }); });
  document.addEventListener("prtkg:token", loadSaved);
  loadSaved();
})();
