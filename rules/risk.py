"""Risk indicators: RISK-SINGLE-BIDDER, RISK-IDENTICAL-BIDS, RISK-BID-ROTATION, RISK-SPLIT-CONTRACTS,
RISK-WINNER-CONCENTRATION (warnings; parameters in the catalogue).

Single bidder follows OCP Cardinal R018 (numberOfTenderers is 1 in an open or selective tender) and,
where we differ, also counts the distinct tenderers of submitted bids when numberOfTenderers is not
published. Identical bids follow R028 where it is definite: bids counted are the submitted ones
(Cardinal's get_submitted_bids: a status other than invited or withdrawn -- pending, valid and
disqualified; a disqualified bid at the leaked price is the pattern, so it counts), identical means the same amount in the same currency
from different sets of tenderer ids, in a tender that is not cancelled. Where we are stricter, and
why: only bids with a positive amount count (a zero is how platforms write "no price", e.g. a
disqualified bid, not a price anyone matched), and only bids for the same lot are compared (a bid
without `relatedLots` is for the whole tender), since equal prices for different lots are different
goods. One finding per group of identical bids (Cardinal flags the process once; a group of n
bids is one event, not n(n-1)/2 pairs). Cross-record indicators group in
the fact query or here (bidder groups, 90-day windows, buyer-years); the rules decide.
Incremental: the buyers and bidders of the projects under check bound every cross-record query. A check
of the whole store first asks the store (counts, keys, sums) which records, tenders and buyers can
fire, and reads the facts of those only, decided on as in a check of some records.
"""
from __future__ import annotations

import datetime as dt
import itertools
import string
from collections import defaultdict
from decimal import Decimal
from urllib.parse import unquote

from .engine import m

from prtkg import codes, findings

from . import engine
from . import common
from .common import code, concat, day, graphs_values, iri_values, org_key, paged_select, param, records, split


def _rules():
    return [
        engine.rule("RISK-SINGLE-BIDDER", (m.t == "tender")
                    & ((m.number_of_tenderers == 1) | ((m.number_of_tenderers == -1) & (m.distinct_tenderers == 1)))),
        engine.rule("RISK-IDENTICAL-BIDS", (m.t == "price") & (m.cancelled == 0) & (m.amount_positive == 1)
                    & (m.tenderer_sets >= 2)),
        engine.rule("RISK-BID-ROTATION", (m.t == "group")
                    & (m.size >= param("RISK-BID-ROTATION", "min_group_size"))
                    & (m.tenders >= param("RISK-BID-ROTATION", "min_tenders"))
                    & (m.won_inside == m.tenders) & (m.distinct_winners >= 2)),
        engine.rule("RISK-SPLIT-CONTRACTS", (m.t == "window")
                    & (m.count >= param("RISK-SPLIT-CONTRACTS", "min_contracts")) & (m.total >= m.threshold)),
        engine.rule("RISK-WINNER-CONCENTRATION", (m.t == "share")
                    & (m.processes >= param("RISK-WINNER-CONCENTRATION", "min_processes"))
                    & (m.share > param("RISK-WINNER-CONCENTRATION", "min_share"))),
    ]


# The OPTIONALs of the paged queries stand outside the record's GRAPH block, each in a GRAPH ?g of
# its own: inside it, Oxigraph 0.5 evaluates an OPTIONAL over every graph of the store and joins it
# to the page afterwards, so a page cost the store's time and memory (a page of 2,500 of 10^5
# projects: 77 s inside, 3.5 s outside); outside, it is looked up for the page's solutions only.
_TENDERS = """
SELECT ?record ?p ?method ?n (COUNT(DISTINCT ?anyBid) AS ?bids) WHERE { %s
  GRAPH ?g { ?g prtkg:recordId ?record ; prtkg:mainNode ?p . ?p prtkg:hasTender ?t }
  OPTIONAL { GRAPH ?g { ?t prtkg:procurementMethod ?method } }
  OPTIONAL { GRAPH ?g { ?t prtkg:numberOfTenderers ?n } } OPTIONAL { GRAPH ?g { ?p prtkg:hasBid ?anyBid } } }
GROUP BY ?record ?p ?method ?n"""
# In a check of the whole store, the records RISK-SINGLE-BIDDER can decide: one tenderer published,
# or none (then their bids are counted); their tenders are read for these only (10^4 projects: 7).
# Two scans, not an OPTIONAL and a filter over every tender: 10^4 projects 0.12 -> 0.02 s CPU.
_SINGLE = """
SELECT DISTINCT ?g WHERE { { GRAPH ?g { ?t prtkg:numberOfTenderers ?n } FILTER(?n = 1) }
  UNION { GRAPH ?g { ?p prtkg:hasTender ?t } MINUS { GRAPH ?g { ?t prtkg:numberOfTenderers ?n } } } }"""
