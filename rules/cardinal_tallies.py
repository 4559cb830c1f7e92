"""Cardinal's population, counted once per record and kept in the store (graph urn:prtkg:tally:cardinal):
for each OCDS record graph, what its contracting process adds to the outlier flags' tallies
(rules/cardinal.py `contribution`: its winning margin, its tenderers' valid bids and wins, its
submitted and disqualified bids per role and organisation, its suppliers' item classes) as one JSON
literal, which names the content digest of the version it was counted from ("digest"); and, for
the graph, a fingerprint of the parameters the counting read.

Why: the outlier fences need every process in the store, so a check of a few records (a posted
record, each batch a load checks) read the whole population, ~100 s of CPU at 10^5 projects and
linear in the store. From here it reads one literal per record, and counts again only its own
records and any whose entry is missing or was counted from another version.

Trusted only where it matches: an entry whose digest is not its record's current one, or a graph
counted under other parameters, is ignored, and the check counts that record from its triples. So a
writer that forgets to `remember` makes checks slower, never wrong. Written by the application after
each write of records (app/ingest.py, api/records.py), never by a check, which may run on a
read-only checkpoint. The graph is no record's: a caller confined to a division does not see it
(prtkg/jurisdiction.py visible_graphs).
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable, Mapping

from pyoxigraph import Literal, NamedNode, Quad

from prtkg import rdf

GRAPH = "urn:prtkg:tally:cardinal"
_G = NamedNode(GRAPH)
_TALLY, _PARAMS = (NamedNode(rdf.PRTKG + name) for name in ("cardinalTally", "tallyParams"))
# Entries per update: a few MB of text, as a server takes it.
_WRITE_BATCH = 2000

# Read as two scans of one pattern each, compared in Python: joined in the store (a lookup of the
# record's digest per entry) they took 10.6 s of CPU at 10^5 projects, scanned 0.4 s and 1.1 s.
_ENTRIES = f"SELECT ?g ?tally WHERE {{ GRAPH {_G} {{ ?g {_TALLY} ?tally }} }}"
_CURRENT = "SELECT ?g ?d WHERE { GRAPH ?g { ?g prtkg:contentDigest ?d } }"
_OCDS_COUNT = 'SELECT (COUNT(?g) AS ?n) WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" } }'
_OCDS = 'SELECT ?g ?record ?p WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?p } }'
_RECORDS = """SELECT ?g ?record ?p WHERE {{ VALUES ?g {{ {graphs} }}
  GRAPH ?g {{ ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?p }} }}"""
_DIGESTS = "SELECT ?g ?d WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?g prtkg:contentDigest ?d }} }}"


def fingerprint(params: Mapping) -> str:
    """What the entries were counted under: a digest of the parameters and code lists counting read."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=sorted).encode()).hexdigest()[:32]


def counted_under(store, under: str) -> bool:
    """True when the stored entries were counted under the fingerprint `under`."""
    values = [row["f"] for row in store.select(f"SELECT ?f WHERE {{ GRAPH {_G} {{ {_G} {_PARAMS} ?f }} }}")]
    return values == [under]


def read(store, under: str) -> dict[str, dict]:
    """Record graph -> its stored contribution, for the entries that match (the record's version,
    the parameters `under`); empty when the graph was counted under other parameters."""
    if not counted_under(store, under):
        return {}
    current = {row["g"]: row["d"] for row in store.stream(_CURRENT)}
    out = {}
    for row in store.stream(_ENTRIES):
        c = json.loads(row["tally"])
        if c.pop("digest", None) == current.get(row["g"]):
            out[row["g"]] = c
    return out


def uncounted(store, counted: Iterable[str]) -> list[tuple[NamedNode, str, NamedNode]]:
    """(graph, record id, main node) of the OCDS records not in `counted` (the graphs `read` gave):
    none without a scan when the numbers agree, since an entry matches only a stored OCDS record."""
    counted = set(counted)
    total = next(iter(store.select(_OCDS_COUNT)))["n"]
    if total <= len(counted):
        return []
    return [(NamedNode(r["g"]), r["record"], NamedNode(r["p"])) for r in store.stream(_OCDS) if r["g"] not in counted]


def ocds_records(store, graphs: Iterable[str]) -> list[tuple[NamedNode, str, NamedNode]]:
    """(graph, record id, main node) of the OCDS records among these graphs."""
    graphs = sorted(set(graphs))
    out = []
    for i in range(0, len(graphs), _WRITE_BATCH):
        values = " ".join(f"<{g}>" for g in graphs[i:i + _WRITE_BATCH])
        out += [(NamedNode(r["g"]), r["record"], NamedNode(r["p"])) for r in store.select(_RECORDS.format(graphs=values))]
    return out


def write(store, contributions: Mapping[str, dict], under: str) -> None:
    """Store these graphs' contributions (graph -> contribution), each with its record's current
    digest, replacing what the graph had; under another fingerprint, every entry is dropped first."""
    if not counted_under(store, under):
        store.remove_graph(GRAPH)
        store.add_quads([Quad(_G, _PARAMS, Literal(under), _G)])
    graphs = sorted(contributions)
    for i in range(0, len(graphs), _WRITE_BATCH):
        some = graphs[i:i + _WRITE_BATCH]
        values = " ".join(f"<{g}>" for g in some)
        digests = {r["g"]: r["d"] for r in store.select(_DIGESTS.format(graphs=values))}
        store.update(f"DELETE {{ GRAPH {_G} {{ ?g ?p ?o }} }} WHERE {{ VALUES ?g {{ {values} }} GRAPH {_G} {{ ?g ?p ?o }} }}")
        store.add_quads([Quad(NamedNode(g), _TALLY, Literal(json.dumps(
            {**contributions[g], "digest": digests[g]}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)), _G)
            for g in some if g in digests])

