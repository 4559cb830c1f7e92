"""The triple store behind one small interface: embedded Oxigraph on disk (default) or in memory.

Every source record lives in its own named graph, together with its provenance, so replacing a
record is one transaction: a reader sees the old graph or the new one, never a mix.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pyoxigraph as ox

from . import rdf
from .errors import StoreError
from .records import Record

DEFAULT_PATH = Path(".prtkg/store")

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
    return [
        (g, rdf.RDF_TYPE, ox.NamedNode(rdf.PROV + "Entity")),
        (g, rdf.p("recordId"), rdf.literal(record.id)),
        (g, rdf.p("recordKind"), rdf.literal(record.kind)),
        (g, rdf.p("source"), rdf.literal(record.source)),
        (g, rdf.p("contentDigest"), rdf.literal(record.digest)),
        (g, ox.NamedNode(rdf.PROV + "generatedAtTime"), rdf.literal(at)),
        (g, ox.NamedNode(rdf.PROV + "wasAttributedTo"), rdf.literal(agent)),
    ] + ([(g, rdf.p("mainNode"), record.focus)] if record.focus is not None else [])


class Store:
    """Embedded Oxigraph: `Store(path)` persists on disk, `Store(None)` is a temporary in-memory store."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        try:
            if self.path is None:
                self._ox = ox.Store()
            elif read_only:
                self._ox = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._ox = ox.Store(str(self.path))
        except OSError as e:
            raise StoreError(f"cannot open the store at {self.path}: {e}") from e

    @classmethod
    def from_env(cls) -> "Store":
        return cls(os.environ.get("PRTKG_STORE", str(DEFAULT_PATH)))

    # -- writing ---------------------------------------------------------------------------
    def replace_records(self, records: Sequence[Record], agent: str | None = None,
                        at: dt.datetime | None = None) -> None:
        """Replace each record's named graph (content + provenance) in one transaction."""
        if not records:
            return
        agent = agent or _whoami()
        at = at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        parts = []
        for record in records:
            g = record.graph.graph
            quads = list(record.graph.quads())
            quads += [ox.Quad(s, pr, o, g) for s, pr, o in provenance(record, agent, at)]
            parts.append(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{_ntriples(quads)}\n}} }}")
        self._ox.update(" ;\n".join(parts))

    def update(self, sparql_update: str) -> None:
        """A SPARQL 1.1 update, applied as one transaction (prefixes of prtkg.rdf pre-declared)."""
        self._ox.update(rdf.sparql_prefixes() + sparql_update)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        self._ox.extend(quads)

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        g = ox.NamedNode(graph)
        body = _ntriples(ox.Quad(q.subject, q.predicate, q.object, g) for q in quads)
        self._ox.update(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}")

    def load_file(self, path: str | Path, graph: str, mime: str = "text/turtle") -> None:
        with open(path, "rb") as fh:
            self._ox.load(fh, format=ox.RdfFormat.from_media_type(mime), to_graph=ox.NamedNode(graph))

    def load_ontology(self) -> None:
        """The ontology, its code lists and the administrative divisions, into urn:prtkg:ontology."""
        onto = resources.files("prtkg.ontology")
        for name in sorted(n.name for n in onto.iterdir() if n.name.endswith(".ttl")):
            data = onto.joinpath(name).read_bytes()
            self._ox.load(data, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(rdf.ONTOLOGY_GRAPH))

    def remove_graph(self, graph: str) -> None:
        self._ox.update(f"DROP SILENT GRAPH <{graph}>")

    def flush(self) -> None:
        if self.path is not None:
            self._ox.flush()

    # -- reading ---------------------------------------------------------------------------
    def select(self, query: str, **bindings: Any) -> list[dict[str, Any]]:
        """Run a SELECT (prefixes of prtkg.rdf pre-declared); rows as dicts of Python values."""
        result = self._ox.query(rdf.sparql_prefixes() + query)
        names = [v.value for v in result.variables]
        return [{n: to_python(row[n]) for n in names} for row in result]

    def ask(self, query: str) -> bool:
        return bool(self._ox.query(rdf.sparql_prefixes() + query))

    def raw_query(self, query: str, **kwargs: Any) -> Any:
        """The backend's own query result (for the SPARQL endpoint, which serialises it)."""
        return self._ox.query(query, **kwargs)

    def named_graphs(self) -> Iterator[str]:
        return (g.value for g in self._ox.named_graphs())

    def graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        return iter(self._ox.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def __len__(self) -> int:
        return len(self._ox)


def _whoami() -> str:
    try:
        return "user:" + getpass.getuser()
    except (KeyError, OSError):
        return "user:unknown"
