"""Issue 15 (items 4, 8, 9b) and issue 19 item 5: atomic POST /records, errors by kind, browser and
network hygiene, the limits of /validate, and provenance that names files, not server paths."""
from __future__ import annotations

import hashlib
import base64
import http.server
import json
import logging
import re
import threading
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from prtkg import loaders
from prtkg.api import records as api_records
from prtkg.api.app import create_app
from prtkg.api.auth import caller
from prtkg.api.settings import Settings
from prtkg.errors import ConfigError, PrtkgError, StoreError, StoreUnavailable
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
TOKENS = {"sec-ingest": "ingest", "sec-staff": "staff"}
INGEST = {"Authorization": "Bearer sec-ingest"}
STAFF = {"Authorization": "Bearer sec-staff"}


def _complaint(variant: str) -> bytes:
    return json.dumps({"recordType": "complaint", "id": "TS-ATOMIC-1", "project": "ocds-p7x2k1-2026-0042",
                       "complainant": {"name": f"投诉人 {variant}"}, "handler": "11530000015234694U",
                       "receivedDate": "2026-03-02", "rejectedDate": "2026-03-05"}).encode()


def _state(store) -> set[tuple]:
    rows = store.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {(r["s"], r["p"], str(r["o"]), r["g"]) for r in rows}


def _post(c, body: bytes):
    return c.post("/records?asOf=2026-06-01", content=body, headers={"Content-Type": "application/json", **INGEST})


# -- 15.4 POST /records is atomic -------------------------------------------------------------------
@pytest.fixture(params=["memory", "disk", "remote"])
def any_store(request, tmp_path):
    if request.param == "memory":
        return Store(None)
    if request.param == "disk":
        return Store(tmp_path / "store")
    server = request.getfixturevalue("oxigraph_server")
    server.clear()
    return server.store()


def test_failed_check_stores_nothing_and_names_an_error_id(any_store, monkeypatch, caplog):
    any_store.load_ontology()
    app = create_app(any_store, Settings(tokens=dict(TOKENS)))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert _post(c, _complaint("first")).status_code == 200  # a stored record and its findings
        before = _state(any_store)
        assert any("TS-ATOMIC-1" in str(t) for t in before)

        def broken(*args, **kwargs):
            raise RuntimeError("injected failure inside checking")
        monkeypatch.setattr(api_records, "run_checks", broken)
        caplog.set_level(logging.ERROR, logger="prtkg.api")
        for body in (_complaint("second"),  # a re-submission: its old graph must stay as it was
                     _complaint("x").replace(b"TS-ATOMIC-1", b"TS-ATOMIC-2")):  # a new record: never stored
            r = _post(c, body)
            assert r.status_code == 500, r.text
            doc = r.json()
            assert "none of them was stored" in doc["detail"] and doc["errorId"] in doc["detail"]
            assert doc["errorId"] in caplog.text and "injected failure" in caplog.text
            assert "injected" not in r.text  # the cause goes to the log, not to the caller
            assert _state(any_store) == before
        monkeypatch.undo()
        assert _post(c, _complaint("third")).status_code == 200
        assert _state(any_store) != before


def test_records_and_findings_land_in_one_update_on_disk(tmp_path, monkeypatch):
    """On disk, the check runs in a private copy; the real store sees a single write."""
    store = Store(tmp_path / "store")
    store.load_ontology()
    app = create_app(store, Settings(tokens=dict(TOKENS)))
    writes = []
    for name in ("update", "replace_records", "add_quads", "replace_graph", "insert_where", "remove_graph"):
        real = getattr(store, name, None)
        if real is not None:
            monkeypatch.setattr(store, name, lambda *a, _n=name, _r=real, **k: (writes.append((_n, a)), _r(*a, **k))[1])
    with TestClient(app) as c:
        r = _post(c, _complaint("disk"))
        assert r.status_code == 200
    # Records and findings in one update; after it only the derived graphs follow (prtkg/derived.py).
    assert writes and writes[0][0] == "update" and "TS-ATOMIC-1" in writes[0][1][0]
    from prtkg.derived import GRAPHS as DERIVED_GRAPHS
    for name, args in writes[1:]:
        text = "".join(str(q.graph_name) if hasattr(q, "graph_name") else str(q)
                       for a in args for q in (a if isinstance(a, (list, tuple)) else [a]))
        assert any(g in text for g in DERIVED_GRAPHS), (name, text[:300])
    assert not list(tmp_path.glob(".store.trial-*"))  # the copy is gone


# -- 19.5 errors by kind ---------------------------------------------------------------------------
class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b"<html>not a SPARQL answer</html>")

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def app_client():
    store = Store(None)
    store.load_ontology()
    app = create_app(store, Settings(tokens=dict(TOKENS)))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _swap_store(client, store):
    client.app.state.store = store


