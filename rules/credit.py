"""Credit and joint punishment: CRD-RESTRICTED-BID, CRD-RESTRICTED-AWARD, CRD-MEASURE-NOT-EXECUTED.

Facts: one restriction per serious-dishonesty record and trade type (from, until: days included);
one per submitted bid (tenderer, bid date, the project's trade type) and per award (supplier, award
date); one per measure a record triggers, with its deadline and the first execution by a responsible
department. Incremental: the entities touched by the records under check (bidders, suppliers,
subjects of new credit records) bound every query; a check of the whole store reads every credit
record and the deals of the restricted entities.
"""
from __future__ import annotations

import datetime as dt

from .engine import c, m

from prtkg import credit as credit_status
from prtkg import codes, findings, rdf

from . import engine
from .common import day, graphs_values, iri_values, literal_values, paged_select, param, period_deadline, records

_END_OF_TIME = dt.date.max.toordinal()


def _rules():
    def restricted(kind: str):
        return (c.r << (m.t == "restriction"),
                c.x << ((m.t == kind) & (m.entity == c.r.entity) & (m.trade_type == c.r.trade_type)
                        & (m.day >= c.r.start) & (m.day <= c.r.end)))
    return [
        engine.rule("CRD-RESTRICTED-BID", *restricted("bid")),
        engine.rule("CRD-RESTRICTED-AWARD", *restricted("award")),
        engine.rule("CRD-MEASURE-NOT-EXECUTED", (m.t == "measure")
                    & (((m.executed == 0) & (m.as_of > m.due)) | (m.executed > m.due))),
    ]


_ENTITIES = """
SELECT DISTINCT ?code WHERE { %s GRAPH ?g {
  { ?x prtkg:tenderer ?e } UNION { ?x prtkg:supplier ?e } UNION { ?x a prtkg:CreditRecord ; prtkg:subject ?e }
  ?e prtkg:uscc ?c BIND(UCASE(?c) AS ?code) } }"""

# A bid or an award by an entity, on a day, in the project's trade type. Bids count as Cardinal's
# submitted bids (any status but invited or withdrawn; a bid without status is kept, since the
# restriction is on taking part at all); awards unless cancelled or unsuccessful.
# The OPTIONALs stand outside the GRAPH block: inside, Oxigraph 0.5 evaluates them over every graph of
# the store (rules/risk.py _TENDERS); outside, only for the deals of the entities asked about.
# The block starts from the entities' nodes ({nodes}, VALUES ?e: entity nodes are minted from the
# upper-cased credit code, prtkg.rdf.entity) and looks their deals up; the VALUES ?code outside
# keeps only the codes asked about. Joined on ?code alone, every deal of the store was read first:
# at 10^5 projects 9 restricted entities' bids took 22.9 s CPU, awards 9.7 s; so, 0.0 s (same rows).
_DEALS = """
SELECT ?record ?node ?code ?name ?date ?tt WHERE {{ {{values}} GRAPH ?g {{ {{nodes}}
  ?node prtkg:{party} ?e . ?p prtkg:{has} ?node . ?g prtkg:recordId ?record ; prtkg:mainNode ?p .
  ?e prtkg:uscc ?c BIND(UCASE(?c) AS ?code) }}
  OPTIONAL {{ GRAPH ?g {{ ?e prtkg:name ?name }} }} OPTIONAL {{ GRAPH ?g {{ ?node prtkg:{date} ?date }} }}
  OPTIONAL {{ GRAPH ?g {{ ?p prtkg:tradeType ?tt }} }}
  OPTIONAL {{ GRAPH ?g {{ ?node prtkg:status ?st }} }} FILTER(!BOUND(?st) || !(?st IN ({excluded}))) }}"""
_BIDS = _DEALS.format(has="hasBid", party="tenderer", date="bidDate", excluded=codes.sparql_list(codes.not_submitted_bid_statuses()))
_AWARDS = _DEALS.format(has="hasAward", party="supplier", date="awardDate", excluded=codes.sparql_list(codes.non_members("award-status", "standing")))