# The distinct tenderers of submitted bids, asked apart: an OPTIONAL of three patterns and a filter
# is again evaluated store-wide (10x the page's time), a query of its own is not.
_SUBMITTED = """
SELECT ?p (COUNT(DISTINCT ?tenderer) AS ?distinct) WHERE { %s GRAPH ?g {
  ?g prtkg:mainNode ?p . ?p prtkg:hasBid ?b . ?b prtkg:status ?st ; prtkg:tenderer ?tenderer .
  FILTER(!(?st IN ({{codes:bid-status/not submitted}}))) } }
GROUP BY ?p"""

_BIDS = """
SELECT ?record ?p ?b ?amount ?currency ?tstatus """ + concat("?tid", "tenderers") + " " + concat("?lotId", "lots") + """ WHERE { %s
  GRAPH ?g { ?g prtkg:recordId ?record ; prtkg:mainNode ?p . ?p prtkg:hasBid ?b . ?b prtkg:status ?st ; prtkg:amount ?amount ;
     prtkg:currency ?currency ; prtkg:tenderer ?e . FILTER(!(?st IN ({{codes:bid-status/not submitted}}))) }
  OPTIONAL { GRAPH ?g { ?e prtkg:uscc ?u } } BIND(COALESCE(UCASE(?u), STR(?e)) AS ?tid)
  OPTIONAL { GRAPH ?g { ?b prtkg:relatedLot ?lot } } BIND(STR(?lot) AS ?lotId)
  OPTIONAL { GRAPH ?g { ?p prtkg:hasTender/prtkg:status ?tstatus } } }
GROUP BY ?record ?p ?b ?amount ?currency ?tstatus"""

# In a check of the whole store, the records with two bids at one amount, the only ones
# RISK-IDENTICAL-BIDS can fire on (cast to xsd:decimal: 5.1 and 5.10, or 5 and 5.0, are one price as
# _page_bid_facts reads them). Grouped in the store, which compares the stored values without
# reading them out: at 10^4 projects 0.16 s CPU, where reading every bid's row took 3.7 s. Rows are
# counted, not distinct bids (0.22 s): as many, or more where a bid has two amounts of one value.
_SAME_AMOUNT = """
SELECT DISTINCT ?g WHERE { { SELECT ?g ?v WHERE { """ + common.scans("?g", "?p prtkg:hasBid ?b", "?b prtkg:amount ?a") + """
    BIND(xsd:decimal(?a) AS ?v) } GROUP BY ?g ?v HAVING (COUNT(*) > 1) } }"""

