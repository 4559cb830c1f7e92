"""The full access matrix: every route of the OpenAPI document x every kind of credential.

test_api.py checks each role family on a few routes; this file is the exhaustive grid (and fails
when a route is added without saying who may call it), plus constant-time comparison, revoked
tokens, and that no token ever shows up in logs, responses or stored provenance.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prtkg.api import auth
from prtkg.api.app import create_app
from prtkg.api.settings import Settings
from prtkg.app.checking import Context, run_checks
from prtkg.app.ingest import store_findings
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
SECRET = {"admin": "acc-ADMIN-5f0c2e9a", "staff": "acc-STAFF-77d1b3c4", "ingest": "acc-INGEST-0a9e4d21"}
TOKENS = {v: k for k, v in SECRET.items()}
CODE = "91530100216584033Q"
CSV = (FIX / "csv" / "credit_yn.csv").read_bytes()

# (method, OpenAPI path) -> (role(s) needed or None for open, request kwargs with the path filled in)
ROUTES = {
    ("GET", "/healthz"): (None, "/healthz", {}),
    ("GET", "/sparql"): ("staff", "/sparql?query=ASK%20%7B%7D", {}),
    ("POST", "/sparql"): ("staff", "/sparql", {"content": b"ASK {}",
                                               "headers": {"Content-Type": "application/sparql-query"}}),
    ("GET", "/queries"): ("staff", "/queries", {}),
    ("GET", "/queries/{name}"): ("staff", "/queries/findings-by-rule", {}),
    ("GET", "/entities/{code}/credit"): (None, f"/entities/{CODE}/credit", {}),
    ("POST", "/credit/checks"): (("ingest", "staff"), "/credit/checks", {"json": {"codes": [CODE]}}),
    ("GET", "/credit/checks/{check_id}"): (None, "/credit/checks/{check_id}", {}),
    ("POST", "/validate"): (None, "/validate?asOf=2026-06-01", {"content": CSV, "headers": {"Content-Type": "text/csv"}}),
    ("POST", "/records"): ("ingest", "/records?name=credit_yn.csv&asOf=2026-06-01",
                           {"content": CSV, "headers": {"Content-Type": "text/csv"}}),
    ("GET", "/findings"): ("staff", "/findings", {}),
    ("GET", "/findings/{finding_id}"): ("staff", "/findings/{finding_id}", {}),
    # assign may repeat (a re-assignment), so every admitted credential gets a 200
    ("POST", "/findings/{finding_id}/actions"): ("staff", "/findings/{finding_id}/actions",
                                                 {"json": {"action": "assign", "to": CODE}}),
    ("GET", "/supervision/coverage"): ("staff", "/supervision/coverage", {}),
}
# Authorization headers that carry no usable credential.
MALFORMED = {
    "basic-scheme": "Basic " + SECRET["admin"],
    "no-scheme": SECRET["admin"],
    "empty-bearer": "Bearer ",
    "bearer-only": "Bearer",
    "two-words": f"Bearer {SECRET['admin']} extra",
    "trailing-junk": f"Bearer {SECRET['admin']}x",
    "prefix-only": f"Bearer {SECRET['admin'][:-1]}",
    "case-changed": f"Bearer {SECRET['admin'].lower()}",
    "unknown": "Bearer not-a-token",
    "latin1": "Bearer t\xe9st",
    "role-name": "Bearer admin",
}
CREDENTIALS = ["none", *MALFORMED, "ingest", "staff", "admin"]
LOG: list[str] = []


class Capture(logging.Handler):
    def emit(self, record):
        LOG.append(self.format(record))


@pytest.fixture(scope="module")
def client(empty_reference):
    handler = Capture(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    from prtkg import loaders

    store = Store(None)
    store.load_ontology()
    records = loaders.load_paths([FIX / "csv" / "credit_yn.csv"]).records
    store.replace_records(records, agent="test")
    found = run_checks(Context(store, records, dt.date(2026, 6, 1)))
    store_findings(store, records, found, dt.date(2026, 6, 1))
    app = create_app(store, Settings(tokens=dict(TOKENS), query_timeout=5))
    # The grid asks who may call /validate, not what it finds (test_api.py calls it with the bundled reference).
    app.state.reference = empty_reference
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/credit/checks", json={"codes": [CODE]}, headers={"Authorization": f"Bearer {SECRET['staff']}"})
        assert r.status_code == 201
        c.check_id = r.json()["id"]
        c.store = store
        c.finding_id = found[0].id
        yield c
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_every_route_is_in_the_matrix(client):
    paths = client.app.openapi()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert documented == set(ROUTES), documented ^ set(ROUTES)


def expected(role_needed: str | tuple | None, cred: str) -> int:
    if role_needed is None:
        return 2
    if cred == "none" or cred in MALFORMED:
        return 401
    if cred == "admin" or cred in (role_needed if isinstance(role_needed, tuple) else (role_needed,)):
        return 2
    return 403


@pytest.mark.parametrize("cred", CREDENTIALS)
@pytest.mark.parametrize("route", list(ROUTES), ids=[f"{m} {p}" for m, p in ROUTES])
def test_access_matrix(client, route, cred):
    role_needed, path, kwargs = ROUTES[route]
    kwargs = json.loads(json.dumps(kwargs, default=lambda b: b.decode("latin-1")))  # a copy
    if "content" in kwargs:
        kwargs["content"] = kwargs["content"].encode("latin-1")
    headers = kwargs.pop("headers", {})
    if cred in MALFORMED:
        headers["Authorization"] = MALFORMED[cred].encode("latin-1")
    elif cred != "none":
        headers["Authorization"] = f"Bearer {SECRET[cred]}"
    path = path.replace("{check_id}", client.check_id).replace("{finding_id}", client.finding_id)
    r = client.request(route[0], path, headers=headers, **kwargs)
    want = expected(role_needed, cred)
    if want == 2:
        assert 200 <= r.status_code < 300, r.text
    else:
        assert r.status_code == want, r.text
        detail = r.json()["detail"]
        needed = role_needed if isinstance(role_needed, tuple) else (role_needed,)
        assert all(n in detail for n in needed) if want == 403 else ("token" in detail), detail
        if want == 401:
            assert r.headers["www-authenticate"] == "Bearer"
    for secret in SECRET.values():
        assert secret not in r.text, "a token echoed in a response"


def test_compare_is_constant_time_over_all_tokens(monkeypatch):
    """Every configured token is compared with hmac.compare_digest, match or not, first or last."""
    calls = []
    real = auth.hmac.compare_digest
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    tokens = {f"tok-{i}": "staff" for i in range(7)}
    for given in ("tok-0", "tok-6", "tok-3", "nope", "", "tok-"):
        calls.clear()
        auth.role_of(tokens, given)
        assert len(calls) == 7 and all(b == given.encode() for _, b in calls)
    # And the request path goes through it.
    calls.clear()
    with TestClient(create_app(Store(None), Settings(tokens=tokens))) as c:
        assert c.get("/findings", headers={"Authorization": "Bearer tok-6"}).status_code == 200
    assert len(calls) >= 7


def test_revoked_token_is_refused(tmp_path, monkeypatch):
    """Tokens are read at start-up: a token removed from the file is refused after a restart."""
    f = tmp_path / "tokens"
    f.write_text("keep-tok:staff\nold-tok:staff\n")
    monkeypatch.delenv("PRTKG_TOKENS", raising=False)
    monkeypatch.setenv("PRTKG_TOKENS_FILE", str(f))
    with TestClient(create_app(Store(None))) as c:
        assert c.get("/findings", headers={"Authorization": "Bearer old-tok"}).status_code == 200
    f.write_text("keep-tok:staff\n")
    with TestClient(create_app(Store(None))) as c:
        r = c.get("/findings", headers={"Authorization": "Bearer old-tok"})
        assert r.status_code == 401 and "old-tok" not in r.text
        assert c.get("/findings", headers={"Authorization": "Bearer keep-tok"}).status_code == 200


def test_no_token_in_logs_or_provenance(client):
    """Runs after the matrix (same module client): nothing logged or stored names a token."""
    r = client.post("/records?name=credit_yn.csv&asOf=2026-06-01", content=CSV,
                    headers={"Content-Type": "text/csv", "Authorization": f"Bearer {SECRET['ingest']}"})
    assert r.status_code == 200
    r = client.post("/credit/checks", json={"codes": [CODE]}, headers={"Authorization": f"Bearer {SECRET['staff']}"})
    assert r.status_code == 201 and r.json()["caller"] == auth.fingerprint(SECRET["staff"])
    dump = "\n".join(str(q) for q in client.store._ox.quads_for_pattern(None, None, None, None))
    assert auth.fingerprint(SECRET["ingest"]) in dump  # the writer is named, by fingerprint
    text = dump + "\n".join(LOG)
    for secret in SECRET.values():
        assert secret not in text
    assert repr(Settings(tokens=dict(TOKENS))).count("acc-") == 0  # settings never print their tokens
