"""What loaders hand to the store: accepted records (one named graph each) and rejections."""
from __future__ import annotations

import unicodedata
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


def id_error(record_id: str) -> str | None:
    """Why a record id cannot be used, or None. Control characters are refused: the id is stored
    as the recordId literal and printed in findings, reports and terminals, where a NUL, a newline
    or an escape sequence would hide or forge text."""
    bad = next((ch for ch in record_id if unicodedata.category(ch) == "Cc"), None)
    if bad is None:
        return None
    return f"record id {record_id!r} contains the control character U+{ord(bad):04X}; remove it"


@dataclass
class LoadResult:
    records: list[Record] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        """Every loader's result passes here, so this is where ids are checked for all of them."""
        for record in other.records:
            problem = id_error(record.id)
            if problem is None:
                self.records.append(record)
            else:
                self.rejected.append(Rejection(record.source, [FieldError("id", problem)]))
        self.rejected.extend(other.rejected)
