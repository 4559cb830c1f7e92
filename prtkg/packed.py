"""Each record's own triples packed beside them (prtkg:packedContent, a provenance triple of its graph):
N-Quads (each line names the record's graph), deflated, written in Base64.

Why a second copy: bulk validation (shapes/bulk.py) copies every record under check into a scratch
store, and reading a graph out of the on-disk store costs decoding each of its terms, one RocksDB
lookup per IRI or long literal. At 10^5 projects that was 4.4 s CPU of the 8.3 s a page of 2,000
records cost (428k quads, ~10 us each), more than the compiled queries (1.1 s) and the context
together. The packed copy of the same page is one lookup per record, ~4.2 KB a record in Base64
where its N-Triples are 28 KB (deflate level 1: 0.06 ms a record to unpack); the store of 10^5
projects grew from 7.0 to 7.5 GB. N-Quads because the writer holds the record's quads: N-Triples
needed a Triple made of each (2.8 us a quad, 5.8 s of a 10^4-project load); packing the quads
costs ~0.15 ms a record (1.5 s of that load).

It is written with the record, in the same graph and the same transaction (prtkg/store/common.py
_record_quads), so it is replaced and dropped with it and can never describe another version: no
refresh to keep. A graph that has none (a store from before it, a graph another tool wrote) is read
triple by triple; `ensure` packs the records of such a store once.
"""
from __future__ import annotations

import base64
import re
import zlib
from typing import Iterable, Sequence

import pyoxigraph as ox

from . import rdf

PACKED = ox.NamedNode(rdf.PRTKG + "packedContent")
# Deflate's fastest level: 8x smaller than the text, where level 6 gains 17% more for twice the time.
_LEVEL = 1
# IRIs per VALUES when asking for the packed copies: a query of ~50 KB, as a server takes it.
_BATCH = 500


def pack(quads: Iterable[ox.Quad]) -> ox.Literal:
    """The packed copy of a record graph's quads: the caller leaves its provenance (subject: the
    graph) out, as bulk validation leaves it out of a record's triples."""
    text = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    return ox.Literal(base64.b64encode(zlib.compress(text, _LEVEL)).decode("ascii"))


def unpack(value: str) -> bytes:
    """The N-Quads text a packed copy holds."""
    return zlib.decompress(base64.b64decode(value))


def read(store, graphs: Sequence[ox.NamedNode]) -> dict[ox.NamedNode, bytes]:
    """The N-Quads of each of these graphs that has a packed copy (on both stores: one query per
    batch, an index lookup per graph). A copy that does not unpack is left out, so its graph is read
    triple by triple."""
    out: dict[ox.NamedNode, bytes] = {}
    for i in range(0, len(graphs), _BATCH):
        values = " ".join(str(g) for g in graphs[i:i + _BATCH])
        for row in store.raw_query(f"SELECT ?g ?packed WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?g {PACKED} ?packed }} }}"):
            try:
                out[row["g"]] = unpack(row["packed"].value)
            except (ValueError, zlib.error):
                continue
    return out


def subset(store, graphs: Sequence[ox.NamedNode], predicates: Iterable[str] | None = None) -> ox.Store:
    """An in-memory store of these graphs' own triples (no provenance), each in its graph: all of
    them (bulk validation's scratch store), or those whose predicate is one of `predicates` (IRIs),
    the lines picked out of the text before it is parsed (a rule family's record-local fact queries,
    rules/cardinal.py: ~60 of a record's ~210 lines). From the packed copies; a graph without one is
    read triple by triple and treated the same way."""
    # One N-Triples or N-Quads line whose predicate is named: its subject, a space, the predicate.
    wanted = None if predicates is None else re.compile(
        rb"^\S+ <(?:" + b"|".join(re.escape(p.encode()) for p in sorted(set(predicates))) + rb")> [^\n]*\n?", re.M)
    mem = ox.Store()
    texts = read(store, graphs)
    unpacked = [g for g in graphs if g not in texts]
    own = [(g, texts[g], ox.RdfFormat.N_QUADS) for g in graphs if g in texts]
    if unpacked:
        own += [(g, text, ox.RdfFormat.N_TRIPLES) for g, text in zip(unpacked, store.graphs_ntriples(unpacked))]
    # Lenient: the text is Oxigraph's own serialisation of terms the store validated when they were
    # written, so checking every IRI again finds nothing (2,000 records of 10^4 projects: 0.85 s CPU
    # against 1.1 s). A copy's quads name their record's graph; a line with no graph (a copy packed
    # as N-Triples, as 2ae4550 wrote them) goes to the record's graph too.
    for g, text, form in own:
        mem.load(text if wanted is None else b"".join(wanted.findall(text)), format=form, to_graph=g, lenient=True)
    # A graph's provenance (subject: the graph) is not its record's own: a copy leaves it out, a
    # graph read from the store brings it.
    for g in unpacked:
        for q in list(mem.quads_for_pattern(g, None, None, g)):
            mem.remove(q)
    return mem


# Graphs with a content digest and no packed copy. Run at every server start (derived.ensure), so
# asked as a MINUS of two predicate scans: at 10^5 projects 0.23 s, where joining the record id in
# and probing each graph with NOT EXISTS took 11 s (7.4 s CPU) to find nothing.
_UNPACKED = f"""SELECT ?g WHERE {{ GRAPH ?g {{ ?g prtkg:contentDigest ?digest }}
  MINUS {{ GRAPH ?g {{ ?g {PACKED} ?packed }} }} }}"""
# Of those, the loaded records: they have a record id too (the ontology and calendar graphs have a
# digest and no id).
_RECORDS = "SELECT ?g WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?g prtkg:recordId ?id }} }}"


def _unpacked(store) -> list[ox.NamedNode]:
    candidates = [row["g"] for row in store.select(_UNPACKED)]
    out = []
    for i in range(0, len(candidates), _BATCH):
        values = " ".join(f"<{g}>" for g in candidates[i:i + _BATCH])
        out += [ox.NamedNode(g) for g in sorted(row["g"] for row in store.select(_RECORDS.format(graphs=values)))]
    return out


def ensure(store, batch: int = 500) -> int:
    """Pack every loaded record that has no packed copy; returns how
    many. A store from before packed copies is checked correctly without them, only slower."""
    graphs = _unpacked(store)
    for i in range(0, len(graphs), batch):
        some = graphs[i:i + batch]
        own: dict[ox.NamedNode, list[ox.Quad]] = {g: [] for g in some}
        for q in store.graphs_quads(some):
            if q.subject != q.graph_name:
                own[q.graph_name].append(q)
        store.add_quads([ox.Quad(g, PACKED, pack(quads), g) for g, quads in own.items()])
    return len(graphs)