# Bidder sets and winners of every tender sharing a bidder with the projects under check. Entity
# nodes are minted from the upper-cased credit code (prtkg.rdf.entity), so joining on the node is
# the case-blind comparison of codes. The OPTIONALs stay outside GRAPH: inside it, Oxigraph
# evaluates the group before the join and the query takes 25x longer (measured at 1,000 projects).
# One row per award of a bid's project: "won" is decided over them in _group_facts.
# Asked a page of tenders at a time (VALUES ?p), each read whole (every bidder of it): the tenders of
# the bidders of the projects under check (_BIDDERS, _BIDDER_TENDERS), in a check of the whole store
# those _ROTATION keys.
_BIDDERS = """
SELECT DISTINCT ?e WHERE { %s GRAPH ?g { ?g prtkg:mainNode ?p0 . ?p0 prtkg:hasBid/prtkg:tenderer ?e . ?e prtkg:uscc ?u0 } }"""
# The tenders of some bidders (VALUES ?e inside the block: looked up, not joined).
_BIDDER_TENDERS = """
SELECT DISTINCT ?p WHERE { GRAPH ?h { %s ?b prtkg:tenderer ?e . ?p prtkg:hasBid ?b } }"""
_PARTICIPATION = """
SELECT ?record ?p ?u ?date ?a ?ast WHERE {
  %s
  GRAPH ?h { ?h prtkg:recordId ?record ; prtkg:mainNode ?p . ?p prtkg:hasBid ?b . ?b prtkg:tenderer ?e . ?e prtkg:uscc ?u . }
  OPTIONAL { GRAPH ?h { ?b prtkg:status ?st } } FILTER(!BOUND(?st) || !(?st IN ({{codes:bid-status/not submitted}})))
  OPTIONAL { GRAPH ?h { ?p prtkg:hasAward/prtkg:awardDate ?date } }
  OPTIONAL { GRAPH ?h { ?p prtkg:hasAward ?a . ?a prtkg:supplier ?e } OPTIONAL { GRAPH ?h { ?a prtkg:status ?ast } } }
}"""
_TENDERS, _SUBMITTED, _BIDS, _PARTICIPATION = (codes.fill(q) for q in (_TENDERS, _SUBMITTED, _BIDS, _PARTICIPATION))
_LOST = codes.non_members("award-status", "standing")  # cancelled or unsuccessful: not won

# In a check of the whole store, the tenders that can make a group of RISK-BID-ROTATION: a group is
# min_tenders tenders of one exact set of at least min_group_size bidders, so its tenders share the
# set's size, first and last bidder. Keyed by those in the store (one tender a row, then one key a
# row; no bid read out) and only the tenders of a key of min_tenders are read: at 10^4 projects 10
# keys, where reading every bid was 47,000 rows (5 s). A key shared by chance only adds tenders,
# which _group_facts groups exactly. The key is made of entity nodes, a function of the credit code
# _group_facts groups on (prtkg.rdf.entity), so one set has one key; the size bound counts the
# codes as given (at least as many as _group_facts's upper-cased ones).
_ROTATION = """
SELECT """ + concat("?p", "tenders") + """ WHERE {
  { SELECT ?p (COUNT(DISTINCT ?e) AS ?size) (MIN(STR(?e)) AS ?first) (MAX(STR(?e)) AS ?last) WHERE {
      """ + common.scans("?h", "?p prtkg:hasBid ?b", "?b prtkg:tenderer ?e", "?e prtkg:uscc ?u") + """
      MINUS """ + common.status_outside("?st", "bid-status", "submitted", "?b", "?h") + """
    } GROUP BY ?p HAVING (COUNT(DISTINCT ?u) >= $min_group_size) } }
GROUP BY ?size ?first ?last HAVING (COUNT(?p) >= $min_tenders)"""
_ROTATION = codes.fill(_ROTATION)

