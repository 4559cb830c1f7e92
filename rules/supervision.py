"""Supervision structure: SUP-OVERLAP, SUP-GAP, SUP-SEPARATION, SUP-LIST-INCOMPLETE, SUP-PROJECT-UNSUPERVISED.

Facts: one per list row (separation, completeness), one per row and matter it holds (overlap: two
rows of different departments, same power kind, same matter and region, neither the lead), one per
matter of the coverage grid with the number of supervision departments covering it (gap), one per
project with the counts of its given and derivable supervisors that hold a power over it.
"""
from __future__ import annotations

from collections import defaultdict

from .engine import c, m

from prtkg import codes, coverage, findings

from . import engine
from .common import code, graphs_values, param, records


def _rules():
    return [
        engine.rule("SUP-SEPARATION", (m.t == "row")
                    & engine.any_of(m.department_type, param("SUP-SEPARATION", "non_supervisory_types"))
                    & engine.any_of(m.kind, param("SUP-SEPARATION", "enforcement_kinds"))),
        engine.rule("SUP-LIST-INCOMPLETE", (m.t == "row")
                    & ((m.has_basis == 0) | (m.has_duty == 0) | (m.has_accountability == 0))),
        engine.rule("SUP-OVERLAP",
                    c.a << ((m.t == "holds") & (m.lead == 0)),
                    c.b << ((m.t == "holds") & (m.lead == 0) & (m.key == c.a.key)
                            & (m.department != c.a.department) & (m.ref > c.a.ref))),
        engine.rule("SUP-GAP", (m.t == "matter") & (m.supervisors == 0)),
        engine.rule("SUP-PROJECT-UNSUPERVISED", (m.t == "project")
                    & (((m.given > 0) & (m.given_holding == 0)) | ((m.given == 0) & (m.derivable == 0)))),
    ]


def _row_fact(row: coverage.PowerRow) -> dict:
    return {"t": "row", "id": row.ref, "ref": row.ref, "iri": row.iri, "row": row.row,
            "department": row.department, "department_name": row.department_name,
            "department_type": row.department_type or "", "kind": row.kind,
            "power_name": row.power_name or "", "power_code": row.power_code or "", "has_basis": int(row.has_basis),
            "has_duty": int(row.has_duty), "has_accountability": int(row.has_accountability)}


def list_facts(g: coverage.Grid):
    for row in g.rows:
        yield _row_fact(row)
    for row in g.rows:
        for t, i, s in coverage.row_matters(row, g.industries):
            key = "|".join([row.kind, t, i or "", s, row.region])
            yield {"t": "holds", "id": f"{row.ref}|{key}", "key": key, "ref": row.ref, "iri": row.iri,
                   "department": row.department, "department_name": row.department_name,
                   "power_name": row.power_name or "", "power_code": row.power_code or "",
                   "lead": int(row.lead), "kind": row.kind, "tradeType": t, "industry": i, "stage": s,
                   "region": row.region}
    for matter, rows in g.cover.items():
        supervisors = {r.department for r in rows if r.department_type == "supervision"}
        yield {"t": "matter", "id": "|".join(["matter", matter.trade_type, matter.industry or "",
                                               matter.stage, matter.region]),
               **matter.as_dict(), "supervisors": len(supervisors)}


def evaluate(g: coverage.Grid, project_facts=()) -> list[engine.Fired]:
    import itertools
    return engine.run("supervision", _rules, itertools.chain(list_facts(g), project_facts))


def overlap_pairs(fired: list[engine.Fired]) -> list[list[engine.Fired]]:
    """SUP-OVERLAP firings grouped by the pair of rows: one finding per pair, naming every shared matter."""
    pairs: dict[tuple[str, str], list[engine.Fired]] = defaultdict(list)
    for f in fired:
        if f.rule == "SUP-OVERLAP":
            pairs[(f.facts["a"]["ref"], f.facts["b"]["ref"])].append(f)
    return [v for _, v in sorted(pairs.items())]


