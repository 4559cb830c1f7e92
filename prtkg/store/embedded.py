"""The embedded backend: Oxigraph on disk (default) or in memory.

Every source record lives in its own named graph, together with its provenance, so replacing a
record is one transaction: a reader sees the old graph or the new one, never a mix.
"""
from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pyoxigraph as ox

from .. import rdf
from ..errors import StoreError
from ..records import Record
from .common import _now, _ntriples, _record_quads, _record_update, _whoami, ontology_quads, python_rows

DEFAULT_PATH = Path(".prtkg/store")

class _ForkGuard:
    """Many threads may use the store at once; a fork waits until none is inside it.

    The SPARQL endpoint forks a child per query. A fork copies the store's internal locks in whatever
    state other threads hold them at that instant, and a child that then needs one waits forever. So
    every store call takes this guard shared, and a fork takes it exclusively (new calls wait for the
    fork, which takes milliseconds)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._forking = 0

    @contextmanager
    def shared(self):
        with self._cond:
            while self._forking:
                self._cond.wait()
            self._inside += 1
        try:
            yield
        finally:
            with self._cond:
                self._inside -= 1
                if not self._inside:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            self._forking += 1
            while self._inside:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._forking -= 1
                self._cond.notify_all()


def _parses_lateral() -> bool:
    """Whether this pyoxigraph parses `LATERAL` (SEP-0006; prtkg/rdf.py in_dialect)."""
    try:
        ox.Store().query("SELECT * WHERE { LATERAL { BIND(1 AS ?x) } }")
        return True
    except SyntaxError:
        return False


class Store:
    """Embedded Oxigraph: `Store(path)` persists on disk, `Store(None)` is a temporary in-memory store."""

    # Oxigraph evaluates `LATERAL { OPTIONAL ... }` row by row (prtkg/rdf.py in_dialect).
    lateral = _parses_lateral()
    # named_graphs() lists every graph the store holds (a server may hide graphs of its own).
    lists_every_graph = True

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.guard = _ForkGuard()
        # Writes committed so far. The SPARQL endpoint's read-only workers (api/query_worker.py) tag
        # their snapshot of an on-disk store with it and take a new one when it moved.
        self.generation = 0
        self._generation_lock = threading.Lock()
        self._write_lock = threading.Lock()  # record writes of this process, one at a time
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

    def _committed(self) -> None:
        with self._generation_lock:
            self.generation += 1

    # -- writing ---------------------------------------------------------------------------
    def replace_records(self, records: Sequence[Record], agent: str | None = None,
                        at: dt.datetime | None = None, infer: bool = True) -> None:
        """Replace each record's named graph (content + provenance) in one transaction; then bring
        the derived graphs (prtkg/derived.py) up to date, unless `infer` is False (a bulk load
        derives it once at its end)."""
        if not records:
            return
        if infer:
            from ..derived import kept_up_to_date
            with kept_up_to_date(self, [r.graph.graph.value for r in records]):
                self.replace_records(records, agent, at, infer=False)
            return
        agent, at = agent or _whoami(), at or _now()
        graphs = [r.graph.graph for r in records]
        with self._write_lock, self.guard.shared():
            if len(set(graphs)) == len(graphs) and not any(self._ox.contains_named_graph(g) for g in graphs):
                # New records only (a first load): no old graph to drop, so the batch goes in through
                # Oxigraph's bulk loader, which sorts it into one new table file per index and hands
                # them all to RocksDB in a single ingestion (IngestExternalFiles: recorded atomically
                # in the manifest; after a crash all or none are there). That is as atomic as a
                # transaction at a third of the cost of `extend`, which reads and locks every key.
                # The write lock keeps another writer from creating one of these graphs meanwhile.
                self._ox.bulk_extend([q for r in records for q in _record_quads(r, agent, at)])
            else:
                self._ox.update(_record_update(records, agent, at))
        self._committed()

    def update(self, sparql_update: str) -> None:
        """A SPARQL 1.1 update, applied as one transaction (prefixes of prtkg.rdf pre-declared)."""
        with self.guard.shared():
            self._ox.update(rdf.sparql_prefixes() + sparql_update)
        self._committed()

    def insert_where(self, graph: str, template: str, where: str) -> int:
        """`INSERT { GRAPH <graph> { template } } WHERE { where }`, the embedded way: the pattern is
        read from a snapshot and its triples written in one `extend`, since an update reading
        inside a disk transaction costs several times more. Returns the triples written."""
        g = ox.NamedNode(graph)
        with self.guard.shared():
            triples = list(self._ox.query(rdf.sparql_prefixes() + f"CONSTRUCT {{ {template} }} WHERE {{ {where} }}"))
            if triples:
                self._ox.bulk_extend([ox.Quad(t.subject, t.predicate, t.object, g) for t in triples])
        self._committed()
        return len(triples)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        with self.guard.shared():
            self._ox.extend(quads)
        self._committed()

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        g = ox.NamedNode(graph)
        body = _ntriples(ox.Quad(q.subject, q.predicate, q.object, g) for q in quads)
        with self.guard.shared():
            self._ox.update(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}")
        self._committed()

    def load_ontology(self) -> None:
        """The ontology, its code lists and the administrative divisions, into urn:prtkg:ontology.

        Replaces the graph unless it holds these very files already: appending again would duplicate
        its blank nodes."""
        quads = ontology_quads(self)
        if quads is None:
            return
        # Text INSERT DATA of 30k triples costs a second; the native path a fifth of it. Two steps,
        # but a reader of the embedded store is this process, which is busy loading.
        self._ox.update(f"DROP SILENT GRAPH <{rdf.ONTOLOGY_GRAPH}>")
        self._ox.extend(quads)
        self._committed()

    def remove_graph(self, graph: str) -> None:
        with self._write_lock, self.guard.shared():
            self._ox.update(f"DROP SILENT GRAPH <{graph}>")
        self._committed()

    def checkpoint(self, target: str | Path) -> None:
        """A consistent copy of the on-disk store at `target` (a new folder): RocksDB hard-links its
        immutable table files when `target` is on the same file system, so this costs milliseconds.
        It copies the write-ahead log as it stands, and a write appending to the log meanwhile leaves a
        corrupt copy: so no call of this process is inside the store while it runs."""
        with self.guard.exclusive():
            self._ox.backup(str(target))

    def flush(self) -> None:
        if self.path is not None:
            with self.guard.shared():
                self._ox.flush()

    # -- reading ---------------------------------------------------------------------------
    def select(self, query: str, **bindings: Any) -> list[dict[str, Any]]:
        """Run a SELECT (prefixes of prtkg.rdf pre-declared); rows as dicts of Python values."""
        return list(self._rows(query))  # evaluation is lazy: the rows are read under the guard too

    def stream(self, query: str) -> Iterator[dict[str, Any]]:
        """The rows of a SELECT one at a time, as Oxigraph evaluates them: a whole-store fact query
        costs the memory of a row, not of its answer. The guard is held until the rows are read (or
        the iterator is closed), so no fork may happen in the middle of reading them."""
        return self._rows(query)

    def _rows(self, query: str) -> Iterator[dict[str, Any]]:
        with self.guard.shared():
            yield from python_rows(self._ox.query(rdf.sparql_prefixes() + query))

    def ask(self, query: str) -> bool:
        with self.guard.shared():
            return bool(self._ox.query(rdf.sparql_prefixes() + query))

    def raw_query(self, query: str, **kwargs: Any) -> Any:
        """The backend's own query result (for the SPARQL endpoint, which serialises it)."""
        return self._ox.query(query, **kwargs)

    def named_graphs(self) -> Iterator[str]:
        with self.guard.shared():
            return iter([g.value for g in self._ox.named_graphs()])

    def graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        with self.guard.shared():
            return iter(list(self._ox.quads_for_pattern(None, None, None, ox.NamedNode(graph))))

    def graphs_quads(self, graphs: Sequence[ox.NamedNode]) -> list[ox.Quad]:
        """The quads of several named graphs, as Python objects. Bulk validation reads with
        graphs_ntriples instead (no object per quad); this stays for callers that want the terms."""
        with self.guard.shared():
            return [q for g in graphs for q in self._ox.quads_for_pattern(None, None, None, g)]

    def graphs_ntriples(self, graphs: Sequence[ox.NamedNode]) -> list[bytes]:
        """Each named graph as N-Triples, in the order given (bulk validation reads records so).

        Reading a record costs decoding its terms out of RocksDB, ~80k quads/s on disk in one thread.
        Oxigraph's serialiser does that without the GIL, so two threads read two graphs at once and no
        Python object is made per quad (1,000 projects, 190k quads, idle machine, median of 3: 2.4 s
        with graphs_quads, 1.4 s this way)."""
        def dump(gs: Sequence[ox.NamedNode]) -> list[bytes]:
            with self.guard.shared():
                return [self._ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g) for g in gs]
        half = (len(graphs) + 1) // 2
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(dump, [graphs[:half], graphs[half:]])
        return first + second

    def subject_quads(self, subjects: Sequence[ox.NamedNode], predicates: Sequence[str]) -> list[ox.Quad]:
        """The quads of any named graph whose subject is one of `subjects` and predicate one of `predicates`.

        One index lookup per pair. The same as a SPARQL `VALUES ?s {..} GRAPH ?g {?s ?p ?o}`, which
        Oxigraph plans by walking every named graph: 6 s for 276 subjects in a store of 10^4
        projects, against 0.1 s here, and growing with the store where this does not."""
        preds = [ox.NamedNode(p) for p in predicates]
        default = ox.DefaultGraph()
        with self.guard.shared():
            return [q for s in subjects for p in preds for q in self._ox.quads_for_pattern(s, p, None, None)
                    if q.graph_name != default]

    def __len__(self) -> int:
        with self.guard.shared():
            return len(self._ox)