def test_store_down_is_503_and_garbage_is_502(app_client, caplog):
    from prtkg.store.remote import RemoteStore
    caplog.set_level(logging.ERROR, logger="prtkg.api")
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed when the block ends: nothing listens there
    _swap_store(app_client, RemoteStore(f"http://127.0.0.1:{dead}/query", timeout=2))
    r = app_client.get("/healthz")
    assert r.status_code == 503, r.text
    assert str(dead) not in r.text and r.json()["errorId"] in caplog.text and str(dead) in caplog.text

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _swap_store(app_client, RemoteStore(f"http://127.0.0.1:{server.server_port}/query", timeout=5))
        r = app_client.get(f"/entities/91530100216584033Q/credit")
        assert r.status_code == 502, r.text
        assert r.json()["errorId"] in caplog.text
    finally:
        server.shutdown()


@pytest.mark.parametrize("error,status", [
    (StoreUnavailable("down"), 503), (StoreError("garbage"), 502), (ConfigError("PRTKG_X: wrong"), 500),
    (PrtkgError("your input"), 400), (KeyError("bug"), 500)])
def test_each_kind_maps_to_its_status(app_client, error, status):
    store = app_client.app.state.store

    class Failing(Store):
        def ask(self, query):
            raise error
    failing = Failing(None)
    _swap_store(app_client, failing)
    try:
        r = app_client.get("/healthz")
    finally:
        _swap_store(app_client, store)
    assert r.status_code == status
    doc = r.json()
    assert r.headers["x-content-type-options"] == "nosniff"  # also on the answer to an unforeseen error
    if status >= 500:
        assert re.fullmatch(r"[0-9a-f]{16}", doc["errorId"])
        assert "wrong" not in doc["detail"] and "bug" not in doc["detail"]  # details stay in the log
    else:
        assert doc["detail"] == "your input"


def test_a_store_error_in_a_credit_lookup_is_not_a_422(app_client):
    class Down(Store):
        def select(self, query, **b):
            raise StoreUnavailable("down")

        def ask(self, query):
            raise StoreUnavailable("down")
    _swap_store(app_client, Down(None))
    assert app_client.get("/entities/91530100216584033Q/credit").status_code == 503


# -- 15.8 browser and network hygiene --------------------------------------------------------------
HTML_PAGES = ["/", "/pages/findings", "/pages/coverage", "/pages/entity", "/docs"]


def _csp(r) -> dict[str, list[str]]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_carry_security_headers(app_client, path):
    r = app_client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = _csp(r)
    for directive, values in csp.items():
        assert not any("//" in v or v in ("*", "http:", "https:") for v in values), (directive, values)
    assert csp["frame-ancestors"] == ["'none'"] and "'unsafe-inline'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    # every inline script is admitted by its hash, and no other
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    assert hashes == {v for v in csp["script-src"] if v.startswith("'sha256-")}


def test_docs_need_no_internet(app_client):
    html = app_client.get("/docs").text
    refs = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
    assert refs
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        got = app_client.get(ref)
        assert got.status_code == 200 and len(got.content) > 100, ref
    assert app_client.get("/redoc").status_code == 404  # not served: its bundle calls its vendor's CDN


def test_data_answers_are_inert_and_negotiated_answers_vary_on_accept(app_client):
    r = app_client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"] and "vary" not in r.headers
    for accept in ("application/sparql-results+json", "text/csv", "image/png"):
        r = app_client.get("/sparql", params={"query": "ASK {}"}, headers={**STAFF, "Accept": accept})
        assert "accept" in [v.strip().lower() for v in r.headers["vary"].split(",")], (accept, r.status_code)
    r = app_client.get("/queries/findings-by-rule", headers={**STAFF, "Accept": "text/csv"})
    assert r.status_code == 200 and "Accept" in r.headers["vary"]


