"""Backends for the tests: the embedded store, and `oxigraph serve` on a free local port as a remote one.

`backend` is parametrized over both; a test taking it gets a factory `backend()` -> fresh empty store
(each remote store is its own server's data, emptied between tests).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
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
        from prtkg.remote_store import RemoteStore
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
    server = request.getfixturevalue("oxigraph_server")
    server.clear()
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    return server.store


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
