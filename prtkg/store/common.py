"""What both store backends share: turning result terms into Python values, a record's quads as
stored (content + provenance) and as one SPARQL update, and the ontology graph's contents."""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
from decimal import Decimal
from importlib import resources
from typing import Any, Iterable, Sequence

import pyoxigraph as ox

from .. import rdf
from ..records import Record

_XSD_PARSERS = {
    rdf.XSD + "date": dt.date.fromisoformat,
    rdf.XSD + "dateTime": dt.datetime.fromisoformat,
    rdf.XSD + "integer": int,
    rdf.XSD + "int": int,
    rdf.XSD + "long": int,
    rdf.XSD + "decimal": Decimal,
    rdf.XSD + "double": float,
    rdf.XSD + "float": float,
    rdf.XSD + "boolean": lambda s: s in ("true", "1"),
    rdf.XSD + "gYear": int,
}


def to_python(term: Any) -> Any:
    """A query result term as a plain Python value (IRIs as strings, typed literals parsed)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.Literal):
        parse = _XSD_PARSERS.get(term.datatype.value)
        if parse is not None:
            try:
                return parse(term.value)
            except ValueError:
                return term.value
        return term.value
    return term


def _ntriples(quads: Iterable[ox.Quad]) -> str:
    return "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in quads)


def provenance(record: Record, agent: str, at: dt.datetime) -> list[tuple]:
    g = record.graph.graph
    who, agent_triples = rdf.agent(agent)
    return [
        (g, rdf.RDF_TYPE, ox.NamedNode(rdf.PROV + "Entity")),
        (g, rdf.p("recordId"), rdf.literal(record.id)),
        (g, rdf.p("recordKind"), rdf.literal(record.kind)),
        (g, rdf.p("source"), rdf.literal(record.source)),
        (g, ox.NamedNode(rdf.PROV + "wasDerivedFrom"), rdf.source_iri(record.source)),
        (g, rdf.p("contentDigest"), rdf.literal(record.digest)),
        (g, ox.NamedNode(rdf.PROV + "generatedAtTime"), rdf.literal(at)),
        (g, ox.NamedNode(rdf.PROV + "wasAttributedTo"), who),
    ] + agent_triples + ([(g, rdf.p("mainNode"), record.focus)] if record.focus is not None else [])


def ontology_quads(store: Any) -> list[ox.Quad] | None:
    """The ontology, its code lists and the administrative divisions as quads of urn:prtkg:ontology,
    or None when the store already holds these very files (their digest is stored with them)."""
    onto = resources.files("prtkg.ontology")
    files = [onto.joinpath(n) for n in sorted(n.name for n in onto.iterdir() if n.name.endswith(".ttl"))]
    blobs = [f.read_bytes() for f in files]
    digest = "sha256:" + hashlib.sha256(b"\0".join(blobs)).hexdigest()
    g = ox.NamedNode(rdf.ONTOLOGY_GRAPH)
    mark = ox.Quad(g, ox.NamedNode(rdf.PRTKG + "contentDigest"), ox.Literal(digest), g)
    if store.ask(f"ASK {{ GRAPH {g} {{ {mark.subject} {mark.predicate} {mark.object} }} }}"):
        return None
    quads = [mark]
    for data in blobs:
        quads += [ox.Quad(q.subject, q.predicate, q.object, g) for q in ox.parse(data, format=ox.RdfFormat.TURTLE)]
    return quads


def load_ontology_into(store: Any) -> None:
    """Replace urn:prtkg:ontology (one transaction) unless it already holds these very files.

    The embedded store has a faster path of its own (Store.load_ontology)."""
    quads = ontology_quads(store)
    if quads is not None:
        store.replace_graph(rdf.ONTOLOGY_GRAPH, quads)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _record_quads(record: Record, agent: str, at: dt.datetime) -> list[ox.Quad]:
    """A record's graph as stored: its content and its provenance."""
    g = record.graph.graph
    return list(record.graph.quads()) + [ox.Quad(s, pr, o, g) for s, pr, o in provenance(record, agent, at)]


def _record_update(records: Sequence[Record], agent: str, at: dt.datetime) -> str:
    """One SPARQL update replacing each record's graph (content + provenance): one transaction."""
    return " ;\n".join(f"DROP SILENT GRAPH {r.graph.graph} ;\nINSERT DATA {{ GRAPH {r.graph.graph} {{\n"
                        f"{_ntriples(_record_quads(r, agent, at))}\n}} }}" for r in records)


def _whoami() -> str:
    try:
        return "user:" + getpass.getuser()
    except (KeyError, OSError):
        return "user:unknown"
