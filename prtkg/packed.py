"""Each record's own triples packed beside them (prtkg:packedContent, a provenance triple of its graph):
N-Triples, deflated, written in Base64.

Why a second copy: bulk validation (shapes/bulk.py) copies every record under check into a scratch
store, and reading a graph out of the on-disk store costs decoding each of its terms, one RocksDB
lookup per IRI or long literal. At 10^5 projects that was 4.4 s CPU of the 8.3 s a page of 2,000
records cost (428k quads, ~10 us each), more than the compiled queries (1.1 s) and the context
together. The packed copy of the same page is one lookup per record, 3.4 KB a record where the
N-Triples are 28 KB (deflate level 1: 0.1 ms a record to pack, 0.06 ms to unpack), ~5% more disk.

It is written with the record, in the same graph and the same transaction (prtkg/store/common.py
_record_quads), so it is replaced and dropped with it and can never describe another version: no
refresh to keep. A graph that has none (a store from before it, a graph another tool wrote) is read
triple by triple; `ensure` packs the records of such a store once.
"""
from __future__ import annotations

import base64
import zlib
from typing import Iterable, Sequence

import pyoxigraph as ox

from . import rdf

PACKED = ox.NamedNode(rdf.PRTKG + "packedContent")
# Deflate's fastest level: 8x smaller than the text, where level 6 gains 17% more for twice the time.
_LEVEL = 1
# IRIs per VALUES when asking for the packed copies: a query of ~50 KB, as a server takes it.
_BATCH = 500


def pack(graph: ox.NamedNode, quads: Iterable[ox.Quad]) -> ox.Literal:
    """The packed copy of a record graph's quads, its provenance (subject: the graph) left out, as
    bulk validation leaves it out of a record's triples."""
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads if q.subject != graph]
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return ox.Literal(base64.b64encode(zlib.compress(text, _LEVEL)).decode("ascii"))


def unpack(value: str) -> bytes:
    """The N-Triples text a packed copy holds."""
    return zlib.decompress(base64.b64decode(value))


def read(store, graphs: Sequence[ox.NamedNode]) -> dict[ox.NamedNode, bytes]:
    """The N-Triples of each of these graphs that has a packed copy (on both stores: one query per
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


# A loaded record: a record id and the digest of its source (the ontology and calendar graphs have a
# digest too; a credit check has an id, and no source to check).
_UNPACKED = f"""SELECT ?g WHERE {{ GRAPH ?g {{ ?g prtkg:recordId ?id ; prtkg:contentDigest ?digest
  FILTER NOT EXISTS {{ ?g {PACKED} ?packed }} }} }}"""


def ensure(store, batch: int = 500) -> int:
    """Pack every loaded record that has no packed copy; returns how
    many. A store from before packed copies is checked correctly without them, only slower."""
    graphs = [ox.NamedNode(row["g"]) for row in store.select(_UNPACKED)]
    for i in range(0, len(graphs), batch):
        some = graphs[i:i + batch]
        quads = [ox.Quad(g, PACKED, pack(g, ox.parse(text, format=ox.RdfFormat.N_TRIPLES)), g)
                 for g, text in zip(some, store.graphs_ntriples(some))]
        store.add_quads(quads)
    return len(graphs)
