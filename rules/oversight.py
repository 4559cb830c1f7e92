"""Inspections and plans: INS-REPEAT, INS-NO-RANDOM-DRAW, PLN-ANNUAL-MISSING, PLN-NOT-EXECUTED, PLN-SUMMARY-MISSING.

INS-REPEAT groups an entity's inspections by period (quarter) in the fact query; the rule decides.
Incremental: a new inspection re-checks its entity's periods, its plan item; a new plan its items.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from .engine import m

from prtkg import findings

from . import engine
from .common import concat, day, fact_rows, graphs_values, iri_values, param, period_deadline, records, split

_PERIOD_EXPR = {
    "quarter": 'CONCAT(STR(YEAR(?date)), "-Q", STR(xsd:integer(FLOOR((MONTH(?date) - 1) / 3) + 1)))',
    "month": 'CONCAT(STR(YEAR(?date)), "-", STR(MONTH(?date)))',
    "year": 'STR(YEAR(?date))',
}


def _inspection_rules():
    return [
        engine.rule("INS-REPEAT", (m.t == "period") & (m.inspections >= 2)
                    & (m.departments >= param("INS-REPEAT", "min_departments"))),
        engine.rule("INS-NO-RANDOM-DRAW", (m.t == "inspection") & (m.kind == "routine")
                    & ((m.targets_from == 0) | (m.inspectors_from == 0))),
    ]


def _plan_rules():
    return [
        engine.rule("PLN-ANNUAL-MISSING", (m.t == "department-year") & (m.in_plan == 0)),
        engine.rule("PLN-NOT-EXECUTED", (m.t == "item")
                    & (((m.executed == 0) & (m.as_of > m.due)) | (m.executed > m.due))),
        engine.rule("PLN-SUMMARY-MISSING", (m.t == "plan")
                    & (((m.summary == 0) & (m.as_of > m.due)) | (m.summary > m.due))),
    ]


# Entity nodes are minted from the upper-cased code (prtkg.rdf.entity): joining on the node is the
# case-blind match of codes as an index join, where comparing UCASE()s is a filter over every pair.
_PERIODS = """
SELECT ?code ?period (COUNT(DISTINCT ?i) AS ?n) (COUNT(DISTINCT ?dept) AS ?nd)
       """ + concat('CONCAT(STR(?date), "|", ?rid)', "dated") + " " + concat("?rid", "ids") + " " + concat("?dept", "depts") + """
WHERE {
  { SELECT DISTINCT ?t ?period WHERE { %s GRAPH ?g { ?g prtkg:recordKind "inspection" . ?x a prtkg:Inspection ; prtkg:target ?t ;
        prtkg:inspectionDate ?date . ?t prtkg:uscc ?c . BIND(%s AS ?period) } } }
  GRAPH ?h { ?h prtkg:recordId ?rid . ?i a prtkg:Inspection ; prtkg:target ?t ; prtkg:inspectionDate ?date ;
             prtkg:inspectingDepartment/prtkg:uscc ?dept . ?t prtkg:uscc ?c2 }
  FILTER(%s = ?period)
  BIND(UCASE(?c2) AS ?code)
} GROUP BY ?code ?period"""

_INSPECTIONS = """
SELECT ?record ?i ?kind ?tf ?if WHERE { %s GRAPH ?g { ?g prtkg:recordId ?record ; prtkg:recordKind "inspection" . ?i a prtkg:Inspection .
  OPTIONAL { ?i prtkg:inspectionKind ?kind }
  OPTIONAL { ?i prtkg:hasRandomDraw/prtkg:targetsFrom ?tf } OPTIONAL { ?i prtkg:hasRandomDraw/prtkg:inspectorsFrom ?if } } }"""


def check_inspections(ctx):
    recs = records(ctx, "inspection")
    if not recs:
        return []
    period = param("INS-REPEAT", "period")
    expr = _PERIOD_EXPR[period]
    facts = []
    # Not paged (a page would count a target's period again with the next page's): whole, or the
    # inspections under check, whose targets' periods then count every stored inspection.
    whole = ctx.covers_store()
    read = ctx.store.stream if whole else ctx.store.select
    for r in read(_PERIODS % ("" if whole else graphs_values(recs), expr, expr)):
        facts.append({"t": "period", "id": f"period|{r['code']}|{r['period']}", "entity": r["code"],
                      "period": r["period"], "inspections": int(r["n"]), "departments": int(r["nd"]),
                      "records": sorted(split(r["ids"])), "departmentCodes": sorted(split(r["depts"])),
                      "second": sorted(split(r["dated"]))[1].split("|", 1)[1] if int(r["n"]) > 1 else None})
    for r in fact_rows(ctx, _INSPECTIONS, recs):
        facts.append({"t": "inspection", "id": f"inspection|{r['record']}", "record": r["record"], "node": r["i"],
                      "kind": r["kind"] or "routine", "targets_from": int(bool(r["tf"])),
                      "inspectors_from": int(bool(r["if"]))})
    out = []
    for f in engine.run("inspections", _inspection_rules, facts):
        x = f.m
        if f.rule == "INS-REPEAT":
            # The inspection that made it a repeat (the second) carries the finding; the evidence names them all.
            out.append(findings.make(f.rule, x["second"], None,
                                     {"target": x["entity"], "period": x["period"], "inspections": x["records"],
                                      "departments": x["departmentCodes"]}))
        else:
            parts = [(en, zh) for en, zh, k in (("targets", "检查对象", "targets_from"),
                                                 ("inspectors", "执法检查人员", "inspectors_from")) if not x[k]]
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"kind": x["kind"], "missing": [en for en, _ in parts]},
                                     missing_zh=[zh for _, zh in parts]))
    return out


_PROVINCIAL = """
SELECT DISTINCT ?dept ?name ?region WHERE {
  GRAPH ?g { ?row a prtkg:SupervisoryPower ; prtkg:heldBy ?d ; prtkg:region ?region .
             ?d prtkg:uscc ?dept ; prtkg:departmentType code:department-type\\/supervision . OPTIONAL { ?d prtkg:name ?name } }
  GRAPH <urn:prtkg:ontology> { ?region prtkg:level "province" } }"""

_PLAN_YEARS = """
SELECT ?year """ + concat("?dept", "depts") + """ WHERE { GRAPH ?g {
  ?p a prtkg:SupervisionPlan ; prtkg:year ?year ; prtkg:planKind ?kind . FILTER(?kind IN (%s))
  OPTIONAL { { ?p prtkg:planDepartment/prtkg:uscc ?dept } UNION { ?p prtkg:hasPlanItem/prtkg:planDepartment/prtkg:uscc ?dept } } } }