def overlap_evidence(pair: list[engine.Fired]) -> dict:
    a, b = pair[0].facts["a"], pair[0].facts["b"]
    matters = sorted(({"tradeType": f.facts["a"]["tradeType"], "industry": f.facts["a"]["industry"],
                       "stage": f.facts["a"]["stage"]} for f in pair),
                     key=lambda x: (x["tradeType"], x["industry"] or "", x["stage"]))
    return {"departmentA": a["department"], "departmentAName": a["department_name"], "rowA": a["ref"],
            "powerCodeA": a["power_code"], "powerNameA": a["power_name"],
            "departmentB": b["department"], "departmentBName": b["department_name"], "rowB": b["ref"],
            "powerCodeB": b["power_code"], "powerNameB": b["power_name"],
            "powerKind": a["kind"], "region": a["region"], "matters": matters,
            "_focus": a["iri"]}


def _matter_text(ev: dict) -> findings.Text:
    from prtkg.report_html import ordered
    trades = sorted({(x["tradeType"], x["industry"] or "") for x in ev["matters"]})
    stages = ordered(sorted({x["stage"] for x in ev["matters"]}), "stage")
    region = coverage.region_names(ev["region"])
    text = findings.Text()
    for lang, sep, join in (("zh", "；", "、"), ("en", "; ", ", ")):
        names = [coverage.matter_names(t, i)[lang] for t, i in trades]
        stage_names = [codes.label("stage", s, lang) for s in stages]
        text[lang] = sep.join([join.join(names), join.join(stage_names), region[lang]])
    return text


def gap_groups(fired: list[engine.Fired]) -> list[dict]:
    """SUP-GAP firings as one gap per (trade type, industry, region), naming its uncovered stages."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for f in fired:
        if f.rule == "SUP-GAP":
            x = f.m
            groups[(x["tradeType"], x["industry"], x["region"])].append(x["stage"])
    from prtkg.report_html import ordered  # stages as the procedure runs (the message catalogue's order)
    return [{"tradeType": t, "industry": i, "region": r, "stages": ordered(stages, "stage")}
            for (t, i, r), stages in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or ""))]


_PROJECTS = """
SELECT ?record ?project ?tt ?ind ?region
       (COUNT(DISTINCT ?given) AS ?nGiven) (COUNT(DISTINCT ?holding) AS ?nHolding)
       (COUNT(DISTINCT ?derivable) AS ?nDerivable)
WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?project .
             ?project prtkg:tradeType ?tt ; prtkg:region ?region .
             OPTIONAL { ?project prtkg:industry ?ind }
             OPTIONAL { ?project prtkg:hasSupervisorAssignment/prtkg:supervisor ?sup . ?sup prtkg:uscc ?given } }
  OPTIONAL {
    # The rows reaching the project's matter and division ("all", divisions above: the derived graph).
    GRAPH <urn:prtkg:inferred> { ?row prtkg:scopeTradeType ?tt ; prtkg:scopeRegion ?region }
    GRAPH ?lg { ?row a prtkg:SupervisoryPower ; prtkg:heldBy ?holder .
                ?holder prtkg:uscc ?holderCode .
                OPTIONAL { ?holder prtkg:departmentType ?holderType } }
    OPTIONAL { GRAPH <urn:prtkg:inferred> { ?row prtkg:scopeIndustry ?rowInd } }
    FILTER(!BOUND(?rowInd) || !BOUND(?ind) || ?rowInd = ?ind)
  }
  BIND(IF(?holderCode = ?given, ?holderCode, ?unbound1) AS ?holding)
  BIND(IF(?holderType = code:department-type\\/supervision, ?holderCode, ?unbound2) AS ?derivable)
} GROUP BY ?record ?project ?tt ?ind ?region
"""


def _project_facts(ctx, projects: list | None):
    # The query asks for trade type and region, the rule's `needs`: a record under check without them
    # is DATA-INSUFFICIENT by the applicability gate; a stored one is left out here the same way.
    values = graphs_values(projects) if projects is not None else ""
    for r in ctx.store.select(_PROJECTS % values):
        yield {"t": "project", "id": f"project|{r['record']}|{r['tt']}", "record": r["record"],
               "project": r["project"], "trade_type": code(r["tt"]), "industry": code(r["ind"]),
               "region": code(r["region"]), "given": int(r["nGiven"]), "given_holding": int(r["nHolding"]),
               "derivable": int(r["nDerivable"])}


_HAS_LIST = 'ASK { GRAPH ?g { ?g prtkg:recordKind "powers-list" } }'


def check(ctx):
    lists_changed = bool(records(ctx, "powers-list"))
    projects = records(ctx, "ocds")
    if not lists_changed and not projects:
        return []
    have_lists = ctx.store.ask(_HAS_LIST)
    project_facts = []
    if have_lists:
        # A changed list can change any project's supervision; a new project needs only itself.
        listed = coverage.listed_matters(coverage.power_rows(ctx.store))
        for fact in _project_facts(ctx, None if lists_changed else projects):
            if coverage.has_list(fact["region"], fact["trade_type"], listed):
                project_facts.append(fact)
            else:
                # No loaded list speaks to the project's matter where it is: nothing to judge it by.
                ctx.insufficient.add(fact["record"], fact["project"], "SUP-PROJECT-UNSUPERVISED",
                                     [f"powers-and-duties list ({fact['region']}, {fact['trade_type']})"])
    else:
        for rec in projects:
            if rec.id in ctx.applicable("SUP-PROJECT-UNSUPERVISED"):
                ctx.insufficient.add(rec.id, rec.focus, "SUP-PROJECT-UNSUPERVISED", ["powers-and-duties list"])
    g = coverage.grid(ctx.store) if lists_changed else coverage.Grid([], [], [], [], [])
    fired = evaluate(g, project_facts)
    # A gap belongs to no one row: its record is the set of lists that leave it open.
    lists_record = "+".join(sorted({row.ref.rsplit("#", 1)[0] for row in g.rows}))
    return list(_findings(fired, lists_record))


def _power(name: str, code: str) -> str:
    """A list row's power as the list names it: its own name and 权力编码."""
    return f"{name}（{code}）" if name and code else name or code


