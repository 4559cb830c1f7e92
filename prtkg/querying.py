"""Read-only SPARQL over the persistent store (the CLI's `prtkg query`)."""
from __future__ import annotations

import csv
import io
import os
import re

import pyoxigraph as ox
from rich.console import Console
from rich.table import Table

from .errors import PrtkgError
from .store import DEFAULT_PATH, Store, open_store, to_python

_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV, "xml": ox.QueryResultsFormat.XML}


# A cell a spreadsheet would evaluate as a formula (CSV injection). Plain numbers, negative ones
# included, stay as they are; anything else starting with one of these gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def solutions_csv(result) -> bytes:
    """SPARQL 1.1 CSV results (RFC 4180, CRLF) with formula-like cells defused (see csv_cell)."""
    names = [v.value for v in result.variables]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    for row in result:
        cells = []
        for n in names:
            term = row[n]
            if term is None:
                cells.append("")
            elif isinstance(term, ox.BlankNode):
                cells.append("_:" + term.value)
            else:
                cells.append(csv_cell(term.value))
        writer.writerow(cells)
    return buf.getvalue().encode("utf-8")


def run_query(text: str, fmt: str = "table", store: Store | None = None) -> str:
    if store is None and os.environ.get("PRTKG_SPARQL_ENDPOINT"):
        store = open_store()
    if store is None:
        path = os.environ.get("PRTKG_STORE", str(DEFAULT_PATH))
        if not os.path.isdir(path):
            raise PrtkgError(f"no store at {path} (load records first with `prtkg load`, or set PRTKG_STORE)")
        store = Store(path, read_only=True)
    try:
        # Every record is in its own named graph: the default graph is their union, as at /sparql.
        result = store.raw_query(text, use_default_graph_as_union=True)
    except SyntaxError as e:
        raise PrtkgError(f"not a SPARQL query (updates are refused here): {e}") from None
    except OSError as e:
        raise PrtkgError(f"query failed: {e}") from None
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.TURTLE).decode()
    if fmt == "table":
        names = [v.value for v in result.variables]
        table = Table(*names)
        for row in result:
            table.add_row(*("" if row[n] is None else str(to_python(row[n])) for n in names))
        buf = io.StringIO()
        Console(file=buf, width=200).print(table)
        return buf.getvalue()
    if fmt not in _FORMATS:
        raise PrtkgError(f"--format: {fmt!r} is not one of table, {', '.join(_FORMATS)}")
    if fmt == "csv":
        return solutions_csv(result).decode("utf-8")
    return result.serialize(format=_FORMATS[fmt]).decode()
