"""Red flags at parity with OCP Cardinal (warnings; parameters in the catalogue): RISK-SHORT-PERIOD (R003),
RISK-LATE-WINNING-BID (R030), RISK-ALL-BUT-WINNER-DISQUALIFIED (R035), RISK-LOWEST-DISQUALIFIED (R036),
RISK-WINNING-MARGIN-LOW (R024), RISK-HEAVY-DISCOUNT (R058), RISK-LOW-WIN-RATE (R025),
RISK-DISQUALIFICATION-RATE (R038), RISK-HETEROGENEOUS-SUPPLIER (R048).

Cardinal's conventions, kept: a bid is submitted when it has a status other than invited or withdrawn
(get_submitted_bids: pending, valid, disqualified); an active award is one with status active; a process with an
undecided award is left out of the award-based flags (the catalogue's undecided_award_statuses: pending,
and invalid, which is no OCDS code but Cardinal reads as pending); amounts in another currency than the main one
are left out; outlier fences are Q1 - k*IQR and Q3 + k*IQR with "at or beyond the fence" flagged.
A cancelled tender is left out of every flag (nothing was bought).

Where we differ, and why (each is also a parameter or named in the evidence):
- the outlier populations are every OCDS contracting process (or tenderer, buyer) in the store, not
  one file; a population smaller than `min_population` gives no fence at all, since quartiles of a
  handful of values flag ordinary data;
- RISK-SHORT-PERIOD leaves out trade types with a statutory period rule (BID-PERIOD-20D,
  GP-PERIOD-20D judge those as violations); RISK-LOWEST-DISQUALIFIED requires the award criteria
  to be price only, as the catalogue and Cardinal's title say (its methodology section does not list it);
- a population with no spread (IQR 0) gives no fence either (every value would be "at the fence",
  or a fence of 0.0 would make any non-zero value abnormal); either way the flag does not run and
  RISK-OUTLIER-NOT-RUN says so once per check, with the reason;
- RISK-ALL-BUT-WINNER-DISQUALIFIED counts a joint bid (联合体) as one bidder, as Chinese law does,
  where Cardinal counts its tenderers one by one;
- RISK-HETEROGENEOUS-SUPPLIER reads the award's items and, when an award lists none, the tender's
  items (a single award covers the whole tender); the first level of the classification is the
  first `prefix_length` characters (政府采购品目分类目录: a letter and two digits).
Per-process flags are reported for the processes under check; per-organisation flags for the
organisations that take part in them, so a check stays incremental while fences use the whole store.
The population is read a page of records at a time, each page's triples in memory (_pages): each
page's processes give their facts and add to per-organisation tallies and the margins, and are then
dropped, so memory holds a page and the tallies, not the store. A check of some records reads only
theirs so, and every other record's contribution as counted when it was written
(rules/cardinal_tallies.py; `remember`), where that entry matches the record's current version.
"""
from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from pathlib import Path
from sys import intern
from typing import Callable, Iterable, Iterator, Sequence

from pyoxigraph import Literal, NamedNode, Quad, Store

from .engine import m

from prtkg import codes, findings, packed, rdf
from prtkg.catalogue import catalogue
from prtkg.records import Record
from prtkg.store import python_rows

from . import engine
from . import cardinal_tallies, common
from .common import code, concat, literal_values, org_key, param, records, split

NOT_SUBMITTED = codes.not_submitted_bid_statuses()


def _rules():
    return [
        engine.rule("RISK-SHORT-PERIOD", (m.t == "period") & (m.days < param("RISK-SHORT-PERIOD", "min_days"))),
        engine.rule("RISK-LATE-WINNING-BID", (m.t == "late") & (m.late == 1)),
        engine.rule("RISK-ALL-BUT-WINNER-DISQUALIFIED", (m.t == "disq") & (m.valid_tenderers == 1)
                    & (m.winner_is_valid == 1)
                    & (m.disqualified_tenderers >= param("RISK-ALL-BUT-WINNER-DISQUALIFIED", "min_disqualified"))),
        engine.rule("RISK-LOWEST-DISQUALIFIED", (m.t == "lowest") & (m.active_awards >= 1) & (m.lowest_disqualified == 1)),
        engine.rule("RISK-WINNING-MARGIN-LOW", (m.t == "margin") & (m.low == 1)),
        engine.rule("RISK-HEAVY-DISCOUNT", (m.t == "margin") & (m.high == 1)),
        engine.rule("RISK-LOW-WIN-RATE", (m.t == "winrate") & (m.top == 1) & (m.low == 1)),
        engine.rule("RISK-DISQUALIFICATION-RATE", (m.t == "disqrate") & (m.high == 1)),
        engine.rule("RISK-HETEROGENEOUS-SUPPLIER", (m.t == "variety") & (m.high == 1)),
    ]