# The buyer nodes of the projects under check. A buyer is its node: entity nodes are minted from the
# upper-cased credit code (prtkg.rdf.entity), the only nodes with one, so a node is one buyer key.
_BUYERS = """
SELECT DISTINCT ?b WHERE { %s GRAPH ?g { ?g prtkg:mainNode ?p0 . ?p0 prtkg:buyer ?b } }"""
# Active awards of some buyers (VALUES ?b, a page of them, inside the block: a buyer's projects are
# looked up, where a join on the buyer's key read every award of the store, 42 s CPU at 10^5). The
# rest stands outside the block, each OPTIONAL and the status test in a GRAPH ?h of its own, as in
# _TENDERS: inside, they were evaluated over the store (two buyers' 30 awards at 10^4 projects:
# 0.28 s CPU inside, 0.004 s outside).
_AWARDS = """
SELECT ?record ?a ?buyer ?supplier ?bname ?sname ?date ?amount ?currency ?category ?tt WHERE {
  GRAPH ?h { %s ?p prtkg:buyer ?b . ?h prtkg:recordId ?record ; prtkg:mainNode ?p .
             ?p prtkg:hasAward ?a . ?a prtkg:awardDate ?date ; prtkg:supplier ?s }
  OPTIONAL { GRAPH ?h { ?b prtkg:uscc ?bu } } BIND(COALESCE(UCASE(?bu), STR(?b)) AS ?buyer)
  OPTIONAL { GRAPH ?h { ?s prtkg:uscc ?su } } BIND(COALESCE(UCASE(?su), STR(?s)) AS ?supplier)
  OPTIONAL { GRAPH ?h { ?s prtkg:name ?sname } } OPTIONAL { GRAPH ?h { ?b prtkg:name ?bname } }
  FILTER NOT EXISTS { GRAPH ?h { ?a prtkg:status ?ast . FILTER(?ast IN ({{codes:award-status/not effective}})) } }
  OPTIONAL { GRAPH ?h { ?a prtkg:amount ?amount ; prtkg:currency ?currency } }
  OPTIONAL { GRAPH ?h { ?p prtkg:hasTender/prtkg:mainProcurementCategory ?category } }
  OPTIONAL { GRAPH ?h { ?p prtkg:tradeType ?tt } } }"""
# In a check of the whole store, the buyers with a fact that can fire, counted in the store (no award
# read out): a buyer-year where one supplier won at least min_share of min_processes processes or
# more (RISK-WINNER-CONCENTRATION), and a buyer, supplier and category with min_contracts awards
# below the category's threshold in works (RISK-SPLIT-CONTRACTS). Their awards are then read whole
# and decided on as in a check of some records (the facts of a buyer are all its awards').
_AWARDED = common.scans("?h", "?h prtkg:recordId ?record", "?h prtkg:mainNode ?p", "?p prtkg:buyer ?b",
                        "?p prtkg:hasAward ?a", "?a prtkg:awardDate ?date", "?a prtkg:supplier ?s") + """
  MINUS """ + common.status_outside("?ast", "award-status", "effective", "?a", "?h") + """
  BIND(YEAR(?date) AS ?year)"""
_CONCENTRATED = """
SELECT DISTINCT ?b WHERE {
  { SELECT ?b ?year (COUNT(DISTINCT ?h) AS ?processes) WHERE { """ + _AWARDED + """ }
    GROUP BY ?b ?year HAVING (COUNT(DISTINCT ?h) >= $min_processes) }
  { SELECT ?b ?year ?s (COUNT(DISTINCT ?h) AS ?wins) WHERE { """ + _AWARDED + """ } GROUP BY ?b ?year ?s }
  FILTER(?wins >= $min_share * ?processes) }"""
# Works first (a scan of trade types, filtered), then their tenders' categories; the amount and
# currency of those awards looked up in one block: 0.21 s CPU at 10^4 projects, where scanning every
# amount and currency of the store (bids' too) took 0.35 s.
_SPLIT = """
SELECT DISTINCT ?b WHERE { { SELECT ?b ?s ?category WHERE { """ + _AWARDED + """
    { SELECT ?h ?p WHERE { GRAPH ?h { ?p prtkg:tradeType ?tt } FILTER(STRENDS(STR(?tt), "/works") || STR(?tt) = "works") } }
    """ + common.scans("?h", "?p prtkg:hasTender ?t", "?t prtkg:mainProcurementCategory ?category") + """
    GRAPH ?h { ?a prtkg:amount ?amount ; prtkg:currency "CNY" }
    VALUES (?category ?threshold) { $thresholds } FILTER(?amount < ?threshold) }
  GROUP BY ?b ?s ?category HAVING (COUNT(*) >= $min_contracts) } }"""
_AWARDS, _CONCENTRATED, _SPLIT = (codes.fill(q) for q in (_AWARDS, _CONCENTRATED, _SPLIT))


