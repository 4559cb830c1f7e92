"""RDF files (Turtle, N-Triples, JSON-LD) in ontology terms: one file is one record in its own graph.

Whatever graph a dataset format names, the triples land in the file's own graph: a file cannot write
into the ontology, the findings or another record's graph. Statements about prtkg's own graphs
(provenance, findings), prtkg:Finding instances and the calendar's computed day terms are refused:
findings come from the rules alone, working days from the official calendar alone.
"""
from __future__ import annotations

import hashlib
import re

import pyoxigraph as ox

from prtkg import rdf
from prtkg.errors import InputError
from prtkg.records import FieldError, LoadResult, Record, Rejection

from .jsonin import decode

FORMATS = {
    "text/turtle": (ox.RdfFormat.TURTLE, "Turtle"),
    "application/n-triples": (ox.RdfFormat.N_TRIPLES, "N-Triples"),
    "application/ld+json": (ox.RdfFormat.JSON_LD, "JSON-LD"),
}
RESERVED_PREFIX = "urn:prtkg:"
_FINDING = rdf.p("Finding")
_PARSER_PREFIX = re.compile(r"^Parser error at ")


def base_iri(name: str) -> str:
    """Relative IRIs in a file resolve against the file's own place in the data IRIs."""
    return rdf.iri("rdf", name).value + "/"


def _syntax_message(e: SyntaxError, label: str) -> str:
    text = _PARSER_PREFIX.sub("", e.msg or str(e))
    if "LoadDocumentCallback" in text:
        return (f"not valid {label}: it names a remote @context, which is never fetched "
                "(no network at run time); put the context inline")
    if e.lineno and not text.startswith("line"):
        return f"not valid {label} at line {e.lineno}: {text}"
    return f"not valid {label} at {text}" if text.startswith("line") else f"not valid {label}: {text}"


def _reserved(quads: list[ox.Quad]) -> list[FieldError]:
    errors: list[FieldError] = []
    for q in quads:
        for term in (q.subject, q.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(RESERVED_PREFIX):
                errors.append(FieldError(f"<{term.value}>", "statements about prtkg's own graphs "
                                         f"({RESERVED_PREFIX}...) cannot be loaded"))
        if q.predicate in rdf.CALENDAR_TERMS:
            errors.append(FieldError(f"<{q.predicate.value}>", "computed by prtkg's working-day calendar "
                                     "from the official holiday schedule; a record cannot state it"))
        if q.predicate == rdf.RDF_TYPE and q.object == _FINDING:
            errors.append(FieldError(str(q.subject), "findings are made by prtkg's rules and cannot be loaded"))
    unique: list[FieldError] = []
    for e in errors:
        if e not in unique:
            unique.append(e)
    return unique


def load(data: bytes, name: str, media_type: str) -> LoadResult:
    base = media_type.split(";")[0].strip().lower()
    if base not in FORMATS:
        raise InputError(name, f"unsupported RDF media type {media_type!r}; expected one of {', '.join(FORMATS)}")
    fmt, label = FORMATS[base]
    decode(data, name)  # the same encoding errors (empty, UTF-16, GBK) as every other text input
    if data.startswith(b"\xef\xbb\xbf"):  # tolerated like everywhere else; the RDF parsers would choke on it
        data = data[3:]
    try:
        quads = list(ox.parse(data, format=fmt, base_iri=base_iri(name), rename_blank_nodes=True))
    except SyntaxError as e:
        raise InputError(name, _syntax_message(e, label)) from None
    result = LoadResult()
    errors = _reserved(quads)
    if errors:
        result.rejected.append(Rejection(name, errors))
        return result
    g = rdf.RecordGraph(rdf.graph_iri("rdf", name))
    # Named graphs of TriG-like JSON-LD collapse into the file's graph: the record owns exactly one graph.
    g.triples.extend(dict.fromkeys((q.subject, q.predicate, q.object) for q in quads))
    result.records.append(Record(id=name, kind="rdf", graph=g, source=name,
                                 digest=hashlib.sha256(data).hexdigest()))
    return result
