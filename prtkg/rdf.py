"""Namespaces, IRI minting and the triple builder every loader uses (see docs/vocabulary.md)."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Iterable, Union
from urllib.parse import quote, unquote

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

PRTKG = "https://w3id.org/prtkg/ontology#"
ID = "https://w3id.org/prtkg/id/"
CODE = "https://w3id.org/prtkg/code/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
DCTERMS = "http://purl.org/dc/terms/"

ONTOLOGY_GRAPH = "urn:prtkg:ontology"
FINDINGS_GRAPH = "urn:prtkg:findings"

PREFIXES = {
    "prtkg": PRTKG, "id": ID, "code": CODE, "xsd": XSD, "rdf": RDF, "rdfs": RDFS,
    "prov": PROV, "skos": SKOS, "org": ORG, "dcterms": DCTERMS,
}


def sparql_prefixes() -> str:
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())


def _seg(value: object) -> str:
    # Ids come from outside: keep them readable but never let them break out of their IRI segment.
    return quote(str(value).strip(), safe="-._~:@")


def p(local: str) -> NamedNode:
    """A term of the prtkg ontology."""
    return NamedNode(PRTKG + local)


# What prtkg's working-day calendar computes for a day node (shapes/calendar_graph.py). A record may
# state a date (prtkg:date) but never these: a record giving its own node a day number or a working-day
# ordinal would pass for a day of the official calendar in the deadline shapes.
CALENDAR_TERMS = tuple(p(local) for local in
                       ("dayNumber", "workdayOrdinal", "workdayOrdinalNext", "periodEnd", "periodEndNumber"))


def iri(*segments: object) -> NamedNode:
    """A data IRI under id/: iri("project", ocid, "bid", "b1")."""
    return NamedNode(ID + "/".join(_seg(s) for s in segments))


def child(parent: NamedNode, *segments: object) -> NamedNode:
    return NamedNode(parent.value + "/" + "/".join(_seg(s) for s in segments))


def code(scheme: str, value: str) -> NamedNode:
    """The SKOS concept of a code in one of our closed code lists (ontology/codes.ttl)."""
    return NamedNode(f"{CODE}{scheme}/{_seg(value)}")


def entity(uscc: str) -> NamedNode:
    return iri("entity", uscc.strip().upper())


USCC_SCHEME = "CN-USCC"   # org-id.guide's code for the unified social credit code (GB 32100-2015)


def identifier(g: "RecordGraph", holder: NamedNode, scheme: str, value: str) -> None:
    """An organisation's identifier as the ePO models one: `prtkg:hasIdentifier` (an adms:identifier)
    to an `prtkg:Identifier` node (an adms:Identifier) carrying the value as `skos:notation` and its
    scheme. The value stays on the holder too (prtkg:uscc, prtkg:identifierId), which queries read."""
    node = child(holder, "identifier", scheme.strip().upper())
    g.add(holder, "hasIdentifier", node)
    g.type(node, "Identifier")
    g.add(node, NamedNode(SKOS + "notation"), value.strip())
    g.add(node, "identifierScheme", scheme.strip().upper())


def agent(name: str) -> tuple[NamedNode, list[tuple]]:
    """The prov:Agent named `name` (a user, a token fingerprint, anonymous@address): PROV's agent
    properties take a node, so the name becomes an IRI and stays readable as its label."""
    node = iri("agent", name)
    return node, [(node, RDF_TYPE, NamedNode(PROV + "Agent")), (node, RDFS_LABEL, literal(name))]


def source_iri(source: str) -> NamedNode:
    """The IRI of a record's source for prov:wasDerivedFrom: an IRI as given; a file's name as the
    loaders give it (`demo/projects.jsonl#3`: its name, or its path inside the folder given) as a
    `urn:prtkg:source:` IRI, never resolved against the server's own folders (docs/security.md)."""
    if re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|urn:)", source):
        return NamedNode(quote(source, safe=":/?#[]@!$&'()*+,;=%-._~"))
    path, _, fragment = source.partition("#")
    return NamedNode("urn:prtkg:source:" + quote(path, safe="-._~/")
                     + ("#" + quote(fragment, safe="-._~:@/") if fragment else ""))


def graph_iri(kind: str, *parts: object) -> NamedNode:
    return NamedNode("urn:prtkg:graph:" + ":".join([kind, *(_seg(x) for x in parts)]))


RDF_TYPE = NamedNode(RDF + "type")
RDFS_LABEL = NamedNode(RDFS + "label")

Object = Union[NamedNode, BlankNode, Literal, str, int, float, Decimal, bool, dt.date, dt.datetime]


def literal(value: object) -> Literal:
    """A typed literal from a Python value; dates stay dates, amounts stay exact decimals."""
    if isinstance(value, Literal):
        return value
    if isinstance(value, bool):
        return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))
    if isinstance(value, Decimal):
        return Literal(format(value, "f"), datatype=NamedNode(XSD + "decimal"))
    if isinstance(value, float):
        return Literal(format(Decimal(repr(value)), "f"), datatype=NamedNode(XSD + "decimal"))
    if isinstance(value, dt.datetime):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "dateTime"))
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "date"))
    return Literal(str(value))