def _tender_facts(ctx, recs):
    applicable = ctx.applicable("RISK-SINGLE-BIDDER")
    for page in common.pages(common.candidates(ctx, _SINGLE, recs)):
        distinct = {r["p"]: int(r["distinct"]) for r in ctx.store.select(common.page_query(ctx.store, _SUBMITTED, page))}
        yield from _page_tender_facts(ctx, applicable, ctx.store.select(common.page_query(ctx.store, _TENDERS, page)), distinct)


def _page_tender_facts(ctx, applicable, rows, distinct):
    for r in rows:
        if r["record"] not in applicable:
            continue
        if r["n"] is None and not r["bids"]:
            ctx.insufficient.add(r["record"], r["p"], "RISK-SINGLE-BIDDER", ["tender.numberOfTenderers", "bids.details"])
            continue
        yield {"t": "tender", "id": f"tender|{r['record']}", "record": r["record"], "node": r["p"],
               "method": r["method"], "number_of_tenderers": int(r["n"]) if r["n"] is not None else -1,
               "distinct_tenderers": distinct.get(r["p"], 0)}


def _bid_facts(ctx, recs):
    """One fact per price offered in one lot of one tender: its bids and how many different sets of
    tenderers offered it (a tenderer may bid one price twice: Cardinal does not count that).
    A page of records at a time: a tender's bids are all in its record."""
    for page in common.pages(common.candidates(ctx, _SAME_AMOUNT, recs)):
        yield from _page_bid_facts(ctx.store.select(common.page_query(ctx.store, _BIDS, page)))


def _page_bid_facts(rows):
    prices: dict[tuple, dict] = {}
    for r in rows:
        amount = Decimal(r["amount"])
        # a lot is the last segment of its node (…/tender/lot/<id>); a bid without lots is for the whole tender
        lot = " ".join(sorted(unquote(x.rsplit("/", 1)[-1]) for x in split(r["lots"])))
        key = (r["p"], lot, format(amount.normalize(), "f"), r["currency"])
        f = prices.setdefault(key, {"t": "price", "id": "price|" + "|".join(key), "record": r["record"],
                                    "project": r["p"], "lot": lot, "amount": key[2], "currency": r["currency"],
                                    "amount_positive": int(amount > 0), "cancelled": int(r["tstatus"] == "cancelled"),
                                    "bids": [], "sets": set()})
        f["bids"].append(r["b"])
        f["sets"].add("\t".join(sorted(org_key(t) for t in split(r["tenderers"]))))
    for f in prices.values():
        sets = f.pop("sets")
        yield {**f, "bids": sorted(f["bids"]), "tenderer_sets": len(sets),
               "tenderers": sorted({t for s in sets for t in s.split("\t")})}


def _group_facts(ctx, recs):
    tenders: dict[str, dict] = {}
    # Each tender read whole, a page of tenders at a time: read by bidder, a tender with a bidder
    # outside those asked would lose that bidder and join a group it is not in.
    if ctx.covers_store():
        # The tenders that can make a group (_ROTATION): a group that can fire is min_tenders
        # tenders of one key, every one of them among these.
        rotation = _filled(_ROTATION, min_group_size=param("RISK-BID-ROTATION", "min_group_size"),
                           min_tenders=param("RISK-BID-ROTATION", "min_tenders"))
        nodes = sorted({p for r in ctx.store.stream(rotation) for p in split(r["tenders"])})
    else:
        # Every tender of the bidders under check, a page of bidders at a time.
        bidders = sorted({r["e"] for r in paged_select(ctx.store, _BIDDERS, recs)})
        nodes = sorted({r["p"] for i in range(0, len(bidders), common.PAGE) for r in ctx.store.select(
            _BIDDER_TENDERS % iri_values("e", bidders[i:i + common.PAGE]))})
    participation = common.in_dialect(ctx.store, _PARTICIPATION)  # row by row (10 bidders at 10^4: 0.7 -> 0.24 s)
    rows = (r for i in range(0, len(nodes), common.PAGE)
            for r in ctx.store.select(participation % iri_values("p", nodes[i:i + common.PAGE])))
    for r in rows:
        t = tenders.setdefault(r["p"], {"record": r["record"], "bidders": set(), "winners": set(), "date": r["date"]})
        if r["date"] is not None and (t["date"] is None or r["date"] > t["date"]):
            t["date"] = r["date"]
        tid = r["u"].upper()
        t["bidders"].add(tid)
        if r["a"] is not None and r["ast"] not in _LOST:
            t["winners"].add(tid)
    # A group is a tender's exact set of bidders; its tenders are those whose bidder set it is.
    groups: dict[frozenset, list[dict]] = defaultdict(list)
    for t in tenders.values():
        groups[frozenset(t["bidders"])].append(t)
    for members, ts in groups.items():
        winners = [w for t in ts for w in t["winners"]]
        ts = sorted(ts, key=lambda t: (t["date"] or dt.date.min, t["record"]))
        yield {"t": "group", "id": "group|" + " ".join(sorted(members)), "members": sorted(members),
               "size": len(members), "tenders": len(ts),
               "won_inside": sum(1 for t in ts if t["winners"] & members),
               "distinct_winners": len(set(winners)), "records": [t["record"] for t in ts],
               "winners": [sorted(t["winners"]) for t in ts],
               # The tender that completed the pattern carries the finding.
               "record": ts[min(len(ts), param("RISK-BID-ROTATION", "min_tenders")) - 1]["record"]}