_EXECUTED_RECORDS = """
SELECT DISTINCT ?g2 WHERE { %s GRAPH ?g { ?x prtkg:executesRecord ?cr } GRAPH ?g2 { ?cr a prtkg:CreditRecord } }"""

_EXECUTIONS = """
SELECT ?cr ?measure ?dept ?date WHERE { %s GRAPH ?g {
  ?x a prtkg:SanctionExecution ; prtkg:executesRecord ?cr ; prtkg:measure ?measure ; prtkg:executionDate ?date ;
     prtkg:executedBy/prtkg:uscc ?dept } }"""

_RESPONSIBLE = """
SELECT DISTINCT ?dept ?type ?tt WHERE { GRAPH ?g {
  ?row a prtkg:SupervisoryPower ; prtkg:heldBy ?d ; prtkg:tradeType ?tt . ?d prtkg:uscc ?dept ; prtkg:departmentType ?type } }"""


def _code(iri):
    return iri.rsplit("/", 1)[-1] if iri else None


def _entities(ctx) -> set[str]:
    recs = records(ctx, "ocds", "credit-record")
    if not recs:
        return set()
    return {r["code"] for r in paged_select(ctx.store, _ENTITIES, recs)}


def _restriction_facts(recs):
    for r in recs:
        if r.type != credit_status.SERIOUS:
            continue
        for t in r.restricted_trade_types:
            yield {"t": "restriction", "id": f"restriction|{r.id}|{t}", "record": r.id, "node": r.node,
                   "entity": r.subject, "name": r.name or r.subject, "trade_type": t,
                   "start": day(r.start), "end": day(r.valid_until) if r.valid_until else _END_OF_TIME,
                   "from": r.start.isoformat() if r.start else None,
                   "until": r.valid_until.isoformat() if r.valid_until else None,
                   "measures": r.measures, "basis": r.basis}


def _deal_facts(ctx, kind: str, query: str, entities: set[str], restricted: set[str]):
    nodes = iri_values("e", (rdf.entity(code).value for code in entities))
    for r in ctx.store.select(query.replace("{values}", literal_values("code", entities)).replace("{nodes}", nodes)):
        if r["date"] is None:
            if r["code"] in restricted:
                rule = "CRD-RESTRICTED-BID" if kind == "bid" else "CRD-RESTRICTED-AWARD"
                field = "bids.details.date" if kind == "bid" else "awards.date"
                ctx.insufficient.add(r["record"], r["node"], rule, [field])
            continue
        yield {"t": kind, "id": f"{kind}|{r['node']}|{r['code']}", "record": r["record"], "node": r["node"],
               "entity": r["code"], "name": r["name"] or r["code"], "trade_type": _code(r["tt"]) or "",
               "day": day(r["date"]), "date": r["date"].isoformat()}


def _responsible(ctx) -> dict[str, set[str]]:
    """Measure code -> credit codes of the departments that answer for it (deciding department aside)."""
    conf = credit_status.measures_config()["measures"]
    holders: dict[tuple[str, str], set[str]] = {}
    for r in ctx.store.select(_RESPONSIBLE):
        holders.setdefault((_code(r["type"]), _code(r["tt"])), set()).add(r["dept"])
    lead = set((credit_status.measures_config().get("credit_lead") or {}).get("departments") or [])
    out = {}
    for measure, entry in conf.items():
        ways = entry["responsible"] if isinstance(entry["responsible"], list) else [entry["responsible"]]
        depts: set[str] = set()
        for way in ways:
            if isinstance(way, dict):
                depts |= set().union(*(holders.get((way["department_type"], t), set()) for t in way["trade_types"]))
            elif way == "credit-lead":
                depts |= lead
        out[measure] = depts
    return out


