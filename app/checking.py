"""The pipeline: loaders -> store -> shapes + rules -> findings.

Rule families plug in through `prtkg.shapes.checks()` and `prtkg.rules.checks()`: each returns
callables taking a Context and yielding findings. Adding a rule never changes this module.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

from prtkg import findings as F
from . import parallel
from prtkg.clock import today
from prtkg.context import Check, Context
from prtkg.findings import Finding
from prtkg.records import LoadResult, Record
from prtkg.store import Store


def stored_records(store: Store) -> list[Record]:
    """Every record in the store, as the checks see records (id, kind, graph, main node).

    The rows are streamed into Records, not first read whole as a list of rows: at 10^5 records the
    list of row dicts, beside the Records made of it, was most of the call's peak memory."""
    from pyoxigraph import NamedNode

    from prtkg.rdf import RecordGraph
    rows = store.stream("""SELECT ?g ?id ?kind ?source ?digest ?main WHERE { GRAPH ?g {
        ?g prtkg:recordId ?id ; prtkg:recordKind ?kind ; prtkg:source ?source ; prtkg:contentDigest ?digest .
        OPTIONAL { ?g prtkg:mainNode ?main } } }""")
    # In graph order, sorted here: Oxigraph's ORDER BY ?g doubled the call's CPU time at 10^5 records
    # (24 s against 11 s), where sorting the IRIs in Python takes a tenth of a second.
    # A handful of kinds, each held once (sys.intern) rather than once per record.
    made = [(r["g"], Record(r["id"], sys.intern(r["kind"]), RecordGraph(NamedNode(r["g"])), r["source"],
                            r["digest"], NamedNode(r["main"]) if r["main"] else None)) for r in rows]
    made.sort(key=lambda pair: pair[0])
    return [record for _, record in made]


def all_checks() -> list[Check]:
    from prtkg import rules, shapes
    return [*shapes.checks(), *rules.checks()]


def run_checks(ctx: Context, checks: Sequence[Check] | None = None) -> list[Finding]:
    out: list[Finding] = []
    # The rule families may run in a worker process meanwhile (prtkg.app.parallel), their findings
    # after these; that worker then makes the gate's decisions, while the shapes run here.
    here, worker = parallel.split(ctx, all_checks() if checks is None else checks)
    with F.naming(ctx.store):
        try:
            # Made first, so their DATA-INSUFFICIENT entries come before any check's (as do the
            # worker's, received when a check first asks: the shapes ask before adding any).
            if ctx.gate_from is None:
                ctx.applicability()
            for check in here:
                out.extend(parallel.timed(ctx, check))
            ctx.applicability()
        except BaseException:
            worker.cancel()
            raise
        out.extend(worker.findings())
        out.extend(ctx.insufficient.findings())
    return F.dedupe(out)


def bundled(kind: str) -> Path:
    """Bundled data folder: 'reference' or 'demo'."""
    return Path(str(resources.files("prtkg.data").joinpath(kind)))


@dataclass
class CheckResult:
    loaded: LoadResult
    reference: LoadResult
    findings: list[Finding]
    store: Store
    as_of: dt.date | None = None

    def report(self) -> dict:
        doc = F.report(len(self.loaded.records), self.findings,
                       self.reference.rejected + self.loaded.rejected)
        doc["summary"]["reference"] = len(self.reference.records)
        if self.as_of is not None:
            # Every report says which day its running deadlines were measured against.
            doc["summary"]["asOf"] = self.as_of.isoformat()
        return doc


def check(paths: Sequence[str | Path], reference: str | Path | None = "bundled",
          as_of: dt.date | None = None, store: Store | None = None) -> CheckResult:
    """Validate and check records in a temporary store, with reference data (or none).

    Raises InputError for input that cannot be used as a whole.
    """
    from prtkg import loaders

    as_of = as_of or today()
    ref_paths = [] if reference is None else [bundled("reference") if reference == "bundled" else Path(reference)]
    ref = loaders.load_paths(ref_paths) if ref_paths else LoadResult()
    loaded = loaders.load_paths(paths or [bundled("demo")])
    store = store if store is not None else Store(None)  # an empty Store is falsy (__len__)
    store.load_ontology()
    store.replace_records(ref.records + loaded.records)
    ctx = Context(store, ref.records + loaded.records, as_of)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    found = run_checks(ctx)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    graphs = {r.id: r.graph.graph for r in ref.records + loaded.records}
    store.replace_graph(F.rdf.FINDINGS_GRAPH, F.to_quads(found, as_of, now, graphs, started))
    return CheckResult(loaded, ref, found, store, as_of)
