"""Read-only SPARQL over the persistent store (the CLI's `prtkg query`)."""
from __future__ import annotations

import io
import os

import pyoxigraph as ox
from rich.console import Console
from rich.table import Table

from .errors import PrtkgError
from .store import DEFAULT_PATH, Store, to_python

_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV, "xml": ox.QueryResultsFormat.XML}


def run_query(text: str, fmt: str = "table", store: Store | None = None) -> str:
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
    return result.serialize(format=_FORMATS[fmt]).decode()
