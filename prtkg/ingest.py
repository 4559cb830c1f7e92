"""`prtkg load`: ingest records into the persistent store, batch by batch, then check what came in."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import findings as F
from .checking import Context, run_checks, stored_records, today
from .records import Record
from .store import Store

BATCH = 500  # records per transaction: large enough to amortise the update, small enough to lose little on a crash


def store_findings(store: Store, records: Sequence[Record], found: Sequence[F.Finding], as_of: dt.date) -> None:
    """Replace the stored findings about these records with the new ones, in one transaction."""
    ids = " ".join(F.rdf.literal(r.id).__str__() for r in records)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    body = "\n".join(f"{q.subject} {q.predicate} {q.object} ." for q in F.to_quads(found, as_of, now))
    g = f"<{F.rdf.FINDINGS_GRAPH}>"
    store.update(
        f"DELETE {{ GRAPH {g} {{ ?f ?p ?o }} }} WHERE {{ VALUES ?r {{ {ids} }} GRAPH {g} {{ ?f prtkg:record ?r ; ?p ?o }} }} ;\n"
        f"INSERT DATA {{ GRAPH {g} {{ {body} }} }}")


def ingest(paths: Sequence[Path], as_of: dt.date | None = None, console: Console | None = None,
           store: Store | None = None) -> dict:
    from prtkg import loaders

    as_of = as_of or today()
    loaded = loaders.load_paths(paths)
    store = store if store is not None else Store.from_env()  # an empty Store is falsy (__len__)
    store.load_ontology()
    records = loaded.records
    with Progress(TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.speed} rec/s"),
                  TimeRemainingColumn(), console=console, transient=True, disable=len(records) < BATCH) as bar:
        task = bar.add_task("load", total=len(records))
        for i in range(0, len(records), BATCH):
            batch = records[i:i + BATCH]
            store.replace_records(batch)
            bar.advance(task, len(batch))
    # Cross-record rules (overlaps, repeated inspections, rotation...) can change findings filed under
    # records that were not loaded now, so the stored findings are recomputed over the whole store:
    # none goes stale. (The bulk path keeps this a matter of seconds per 10^3 records.)
    found = run_checks(Context(store, stored_records(store), as_of))
    store.replace_graph(F.rdf.FINDINGS_GRAPH, F.to_quads(found, as_of, dt.datetime.now(dt.timezone.utc).replace(microsecond=0)))
    store.flush()
    doc = F.report(len(records), found, loaded.rejected)
    return {"store": str(store.path), "loaded": len(records), "rejected": doc["rejected"],
            "summary": doc["summary"]}