class RecordGraph:
    """The triples of one source record, destined for its own named graph."""

    def __init__(self, graph: NamedNode):
        self.graph = graph
        self.triples: list[tuple] = []

    def add(self, s: NamedNode | BlankNode, pred: str | NamedNode, o: Object | None) -> None:
        """Add a triple; a None object (absent field) adds nothing."""
        if o is None:
            return
        if isinstance(pred, str):
            pred = p(pred)
        if not isinstance(o, (NamedNode, BlankNode, Literal)):
            o = literal(o)
        self.triples.append((s, pred, o))

    def type(self, s: NamedNode, cls: str | NamedNode) -> None:
        self.add(s, RDF_TYPE, p(cls) if isinstance(cls, str) else cls)

    def quads(self) -> Iterable[Quad]:
        g = self.graph
        return (Quad(s, pr, o, g) for s, pr, o in self.triples)

    def __len__(self) -> int:
        return len(self.triples)


def group_concat(expr: str, alias: str) -> str:
    """GROUP_CONCAT of distinct values that any character in a value survives: each value is
    percent-encoded (ENCODE_FOR_URI, standard SPARQL 1.1), so the separator never occurs inside
    one; `split_group` reads the list back. A plain separator split a name or code holding it."""
    return f'(GROUP_CONCAT(DISTINCT ENCODE_FOR_URI(STR({expr})); separator=" ") AS ?{alias})'


def split_group(joined: str | None) -> list[str]:
    """The values of a `group_concat` column."""
    return [unquote(x) for x in (joined or "").split(" ") if x]


def data_problem(g: "RecordGraph", subject: NamedNode, field: str, kind: str, value: str) -> None:
    """A problem a loader kept the record for (DATA-QUALITY): a node naming the field, the problem's
    code (code list data-problem in ontology/codes.ttl) and the value as given, so a reader sees it in
    words and nothing is re-parsed from text."""
    from prtkg import codes

    node = NamedNode(f"{subject.value}/problem/{sum(1 for t in g.triples if t[1] == p('dataProblem'))}")
    g.add(subject, "dataProblem", node)
    g.type(node, "DataProblem")
    g.add(node, "problemField", field)
    g.add(node, "problemKind", NamedNode(codes.scheme("data-problem").concepts[kind].iri))
    g.add(node, "problemValue", value)


def lateral_optionals(query: str) -> str:
    """Each `OPTIONAL { ... }` of the text as `LATERAL { OPTIONAL { ... } }` (nested ones too): its right
    side evaluated for each row rather than over the whole store and joined (in_dialect, below)."""
    out, i = [], 0
    closing: list[int] = []   # depths at which a LATERAL opened, innermost last
    depth = 0
    while i < len(query):
        if query.startswith("OPTIONAL", i) and (i == 0 or not (query[i - 1].isalnum() or query[i - 1] in "_:")):
            j = i + len("OPTIONAL")
            while j < len(query) and query[j].isspace():
                j += 1
            if j < len(query) and query[j] == "{":
                out.append("LATERAL { OPTIONAL {")
                closing.append(depth)
                depth += 1
                i = j + 1
                continue
        c = query[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if closing and closing[-1] == depth:
                closing.pop()
                out.append("} }")
                i += 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


# A page uses LATERAL when it is at most this share of the store's records (1/2): at 10^4 projects a
# page of 1,000 read its bids 5x faster row by row, a page of every record no faster (and its tenders 2x slower).
LATERAL_SHARE = 2


def in_dialect(store, query: str) -> str:
    """The query as the store runs it best. Oxigraph evaluates an OPTIONAL's right side over the whole
    store and then joins it to the rows on its left, so a fact query's cost follows the store, not
    its page (risk's bids of 10 records: 8 s at 10^4 projects, as long as for 1,000). `LATERAL {
    OPTIONAL { ... } }` (SEP-0006, not SPARQL 1.1) evaluates it for each row instead: on a store that
    parses it (`store.lateral`: the embedded one, `oxigraph serve`) every OPTIONAL is so wrapped; on
    another server (Virtuoso) the SPARQL 1.1 text runs. Both read the same rows: an OPTIONAL's right
    side here is a pattern over the row's nodes, so evaluating it with the row's bindings changes
    nothing but the cost (tests/test_rules_lateral.py)."""
    if not getattr(store, "lateral", False):
        return query
    # The page's VALUES ?g inside its GRAPH ?g: outside, Oxigraph evaluates the graph pattern in every
    # graph before the join (collusion's bids of one record: 12 s at 10^4 projects; inside and
    # LATERAL: 9 ms). For a page of most of the store the other way round (cardinal's whole-store
    # pages: 10 -> 70 s), which page_query (rules/common.py) and the gate's pages
    # (prtkg/applicability.py) leave to the plain text.
    return lateral_optionals(query.replace("%s GRAPH ?g {", "GRAPH ?g { %s"))
