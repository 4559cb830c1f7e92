"""Backends for the tests: the embedded store, `oxigraph serve` and OpenLink Virtuoso on free local
ports as remote ones.

`backend` is parametrized over embedded and `oxigraph serve`; `any_backend` over those and Virtuoso
(for the tests of the remote store's dialect handling and write/read guarantees). A test taking
one gets a factory `backend()` -> fresh empty store (each remote store is its own server's data,
emptied between tests). Virtuoso is skipped with the reason where it is not installed
(`apt-get install virtuoso-opensource-7-bin`) or does not start.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from prtkg.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OxigraphServer:
    """`oxigraph serve` in a temporary folder, started and stopped by the tests."""

    def __init__(self, location: Path):
        exe = shutil.which("oxigraph") or str(Path(os.sys.executable).with_name("oxigraph"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/query?query=ASK%7B%7D", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("oxigraph serve did not start")
                time.sleep(0.1)

    @property
    def env(self) -> dict[str, str]:
        return {"PRTKG_SPARQL_ENDPOINT": self.url + "/query", "PRTKG_SPARQL_UPDATE_ENDPOINT": self.url + "/update",
                "PRTKG_SPARQL_GRAPH_STORE": self.url + "/store"}

    def store(self):
        from prtkg.store.remote import RemoteStore
        return RemoteStore.from_env(self.env)

    def clear(self) -> None:
        self.store().update("DROP SILENT ALL")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class VirtuosoServer:
    """`virtuoso-t` on a fresh database in a temporary folder (../shared/virtuoso.md): 127.0.0.1,
    free ports, updates granted to the anonymous SPARQL user; `max_rows` sets ResultSetMaxRows
    (None: no cap, unlike Debian's shipped ini, which cuts answers off silently at 10,000)."""

    SYSTEM_GRAPH = "http://www.openlinksw.com/schemas/virtrdf#"

    def __init__(self, location: Path, max_rows: int | None = None):
        exe, self.isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
        if not exe or not self.isql:
            raise RuntimeError("virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource-7-bin)")
        self.location = location
        self.isql_port, self.port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        d = str(location)
        (location / "www").mkdir(parents=True, exist_ok=True)
        ini = [
            "[Database]", f"DatabaseFile = {d}/virtuoso.db", f"ErrorLogFile = {d}/virtuoso.log",
            f"LockFile = {d}/virtuoso.lck", f"TransactionFile = {d}/virtuoso.trx", f"xa_persistent_file = {d}/virtuoso.pxa",
            "[TempDatabase]", f"DatabaseFile = {d}/virtuoso-temp.db", f"TransactionFile = {d}/virtuoso-temp.trx",
            "[Parameters]", f"ServerPort = 127.0.0.1:{self.isql_port}", f"DirsAllowed = ., {d}",
            "NumberOfBuffers = 10000", "MaxDirtyBuffers = 6000",
            "[HTTPServer]", f"ServerPort = 127.0.0.1:{self.port}", f"ServerRoot = {d}/www",
        ]
        if max_rows is not None:
            ini += ["[SPARQL]", f"ResultSetMaxRows = {max_rows}"]
        (location / "virtuoso.ini").write_text("\n".join(ini) + "\n")
        self.proc = subprocess.Popen([exe, "-f", "-c", f"{d}/virtuoso.ini"], cwd=d,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "?query=" + urllib.parse.quote("SELECT 1 WHERE {}"), timeout=2).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"virtuoso-t did not start (log: {d}/virtuoso.log)")
                time.sleep(0.2)
        self.sql('GRANT SPARQL_UPDATE TO "SPARQL"; GRANT EXECUTE ON DB.DBA.SPARQL_INSERT_DICT_CONTENT TO "SPARQL"; '
                 'GRANT EXECUTE ON DB.DBA.SPARQL_DELETE_DICT_CONTENT TO "SPARQL";')

    def sql(self, statements: str) -> str:
        r = subprocess.run([self.isql, f"127.0.0.1:{self.isql_port}", "dba", "dba", f"exec={statements}"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "*** Error" in r.stdout + r.stderr:
            raise RuntimeError(f"isql: {statements}: {(r.stdout + r.stderr).strip()[:300]}")
        return r.stdout

    @property
    def env(self) -> dict[str, str]:
        # The default graph is already the union there: no union parameter.
        return {"PRTKG_SPARQL_ENDPOINT": self.url, "PRTKG_SPARQL_UPDATE_ENDPOINT": self.url,
                "PRTKG_SPARQL_UNION_PARAM": ""}

    def store(self):
        from prtkg.store.remote import RemoteStore
        return RemoteStore.from_env(self.env)

    def clear(self) -> None:
        # DROP ALL / CLEAR ALL are silent no-ops there; the system graph must stay.
        self.sql(f"DELETE FROM DB.DBA.RDF_QUAD WHERE G <> iri_to_id('{self.SYSTEM_GRAPH}');")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _virtuoso(tmp_path_factory, name: str, max_rows: int | None = None):
    try:
        return VirtuosoServer(tmp_path_factory.mktemp(name), max_rows)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"Virtuoso unavailable: {e}")


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory):
    server = _virtuoso(tmp_path_factory, "virtuoso")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def virtuoso_capped(tmp_path_factory):
    """A Virtuoso that silently cuts every answer off at 5 rows (ResultSetMaxRows = 5)."""
    server = _virtuoso(tmp_path_factory, "virtuoso-capped", max_rows=5)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory):
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "remote"])
def backend_name(request):
    return request.param


