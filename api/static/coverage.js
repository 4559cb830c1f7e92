"use strict";
(async () => {
  await WB.init("coverage");
  const {t, api, el} = WB;
  const select = document.getElementById("region");
  const heat = document.getElementById("heatmap");
  let matrix = null, labs = null, selected = null;
  const byKey = new Map();   // region|tradeType|stage -> cells (one per industry for works)

  const parent = c => (labs.region[c] || {}).parent;
  function depth(c) { let d = 0; for (let p = parent(c); p; p = parent(p)) d++; return d; }
  function regionOptions() {
    const codes = matrix.regions.map(r => r.code);
    // Hierarchy order: sort by the chain from the top, so each region follows its parent.
    const chain = c => { const out = []; for (let r = c; r; r = parent(r)) out.unshift(r); return out.join("/"); };
    codes.sort((a, b) => chain(a).localeCompare(chain(b)));
    const keep = select.value;
    select.replaceChildren(...codes.map(c => el("option", {value: c},
      "\u3000".repeat(Math.max(0, depth(c) - 1)) + WB.codeLabel(labs, "region", c) + " (" + c + ")")));
    if (keep) select.value = keep;
  }
  function draw() {
    const region = select.value;
    const stages = WB.ordered(matrix.stages, "stage");
    const path = []; for (let r = region; r; r = parent(r)) path.unshift(WB.codeLabel(labs, "region", r));
    document.getElementById("region-path").textContent = path.join(" › ");
    const table = el("table", {class: "heat", id: "heat-table"},
      el("thead", {}, el("tr", {}, el("th"), stages.map(s => el("th", {}, WB.codeLabel(labs, "stage", s))))),
      el("tbody", {}, matrix.tradeTypes.map(tt => el("tr", {}, el("th", {}, WB.codeLabel(labs, "trade-type", tt)),
        stages.map(s => {
          const cells = byKey.get([region, tt, s].join("|")) || [];
          const depts = new Map();
          cells.forEach(c => c.departments.forEach(d => depts.set(d.code, d.name)));
          const cls = cells.some(c => c.gap) ? "gap" : cells.some(c => c.overlap) ? "overlap" : depts.size ? "ok" : "empty";
          const key = [region, tt, s].join("|");
          return el("td", {class: "cell " + cls + (selected === key ? " selected" : ""), "data-trade-type": tt, "data-stage": s,
                           onclick: () => { selected = key; draw(); detail(cells, tt, s); }},
            depts.size ? [...depts.values()].sort().flatMap((n, i) => i ? [el("br"), n] : [n]) : "—");
        })))));
    heat.replaceChildren(table);
  }
  function detail(cells, tt, s) {
    document.getElementById("detail").hidden = false;
    document.getElementById("detail-title").textContent = [WB.codeLabel(labs, "region", select.value),
      WB.codeLabel(labs, "trade-type", tt), WB.codeLabel(labs, "stage", s)].join(" · ");
    const rows = [];
    cells.forEach(c => {
      const flag = c.gap ? t("coverage.gap") : c.overlap ? t("coverage.overlap") : "";
      if (!c.departments.length) rows.push([c.industry ? WB.codeLabel(labs, "industry", c.industry) : "", "—", "", "", "", flag]);
      c.departments.forEach(d => rows.push([c.industry ? WB.codeLabel(labs, "industry", c.industry) : "",
        d.name + " (" + d.code + ")", d.rows.join(", "), d.kinds.map(k => WB.codeLabel(labs, "power-kind", k)).join("、"), d.lead ? "✓" : "", flag]));
    });
    document.getElementById("detail-rows").replaceChildren(WB.sortableTable(
      [t("coverage.industry"), t("coverage.department"), t("coverage.rows"), t("coverage.kinds"), t("coverage.lead"), ""], rows));
  }
  async function load() {
    if (WB.needToken(heat)) return;
    try {
      [labs, matrix] = await Promise.all([WB.labels(), api("/supervision/coverage")]);
      byKey.clear();
      matrix.cells.forEach(c => {
        const k = [c.region, c.tradeType, c.stage].join("|");
        if (!byKey.has(k)) byKey.set(k, []);
        byKey.get(k).push(c);
      });
      regionOptions(); draw();
    } catch (e) { WB.showError(heat, e); }
  }
  select.addEventListener("change", () => { selected = null; document.getElementById("detail").hidden = true; draw(); });
  WB.onLang(() => { if (matrix) { regionOptions(); draw(); } });
  document.addEventListener("prtkg:token", load);
  load();
})();