_PROCESSES = """
SELECT ?record ?p ?tstatus ?method ?criteria ?tt ?start ?end ?endTime ?buyer ?pe WHERE { GRAPH ?g {
  ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?p .
  OPTIONAL { ?p prtkg:hasTender ?t . OPTIONAL { ?t prtkg:status ?tstatus } OPTIONAL { ?t prtkg:procurementMethod ?method }
    OPTIONAL { ?t prtkg:awardCriteria ?criteria } OPTIONAL { ?t prtkg:tenderPeriodStart ?start }
    OPTIONAL { ?t prtkg:tenderPeriodEnd ?end } OPTIONAL { ?t prtkg:tenderPeriodEndDateTime ?endTime } }
  OPTIONAL { ?p prtkg:tradeType ?tt }
  OPTIONAL { ?p prtkg:buyer ?b OPTIONAL { ?b prtkg:uscc ?bu } BIND(COALESCE(UCASE(?bu), STR(?b)) AS ?buyer) }
  OPTIONAL { ?p prtkg:procuringEntity ?e OPTIONAL { ?e prtkg:uscc ?eu } BIND(COALESCE(UCASE(?eu), STR(?e)) AS ?pe) } } }"""

# A bid's row per tenderer, grouped in Python (_processes): grouped in SPARQL (GROUP_CONCAT of the
# tenderers), Oxigraph held every group until the last row, 1.0 GB at 10^5 projects in a check of
# the whole store.
_BIDS = """
SELECT ?p ?b ?status ?amount ?currency ?date ?dateTime ?tid
WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:mainNode ?p . ?p prtkg:hasBid ?b . ?b prtkg:tenderer ?e .
  OPTIONAL { ?e prtkg:uscc ?u } BIND(COALESCE(UCASE(?u), STR(?e)) AS ?tid)
  OPTIONAL { ?b prtkg:status ?status } OPTIONAL { ?b prtkg:amount ?amount ; prtkg:currency ?currency }
  OPTIONAL { ?b prtkg:bidDate ?date } OPTIONAL { ?b prtkg:bidDateTime ?dateTime } } }"""

# The four run over a page of records in memory (_pages). _AWARDS keeps its OPTIONALs outside
# the record's GRAPH block, each anchored on a node the block binds (a nested OPTIONAL's subject
# repeated, so an absent supplier leaves its code unbound), as it was written for the store on disk,
# where inside Oxigraph 0.5 evaluated them over every graph of the store (rules/risk.py _TENDERS).
_AWARDS = """
SELECT ?p ?a ?status """ + concat("?sid", "suppliers") + """ WHERE {
  GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:mainNode ?p . ?p prtkg:hasAward ?a }
  OPTIONAL { GRAPH ?g { ?a prtkg:status ?status } }
  OPTIONAL { GRAPH ?g { ?a prtkg:supplier ?s } } OPTIONAL { GRAPH ?g { ?a prtkg:supplier ?s . ?s prtkg:uscc ?su } }
  BIND(COALESCE(UCASE(?su), STR(?s)) AS ?sid) }
GROUP BY ?p ?a ?status"""

_ITEMS = """
SELECT DISTINCT ?p ?owner ?cls WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:mainNode ?p .
  { ?p prtkg:hasAward ?owner } UNION { ?p prtkg:hasTender ?owner }
  ?owner prtkg:hasItem/prtkg:classificationId ?cls } }"""

# The roles in which an organisation takes part in a contracting process (its name is read from a
# record where it does).
_ROLES = ("prtkg:hasBid/prtkg:tenderer", "prtkg:hasAward/prtkg:supplier", "prtkg:buyer", "prtkg:procuringEntity")

_NAMES = """
SELECT DISTINCT ?who ?name WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:mainNode ?p .
  """ + " UNION ".join(f"{{ ?p {role} ?e }}" for role in _ROLES) + """
  ?e prtkg:name ?name OPTIONAL { ?e prtkg:uscc ?u } BIND(COALESCE(UCASE(?u), STR(?e)) AS ?who) } }"""

# The names of organisations by their credit codes as published (the exact literal, an index
# lookup). Each branch of the union starts from the codes: with the codes outside the union (or
# the union outside the organisation's triples), Oxigraph evaluated every role over the whole store
# (2.0 s at 10^4 projects for every name; this, 0.2 s for 10 codes).
_NAMES_BY_CODE = """
SELECT DISTINCT ?u ?name WHERE { GRAPH ?g { """ + " UNION ".join(
    f"""{{ %(codes)s ?e prtkg:uscc ?u ; prtkg:name ?name . ?g prtkg:recordKind "ocds" ; prtkg:mainNode ?p .
    ?p {role} ?e }}""" for role in _ROLES) + " } }"