def _findings(fired: list[engine.Fired], lists_record: str = ""):
    for f in fired:
        x = f.facts.get("m")
        if f.rule == "SUP-SEPARATION":
            yield findings.make(f.rule, x["ref"], x["iri"],
                                {"row": x["ref"], "department": x["department"], "departmentType": x["department_type"],
                                 "powerKind": x["kind"], "powerName": x["power_name"], "powerCode": x["power_code"]},
                                department=x["department_name"], department_type=x["department_type"],
                                power_name=_power(x["power_name"], x["power_code"]), power_kind=x["kind"])
        elif f.rule == "SUP-LIST-INCOMPLETE":
            missing = [name for name, key in (("实施依据/legal basis", "has_basis"), ("责任事项/duties", "has_duty"),
                                              ("追责情形/accountability", "has_accountability")) if not x[key]]
            yield findings.make(f.rule, x["ref"], x["iri"],
                                {"row": x["ref"], "department": x["department"], "missing": missing,
                                 "powerName": x["power_name"], "powerCode": x["power_code"]},
                                row=x["ref"], power_name=_power(x["power_name"], x["power_code"]))
        elif f.rule == "SUP-PROJECT-UNSUPERVISED":
            yield findings.make(f.rule, x["record"], x["project"],
                                {k: x[k] for k in ("trade_type", "industry", "region", "given", "given_holding")},
                                region=findings.Text(coverage.region_names(x["region"])))
    for gap in gap_groups(fired):
        yield findings.make("SUP-GAP", lists_record, None, gap,
                            region=findings.Text(coverage.region_names(gap["region"])),
                            matter=findings.Text(coverage.matter_names(gap["tradeType"], gap["industry"])))
    for pair in overlap_pairs(fired):
        ev = overlap_evidence(pair)
        focus = ev.pop("_focus")
        yield findings.make("SUP-OVERLAP", ev["rowA"], focus, ev,
                            department_a=f"{ev['departmentAName']}（{ev['rowA']}，{_power(ev['powerNameA'], ev['powerCodeA'])}）",
                            department_b=f"{ev['departmentBName']}（{ev['rowB']}，{_power(ev['powerNameB'], ev['powerCodeB'])}）",
                            matter=_matter_text(ev))
