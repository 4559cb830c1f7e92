"""Win tallies, derived at load into the graph urn:prtkg:tally:wins: per buyer and supplier, the
buyer's active awards the supplier won (prtkg:winCount) and the supplier's rank among the buyer's
suppliers (prtkg:winRank, 1 + how many of them won more; ties share a rank).

Why derived rather than asked: ranking needs the per-pair count twice (once per supplier, once per
level of wins), and SPARQL evaluates a sub-SELECT once per mention. Over the union default graph
each count joins three patterns per award: at 10^5 projects the saved question
`top-winners-per-buyer` answered in no time limit (two aggregates of 5-10 s each, in process). Read
from the tallies it is three property scans joined (10^4 projects: 6.6 s -> 1.1 s through /sparql).
Counting them at load: 8-13 s at 10^4 projects (machine under load).

Like prtkg/inference.py the tallies are computed by the store (SPARQL updates: the same text on the
embedded store and on a server), rewritten whole at the end of a load and, after a write of a few
records, again for the buyers those records mention (their old and new versions). The source is
every graph read as one, as the question reads them at /sparql. The graph is
staff-wide (as urn:prtkg:inferred:records): a caller confined to a division does not see it, and
the question then counts that division's awards itself (its text says how).
"""
from __future__ import annotations

from typing import Iterable

from . import codes

TALLY_GRAPH = "urn:prtkg:tally:wins"
_T = f"<{TALLY_GRAPH}>"


# One node per buyer (prtkg:tallyBuyer), and under it one entry per supplier (prtkg:tallyOf the
# buyer's node): the question groups its rows by buyer by sorting on the node, which costs nothing,
# where sorting on the buyer's IRI reads its text from the store at every comparison (0.7 s per
# 10^4 rows and key).
_BUYER_TEMPLATE = "_:buyer prtkg:tallyBuyer ?buyer"
_BUYERS_WHERE = """{{ SELECT DISTINCT ?buyer WHERE {{
  GRAPH ?g1 {{ {only} ?project prtkg:buyer ?buyer }}
  {lat}GRAPH ?g2 {{ ?project prtkg:hasAward ?award }}{end}
}} }}"""

# A buyer's active awards by supplier, every graph read as one, as the union default graph of
# /sparql (a project, its awards and their status may be described in several graphs; COUNT
# DISTINCT counts each award once). An award without a status counts as active.
_COUNT_TEMPLATE = "_:entry prtkg:tallyOf ?node ; prtkg:tallySupplier ?supplier ; prtkg:winCount ?wins"
_COUNT = """GRAPH {t} {{ ?node prtkg:tallyBuyer ?buyer }}
{{
  SELECT ?buyer ?supplier (COUNT(DISTINCT ?award) AS ?wins) WHERE {{
    GRAPH ?g1 {{ {only} ?project prtkg:buyer ?buyer }}
    {lat}GRAPH ?g2 {{ ?project prtkg:hasAward ?award }}{end}
    {lat}GRAPH ?g3 {{ ?award prtkg:supplier ?supplier }}{end}
    {lat}OPTIONAL {{ GRAPH ?g4 {{ ?award prtkg:status ?status }} }}{end}
    FILTER(!BOUND(?status) || ?status IN ({{codes:award-status/effective}}))
  }} GROUP BY ?buyer ?supplier
}}"""
_COUNT = codes.fill(_COUNT)     # the award statuses that count as won: ontology/codes.ttl

# An entry's rank: 1 + the suppliers of its buyer at each higher level of wins. Counted level against
# level (how many suppliers share each number of wins), not supplier against supplier, which for a
# buyer with thousands of suppliers is millions of pairs. Each level is paired with itself too, so
# every entry has a row to sum.
_RANK_TEMPLATE = "?entry prtkg:winRank ?rank"
_RANK = """{{
  SELECT ?entry (SUM(IF(?above > ?wins, ?suppliers, 0)) + 1 AS ?rank) WHERE {{
    GRAPH {t} {{ {only} ?node prtkg:tallyBuyer ?buyer . ?entry prtkg:tallyOf ?node ; prtkg:winCount ?wins }}
    {lat}{{ SELECT ?node (?level AS ?above) (COUNT(?other) AS ?suppliers) WHERE {{
         GRAPH {t} {{ {only} ?node prtkg:tallyBuyer ?buyer . ?other prtkg:tallyOf ?node ; prtkg:winCount ?level }}
       }} GROUP BY ?node ?level }}
    FILTER(?above >= ?wins)
  }} GROUP BY ?entry
}}"""