def names(store, keys: Iterable[str]) -> dict[str, str]:
    """Organisation id (org_key) -> a name it is published under, for the organisations `keys`, to
    name them in findings. A credit code published as written is looked up by code; another key
    (a code published in lower case, a party without one) from the names of every organisation."""
    wanted = set(keys)
    out: dict[str, str] = {}
    published = sorted(k for k in wanted if k == k.upper())   # a credit code as written, maybe
    if published:
        values = literal_values("u", published)
        for r in store.select(_NAMES_BY_CODE % {"codes": values}):
            out.setdefault(r["u"], r["name"])
    if wanted - out.keys():
        for r in store.select(_NAMES):
            who = org_key(r["who"])
            if who in wanted:
                out.setdefault(who, r["name"])
    return out


def _named(who: str, known: dict[str, str]) -> str:
    # A message names an organisation by name; its key (credit code) is in the evidence.
    return known.get(who, who)


@dataclass
class Process:
    record: str
    node: str
    row: dict
    bids: list[dict] = field(default_factory=list)
    awards: list[dict] = field(default_factory=list)
    items: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def cancelled(self) -> bool:
        return self.row["tstatus"] == "cancelled"

    @property
    def submitted(self) -> list[dict]:
        return [b for b in self.bids if b["status"] is not None and b["status"] not in NOT_SUBMITTED]

    @property
    def active(self) -> list[dict]:
        return [a for a in self.awards if a["status"] == "active"]

    def award_undecided(self, rule_id: str) -> bool:
        undecided = param(rule_id, "undecided_award_statuses")
        return any(a["status"] in undecided for a in self.awards)

    @property
    def winners(self) -> set[str]:
        return {s for a in self.active for s in a["suppliers"]}

    @cached_property
    def winning_margin(self) -> tuple[Decimal, dict, dict] | None:
        """margin() in the flags' currency, computed once: its contribution and what a check reads
        of it (own) both need it."""
        return margin(self, param("RISK-WINNING-MARGIN-LOW", "currency"))


# The predicates the population's queries name: a page of records in memory holds their triples only.
_PREDICATES = common.named_predicates(_PROCESSES, _BIDS, _AWARDS, _ITEMS)
_PREDICATE_NODES = frozenset(NamedNode(p) for p in _PREDICATES)
# Records per page read into memory (their picked triples, ~60 a record, and the page's rows).
MEMORY_PAGE = 2000
_KIND, _ID, _MAIN = (NamedNode(rdf.PRTKG + name) for name in ("recordKind", "recordId", "mainNode"))


def _pages(store, found: list[tuple[NamedNode, str, NamedNode]]) -> Iterator[list[Process]]:
    """The contracting processes of these OCDS records (graph, record id, main node), in pages of
    MEMORY_PAGE records in node order (so their processes, each page's sorted, come in node order),
    each page's four fact queries run over an in-memory store of those records' triples
    (packed.subset) and their provenance as stored. On the store on disk, Oxigraph looks each
    pattern up per row, ~20 us at 10^5 projects: the four queries over the whole store (streamed, no VALUES) took 99 s CPU, the population 108 s
    and 1.42 GB peak; this way 102 s and 1.07 GB (a page of 2,000: unpacking 0.3 s, picking the lines
    0.4, parsing 0.3, the queries and their rows 0.6). Paged by VALUES ?g on disk, each page's
    OPTIONALs were evaluated over every graph of the store (18.6 s at 10^4 against 10.7 s whole);
    in memory a page costs the same whoever asks."""
    found = sorted(found, key=lambda x: x[2].value)
    for i in range(0, len(found), MEMORY_PAGE):
        page = found[i:i + MEMORY_PAGE]
        yield _page_processes(packed.subset(store, [g for g, _, _ in page], _PREDICATES), page)


def _page_processes(mem: Store, page: Sequence[tuple[NamedNode, str, NamedNode]]) -> list[Process]:
    """The processes of these records (graph, record id, main node), whose picked triples are in
    `mem`: their provenance added as the four queries read it (kind, id, main node), then the
    queries run over the page."""
    mem.extend([q for g, record, node in page for q in (
        Quad(g, _KIND, Literal("ocds"), g), Quad(g, _ID, Literal(record), g), Quad(g, _MAIN, node, g))])
    return _processes(lambda query: common.memory_rows(mem, query))


