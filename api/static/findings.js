"use strict";
(async () => {
  await WB.init("findings");
  const {t, api, el, pick} = WB;
  const list = document.getElementById("list");
  const form = document.getElementById("filters");
  let all = [], labs = null, machine = null;

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
    options(document.getElementById("f-status"), machine.states, v => t("case.status." + v));
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
      (!f.status || x.status === f.status) && (!f.overdue || x.overdue) &&
      (!f.region || within(x.region, f.region)) && (!f.tradeType || x.tradeType === f.tradeType) &&
      (!f.from || (x.date && x.date >= f.from)) && (!f.to || (x.date && x.date <= f.to)));
    document.getElementById("count").textContent = shown.length;
    list.replaceChildren(...shown.map(article));
  }
  function article(x) {
    return el("article", {class: "finding " + x.severity, "data-rule": x.rule, "data-id": x.id, "data-status": x.status},
      el("div", {class: "meta"},
        el("span", {class: x.severity}, t("severity." + x.severity)), " ",
        el("span", {class: "case-status " + x.status}, t("case.status." + x.status)),
        x.overdue ? [" ", el("span", {class: "overdue"}, t("case.overdue"))] : "", " · ", x.rule, " · ", t("family." + x.family),
        " · ", t("col.record"), ": ", el("a", {href: "/pages/record?id=" + encodeURIComponent(x.record), class: "record"}, x.title || x.record),
        x.region ? " · " + WB.codeLabel(labs, "region", x.region) : "",
        x.tradeType ? " · " + WB.codeLabel(labs, "trade-type", x.tradeType) : "",
        x.date ? " · " + x.date : ""),
      el("p", {class: "message"}, pick(x.message)),
      el("p", {class: "basis"}, t("col.basis"), ": ", x.basis || "—"),
      entities(x.evidence).length ? el("p", {class: "entities"}, t("nav.entity"), ": ",
        entities(x.evidence).flatMap((c, i) => [i ? " " : "", el("a", {href: "/pages/entity?code=" + c}, c)])) : "",
      el("details", {}, el("summary", {}, t("col.evidence")), evidenceTable(x.evidence)),
      el("details", {class: "case", ontoggle: e => e.target.open && openCase(e.target, x)},
        el("summary", {}, t("case.title"), x.dueDate ? " · " + t("case.due") + " " + x.dueDate : ""),
        el("div", {class: "case-body"})));
  }
  // The actions the life cycle allows from a status (rules/casework.yaml, via /workbench/casework).
  function allowed(status) {
    return Object.entries(machine.actions).filter(([, a]) =>
      a.from.includes(status) || Object.values(a.outcomes).some(o => o.from.includes(status))).map(([name]) => name);
  }
  // Times are stored in UTC; staff read them in China time.
  const when = iso => iso ? new Date(iso).toLocaleString("sv-SE", {timeZone: "Asia/Shanghai"}).slice(0, 16) : "—";
  function timeline(history) {
    if (!history.length) return el("p", {class: "muted"}, t("case.none"));
    return el("ol", {class: "timeline"}, history.map(h => el("li", {"data-action": h.action},
      el("time", {datetime: h.at}, when(h.at)), " ", el("strong", {}, t("action." + h.action)),
      " → ", t("case.status." + h.status), " · ", t("case.by"), " ", h.by,
      h.outcome ? " · " + t("outcome." + h.outcome) : "", h.to ? " · " + h.to : "",
      h.recordVersion ? " · " + t("case.version") + " " + h.recordVersion.slice(0, 12) : "",
      h.note ? el("p", {class: "note"}, h.note) : "")));
  }
  async function openCase(box, x) {
    const body = box.querySelector(".case-body");
    try {
      const doc = await api("/findings/" + x.id);
      const note = el("textarea", {name: "note", rows: 2, cols: 60, placeholder: t("case.note")});
      const outcome = el("select", {name: "outcome"}, el("option", {value: ""}, t("case.outcome")),
        ...machine.outcomes.map(o => el("option", {value: o}, t("outcome." + o))));
      const to = el("input", {name: "to", size: 20, maxlength: 18, placeholder: t("case.to")});
      const msg = el("p", {class: "error", role: "alert"});
      const act = async name => {
        const req = {action: name};
        if (note.value.trim()) req.note = note.value.trim();
        if (outcome.value) req.outcome = outcome.value;
        if (to.value.trim()) req.to = to.value.trim();
        try {
          const done = await api("/findings/" + x.id + "/actions", {method: "POST", body: JSON.stringify(req),
            headers: {"Content-Type": "application/json"}});
          Object.assign(x, {status: done.status, overdue: done.overdue, dueDate: done.dueDate});
          const fresh = article(x);
          box.closest("article").replaceWith(fresh);
          fresh.querySelector("details.case").open = true;
        } catch (e) { msg.textContent = e.message; }
      };
      body.replaceChildren(
        el("p", {}, t("case.raised"), ": ", when(doc.raisedAt)),
        timeline(doc.history),
        el("form", {class: "actions", onsubmit: e => e.preventDefault()}, note, outcome, to,
          el("div", {}, allowed(doc.status).map(name =>
            el("button", {type: "button", "data-action": name, onclick: () => act(name)}, t("action." + name))))),
        msg);
    } catch (e) { WB.showError(body, e); }
  }
  async function load() {
    if (WB.needToken(list)) return;
    try {
      labs = await WB.labels();
      machine = machine || await api("/workbench/casework");
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