_DROP = """DELETE {{ GRAPH {t} {{ ?node prtkg:tallyBuyer ?buyer . ?entry ?p ?o }} }}
WHERE {{ {only} GRAPH {t} {{ ?node prtkg:tallyBuyer ?buyer OPTIONAL {{ ?entry prtkg:tallyOf ?node ; ?p ?o }} }} }}"""

# The buyers whose tallies a change of these graphs can change: buyers the graphs name, and buyers
# of the projects or awards the graphs describe (a record may set an award's status or supplier).
_BUYERS = """SELECT DISTINCT ?buyer WHERE {{
  VALUES ?g {{ {graphs} }}
  {{ GRAPH ?g {{ ?x prtkg:buyer ?buyer }} }}
  UNION {{ GRAPH ?g {{ ?award ?p ?o }} GRAPH ?h {{ ?x prtkg:hasAward ?award }} GRAPH ?k {{ ?x prtkg:buyer ?buyer }} }}
  UNION {{ GRAPH ?g {{ ?x prtkg:hasAward ?award }} GRAPH ?k {{ ?x prtkg:buyer ?buyer }} }}
}}"""


def _steps(store, only: str) -> list[tuple[str, str]]:
    """(template, pattern) of the counting, then the ranking, of the buyers `only` names (a VALUES
    ?buyer; empty: all). For a few buyers each pattern after the first is evaluated for the rows
    before it (LATERAL, where the store parses it: prtkg/rdf.py in_dialect), not over the whole
    store and joined."""
    # Without LATERAL the patterns stay plain joins and a plain OPTIONAL: braced, `{ OPTIONAL {..} }`
    # is an OPTIONAL of nothing, every award status of the store, joined after (a whole count at 10^4
    # projects: 56 s where the plain text takes well under one).
    lateral = bool(only) and getattr(store, "lateral", False)
    lat, end = ("LATERAL { ", " }") if lateral else ("", "")
    return [(_BUYER_TEMPLATE, _BUYERS_WHERE.format(only=only, lat=lat, end=end)),
            (_COUNT_TEMPLATE, _COUNT.format(t=_T, only=only, lat=lat, end=end)),
            (_RANK_TEMPLATE, _RANK.format(t=_T, only=only, lat="LATERAL " if lateral else ""))]


def materialise(store) -> None:
    """Rewrite the tallies of every buyer (Store.insert_where: on disk, one bulk write per step)."""
    store.remove_graph(TALLY_GRAPH)
    for template, where in _steps(store, ""):
        store.insert_where(TALLY_GRAPH, template, where)


def refresh(store, buyers: set[str]) -> None:
    """Recount the tallies of these buyers: one update, dropping and writing them (a bulk write per
    step, as materialise does, cost 0.1 s each on disk whatever its size: a refresh of one buyer
    took 0.3 s at 320 projects; as one update, milliseconds)."""
    if not buyers:
        return
    only = "VALUES ?buyer { " + " ".join(f"<{b}>" for b in sorted(buyers)) + " }"
    store.update(" ;\n".join([_DROP.format(t=_T, only=only)] + [
        f"INSERT {{ GRAPH {_T} {{ {template} }} }} WHERE {{ {where} }}" for template, where in _steps(store, only)]))


def buyers(store, graphs: Iterable[str]) -> set[str]:
    graphs = list(graphs)
    if not graphs:
        return set()
    rows = store.select(_BUYERS.format(graphs=" ".join(f"<{g}>" for g in graphs)))
    return {r["buyer"] for r in rows}


def is_current(store) -> bool:
    """Counted already (a store from before the tallies, or a load killed before its end, has none)."""
    return store.ask(f"ASK {{ GRAPH {_T} {{ ?s ?p ?o }} }}")


def has_input(store) -> bool:
    return store.ask("ASK { GRAPH ?g { ?x prtkg:hasAward ?a } }")