def _measure_facts(ctx, recs):
    conf = credit_status.measures_config()["measures"]
    serious = [r for r in recs if r.type == credit_status.SERIOUS and r.measures]
    if not serious:
        return
    executions: dict[tuple[str, str], list[tuple[dt.date, str]]] = {}
    nodes = " ".join(f"<{r.node}>" for r in serious)
    for r in ctx.store.select(_EXECUTIONS % f"VALUES ?cr {{ {nodes} }}"):
        executions.setdefault((r["cr"], _code(r["measure"])), []).append((r["date"], r["dept"]))
    responsible = _responsible(ctx)
    max_days = param("CRD-MEASURE-NOT-EXECUTED", "max_days")
    for r in serious:
        if r.start is None:
            continue
        for measure in r.measures:
            resp = conf.get(measure, {}).get("responsible", "external")
            ways = resp if isinstance(resp, list) else [resp]
            if ways == ["external"]:
                continue
            depts = set(responsible.get(measure, set()))
            if "deciding-department" in ways and r.decided_by:
                depts.add(r.decided_by)
            done = sorted(d for d, dept in executions.get((r.node, measure), []) if dept in depts)
            found = period_deadline("CRD-MEASURE-NOT-EXECUTED", r.start, max_days, done[0] if done else None)
            if found is None:
                ctx.insufficient.add(r.id, r.node, "CRD-MEASURE-NOT-EXECUTED",
                                     [f"working-day calendar {(r.start + dt.timedelta(days=max_days)).year}"])
                continue
            due, reading = found
            yield {"t": "measure", "id": f"measure|{r.id}|{measure}", "record": r.id, "node": r.node,
                   "reading": reading,
                   "measure": measure, "entity": r.subject, "start": r.start.isoformat(),
                   "due": day(due), "dueDate": due.isoformat(), "as_of": day(ctx.as_of),
                   "executed": day(done[0]) if done else 0,
                   "executedDate": done[0].isoformat() if done else None,
                   "responsible": sorted(d for d in depts if d)}


def check(ctx):
    # A check of the whole store asks for every credit record, not for those of every bidder,
    # supplier and subject (at 10^4 projects listing 7,477 codes took 15 s, asking by them 2.5 s more):
    # the restrictions of a subject who never took part in a deal fire nothing.
    whole = ctx.covers_store()
    entities = set() if whole else _entities(ctx)
    credit_graphs = [r.graph.graph.value for r in records(ctx, "credit-record")]
    executions = records(ctx, "sanctionExecution")
    if executions:
        credit_graphs += [r["g2"] for r in ctx.store.select(_EXECUTED_RECORDS % graphs_values(executions))]
    if not whole and not entities and not credit_graphs:
        return []
    if whole:
        recs = credit_status.credit_records(ctx.store)
    else:
        recs = credit_status.credit_records(ctx.store, entities) if entities else []
    measure_recs = credit_status.credit_records(ctx.store, record_graphs=credit_graphs) if credit_graphs else []
    restrictions = list(_restriction_facts(recs))
    restricted = {f["entity"] for f in restrictions}
    facts = restrictions
    if restricted:
        facts += list(_deal_facts(ctx, "bid", _BIDS, restricted, restricted))
        facts += list(_deal_facts(ctx, "award", _AWARDS, restricted, restricted))
    facts += list(_measure_facts(ctx, measure_recs))
    return [_finding(f) for f in engine.run("credit", _rules, facts)]


def _finding(f: engine.Fired):
    if f.rule == "CRD-MEASURE-NOT-EXECUTED":
        x = f.m
        ev = {"creditRecord": x["record"], "entity": x["entity"], "measure": x["measure"], "from": x["start"],
              "due": x["dueDate"], "executed": x["executedDate"], "responsible": x["responsible"], **x["reading"]}
        return findings.make(f.rule, x["record"], x["node"], ev)
    r, x = f.facts["r"], f.facts["x"]
    date_key = "bidDate" if f.rule == "CRD-RESTRICTED-BID" else "awardDate"
    ev = {"entity": x["entity"], date_key: x["date"], "tradeType": x["trade_type"], "creditRecord": r["record"],
          "validFrom": r["from"], "validUntil": r["until"], "measures": r["measures"], "creditBasis": r["basis"]}
    return findings.make(f.rule, x["record"], x["node"], ev, validUntil=r["until"] or "长期")