def _processes(rows: Callable[[str], Iterable[dict]]) -> list[Process]:
    """The processes of a page, with their bids, awards and items joined by node; `rows` runs a
    query over the page. A value that repeats (a status, a currency, an organisation) is held once
    (sys.intern), and a bid or award keeps no copy of its process's node: when the population was
    held whole, 68 -> 51 MB at 10^4 projects."""
    procs: dict[str, Process] = {}
    for r in rows(_PROCESSES):
        shared = {k: _intern(r[k]) for k in ("tstatus", "method", "criteria", "tt")}
        procs.setdefault(r["p"], Process(r["record"], r["p"], {**r, **shared, "buyer": _org(r["buyer"]), "pe": _org(r["pe"])}))
    # A bid is its node and facts (a bid with two statuses is two); its tenderers are the distinct
    # codes or nodes of its rows, as findings name them (org_key), sorted.
    bids: dict[tuple, dict] = {}
    for r in rows(_BIDS):
        node, tid = r.pop("p"), r.pop("tid")
        if (p := procs.get(node)) is None:
            continue
        if (bid := bids.get(key := (node, *r.values()))) is None:
            bid = bids[key] = {**r, "status": _intern(r["status"]), "currency": _intern(r["currency"]), "tenderers": set()}
            p.bids.append(bid)
        bid["tenderers"].add(tid)
    for bid in bids.values():
        bid["tenderers"] = sorted(_org(t) for t in bid["tenderers"])
    del bids    # the keys, before the awards are read
    for r in rows(_AWARDS):
        if (p := procs.get(r.pop("p"))) is not None:
            p.awards.append({**r, "status": _intern(r["status"]),
                             "suppliers": sorted(_org(s) for s in split(r["suppliers"]))})
    for r in rows(_ITEMS):
        if (p := procs.get(r["p"])) is not None:
            p.items[r["owner"]].add(intern(r["cls"]))
    # Bids and awards in node order, not the store's (which differs between a store on disk and one
    # in memory): a tie (two lowest bids) is named the same whichever store was read.
    for p in procs.values():
        p.bids.sort(key=_node_order)
        p.awards.sort(key=_node_order)
    return [procs[node] for node in sorted(procs)]


def _node_order(x: dict) -> tuple:
    return tuple(str(v) for v in x.values())


def _intern(value: str | None) -> str | None:
    return None if value is None else intern(value)


def _org(value: str | None) -> str | None:
    return _intern(org_key(value))


@dataclass(frozen=True)
class Fences:
    n: int
    q1: float
    q3: float
    lower: float
    upper: float

    # Cardinal flags values at or beyond a fence (fences() gives none without spread).
    def low(self, value: float) -> bool:
        return value <= self.lower

    def high(self, value: float) -> bool:
        return value >= self.upper

    def as_dict(self, population: str) -> dict:
        return {"population": population, "size": self.n, "q1": round(self.q1, 4), "q3": round(self.q3, 4),
                "lowerFence": round(self.lower, 4), "upperFence": round(self.upper, 4)}


def fences(values: list[float], rule_id: str, skipped: dict | None = None, population: str = "",
           concerned: bool = True) -> Fences | None:
    """Tukey's fences over a population, or None when it cannot carry one: smaller than the rule's
    min_population, or no spread (IQR 0: every value is "at the fence", or a fence of 0.0 would
    call any non-zero value abnormal). Then, if the records under check are `concerned`, why is
    noted once in `skipped` (rule -> evidence) for RISK-OUTLIER-NOT-RUN."""
    minimum = param(rule_id, "min_population")
    reason = None
    if len(values) < max(2, minimum):
        reason = "population-below-minimum"
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
        if q3 <= q1:
            reason = "no-spread"
    if reason is not None:
        if skipped is not None and concerned:
            skipped.setdefault(rule_id, {"rule": rule_id, "reason": reason, "population": population,
                                         "size": len(values), "minimum": minimum})
        return None
    k = param(rule_id, "iqr_factor")
    return Fences(len(values), q1, q3, q1 - k * (q3 - q1), q3 + k * (q3 - q1))


def _percentile(values: list[float], pct: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] if len(values) > 1 else values[0]


# -- per process --------------------------------------------------------------------------------

def _period_facts(p: Process):
    r = p.row
    if p.cancelled or r["method"] not in param("RISK-SHORT-PERIOD", "methods"):
        return
    if code(r["tt"]) in param("RISK-SHORT-PERIOD", "statutory_trade_types"):
        return
    if r["start"] is None or r["end"] is None:
        return
    yield {"t": "period", "id": f"period|{p.node}", "record": p.record, "node": p.node,
           "days": (r["end"] - r["start"]).days, "start": r["start"].isoformat(), "end": r["end"].isoformat(),
           "method": r["method"]}


def _late_facts(p: Process):
    r = p.row
    if p.cancelled or r["end"] is None:
        return
    winners = p.winners
    for b in p.bids:
        if b["status"] != "valid" or not set(b["tenderers"]) & winners:
            continue
        # The instant where both sides have one; else the calendar day in China.
        late = (b["dateTime"] > r["endTime"]) if b["dateTime"] is not None and r["endTime"] is not None \
            else (b["date"] is not None and b["date"] > r["end"])
        if late:
            yield {"t": "late", "id": f"late|{b['b']}", "record": p.record, "node": p.node, "late": 1,
                   "bid": b["b"].rsplit("/", 1)[-1], "tenderers": b["tenderers"],
                   "received": (b["dateTime"] or b["date"]).isoformat(),
                   "deadline": (r["endTime"] or r["end"]).isoformat()}


