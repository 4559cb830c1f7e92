"""Collusion and related bidders (招标投标法实施条例 第三十四条、第四十条): BID-RELATED-BIDDERS and
BID-COLLUSION-PRESUMED (violations; parameters in the catalogue).

Related bidders are a graph question. The upward closure of every bidder under check (who holds,
manages or represents it, through any number of levels) comes from one SPARQL property-path query
over the union of the store's graphs, so relations from different files and from OCDS
beneficialOwners join up; only those edges reach Python, where the chain is walked as of the bid
date (each relation has its own validity period) with the control threshold applied on every hop.
Art. 34 forbids two bidders of one lot that share a legal representative or where one controls or
manages the other; two sister companies under one parent are not named by art. 34, so a common
controller alone is not reported.

A check of the whole store first asks the store which records can fire or lack the cn items
(_CANDIDATES) and reads the bids of those only.
"""
from __future__ import annotations

import datetime as dt
import string
from collections import defaultdict
from decimal import Decimal
from itertools import combinations

from .engine import m

from prtkg import codes, findings
from prtkg.store import python_rows

from . import engine
from . import common
from .common import graphs_values, iri_values, param, records

CN_FIELDS = ("agent", "projectManager", "depositAccount", "documentAuthor")



def _rules():
    return [
        engine.rule("BID-RELATED-BIDDERS", (m.t == "related") & (m.hops >= 1)),
        engine.rule("BID-COLLUSION-PRESUMED", (m.t == "shared")
                    | ((m.t == "pattern") & (m.bids >= param("BID-COLLUSION-PRESUMED", "min_bids_for_pattern"))
                       & (m.equal_gaps == 1))),
    ]


# Submitted bids of the tenders under check, with their lot (none: the whole tender is one lot).
# The OPTIONALs stand outside the record's GRAPH block: inside, Oxigraph 0.5 evaluates them over every
# graph of the store (rules/risk.py _TENDERS); the filter on the bid's status goes with them. A
# cancelled tender is taken out by MINUS (its right side is the store's few cancelled tenders, read
# once), not FILTER NOT EXISTS, which cost two thirds of the query's time.
_BIDS = """
SELECT ?record ?p ?b ?lot ?e ?tid ?name ?date ?end ?amount ?currency
       ?agent ?projectManager ?depositAccount ?documentAuthor WHERE { %s
  GRAPH ?g { ?g prtkg:recordId ?record ; prtkg:mainNode ?p . ?p prtkg:hasBid ?b . ?b prtkg:tenderer ?e }
  MINUS { GRAPH ?g { ?p prtkg:hasTender/prtkg:status "cancelled" } }
  OPTIONAL { GRAPH ?g { ?b prtkg:status ?st } } FILTER(!BOUND(?st) || !(?st IN ({{codes:bid-status/not submitted}})))
  OPTIONAL { GRAPH ?g { ?e prtkg:uscc ?u } } BIND(COALESCE(UCASE(?u), STR(?e)) AS ?tid) OPTIONAL { GRAPH ?g { ?e prtkg:name ?name } }
  OPTIONAL { GRAPH ?g { ?b prtkg:relatedLot ?lot } } OPTIONAL { GRAPH ?g { ?b prtkg:bidDate ?date } }
  OPTIONAL { GRAPH ?g { ?p prtkg:hasTender/prtkg:tenderPeriodEnd ?end } }
  OPTIONAL { GRAPH ?g { ?b prtkg:amount ?amount ; prtkg:currency ?currency } }
  OPTIONAL { GRAPH ?g { ?b prtkg:agent ?agent } } OPTIONAL { GRAPH ?g { ?b prtkg:projectManager ?projectManager } }
  OPTIONAL { GRAPH ?g { ?b prtkg:depositAccount ?depositAccount } } OPTIONAL { GRAPH ?g { ?b prtkg:documentAuthor ?documentAuthor } } }"""

_BIDS = codes.fill(_BIDS)