def _probe_app(settings: Settings) -> TestClient:
    store = Store(None)
    store.load_ontology()
    app = create_app(store, settings)

    @app.get("/probe")
    def probe(request: Request) -> dict:
        return {"caller": caller(request, None)}
    return TestClient(app)


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted():
    spoof = {"X-Forwarded-For": "203.0.113.9"}
    with _probe_app(Settings()) as c:
        assert c.get("/probe", headers=spoof).json()["caller"] == "anonymous@testclient"
    with _probe_app(Settings(trusted_proxies=["testclient"])) as c:
        assert c.get("/probe", headers=spoof).json()["caller"] == "anonymous@203.0.113.9"
    with _probe_app(Settings(trusted_proxies=["10.0.0.1"])) as c:
        assert c.get("/probe", headers=spoof).json()["caller"] == "anonymous@testclient"


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch, tmp_path):
    import uvicorn
    from prtkg.app import serve
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setenv("PRTKG_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("PRTKG_SPARQL_ENDPOINT", raising=False)
    serve.serve(echo=lambda m: None)
    assert seen["proxy_headers"] is False


def test_settings_read_the_new_limits(monkeypatch):
    monkeypatch.setenv("PRTKG_VALIDATE_TIMEOUT", "7.5")
    monkeypatch.setenv("PRTKG_MAX_VALIDATIONS", "3")
    monkeypatch.setenv("PRTKG_CREDIT_MAX_CODES", "40")
    monkeypatch.setenv("PRTKG_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.0/8")
    s = Settings.from_env()
    assert (s.validate_timeout, s.max_validations, s.credit_max_codes) == (7.5, 3, 40)
    assert s.trusted_proxies == ["10.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("PRTKG_MAX_VALIDATIONS", "0")
    with pytest.raises(ConfigError, match="PRTKG_MAX_VALIDATIONS"):
        Settings.from_env()


# -- 15.8 provenance names files, not server paths -------------------------------------------------
def _sources(store) -> set[str]:
    return {r["s"] for r in store.select("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?g prtkg:source ?s } }")}


@pytest.mark.parametrize("stream", [False, True])
def test_provenance_names_the_file_not_its_path(tmp_path, monkeypatch, stream):
    from prtkg.app import ingest
    folder = tmp_path / "incoming"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "complaints.jsonl").write_bytes(_complaint("p") + b"\n" + b"{broken\n")
    single = tmp_path / "credit_yn.csv"
    single.write_bytes((FIX / "csv" / "credit_yn.csv").read_bytes())
    if stream:
        monkeypatch.setattr(ingest, "STREAM_BYTES", 0)  # every JSON Lines file through the streaming path
    store = Store(None)
    result = ingest.ingest([folder, single], store=store, check=False)
    sources = _sources(store)
    assert any(s.startswith("incoming/2026/complaints.jsonl") for s in sources), sources
    assert any(s.startswith("credit_yn.csv") for s in sources), sources
    assert not any(str(tmp_path) in s or s.startswith("/") for s in sources), sources
    assert [r["record"] for r in result["rejected"]] == ["incoming/2026/complaints.jsonl#2"]


def test_loaded_sources_never_hold_the_absolute_path():
    loaded = loaders.load_paths([(FIX / "csv" / "credit_yn.csv").resolve()])
    assert {r.source.split("#")[0] for r in loaded.records} == {"credit_yn.csv"}


# -- 15.9b /validate limits and /workbench/labels --------------------------------------------------
def _validate(c):
    return c.post("/validate?asOf=2026-06-01", content=(FIX / "csv" / "credit_yn.csv").read_bytes(),
                  headers={"Content-Type": "text/csv"})


def test_validate_has_a_concurrency_cap_and_a_time_limit(monkeypatch):
    store = Store(None)
    store.load_ontology()
    app = create_app(store, Settings(validate_timeout=0.3, max_validations=1))
    release = threading.Event()
    real = api_records.validate_records

    def slow(*args):
        release.wait(20)
        return real(*args)
    monkeypatch.setattr(api_records, "validate_records", slow)
    with TestClient(app) as c:
        r = _validate(c)
        assert r.status_code == 504 and "PRTKG_VALIDATE_TIMEOUT" in r.json()["detail"]
        # the timed-out check still runs, and holds its slot until it ends: the cap bounds real work
        busy = _validate(c)
        assert busy.status_code == 503 and "PRTKG_MAX_VALIDATIONS" in busy.json()["detail"]
        assert busy.headers["retry-after"]
        release.set()
        for _ in range(100):
            if app.state.validations.acquire(timeout=0.1):
                app.state.validations.release()
                break
        monkeypatch.setattr(api_records, "validate_records", real)
        app.state.settings.validate_timeout = 120  # a real check of the reference data takes seconds
        assert _validate(c).status_code == 200


def test_workbench_labels_need_the_staff_token(app_client):
    assert app_client.get("/workbench/labels").status_code == 401
    assert app_client.get("/workbench/labels", headers=INGEST).status_code == 403
    r = app_client.get("/workbench/labels", headers=STAFF)
    assert r.status_code == 200 and "trade-type" in r.json()


def test_open_code_labels_name_no_region_of_the_store(app_client):
    r = app_client.get("/workbench/code-labels")
    assert r.status_code == 200 and r.json()["trade-type"] and not r.json().get("region")


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_a_store_failing_at_the_findings_write_leaves_nothing_and_keeps_its_kind(kind, tmp_path, monkeypatch):
    from prtkg import rdf
    store = Store(None if kind == "memory" else tmp_path / "store")
    store.load_ontology()
    app = create_app(store, Settings(tokens=dict(TOKENS)))
    with TestClient(app, raise_server_exceptions=False) as c:
        assert _post(c, _complaint("first")).status_code == 200
        before = _state(store)
        real = store.update

        def refusing(text):
            if rdf.FINDINGS_GRAPH in text:
                raise StoreError("the store refused the write")
            return real(text)
        monkeypatch.setattr(store, "update", refusing)
        r = _post(c, _complaint("second"))
        assert r.status_code == 502 and r.json()["errorId"]
        monkeypatch.undo()
        assert _state(store) == before


def test_a_broken_saved_question_file_is_the_servers_fault(app_client, monkeypatch):
    from prtkg import saved_queries
    monkeypatch.setattr(saved_queries, "library", lambda: {"x": saved_queries.parse("x", "SELECT * { ?s ?p ?o }")})
    r = app_client.get("/queries", headers=STAFF)
    assert r.status_code == 500 and "misconfigured" in r.json()["detail"] and r.json()["errorId"]
