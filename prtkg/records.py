"""What loaders hand to the store: accepted records (one named graph each) and rejections."""
from __future__ import annotations

from dataclasses import dataclass, field

from .rdf import RecordGraph


@dataclass
class FieldError:
    field: str
    error: str

    def as_dict(self) -> dict:
        return {"field": self.field, "error": self.error}


@dataclass
class Rejection:
    """A record that cannot be used: named by file and index (or id), with every field at fault."""
    record: str
    errors: list[FieldError]

    def as_dict(self) -> dict:
        return {"record": self.record, "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Record:
    """One source record mapped to the ontology.

    `id` is what findings name (ocid, event id, list file and row, credit record id);
    `kind` is the record kind of docs/vocabulary.md; `source` the file (and index) it came from.
    """
    id: str
    kind: str
    graph: RecordGraph
    source: str
    digest: str
    focus: object = None  # the main node (project, event, list...), a pyoxigraph NamedNode


@dataclass
class LoadResult:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        self.records.extend(other.records)
        self.rejected.extend(other.rejected)