# In a check of the whole store, the records whose bids can make a finding or a DATA-INSUFFICIENT,
# asked of the store (counts and pairs, no bid read out: at 10^4 projects reading every record's bids
# took 8 s CPU of collusion's 9); their bids are read and decided on as in a check of some records.
# They are: a bid without a cn item (its project may have none; the loaders keep no empty text, a
# store given one names its record by lookup); two bids sharing a cn value; two bidders of a project
# in relations (a control chain runs from a bidder someone holds or manages up to another, shared
# representatives are relations of both: few entities, whose bids are looked up); lots (a bid
# without one is in each); a price pattern, whose submitted priced bids of one currency are evenly
# spaced only if twice their sum is their count times their least and greatest (a tolerance keeps a
# double's rounding from hiding one; the exact test is _collusion_facts's). Each branch is a scan of one or two properties: the cn fields one at a time
# (a VALUES of the four costs 1.5x, a filter on the value 3x), statuses looked up by value. At 10^4
# projects 0.8 s CPU, where the same questions over a join of every bid and tenderer took 2.4 s.
_CN_VALUES = "VALUES ?field { " + " ".join(f"prtkg:{k}" for k in CN_FIELDS) + " }"
_CANDIDATES = """
SELECT DISTINCT ?g WHERE {
  { GRAPH ?g { ?b prtkg:tenderer ?e } """ + " ".join(f"MINUS {{ GRAPH ?g {{ ?b prtkg:{k} ?v }} }}" for k in CN_FIELDS) + """ }
  UNION { GRAPH ?g { """ + _CN_VALUES + """ ?b ?field "" } }
  """ + "".join(f"""UNION {{ SELECT ?g WHERE {{ GRAPH ?g {{ ?b prtkg:{k} ?v }} }} GROUP BY ?g ?v HAVING (COUNT(*) > 1) }}
  """ for k in CN_FIELDS) + """UNION { SELECT ?g WHERE {
      { SELECT DISTINCT ?e WHERE { { ?rel prtkg:relationOf|prtkg:relatedParty ?e }
                                   UNION { GRAPH ?x { ?rel prtkg:relationOf|prtkg:relatedParty ?e } } } }
      GRAPH ?g { ?b prtkg:tenderer ?e } }
    GROUP BY ?g HAVING (COUNT(DISTINCT ?e) > 1) }
  UNION { GRAPH ?g { ?b prtkg:relatedLot ?lot } }
  UNION { SELECT ?g WHERE { """ + common.scans("?g", "?p prtkg:hasBid ?b", "?b prtkg:amount ?amount", "?b prtkg:currency ?c") + """
      MINUS """ + common.status_outside("?st", "bid-status", "submitted", "?b") + """ }
    GROUP BY ?g ?p ?c HAVING (COUNT(?b) >= $min_bids && MAX(?amount) > MIN(?amount)
      && ABS(2 * SUM(?amount) - COUNT(?b) * (MIN(?amount) + MAX(?amount)))
         <= 0.000001 * COUNT(?b) * (ABS(MIN(?amount)) + ABS(MAX(?amount)))) } }"""
_CANDIDATES = codes.fill(_CANDIDATES)

# Every relation edge above the given bidders, at any depth: the property path does the reach.
_CLOSURE = """
SELECT DISTINCT ?rel ?of ?party ?type ?share ?from ?until ?partyCode WHERE {
  %s
  ?start (^prtkg:relationOf/prtkg:relatedParty)* ?of .
  ?rel prtkg:relationOf ?of ; prtkg:relatedParty ?party ; prtkg:relationType ?type .
  OPTIONAL { ?rel prtkg:shareholding ?share } OPTIONAL { ?rel prtkg:relationFrom ?from }
  OPTIONAL { ?rel prtkg:relationUntil ?until } OPTIONAL { ?party prtkg:uscc ?partyCode } }"""


def union_select(store, query: str) -> list[dict]:
    from prtkg import rdf
    return list(python_rows(store.raw_query(rdf.sparql_prefixes() + query, use_default_graph_as_union=True)))


def _holds(edge: dict, day: dt.date) -> bool:
    return (edge["from"] is None or edge["from"] <= day) and (edge["until"] is None or day <= edge["until"])


def _label(node: str, code: str | None) -> str:
    return code.upper() if code else node.rsplit("/", 1)[-1]


class Relations:
    """The relation edges above a set of bidders, read once per check."""

    def __init__(self, store, entities: set[str]):
        self.up: dict[str, list[dict]] = defaultdict(list)
        if not entities:
            return
        for r in union_select(store, _CLOSURE % iri_values("start", entities)):
            self.up[r["of"]].append(r)

    def control_chain(self, lower: str, upper: str, day: dt.date) -> list[dict] | None:
        """The shortest chain of control or management edges from `upper` down to `lower` valid on `day`."""
        threshold = Decimal(str(param("BID-RELATED-BIDDERS", "control_share")))
        paths: dict[str, list[dict]] = {lower: []}
        frontier = [lower]
        while frontier:
            nxt = []
            for node in frontier:
                for e in self.up.get(node, ()):
                    controls = e["type"] == "manager" or (
                        e["type"] == "shareholder" and e["share"] is not None and Decimal(str(e["share"])) > threshold)
                    if not controls or not _holds(e, day) or e["party"] in paths:
                        continue
                    paths[e["party"]] = paths[node] + [e]
                    if e["party"] == upper:
                        return paths[upper]
                    nxt.append(e["party"])
            frontier = nxt
        return None

    def representatives(self, entity: str, day: dt.date) -> set[str]:
        return {e["party"] for e in self.up.get(entity, ()) if e["type"] == "legal-representative" and _holds(e, day)}