def _thresholds() -> dict[str, int]:
    from prtkg.catalogue import rule as catalogue_rule
    must = catalogue_rule("BID-MUST-TENDER")
    return {"works": must.param("construction_threshold"), "goods": must.param("goods_threshold"),
            "services": must.param("services_threshold")}


def _filled(query: str, **values) -> str:
    """A query with the catalogue's parameters in its $names."""
    return string.Template(query).substitute(values)


def _buyers(ctx, recs) -> list[str]:
    """The buyers whose awards make the award facts: of the projects under check; in a check of the
    whole store, those with a fact that can fire (_CONCENTRATED, _SPLIT)."""
    if not ctx.covers_store():
        return sorted({r["b"] for r in paged_select(ctx.store, _BUYERS, recs)})
    thresholds = " ".join(f'("{category}" {value})' for category, value in sorted(_thresholds().items()))
    queries = (_filled(_CONCENTRATED, min_processes=param("RISK-WINNER-CONCENTRATION", "min_processes"),
                       min_share=param("RISK-WINNER-CONCENTRATION", "min_share")),
               _filled(_SPLIT, thresholds=thresholds, min_contracts=param("RISK-SPLIT-CONTRACTS", "min_contracts")))
    return sorted({r["b"] for q in queries for r in ctx.store.stream(q)})