def _disqualification_facts(p: Process):
    if p.cancelled or p.award_undecided("RISK-ALL-BUT-WINNER-DISQUALIFIED") or not p.active:
        return
    # A joint bid (联合体, 招标投标法 第三十一条) is one bidder: tenderer lists compare as sets.
    valid = {tuple(b["tenderers"]) for b in p.submitted if b["status"] == "valid"}
    members = {t for v in valid for t in v}
    disqualified = {t for b in p.submitted if b["status"] == "disqualified" for t in b["tenderers"]} - members
    yield {"t": "disq", "id": f"disq|{p.node}", "record": p.record, "node": p.node,
           "valid_tenderers": len(valid), "winner_is_valid": int(len(valid) == 1 and p.winners == members),
           "disqualified_tenderers": len(disqualified), "winner": sorted(members), "disqualified": sorted(disqualified)}


def _lowest_facts(p: Process):
    if p.cancelled or p.award_undecided("RISK-LOWEST-DISQUALIFIED") or p.row["criteria"] not in param("RISK-LOWEST-DISQUALIFIED", "price_only_criteria"):
        return
    priced = [b for b in p.submitted if b["amount"] is not None]
    main = param("RISK-LOWEST-DISQUALIFIED", "currency")
    if not priced or any(b["currency"] != main for b in priced):
        return
    low = min(b["amount"] for b in priced)
    lowest = [b for b in priced if b["amount"] == low]
    yield {"t": "lowest", "id": f"lowest|{p.node}", "record": p.record, "node": p.node,
           "active_awards": len(p.active), "lowest_disqualified": int(all(b["status"] == "disqualified" for b in lowest)),
           "bid": "、".join(b["b"].rsplit("/", 1)[-1] for b in lowest), "amount": str(low), "currency": main,
           "tenderers": sorted({t for b in lowest for t in b["tenderers"]}), "criteria": p.row["criteria"]}


def margin(p: Process, currency: str) -> tuple[Decimal, dict, dict] | None:
    """(second-lowest valid - winning) / winning, with the two bids; None where Cardinal excludes the process."""
    if p.cancelled or p.award_undecided("RISK-WINNING-MARGIN-LOW") or len(p.active) != 1 or len(p.active[0]["suppliers"]) != 1:
        return None
    valid = [b for b in p.submitted if b["status"] == "valid"]
    if any(len(b["tenderers"]) != 1 for b in p.submitted) or len(valid) < 2:
        return None
    if any(b["amount"] is None or b["currency"] != currency for b in valid):
        return None
    supplier = p.active[0]["suppliers"][0]
    won = [b for b in valid if b["tenderers"][0] == supplier]
    if len(won) != 1:
        return None
    win = won[0]
    others = sorted((b for b in valid if b is not win), key=lambda b: b["amount"])
    if win["amount"] <= 0 or others[0]["amount"] < win["amount"]:
        return None  # the winning bid is not the lowest: the award criteria were not price only
    return (others[0]["amount"] - win["amount"]) / win["amount"], win, others[0]


_MARGINS = "winning-margins"  # a code of the outlier-population list (ontology/codes.ttl)


def contribution(p: Process) -> dict:
    """What one process adds to the population's tallies, as plain data (JSON: rules/cardinal_tallies.py
    keeps it in the store per record, so a check of a few records reads the rest from there), each
    organisation's key written once: "m" its winning margin; "t" per tenderer [submitted bids,
    disqualified bids, valid bids that count for the win rate, wins]; "b" and "e" the buyer's and
    the procuring entity's [key, submitted bids, disqualified bids]; "v" per supplier the first
    levels of its items' classes. The process counts once for each organisation with a submitted
    bid in it. Empty keys are left out."""
    out: dict = {}
    x = p.winning_margin
    if x is not None:
        out["m"] = float(x[0])
    counts = _disq_rate(p)
    tenderers = {t: [*c, 0, 0] for t, c in counts.pop("tenderer", {}).items()}
    for t, bids_wins in _win_rate(p).items():
        tenderers.setdefault(t, [0, 0, 0, 0])[2:] = bids_wins
    if tenderers:
        out["t"] = tenderers
    for key, kind in _OWNERS:
        for who, c in counts.get(kind, {}).items():
            out[key] = [who, *c]
    if (v := {s: classes for s, classes in _variety(p).items() if classes}):
        out["v"] = v
    return out


def own(p: Process) -> dict:
    """What a check of this process reads of it beyond its contribution, as plain data (JSON, kept
    beside it: rules/cardinal_tallies.py): its record "r" and node "n", its own facts "f" (as the
    rules engine reads them), the organisations it involves "i" (whose per-organisation flags a
    check of it reports), and for a winning margin the winning and second bids "mw"."""
    out = {"r": p.record, "n": p.node,
           "f": [*_period_facts(p), *_late_facts(p), *_disqualification_facts(p), *_lowest_facts(p)],
           "i": sorted({t for b in p.bids for t in b["tenderers"]} | {s for a in p.awards for s in a["suppliers"]}
                       | {x for x in (p.row["buyer"], p.row["pe"]) if x})}
    x = p.winning_margin
    if x is not None:
        out["m"] = float(x[0])
        out["mw"] = [{"bid": b["b"].rsplit("/", 1)[-1], "tenderer": b["tenderers"][0], "amount": str(b["amount"])}
                     for b in x[1:]]
    return out


