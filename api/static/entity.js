"use strict";
(async () => {
  await WB.init("entity");
  const {t, api, el} = WB;
  const form = document.getElementById("lookup");
  const out = document.getElementById("result");
  let last = null, labs = null;

  const measures = m => (m || []).map(x => typeof x === "object" ? WB.pick(x.label || x) || x.code : x).join("；");
  const types = list => (list || []).map(c => WB.codeLabel(labs, "trade-type", c)).join("、");
  function render(s) {
    out.replaceChildren(
      el("h2", {id: "entity-name"}, (s.name || "") + " " + s.uscc),
      el("p", {}, t("entity.status"), ": ", el("span", {id: "entity-status", class: "status " + s.status}, t("status." + s.status)),
        " · ", t("entity.asOf"), " ", s.asOf),
      el("h3", {}, t("entity.restrictions")),
      s.restrictions.length ? WB.sortableTable([t("col.record"), t("col.tradeType"), t("entity.from"), t("entity.until"), t("entity.measures"), t("col.basis")],
        s.restrictions.map(r => [r.record, WB.codeLabel(labs, "trade-type", r.tradeType), r.from, r.until, measures(r.measures), r.basis]))
        : el("p", {id: "no-restrictions"}, t("entity.none")),
      el("h3", {}, t("entity.history")),
      s.history.length ? WB.sortableTable([t("col.record"), t("entity.type"), t("entity.from"), t("entity.until"), t("col.tradeType"), t("entity.inForce"), t("col.basis")],
        s.history.map(r => [r.record, WB.codeLabel(labs, "credit-record-type", r.type), r.from, r.until, types(r.tradeTypes), r.inForce ? "✓" : "", r.basis]))
        : el("p", {}, t("entity.none")));
  }
  async function lookup() {
    const code = document.getElementById("code").value.trim().toUpperCase();
    if (!code) return;
    const asOf = document.getElementById("asof").value;
    history.replaceState(null, "", "?code=" + encodeURIComponent(code));
    try {
      // The open page reads the published code lists only (/workbench/labels, with the regions the
      // store holds, needs the staff token).
      labs = labs || await api("/workbench/code-labels");
      last = await api("/entities/" + encodeURIComponent(code) + "/credit" + (asOf ? "?asOf=" + asOf : ""));
      render(last);
    } catch (e) { last = null; WB.showError(out, e.status === 404 ? new Error(t("entity.notFound") + ": " + code) : e); }
  }
  form.addEventListener("submit", e => { e.preventDefault(); lookup(); });
  WB.onLang(() => { if (last) render(last); });
  const given = new URLSearchParams(location.search).get("code");
  if (given) { document.getElementById("code").value = given; lookup(); }
})();