@pytest.fixture
def backend(backend_name, request, tmp_path, monkeypatch):
    """A factory of empty stores of the parametrized backend; the environment selects it too
    (PRTKG_STORE or PRTKG_SPARQL_*), so commands and the API under test use the same one."""
    return _backend(backend_name, request, tmp_path, monkeypatch)


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def any_backend(request, tmp_path, monkeypatch):
    """`backend`, over Virtuoso as well."""
    return _backend(request.param, request, tmp_path, monkeypatch)


def _backend(backend_name, request, tmp_path, monkeypatch):
    if backend_name == "embedded":
        monkeypatch.setenv("PRTKG_STORE", str(tmp_path / "store"))
        monkeypatch.delenv("PRTKG_SPARQL_ENDPOINT", raising=False)
        made: list[Store] = []

        def embedded():
            # one store per test: the on-disk store is locked by the process that opened it
            if not made:
                made.append(Store(tmp_path / "store"))
            return made[0]
        return embedded
    server = request.getfixturevalue("virtuoso_server" if backend_name == "virtuoso" else "oxigraph_server")
    for k in ("PRTKG_SPARQL_UPDATE_ENDPOINT", "PRTKG_SPARQL_GRAPH_STORE", "PRTKG_SPARQL_UNION_PARAM"):
        monkeypatch.delenv(k, raising=False)
    server.clear()
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    return server.store


# -- the bundled demo, built once per run ------------------------------------------------------
# Each build takes 30-60 s (loading, OWL RL derivation, every check); a module of its own per file
# made the default run rebuild it a dozen times. These are shared READ-ONLY: a test that writes to
# the demo store takes a copy (demo_store_copy).
@pytest.fixture(scope="session")
def demo_store():
    """The bundled reference data and demo ingested (records, derived graphs, findings) into an
    in-memory store, as of the demo's own day, as `prtkg serve --demo` holds them."""
    from prtkg.app.serve import demo_store as build
    return build()


@pytest.fixture(scope="session")
def demo_store_copy(demo_store):
    """demo_store_copy(path=None) -> a new store (in memory, or on disk at `path`) holding every graph
    of the session's demo store: for tests that write to it (case actions) or need it on disk (the
    CLI opens PRTKG_STORE itself). Seconds, where a new build takes most of a minute."""
    from pyoxigraph import NamedNode

    from prtkg.store import Store

    def copy(path=None) -> Store:
        store = Store(path)
        store.add_quads(demo_store.graphs_quads([NamedNode(g) for g in demo_store.named_graphs()]))
        assert len(store) == len(demo_store)
        return store
    return copy


@pytest.fixture(scope="session")
def demo_check():
    """`prtkg check` over the bundled demo as of its own day: the CheckResult (findings, store)."""
    from prtkg.app.checking import check
    from prtkg.app.serve import DEMO_AS_OF
    return check([], as_of=DEMO_AS_OF)


@pytest.fixture(scope="session")
def empty_reference():
    """For `app.state.reference` (api.records.Reference, the bundled reference POST /validate checks
    against) where a test asks who may call /validate or how it reads a body, not what it finds:
    each call then checks the body alone, not the bundled powers lists too (20-60 s a call under load)."""
    from prtkg.records import LoadResult

    class NoReference:
        def get(self) -> LoadResult:
            return LoadResult()
    return NoReference()


# -- slow tests (soak runs, large inputs): only with --runslow or PRTKG_RUNSLOW=1 ---------------
def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("PRTKG_RUNSLOW"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or PRTKG_RUNSLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server():
    """Run an app on a real uvicorn on 127.0.0.1 (free port): `with live_server(app) as url: ...`."""
    import contextlib
    import threading

    import uvicorn

    @contextlib.contextmanager
    def run(app, start_timeout: float = 20):
        port = _free_port()
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + start_timeout
        while not srv.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            srv.should_exit = True
            thread.join(5)

    return run