# The contribution's keys of a process's own organisations, and their roles.
_OWNERS = (("b", "buyer"), ("e", "procuringEntity"))


def _win_rate(p: Process) -> dict[str, list[int]]:
    if p.cancelled or p.award_undecided("RISK-LOW-WIN-RATE") or len(p.active) > 1 or any(len(a["suppliers"]) > 1 for a in p.active):
        return {}
    if any(len(b["tenderers"]) != 1 for b in p.submitted):
        return {}
    winners = p.winners
    out: dict[str, list[int]] = {}
    for b in p.submitted:
        if b["status"] == "valid":
            t = b["tenderers"][0]
            c = out.setdefault(t, [0, 0])
            c[0] += 1
            c[1] += int(t in winners)
    return out


def _disq_rate(p: Process) -> dict[str, dict[str, list[int]]]:
    if p.cancelled:
        return {}
    out: dict[str, dict[str, list[int]]] = {}
    for b in p.submitted:
        dq = int(b["status"] == "disqualified")
        owners = [("buyer", p.row["buyer"]), ("procuringEntity", p.row["pe"])]
        owners += [("tenderer", t) for t in b["tenderers"]]
        for kind, who in owners:
            if who is None:
                continue
            c = out.setdefault(kind, {}).setdefault(who, [0, 0])
            c[0] += 1
            c[1] += dq
    return out


def _variety(p: Process) -> dict[str, list[str]]:
    if p.cancelled:
        return {}
    n = param("RISK-HETEROGENEOUS-SUPPLIER", "prefix_length")
    tender_items = {c for owner, cs in p.items.items() if owner.endswith("/tender") for c in cs}
    out: dict[str, set[str]] = defaultdict(set)
    for a in p.active:
        if len(a["suppliers"]) != 1:
            continue
        out[a["suppliers"][0]] |= {c[:n] for c in (p.items.get(a["a"]) or tender_items)}
    return {s: sorted(v) for s, v in out.items()}


