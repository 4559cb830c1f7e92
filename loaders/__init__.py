"""Ingestion: recognise each input by extension and content, hand it to its format's loader.

Formats (design.md "Record formats"):
  .json / .jsonl   OCDS releases, release packages, record packages, or JSON event records
  .csv             powers-and-duties lists, credit records (recognised by header)
  .ttl .jsonld .nt RDF in ontology terms

OCDS releases of one ocid may arrive in several files, so every JSON input is read first and the
OCDS items are merged together. A file that cannot be read as a whole (empty, not JSON, unknown CSV
header...) raises InputError (exit 2) when it is the only file; among several files it is listed
under `rejected` and the others are loaded. A record that cannot be used becomes a Rejection and the
rest of its file still counts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from prtkg.errors import InputError
from prtkg.records import FieldError, LoadResult, Rejection

from . import csvlists, events, jsonin, ocds, rdffiles

JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
CSV_SUFFIXES = {".csv"}
RDF_SUFFIXES = {".ttl": "text/turtle", ".nt": "application/n-triples", ".jsonld": "application/ld+json"}
SUFFIXES = JSON_SUFFIXES | CSV_SUFFIXES | set(RDF_SUFFIXES)

MEDIA_TYPES = {
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/json-seq": ".jsonl",
    "text/csv": ".csv",
    "text/turtle": ".ttl",
    "application/n-triples": ".nt",
    "application/ld+json": ".jsonld",
}


def source_name(path: Path, folder: Path | None = None) -> str:
    """How a file is named in records, rejections and stored provenance: its name, or its path inside
    the folder that was given (`demo/projects.jsonl`), never where the server keeps it."""
    if folder is None:
        return path.name
    inside = path.relative_to(folder).as_posix()
    return f"{folder.name}/{inside}" if folder.name else inside


def expand_named(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """(file, source name) for each file named, and every file of a known format in a directory named
    (recursively, sorted)."""
    out: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend((p, source_name(p, path)) for p in sorted(path.rglob("*"))
                       if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(str(path), f"unknown file type {path.suffix or '(none)'!r}; "
                                 f"expected one of {', '.join(sorted(SUFFIXES))}")
            out.append((path, source_name(path)))
        else:
            raise InputError(str(path), "no such file or directory")
    return out


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files of expand_named."""
    return [p for p, _ in expand_named(paths)]


def load_inputs(inputs: Iterable[tuple[str, str, bytes] | InputError], keep_going: bool = False) -> LoadResult:
    """Load (name, suffix, bytes) inputs together. Raises InputError for an unusable input, or with
    `keep_going` (several files) lists it under `rejected` and loads the others; an InputError in
    `inputs` is a file that could not even be read."""
    result = LoadResult()
    ocds_items: list[tuple[str, dict]] = []
    event_items: list[tuple[str, dict]] = []
    for given in inputs:
        try:
            if isinstance(given, InputError):
                raise given
            _load_one(*given, result, ocds_items, event_items)
        except InputError as e:
            if not keep_going:
                raise
            result.rejected.append(Rejection(e.source, [FieldError("(file)", e.reason)]))
    if ocds_items:
        result.extend(ocds.load(ocds_items))
    if event_items:
        result.extend(events.load(event_items))
    _reject_duplicates(result)
    return result


def _load_one(name: str, suffix: str, data: bytes, result: LoadResult, ocds_items: list, event_items: list) -> None:
    """One input's records and rejections into result; its OCDS and event items are collected, since
    releases of one ocid and events may span files. Raises InputError for an unusable file."""
    if suffix in JSON_SUFFIXES:
        items, rejected = jsonin.read(data, name, lines=suffix != ".json")
        result.rejected.extend(rejected)
        for source, obj in items:
            if isinstance(obj, dict) and "recordType" in obj:
                event_items.append((source, obj))
            else:
                ocds_items.append((source, obj))
    elif suffix in CSV_SUFFIXES:
        result.extend(csvlists.load(data, name))
    elif suffix in RDF_SUFFIXES:
        result.extend(rdffiles.load(data, name, RDF_SUFFIXES[suffix]))
    else:
        raise InputError(name, f"unknown input type {suffix!r}")


def load_paths(paths: Iterable[str | Path], keep_going: bool | None = None) -> LoadResult:
    """Load files and folders; `keep_going` (default: when there are several files) lists a file
    unusable as a whole under `rejected` instead of raising InputError."""
    return load_named(expand_named(paths), keep_going)


def load_named(files: Iterable[tuple[Path, str]], keep_going: bool | None = None) -> LoadResult:
    """Load (file, source name) pairs (expand_named) together; `keep_going` (default: when there are
    several files) lists a file unusable as a whole under `rejected` instead of raising InputError."""
    files = list(files)

    def read(path: Path, name: str) -> tuple[str, str, bytes] | InputError:
        try:
            return name, path.suffix.lower(), path.read_bytes()
        except OSError as e:
            if len(files) == 1:
                # The one place the path itself is shown: to whoever ran the command, never stored.
                return InputError(str(path), f"cannot read: {e.strerror or e}")
            return InputError(name, f"cannot read: {e.strerror or e}")

    # One file unusable as a whole is the answer; among several it is one rejection among results.
    return load_inputs((read(p, n) for p, n in files),
                       keep_going=len(files) > 1 if keep_going is None else keep_going)


def load_bytes(data: bytes, name: str, media_type: str) -> LoadResult:
    """One request body (API): the media type says the format."""
    base = media_type.split(";")[0].strip().lower()
    if base not in MEDIA_TYPES:
        raise InputError(name, f"unsupported Content-Type {media_type!r}; "
                         f"expected one of {', '.join(sorted(MEDIA_TYPES))}")
    return load_inputs([(name, MEDIA_TYPES[base], data)])


def _reject_duplicates(result: LoadResult) -> None:
    """Two different records claiming one graph in one submission: keep the first, reject the rest.

    (The same OCDS release twice is not this case: the OCDS loader drops exact duplicates itself.)
    """
    seen: dict[str, str] = {}
    kept = []
    for record in result.records:
        g = record.graph.graph.value
        if g in seen and seen[g] != record.digest:
            result.rejected.append(Rejection(record.source, [FieldError(
                "id", f"duplicate record id {record.id!r}: already given by a different record in this submission")]))
            continue
        if g not in seen:
            seen[g] = record.digest
            kept.append(record)
    result.records = kept