GROUP BY ?year"""

_ITEMS = """
SELECT ?record ?plan ?year ?item ?itemId ?subject ?due (MIN(?idate) AS ?first) WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordId ?record . ?plan a prtkg:SupervisionPlan ; prtkg:year ?year ; prtkg:hasPlanItem ?item .
             ?item prtkg:localId ?itemId . OPTIONAL { ?item prtkg:itemSubject ?subject } OPTIONAL { ?item prtkg:dueDate ?due } }
  OPTIONAL { GRAPH ?h { ?i a prtkg:Inspection ; prtkg:forPlanItem ?item ; prtkg:inspectionDate ?idate } }
} GROUP BY ?record ?plan ?year ?item ?itemId ?subject ?due"""

_PLANS = """
SELECT ?record ?plan ?year ?summary WHERE { %s GRAPH ?g { ?g prtkg:recordId ?record .
  ?plan a prtkg:SupervisionPlan ; prtkg:year ?year . OPTIONAL { ?plan prtkg:summaryDate ?summary } } }"""

_PLANS_OF_INSPECTIONS = """
SELECT DISTINCT ?h WHERE { %s GRAPH ?g { ?i prtkg:forPlanItem ?item } GRAPH ?h { ?plan prtkg:hasPlanItem ?item } }"""


def check_plans(ctx):
    plans = records(ctx, "plan")
    plan_graphs = [r.graph.graph.value for r in plans]
    inspections = records(ctx, "inspection")
    if inspections:
        plan_graphs += [r["h"] for r in ctx.store.select(_PLANS_OF_INSPECTIONS % graphs_values(inspections))]
    lists_changed = bool(records(ctx, "powers-list"))
    facts = []
    if plans or lists_changed:
        kinds = ", ".join(f'"{k}"' for k in param("PLN-ANNUAL-MISSING", "joint_plan_kinds"))
        provincial = ctx.store.select(_PROVINCIAL)
        province_of = {d["dept"]: d["region"] for d in provincial}
        # A joint plan is its province's: it binds the provincial departments of the provinces whose
        # departments it names, not a neighbouring province whose list was received for remote evaluation.
        years: dict = defaultdict(dict)
        for r in ctx.store.select(_PLAN_YEARS % kinds):
            depts = set(split(r["depts"]))
            for province in {province_of[d] for d in depts if d in province_of}:
                years[province].setdefault(int(r["year"]), set()).update(depts)
        for d in provincial:
            for year, depts in sorted(years[d["region"]].items()):
                facts.append({"t": "department-year", "id": f"dy|{d['dept']}|{year}", "department": d["dept"],
                              "name": d["name"] or d["dept"], "year": year, "in_plan": int(d["dept"] in depts)})
    if plan_graphs:
        values = iri_values("g", plan_graphs)
        for r in ctx.store.select(_ITEMS % values):
            due = r["due"] or dt.date(int(r["year"]), 12, 31)
            facts.append({"t": "item", "id": f"item|{r['item']}", "record": r["record"], "node": r["item"],
                          "item": r["itemId"], "subject": r["subject"] or "", "due": day(due),
                          "dueDate": due.isoformat(), "executed": day(r["first"]),
                          "executedDate": r["first"].isoformat() if r["first"] else None, "as_of": day(ctx.as_of)})
        max_days = param("PLN-SUMMARY-MISSING", "max_days")
        for r in ctx.store.select(_PLANS % values):
            year_end = dt.date(int(r["year"]), 12, 31)
            found = period_deadline("PLN-SUMMARY-MISSING", year_end, max_days, r["summary"])
            if found is None:
                ctx.insufficient.add(r["record"], r["plan"], "PLN-SUMMARY-MISSING",
                                     [f"working-day calendar {(year_end + dt.timedelta(days=max_days)).year}"])
                continue
            due, reading = found
            facts.append({"t": "plan", "id": f"plan|{r['plan']}", "record": r["record"], "node": r["plan"],
                          "reading": reading, "year": int(r["year"]), "due": day(due), "dueDate": due.isoformat(),
                          "summary": day(r["summary"]), "as_of": day(ctx.as_of),
                          "summaryDate": r["summary"].isoformat() if r["summary"] else None})
    out = []
    for f in engine.run("plans", _plan_rules, facts):
        x = f.m
        if f.rule == "PLN-ANNUAL-MISSING":
            out.append(findings.make(f.rule, x["department"], None, {"department": x["department"], "year": x["year"]}))
        elif f.rule == "PLN-NOT-EXECUTED":
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"plan": x["record"], "item": x["item"], "due": x["dueDate"],
                                      "firstInspection": x["executedDate"]},
                                     subject=x["subject"]))
        else:
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"plan": x["record"], "year": x["year"], "due": x["dueDate"],
                                      "summaryDate": x["summaryDate"], **x["reading"]}))
    return out