def _hop(e: dict, codes: dict[str, str]) -> dict:
    return {"holder": _label(e["party"], e["partyCode"]), "held": codes.get(e["of"], _label(e["of"], None)),
            "relation": e["type"], "share": e["share"], "from": e["from"], "until": e["until"]}


def _lots(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Bids per (project, lot); a bid without a lot takes part in every lot of its tender."""
    by_project: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_project[r["p"]].append(r)
    out: dict[tuple, list[dict]] = {}
    for p, bids in by_project.items():
        lots = sorted({b["lot"] for b in bids if b["lot"]}) or [None]
        for lot in lots:
            out[(p, lot)] = [b for b in bids if b["lot"] in (None, lot)]
    return out


def _relation(kind: str, **values) -> dict[str, str]:
    """How a relation reads, in both languages: the catalogue's wording (BID-RELATED-BIDDERS' relations)."""
    zh, en = param("BID-RELATED-BIDDERS", "relations")[kind]
    return {"zh": findings.render(zh, "zh", values), "en": findings.render(en, "en", values)}


def _related_facts(ctx, lots: dict[tuple, list[dict]]):
    entities = {b["e"] for bids in lots.values() for b in bids}
    rel = Relations(ctx.store, entities)
    codes = {b["e"]: b["tid"] for bids in lots.values() for b in bids}
    seen = set()
    for (p, lot), bids in sorted(lots.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        tenderers = {}
        for b in bids:
            tenderers.setdefault(b["e"], b)
        for (ea, ba), (eb, bb) in combinations(sorted(tenderers.items()), 2):
            # As of the bid date: the later of the two bids, else the bid deadline, else the check date.
            dates = [d for d in (ba["date"], bb["date"]) if d is not None]
            day = max(dates) if dates else ba["end"] or ctx.as_of
            key = (p, ea, eb)
            if key in seen:
                continue
            chain = rel.control_chain(ea, eb, day) or rel.control_chain(eb, ea, day)
            shared = sorted(rel.representatives(ea, day) & rel.representatives(eb, day))
            if chain is None and not shared:
                continue
            seen.add(key)
            if chain is not None:
                # Named for the reader (the codes stay in the evidence's chain).
                path = " → ".join(findings.org_name(c) for c in
                                  [_label(chain[-1]["party"], chain[-1]["partyCode"])]
                                  + [codes.get(e["of"], _label(e["of"], None)) for e in reversed(chain)])
                relation = _relation("control", levels=len(chain), path=path)
                evidence = {"chain": [_hop(e, codes) for e in reversed(chain)]}
            else:
                people = [s.rsplit("/", 1)[-1] for s in shared]
                relation = _relation("legalRepresentative", people=people)
                evidence = {"legalRepresentative": people}
            yield {"t": "related", "id": f"related|{p}|{ea}|{eb}", "hops": len(chain) if chain else 1}, \
                {"record": ba["record"], "node": p, "a": ba, "b": bb, "lot": lot, "asOf": day,
                 "relation": relation, "evidence": evidence}


def _collusion_facts(lots: dict[tuple, list[dict]]):
    for (p, lot), bids in sorted(lots.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        by_bid = {}
        for b in bids:
            by_bid.setdefault(b["b"], b)
        ordered = sorted(by_bid.values(), key=lambda b: b["b"])
        for a, b in combinations(ordered, 2):
            if a["tid"] == b["tid"]:
                continue
            for key in CN_FIELDS:
                if a[key] and a[key] == b[key]:
                    yield {"t": "shared", "id": f"shared|{p}|{lot}|{a['b']}|{b['b']}|{key}"}, \
                        {"record": a["record"], "node": p, "a": a, "b": b, "item": key, "value": a[key], "lot": lot}
        priced = [b for b in ordered if b["amount"] is not None]
        currencies = {b["currency"] for b in priced}
        if len(priced) < 2 or len(currencies) != 1:
            continue
        priced.sort(key=lambda b: (b["amount"], b["b"]))
        gaps = [priced[i + 1]["amount"] - priced[i]["amount"] for i in range(len(priced) - 1)]
        yield {"t": "pattern", "id": f"pattern|{p}|{lot}", "bids": len(priced),
               "equal_gaps": int(gaps[0] > 0 and all(g == gaps[0] for g in gaps))}, \
            {"record": priced[0]["record"], "node": p, "gap": str(gaps[0]), "currency": currencies.pop(), "lot": lot,
             "priced": [{"bid": _bid_name(b), "tenderer": b["tid"], "amount": str(b["amount"])} for b in priced]}


def _bid_name(b: dict) -> str:
    return b["b"].rsplit("/", 1)[-1]


def check(ctx):
    # Rules of Chinese law: only records within its jurisdiction (prtkg.applicability; the others are
    # DATA-INSUFFICIENT there), each rule over its own applicable records.
    applicable = {rule: ctx.applicable(rule) for rule in ("BID-RELATED-BIDDERS", "BID-COLLUSION-PRESUMED")}
    recs = [r for r in records(ctx, "ocds") if any(r.id in ids for ids in applicable.values())]
    candidates = common.candidates(ctx, string.Template(_CANDIDATES).substitute(
        min_bids=param("BID-COLLUSION-PRESUMED", "min_bids_for_pattern")), recs)
    # A page of records at a time, each a run of its own: every fact is about one tender (its lots,
    # its bidders' relations as of its bid date), so the pages' firings are the whole run's.
    return [found for page in common.pages(candidates)
            for found in _check_page(ctx, applicable, ctx.store.select(common.page_query(ctx.store, _BIDS, page)))]


def _check_page(ctx, applicable: dict[str, set[str]], rows: list[dict]) -> list:
    # Without any bids.details[].cn item only the price pattern can be judged: say so, don't guess.
    with_cn = {r["p"] for r in rows if any(r[k] for k in CN_FIELDS)}
    for r in rows:
        if r["p"] not in with_cn and r["record"] in applicable["BID-COLLUSION-PRESUMED"]:
            ctx.insufficient.add(r["record"], r["p"], "BID-COLLUSION-PRESUMED",
                                 [f"bids.details.cn.{k}" for k in CN_FIELDS])
    # A bid with several cn values would repeat: keep one row per (bid, tenderer, lot).
    lots = _lots(list({(r["b"], r["e"], r["lot"]): r for r in rows}.values()))
    # durable-rules sees the scalar facts; the rows behind them (dates, amounts) stay here by fact id.
    pairs = [*_related_facts(ctx, lots), *_collusion_facts(lots)]
    detail = {fact["id"]: {**more, "t": fact["t"]} for fact, more in pairs}
    out = []
    for f in engine.run("collusion", _rules, [fact for fact, _ in pairs]):
        x = detail[f.m["id"]]
        if x["record"] not in applicable[f.rule]:
            continue
        lot = x["lot"].rsplit("/", 1)[-1] if x.get("lot") else None
        if x["t"] == "related":
            a, b = x["a"], x["b"]
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"lot": lot, "asOf": x["asOf"],
                                      "bidders": [{"bid": _bid_name(a), "tenderer": a["tid"], "name": a["name"]},
                                                  {"bid": _bid_name(b), "tenderer": b["tid"], "name": b["name"]}],
                                      **x["evidence"]},
                                     bidder_a=a["name"] or a["tid"], bidder_b=b["name"] or b["tid"],
                                     relation_zh=x["relation"]["zh"], relation=x["relation"]["en"]))
        elif x["t"] == "shared":
            zh, en = param("BID-COLLUSION-PRESUMED", "situations")[x["item"]]
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"lot": lot, "bids": [_bid_name(x["a"]), _bid_name(x["b"])],
                                      "tenderers": [x["a"]["tid"], x["b"]["tid"]], "shared": x["item"],
                                      "value": x["value"]},
                                     bid_a=_bid_name(x["a"]), bid_b=_bid_name(x["b"]),
                                     situation_zh=zh, situation=en))
        else:
            zh, en = param("BID-COLLUSION-PRESUMED", "situations")["pricePattern"]
            priced = x["priced"]
            gap = {"gap": x["gap"], "currency": x["currency"]}     # the situation's wording is the catalogue's
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"lot": lot, "bids": priced, **gap, "shared": "pricePattern"},
                                     bid_a=priced[0]["bid"], bid_b=priced[-1]["bid"],
                                     situation_zh=findings.render(zh, "zh", gap),
                                     situation=findings.render(en, "en", gap)))
    return out