@dataclass
class Tallies:
    """What the outlier flags need of the whole population, added one process (or one process's
    stored contribution) at a time: the winning margins (with the bids of those under check), and
    per organisation its valid bids and wins, its submitted and disqualified bids and processes per
    role, and its classes of items."""
    under: set[str] = field(default_factory=set)    # records under check
    margins: list[float] = field(default_factory=list)
    margins_under: dict[str, tuple] = field(default_factory=dict)   # node -> (record, margin, win, second bid)
    involved: set[str] = field(default_factory=set)    # organisations the processes under check involve
    bids: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wins: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # role -> who -> [submitted bids, disqualified bids, contracting processes]
    counts: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: {kind: defaultdict(lambda: [0, 0, 0]) for kind in ("buyer", "procuringEntity", "tenderer")})
    variety: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def of(cls, procs, under: set[str] = frozenset()) -> "Tallies":
        t = cls(set(under))
        for p in procs:
            t.add(p)
        return t

    def add(self, p: Process) -> list[dict]:
        """Add a process; for one under check, its facts."""
        self.add_contribution(contribution(p))
        return self.add_own(own(p)) if p.record in self.under else []

    def add_own(self, o: dict) -> list[dict]:
        """What a check reads of a process (own): for one under check, its facts (returned), the
        organisations it involves and its winning margin's bids."""
        if o["r"] not in self.under:
            return []
        self.involved.update(o["i"])
        if "mw" in o:
            self.margins_under[o["n"]] = (o["r"], o["m"], *o["mw"])
        return o["f"]

    def add_contribution(self, c: dict) -> None:
        if "m" in c:
            self.margins.append(c["m"])
        for t, (submitted, disqualified, bids, wins) in c.get("t", {}).items():
            if submitted:
                self._count("tenderer", t, submitted, disqualified)
            if bids:
                self.bids[t] += bids
                self.wins[t] += wins
        for key, kind in _OWNERS:
            if key in c:
                self._count(kind, *c[key])
        for s, classes in c.get("v", {}).items():
            self.variety[s].update(classes)

    def _count(self, kind: str, who: str, submitted: int, disqualified: int) -> None:
        n = self.counts[kind][who]
        n[0] += submitted
        n[1] += disqualified
        n[2] += 1

    # -- the facts, once every process was added ----------------------------------------------

    def margin_facts(self, skipped: dict | None = None):
        currency = param("RISK-WINNING-MARGIN-LOW", "currency")
        concerned = bool(self.margins_under)
        low = fences(self.margins, "RISK-WINNING-MARGIN-LOW", skipped, _MARGINS, concerned)
        high = fences(self.margins, "RISK-HEAVY-DISCOUNT", skipped, _MARGINS, concerned)
        for node in sorted(self.margins_under):
            record, diff, win, second = self.margins_under[node]
            yield {"t": "margin", "id": f"margin|{node}", "record": record, "node": node,
                   "low": int(low is not None and low.low(float(diff))),
                   "high": int(high is not None and high.high(float(diff))),
                   "margin": round(float(diff), 4), "currency": currency,
                   "winningBid": dict(win), "secondBid": dict(second),
                   "lowFences": low.as_dict(_MARGINS) if low else None,
                   "highFences": high.as_dict(_MARGINS) if high else None}

    def win_rate_facts(self, involved: set[str], skipped: dict | None = None):
        bids, wins = self.bids, self.wins
        if not bids:
            return
        ratios = {t: wins[t] / n for t, n in bids.items()}
        f = fences(list(ratios.values()), "RISK-LOW-WIN-RATE", skipped, "tenderers-valid-bids",
                   bool(ratios.keys() & involved))
        if f is None:
            return
        top = _percentile(list(bids.values()), param("RISK-LOW-WIN-RATE", "top_percentile"))
        for t in sorted(set(ratios) & involved):
            yield {"t": "winrate", "id": f"winrate|{t}", "record": t, "tenderer": t, "top": int(bids[t] >= top),
                   "low": int(f.low(ratios[t])), "ratio": round(ratios[t], 4), "wins": wins[t], "validBids": bids[t],
                   "topTendererFence": top, "fences": f.as_dict("tenderers-valid-bids")}

    def disq_rate_facts(self, involved: set[str], skipped: dict | None = None):
        for kind, by in self.counts.items():
            if kind == "tenderer":
                eligible = {w: c for w, c in by.items() if c[0] >= param("RISK-DISQUALIFICATION-RATE", "min_submitted_bids")}
            else:
                eligible = {w: c for w, c in by.items()
                            if c[2] >= param("RISK-DISQUALIFICATION-RATE", "min_contracting_processes")}
            f = fences([c[1] / c[0] for c in eligible.values()], "RISK-DISQUALIFICATION-RATE", skipped,
                       kind, bool(eligible.keys() & involved))
            if f is None:
                continue
            for who in sorted(eligible.keys() & involved):
                c = eligible[who]
                yield {"t": "disqrate", "id": f"disqrate|{kind}|{who}", "record": who, "party": who, "role": kind,
                       "high": int(f.high(c[1] / c[0])), "ratio": round(c[1] / c[0], 4),
                       "disqualified": c[1], "submitted": c[0],
                       "fences": f.as_dict(kind)}

    def variety_facts(self, involved: set[str], skipped: dict | None = None):
        variety = {t: v for t, v in self.variety.items() if v}
        f = fences([len(v) for v in variety.values()], "RISK-HETEROGENEOUS-SUPPLIER", skipped,
                   "suppliers-classified-items", bool(variety.keys() & involved))
        if f is None:
            return
        for t in sorted(variety.keys() & involved):
            yield {"t": "variety", "id": f"variety|{t}", "record": t, "tenderer": t,
                   "high": int(f.high(len(variety[t]))), "count": len(variety[t]), "classes": sorted(variety[t]),
                   "fences": f.as_dict("suppliers-classified-items")}


def counting() -> str:
    """The fingerprint of what counting a record reads besides its triples: the parameters of every
    flag of this module (its facts read some, its contribution others), the bid statuses that are
    not submitted, and the text of this module, rules/common.py and the store's conversion of terms
    to values (a change to how a process is read or counted makes every stored entry stale: each is
    counted again, by the next load or server start, or by the check that needs it)."""
    return cardinal_tallies.fingerprint({
        "params": {rule_id: rule.param_values() for rule_id, rule in sorted(catalogue().items())
                   if "rules/cardinal.py" in rule.implementation},
        "notSubmitted": sorted(NOT_SUBMITTED), "code": _CODE})


# The counting code as imported (read once: a file edited under a running process is not the code it runs).
_CODE = [hashlib.sha256(path.read_bytes()).hexdigest() for path in (
    Path(__file__), Path(__file__).with_name("common.py"), Path(python_rows.__code__.co_filename))]


def remember(store) -> int:
    """Count and store the contributions of every OCDS record whose stored entry is missing or stale
    (all of them under other parameters than the stored entries'); returns how many were counted.
    For a store whose records were written without their counts: by an earlier version, by a load
    killed between a batch and its counts, by another tool."""
    under = counting()
    found = cardinal_tallies.uncounted(store, {g for g, _ in cardinal_tallies.entries(store, under)})
    digest_of = {node.value: (g.value, digest) for g, _, node, digest in found}
    for page in _pages(store, [(g, record, node) for g, record, node, _ in found]):
        cardinal_tallies.write(store, {digest_of[p.node][0]: (digest_of[p.node][1], contribution(p), own(p))
                                       for p in page}, under)
    return len(found)