def _award_facts(ctx, recs):
    buyers = _buyers(ctx, recs)
    query = common.in_dialect(ctx.store, _AWARDS)
    awards = [a for i in range(0, len(buyers), common.PAGE)
              for a in ctx.store.select(query % iri_values("b", buyers[i:i + common.PAGE]))]
    names: dict[str, str] = {}
    for a in awards:
        a["buyer"], a["supplier"] = org_key(a["buyer"]), org_key(a["supplier"])
        for who, name in ((a["buyer"], a["bname"]), (a["supplier"], a["sname"])):
            if name and who not in names:
                names[who] = name
    facts = []
    # Concentration: the share of a buyer's contracting processes of a year that one supplier won.
    # Processes, not awards: a tender of 33 lots is one purchase, and counting its lots would let
    # one tender make (or dilute) a concentration on its own.
    by_buyer_year: dict[tuple, list[dict]] = defaultdict(list)
    for a in awards:
        by_buyer_year[(a["buyer"], a["date"].year)].append(a)
    for (buyer, year), items in sorted(by_buyer_year.items()):
        processes = {a["record"] for a in items}
        wins: dict[str, dict[str, dict]] = defaultdict(dict)
        for a in sorted(items, key=lambda a: (a["date"], a["record"])):
            wins[a["supplier"]].setdefault(a["record"], a)
        for supplier, won in sorted(wins.items()):
            last = max(won.values(), key=lambda a: (a["date"], a["record"]))
            facts.append({"t": "share", "id": f"share|{buyer}|{year}|{supplier}", "buyer": buyer, "year": year,
                          "supplier": supplier, "supplierName": names.get(supplier), "buyerName": names.get(buyer),
                          "wins": len(won), "processes": len(processes),
                          "share": len(won) / len(processes), "records": sorted(won), "record": last["record"]})
    # Splitting: below-threshold awards of one buyer to one supplier, per window starting at each award.
    thresholds = _thresholds()
    window = param("RISK-SPLIT-CONTRACTS", "window_days")
    pairs: dict[tuple, list[dict]] = defaultdict(list)
    for a in awards:
        if code(a["tt"]) != "works" or a["amount"] is None or a["currency"] != "CNY" or a["category"] not in thresholds:
            continue
        if a["amount"] < thresholds[a["category"]]:
            pairs[(a["buyer"], a["supplier"], a["category"])].append(a)
    for (buyer, supplier, category), items in sorted(pairs.items()):
        items.sort(key=lambda a: (a["date"], a["record"]))
        for i, first in enumerate(items):
            inside = [a for a in items[i:] if day(a["date"]) - day(first["date"]) <= window]
            facts.append({"t": "window", "id": f"window|{first['a']}", "buyer": buyer, "supplier": supplier,
                          "category": category, "threshold": thresholds[category], "count": len(inside),
                          "total": float(sum(a["amount"] for a in inside)),
                          "awards": [{"record": a["record"], "date": a["date"].isoformat(),
                                      "amount": str(a["amount"])} for a in inside],
                          "record": inside[-1]["record"]})
    return facts


def _named(name: str | None, key: str) -> str:
    # A message names an organisation by name; its key (credit code) is in the evidence.
    return name or key


def check(ctx):
    recs = records(ctx, "ocds")
    if not recs:
        return []
    # Streamed into the engine: the per-record facts a page at a time, then the cross-record ones.
    facts = itertools.chain(_tender_facts(ctx, recs), _bid_facts(ctx, recs), _group_facts(ctx, recs), _award_facts(ctx, recs))
    out, split_seen = [], []
    for f in engine.run("risk", _rules, facts):
        x = f.m
        if f.rule == "RISK-IDENTICAL-BIDS":
            out.append(findings.make(f.rule, x["record"], x["project"],
                                     {"bids": x["bids"], "tenderers": x["tenderers"], "lot": x["lot"] or None,
                                      "amount": x["amount"], "currency": x["currency"]}))
            continue
        if f.rule == "RISK-SINGLE-BIDDER":
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"procurementMethod": x["method"],
                                      "numberOfTenderers": None if x["number_of_tenderers"] < 0 else x["number_of_tenderers"],
                                      "distinctTenderers": x["distinct_tenderers"]}))
        elif f.rule == "RISK-BID-ROTATION":
            out.append(findings.make(f.rule, x["record"], None,
                                     {"group": x["members"], "tenders": x["records"], "winners": x["winners"]},
                                     tenders=x["tenders"]))
        elif f.rule == "RISK-SPLIT-CONTRACTS":
            keys = {a["record"] for a in x["awards"]}
            if any(keys <= seen for seen in split_seen):
                continue  # a later window inside one already reported is the same split
            split_seen.append(keys)
            out.append(findings.make(f.rule, x["record"], None,
                                     {"buyer": x["buyer"], "supplier": x["supplier"], "category": x["category"],
                                      "awards": x["awards"], "total": x["total"], "threshold": x["threshold"]},
                                     count=x["count"], total=x["total"], threshold=x["threshold"]))
        else:
            out.append(findings.make(f.rule, x["supplier"], None,
                                     {"buyer": x["buyer"], "buyerName": x["buyerName"], "supplier": x["supplier"],
                                      "supplierName": x["supplierName"], "year": x["year"],
                                      "wins": x["wins"], "processes": x["processes"], "projects": x["records"]},
                                     supplier=_named(x["supplierName"], x["supplier"]),
                                     buyer=_named(x["buyerName"], x["buyer"])))
    return out
