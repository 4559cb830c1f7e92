"""Cardinal's population, counted once per record and kept in the store (graph urn:prtkg:tally:cardinal).
For each OCDS record graph two JSON literals: what its contracting process adds to the outlier
flags' populations (prtkg:cardinalTally; rules/cardinal.py `contribution`: its winning margin, its
tenderers' valid bids and wins, its submitted and disqualified bids per role and organisation, its
suppliers' item classes), naming the content digest of the version it was counted from ("digest");
and what a check of that record reads of it (prtkg:cardinalOwn; `own`: its facts, the
organisations it involves, its winning margin's bids). For the graph, a fingerprint of the
parameters and the counting code.

Why: the outlier fences need every process in the store, so a check of a few records (a posted
record, each part a load checks) read the whole population, ~100 s of CPU at 10^5 projects and
linear in the store; a check of the whole store counted every record so too.

Trusted only where it matches: an entry whose digest is not its record's current one, or a graph
counted under another fingerprint, is ignored, and the check counts that record from its triples.
So a writer that does not count makes checks slower, never wrong. Written by the application as it
writes records (app/ingest.py, api/records.py; a server start counts what is missing), never by a
check, which may run on a read-only checkpoint. The graph is no record's: a caller confined to a
division does not see it (prtkg/jurisdiction.py visible_graphs).
"""
from __future__ import annotations

import hashlib
import json
from typing import Iterable, Iterator, Mapping, Sequence

from pyoxigraph import Literal, NamedNode, Quad

from prtkg import rdf

from .common import iri_values

GRAPH = "urn:prtkg:tally:cardinal"
_G = NamedNode(GRAPH)
_TALLY, _OWN, _PARAMS = (NamedNode(rdf.PRTKG + name) for name in ("cardinalTally", "cardinalOwn", "tallyParams"))
# Entries per update: a few MB of text, as a server takes it.
_WRITE_BATCH = 2000

# Read as two scans of one pattern each, compared in Python: joined in the store (a lookup of the
# record's digest per entry) they took 10.6 s of CPU at 10^5 projects, scanned 0.4 s and 1.1 s.
_ENTRIES = f"SELECT ?g ?tally WHERE {{ GRAPH {_G} {{ ?g {_TALLY} ?tally }} }}"
_OWNS = f"SELECT ?g ?own WHERE {{ %s GRAPH {_G} {{ ?g {_OWN} ?own }} }}"
_CURRENT = "SELECT ?g ?d WHERE { GRAPH ?g { ?g prtkg:contentDigest ?d } }"
_OCDS_COUNT = 'SELECT (COUNT(?g) AS ?n) WHERE { GRAPH ?g { ?g prtkg:recordKind "ocds" } }'
_ENTRY_COUNT = f"SELECT (COUNT(?g) AS ?n) WHERE {{ GRAPH {_G} {{ ?g {_TALLY} ?tally }} }}"
_OCDS = """SELECT ?g ?record ?p ?d WHERE { GRAPH ?g {
  ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?p ; prtkg:contentDigest ?d } }"""


def fingerprint(params: Mapping) -> str:
    """What the entries were counted under: a digest of the parameters and code lists counting read."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=sorted).encode()).hexdigest()[:32]


def counted_under(store, under: str) -> bool:
    """True when the stored entries were counted under the fingerprint `under`."""
    values = [row["f"] for row in store.select(f"SELECT ?f WHERE {{ GRAPH {_G} {{ {_G} {_PARAMS} ?f }} }}")]
    return values == [under]


def entries(store, under: str) -> Iterator[tuple[str, dict]]:
    """(record graph, its stored contribution) for each entry that matches (the record's current
    version, the parameters `under`), streamed; none when the graph was counted under other
    parameters. Memory: the records' digests, not their entries."""
    if not counted_under(store, under):
        return
    current = {row["g"]: row["d"] for row in store.stream(_CURRENT)}
    for row in store.stream(_ENTRIES):
        c = json.loads(row["tally"])
        if c.pop("digest", None) == current.get(row["g"]):
            yield row["g"], c


def any_missing(store, under: str) -> bool:
    """Whether some OCDS record may have no entry: counted under other parameters, or fewer entries
    than records. Two counts (0.2 s at 10^5 projects, where reading the entries takes 11 s); an
    entry of an older version of its record is not seen here (`entries` leaves it out)."""
    return not counted_under(store, under) or _count(store, _ENTRY_COUNT) < _count(store, _OCDS_COUNT)


def _count(store, query: str) -> int:
    return next(iter(store.select(query)))["n"]


def owns(store, graphs: Sequence[str] | None) -> Iterator[tuple[str, dict]]:
    """(record graph, what a check reads of its process: rules/cardinal.py own) for these graphs, or
    every graph, streamed. Written with the graph's contribution and dropped with it, so it is as
    current as the contribution is: the caller keeps those of the graphs `entries` gave."""
    if graphs is None:
        pages: Iterable[str] = [""]
    else:
        graphs = sorted(graphs)
        pages = [iri_values("g", graphs[i:i + _WRITE_BATCH]) for i in range(0, len(graphs), _WRITE_BATCH)]
    for values in pages:
        for row in store.stream(_OWNS % values):
            yield row["g"], json.loads(row["own"])


def uncounted(store, counted: Iterable[str]) -> list[tuple[NamedNode, str, NamedNode, str]]:
    """(graph, record id, main node, digest) of the OCDS records not in `counted` (the graphs `entries`
    gave): none without a scan when the numbers agree, since an entry matches only a stored OCDS record."""
    counted = set(counted)
    if _count(store, _OCDS_COUNT) <= len(counted):
        return []
    return [(NamedNode(r["g"]), r["record"], NamedNode(r["p"]), r["d"]) for r in store.stream(_OCDS)
            if r["g"] not in counted]


def write(store, entries: Mapping[str, tuple[str, dict, dict]], under: str) -> None:
    """Store these graphs' entries (graph -> (its record's digest, its contribution, what a check
    reads of it)), replacing what each graph had: the old dropped, then the two new literals added
    in one write, so a graph never has one without the other; under another fingerprint than the
    stored one, every entry is dropped first."""
    if not counted_under(store, under):
        store.remove_graph(GRAPH)
        store.add_quads([Quad(_G, _PARAMS, Literal(under), _G)])
    graphs = sorted(entries)
    for i in range(0, len(graphs), _WRITE_BATCH):
        some = graphs[i:i + _WRITE_BATCH]
        store.update(f"DELETE {{ GRAPH {_G} {{ ?g ?p ?o }} }} WHERE {{ {iri_values('g', some)} GRAPH {_G} {{ ?g ?p ?o }} }}")
        store.add_quads([q for g in some for q in (
            Quad(NamedNode(g), _TALLY, _json({**entries[g][1], "digest": entries[g][0]}), _G),
            Quad(NamedNode(g), _OWN, _json(entries[g][2]), _G))])


def _json(value: dict) -> Literal:
    # Key order kept: the facts' evidence is shown in the order the rule family wrote it.
    return Literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