def remember_missing(store) -> int:
    """`remember`, when the counts say a record may have no entry (a load killed between a batch and
    its counts, a store an earlier version loaded): what a load does at its end, having counted
    each batch it wrote, and a server start, as derived.ensure derives what a store lacks. A record
    rewritten by another writer keeps its stale entry, which no check uses: they count it from its
    triples, correct and slower, until `remember` is run."""
    return remember(store) if cardinal_tallies.any_missing(store, counting()) else 0


def remember_records(store, records: Sequence[Record]) -> None:
    """Count and store the contributions of these records as they were just written, from their
    triples in memory (as loaded, before the store has them in a page): at 10^4 projects reading
    them back (unpacking, picking the lines, parsing) was 5 of the 13 s counting took."""
    ocds = [r for r in records if r.kind == "ocds" and r.focus is not None]
    if not ocds:
        return
    mem = Store()
    mem.extend([Quad(s, p, o, r.graph.graph) for r in ocds for s, p, o in r.graph.triples if p in _PREDICATE_NODES])
    of = {r.focus.value: r for r in ocds}
    cardinal_tallies.write(store, {of[p.node].graph.graph.value: (of[p.node].digest, contribution(p), own(p))
                                   for p in _page_processes(mem, [(r.graph.graph, r.id, r.focus) for r in ocds])},
                           counting())


def _facts(ctx, under: set[str], skipped: dict):
    """The facts, streamed: those of the processes under check, then the outlier facts of the whole
    population (their fences need every process) into `skipped` where they cannot run.

    Every record's part is read as counted when it was written (rules/cardinal_tallies.py), where
    its entry matches its current version: its contribution to the populations, and for a record
    under check what the check reads of it (own). A record without a matching entry is counted from
    its triples, a page of records at a time (_pages). A check of the whole store at 10^5 projects
    counted every record so, ~100 s of CPU; a check of one record read every record so too."""
    tallies = Tallies(under)
    counted: set[str] = set()
    for g, c in cardinal_tallies.entries(ctx.store, counting()):
        counted.add(g)
        tallies.add_contribution(c)
    mine = {r.graph.graph.value: (r.graph.graph, r.id, r.focus) for r in records(ctx, "ocds") if r.focus is not None}
    read_own: set[str] = set()
    for g, o in cardinal_tallies.owns(ctx.store, None if ctx.covers_store() else sorted(mine.keys() & counted)):
        if g in counted and g in mine:
            read_own.add(g)
            yield from tallies.add_own(o)
    # Counted, but what a check reads of it is missing (written by a version without it): that part
    # from the triples, the contribution being in already.
    for page in _pages(ctx.store, [mine[g] for g in sorted(mine.keys() & counted - read_own)]):
        for p in page:
            yield from tallies.add_own(own(p))
    uncounted = cardinal_tallies.uncounted(ctx.store, counted)
    for page in _pages(ctx.store, [(g, record, node) for g, record, node, _ in uncounted]):
        for p in page:
            yield from tallies.add(p)
    yield from tallies.margin_facts(skipped)
    yield from tallies.win_rate_facts(tallies.involved, skipped)
    yield from tallies.disq_rate_facts(tallies.involved, skipped)
    yield from tallies.variety_facts(tallies.involved, skipped)


def check(ctx):
    recs = records(ctx, "ocds")
    if not recs:
        return []
    skipped: dict[str, dict] = {}
    fired = engine.run("cardinal", _rules, _facts(ctx, {r.id for r in recs}, skipped))
    # Said once per check, on the first record under check: the flag did not run, and why.
    first = min(r.id for r in recs)
    out = [findings.make("RISK-OUTLIER-NOT-RUN", first, None, e) for _, e in sorted(skipped.items())]
    # Organisation names, read once for the per-organisation flags that fired.
    known = names(ctx.store, (f.m[key] for f in fired for key in ("tenderer", "party") if key in f.m))
    for f in fired:
        x = dict(f.m)
        node = x.pop("node", None)
        record = x.pop("record")
        for k in ("t", "id", "low", "high", "late", "top", "winner_is_valid", "lowest_disqualified"):
            x.pop(k, None)
        if f.rule == "RISK-WINNING-MARGIN-LOW":
            x["fences"] = x.pop("lowFences")
            x.pop("highFences")
            x["fence"] = x["fences"]["lowerFence"]
        elif f.rule == "RISK-HEAVY-DISCOUNT":
            x["fences"] = x.pop("highFences")
            x.pop("lowFences")
            x["fence"] = x["fences"]["upperFence"]
        elif "fences" in x:
            x["fence"] = x["fences"]["lowerFence" if f.rule == "RISK-LOW-WIN-RATE" else "upperFence"]
        shown = {}
        for key in ("tenderer", "party"):  # per-organisation flags: named by name and id
            if key in x:
                x[key + "Name"] = known.get(x[key])
                shown[key] = _named(x[key], known)
        out.append(findings.make(f.rule, record, node, x, **shown))
    return out
