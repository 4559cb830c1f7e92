"""The SPARQL sandbox (docs/security.md): only standard SPARQL 1.1 queries run, on every path (the CLI,
/sparql, saved questions); no query reaches the network; a query's dataset is the one it names; a query
process has a memory cap. Issue 15 items 1, 5, 7, 9 and issue 23 items 1, 2."""
from __future__ import annotations

import json
import os
import re
import socket
import threading

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prtkg import saved_queries
from prtkg.api.app import create_app
from prtkg.api.query_worker import drop_network, probe_network_isolation, sandbox
from prtkg.api.settings import Settings
from prtkg.app.cli import app as cli_app
from prtkg.errors import PrtkgError
from prtkg.querying import QueryRefused, query_dataset, run_query, standard_query
from prtkg.store import Store

STAFF = {"Authorization": "Bearer s"}
SETTINGS = dict(tokens={"s": "staff"}, query_timeout=30, body_limit=2_000_000)


class Listener:
    """A local HTTP server that answers like a SPARQL endpoint and counts who reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.hits: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        body = b'{"head":{"vars":["leak"]},"results":{"bindings":[{"leak":{"type":"literal","value":"LEAKED"}}]}}'
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.hits.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def listener():
    li = Listener()
    yield li
    li.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the bypass forms of issue 15, and variants generated from them ----------------------------------
SEPARATORS = [" ", "\t", "\n", "\r", "\r\n", "\f", "\v", "\u00a0", "\u3000", "\u2028", "\u0085",
              " # a comment\n", " #\r", "/**/"]
KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "S\\u0045RVICE", "\\u0053ERVICE", "SERV\\U00000049CE"]


def bypass_forms(url: str) -> list[str]:
    host = url.rsplit("/", 1)[0] + "/"
    inner = "{ ?a ?b ?c }"
    forms = [
        f"SELECT * WHERE {{ ?s ?p 1SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p trueSERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p <http://x/\\u0041#> SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p <http://x/\u00a0#> . SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p <http://x/\u3000#> . SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p ?o . SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p ?o # c\rSERVICE <{url}> {inner}\n}}",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{url}> {inner} }} }}",
        f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {inner} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {inner} }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{url}> {inner} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {inner} }} }}",
        f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE SILENT <{url}> {inner} }} }}",
        f"ASK {{ SERVICE <{url}> {inner} }}",
        f"CONSTRUCT {{ ?a ?b ?c }} WHERE {{ SERVICE <{url}> {inner} }}",
        f"DESCRIBE ?a WHERE {{ SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ VALUES ?u {{ <{url}> }} SERVICE ?u {inner} }}",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {inner} }}",
        f"PREFIX l: <{host}> SELECT * WHERE {{ SERVICE l:sparql {inner} }}",
        f"BASE <{host}> SELECT * WHERE {{ SERVICE <sparql> {inner} }}",
        # quotes the SPARQL grammar makes of \u escapes (before parsing) but Oxigraph does not
        f"SELECT * WHERE {{ ?s ?p \"A\\u0022, \" . SERVICE <{url}> {inner} ?s ?p \"\", \"\" }}",
        f"SELECT * WHERE {{ ?s ?p 'A\\u00000027, \"' . SERVICE <{url}> {inner} ?s ?p \"\", \"\" }}",
        f"SELECT * WHERE {{ ?s ?p \"\"\"A\\u0022\\u0022\\u0022 . SERVICE <{url}> {inner} ?s ?p \"\"\"x\"\"\" }}",
        f"SELECT * WHERE {{ ?s ?p <http://x/\\u003E . SERVICE <{url}> {inner} ?s ?p <http://y/> }}",
        f"SELECT * WHERE {{ ?s ?p ?o \\u0023 }}\nSERVICE <{url}> {inner} }}",
        f"PREFIX e: <http://e/> SELECT * WHERE {{ ?s ?p e:a\\#b . SERVICE <{url}> {inner} }}",
        f"SELECT * WHERE {{ ?s ?p ?o }} # \\u000A SERVICE <{url}> {inner}",
        f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"DEFINE get:soft \"replace\" SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"LOAD <{url}>",
        f"LOAD <{url}> INTO GRAPH <urn:x>",
    ]
    for keyword in KEYWORDS:
        for sep in SEPARATORS:
            forms.append(f"SELECT * WHERE {{ ?s ?p ?o .{sep}{keyword}{sep}<{url}>{sep}{inner} }}")
            forms.append(f"SELECT * WHERE {{ ?s ?p 1{keyword}{sep}<{url}> {inner} }}")
    return forms


def test_every_bypass_form_is_refused_by_the_one_check(listener):
    forms = bypass_forms(listener.url)
    assert len(forms) > 200
    for q in forms:
        with pytest.raises(QueryRefused) as e:
            standard_query(q)
        assert e.value.status == 400
    assert listener.hits == []


def test_where_the_check_sees_no_service_the_store_sees_none_either():
    """Two parsers read each query; generated texts that hide SERVICE inside a string, IRI, name or comment
    for the check (so it accepts them) must hide it from Oxigraph as well. A SERVICE Oxigraph saw would
    fail on the closed port and name it; none may."""
    import random

    import pyoxigraph as ox
    rng = random.Random(15)
    store = ox.Store()
    service = f"SERVICE <http://127.0.0.1:{_closed_port()}/x> {{ ?a ?b ?c }}"
    pairs = [('"', '"'), ("'", "'"), ('"""', '"""'), ("'''", "'''"), ("#", "\n"), ("<http://x/", ">"), ("e:a", ""),
             ("1", "")]
    junk = ['\\"', "\\'", "\\\\", "\\n", '"', "'", '""', "\r", "\n", "\u2028", "\x85", "\x00", "\\", ">", "<",
            "#", " ", "a", "\\#", "\\.", ".", "\\u0022", "\\u0027", "\\u003E", "\\U00000022", "\x0c", "\u00a0"]
    accepted = 0
    for _ in range(600):
        opener, closer = rng.choice(pairs)
        before = "".join(rng.choice(junk) for _ in range(rng.randint(0, 4)))
        after = "".join(rng.choice(junk) for _ in range(rng.randint(0, 3)))
        q = f"PREFIX e: <http://e/> SELECT * WHERE {{ ?s ?p {opener}{before} . {service} {after}{closer} . ?s ?p ?o }}"
        try:
            checked = standard_query(q)
        except QueryRefused:
            continue
        accepted += 1
        try:
            list(store.query(checked.text))
        except (SyntaxError, OSError, RuntimeError, ValueError) as e:
            assert not re.search(r"(?i)service|connect|http|127\.0\.0\.1", str(e)), (q, str(e))
    assert accepted > 50  # the generator does reach texts the check accepts


def _api_status(c, how: str, q: str):
    if how == "get":
        return c.get("/sparql", params={"query": q}, headers=STAFF)
    if how == "form":
        return c.post("/sparql", data={"query": q}, headers=STAFF)
    return c.post("/sparql", content=q.encode(), headers={**STAFF, "Content-Type": "application/sparql-query"})


@pytest.mark.parametrize("where", ["memory", "disk", "remote"])
def test_no_bypass_form_reaches_a_listener_through_sparql(listener, where, tmp_path, request):
    if where == "remote":  # `oxigraph serve` does follow SERVICE: the check is the only wall there
        server = request.getfixturevalue("oxigraph_server")
        server.clear()
        store = server.store()
        control = Listener()  # asked directly, the server does fetch: what stops it below is the check
        import urllib.parse
        import urllib.request
        q = f"SELECT * WHERE {{ SERVICE <{control.url}> {{ ?s ?p ?o }} }}"
        urllib.request.urlopen(server.url + "/query?" + urllib.parse.urlencode({"query": q}), timeout=10).read()
        control.close()
        assert len(control.hits) == 1
    else:
        store = Store(None if where == "memory" else tmp_path / "store")
    app = create_app(store, Settings(**SETTINGS))
    forms = bypass_forms(listener.url)
    if where != "disk":
        forms = forms[::3]  # a fork per query there: every form already ran through the check above
    with TestClient(app) as c:
        for i, q in enumerate(forms):
            how = ("get", "form", "body")[i % 3]
            r = _api_status(c, how, q)
            assert r.status_code == 400, (how, q, r.text)
            assert "LEAKED" not in r.text
        # and the endpoint still answers ordinary queries
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=STAFF).json()["boolean"] is True
        if app.state.runner.pool is not None:
            app.state.runner.pool.close()
    assert listener.hits == []


def test_no_bypass_form_reaches_a_listener_through_the_cli(listener, tmp_path, monkeypatch):
    Store(tmp_path / "store").load_ontology()
    monkeypatch.setenv("PRTKG_STORE", str(tmp_path / "store"))
    monkeypatch.delenv("PRTKG_SPARQL_ENDPOINT", raising=False)
    runner = CliRunner()
    for i, q in enumerate(bypass_forms(listener.url)):
        if i % 4 == 0:  # the command itself for a share of them (each costs a store opening), the function for all
            result = runner.invoke(cli_app, ["query", q])
            assert result.exit_code == 2, (q, result.output)
            assert "Traceback" not in result.output
        with pytest.raises(PrtkgError):
            run_query(q)
    assert listener.hits == []


def test_the_cli_refuses_before_anything_is_sent_to_a_remote_store(monkeypatch):
    """Issue 23.1: with a listener as the remote endpoint, an update never reaches it."""
    listener = Listener()
    monkeypatch.setenv("PRTKG_SPARQL_ENDPOINT", listener.url)
    monkeypatch.setenv("PRTKG_SPARQL_UPDATE_ENDPOINT", listener.url)
    before = len(listener.hits)
    for q in ["INSERT DATA { <urn:a> <urn:b> <urn:c> }", "PREFIX e: <urn:e:> DELETE WHERE { ?s ?p ?o }",
              "DROP ALL", "CLEAR DEFAULT", f"LOAD <{listener.url}>", "DEFINE sql:log-enable 3 SELECT * {}",
              f"SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"]:
        result = CliRunner().invoke(cli_app, ["query", q])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    assert len(listener.hits) == before
    ok = CliRunner().invoke(cli_app, ["query", "SELECT ?leak WHERE { ?leak ?p ?o }", "--format", "json"])
    assert ok.exit_code == 0 and "LEAKED" in ok.output  # the same endpoint is reached for a query: the check is what stopped the rest
    assert len(listener.hits) == before + 1
    listener.close()


def test_updates_are_refused_on_every_backend_and_the_store_is_unchanged(backend):
    store = backend()
    store.update("INSERT DATA { GRAPH <urn:prtkg:graph:test:a> { <urn:s> <urn:p> 1 } }")
    runner = CliRunner()
    for q in ["INSERT DATA { GRAPH <urn:prtkg:graph:test:a> { <urn:s> <urn:p> 2 } }",
              "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", "CLEAR ALL", "DROP GRAPH <urn:prtkg:graph:test:a>",
              "WITH <urn:prtkg:graph:test:a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"]:
        result = runner.invoke(cli_app, ["query", q])
        assert result.exit_code == 2, result.output
        assert "updates are refused" in result.output
    out = run_query("SELECT ?o WHERE { GRAPH <urn:prtkg:graph:test:a> { <urn:s> <urn:p> ?o } }", "json", store=store)
    assert [b["o"]["value"] for b in json.loads(out)["results"]["bindings"]] == ["1"]


VENDOR = [
    ("DEFINE get:soft \"replace\" SELECT * FROM <urn:x> WHERE { ?s ?p ?o }", "DEFINE"),
    ("PREFIX bif: <bif:> SELECT (bif:sys_stat('st_dbms_name') AS ?x) WHERE {}", "bif:sys_stat"),
    ("SELECT (bif:sys_stat('st_dbms_name') AS ?x) WHERE {}", "bif:"),
    ("PREFIX sql: <sql:> SELECT * WHERE { ?s ?p ?o FILTER(sql:f(?o)) }", "sql:f"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(<http://www.openlinksw.com/schemas/bif#contains>(?o, 'x')) }",
     "http://www.openlinksw.com/schemas/bif#contains"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(<http://jena.apache.org/ARQ/function#sha1>(?o)) }", "ARQ/function#sha1"),
    ("SELECT * FROM <http://example.org/data.ttl> WHERE { ?s ?p ?o }", "FROM <http://example.org/data.ttl>"),
    ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM NAMED <file:///etc/passwd>"),
    ("PREFIX bif: <bif:> SELECT * WHERE { ?s ?p ?o . ?o bif:contains '\"x\"' }", "<bif:contains>"),
    ("SELECT * WHERE { ?o <http://www.openlinksw.com/schemas/bif#contains> 'x' }", "schemas/bif#contains"),
    ("PREFIX apf: <http://jena.apache.org/ARQ/property#> SELECT * WHERE { ?l apf:strSplit ('a b' ' ') }",
     "ARQ/property#strSplit"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1 ; INSERT DATA { <urn:a> <urn:b> <urn:c> }", "not a SPARQL query in standard SPARQL 1.1 syntax"),
    ("SELECT * WHERE { << ?s ?p ?o >> ?q ?r }", "not a SPARQL query in standard SPARQL 1.1 syntax"),
]


@pytest.mark.parametrize("query,named", VENDOR)
def test_vendor_extensions_are_refused_naming_them(query, named):
    with pytest.raises(QueryRefused) as e:
        standard_query(query)
    assert named in str(e.value)


@pytest.fixture(scope="module")
def client():
    store = Store(None)
    store.update("INSERT DATA { GRAPH <urn:prtkg:graph:test:a> { <urn:s1> <urn:test:p> 1 . <urn:s2> <urn:test:p> 2 } "
                 "GRAPH <urn:prtkg:graph:test:b> { <urn:s3> <urn:test:p> 3 } }")
    with TestClient(create_app(store, Settings(**SETTINGS))) as c:
        yield c


@pytest.mark.parametrize("query,named", VENDOR)
def test_sparql_refuses_vendor_extensions_with_400(client, query, named):
    r = client.get("/sparql", params={"query": query}, headers=STAFF)
    assert r.status_code == 400 and named in r.json()["detail"], r.text


@pytest.mark.parametrize("param", ["default-graph-uri", "named-graph-uri"])
def test_request_graphs_must_be_the_stores_own(client, param):
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }", param: "http://127.0.0.1:1/x"}, headers=STAFF)
    assert r.status_code == 400 and param in r.json()["detail"] and "http://127.0.0.1:1/x" in r.json()["detail"]


def test_standard_functions_and_local_graphs_still_run(client):
    q = ("PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT (SUM(xsd:integer(?o)) AS ?n) "
         "FROM <urn:prtkg:graph:test:a> WHERE { ?s <urn:test:p> ?o }")
    r = client.get("/sparql", params={"query": q}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "3"


def test_refusals_read_the_same_for_open_and_closed_ports(client, listener):
    closed = _closed_port()

    def detail(port):
        q = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
        r = client.get("/sparql", params={"query": q}, headers=STAFF)
        assert r.status_code == 400
        return r.json()["detail"].replace(str(port), "PORT")

    assert detail(listener.port) == detail(closed)


def test_two_queries_in_one_request_are_refused(client):
    r = client.get("/sparql?query=ASK%7B%7D&query=SELECT%20*%20%7B%7D", headers=STAFF)
    assert r.status_code == 400 and "exactly one" in r.json()["detail"]
    r = client.post("/sparql", content=b"query=ASK%7B%7D&query=ASK%7B%7D",
                    headers={**STAFF, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "exactly one" in r.json()["detail"]
    r = client.post("/sparql?query=ASK%7B%7D", content=b"ASK {}",
                    headers={**STAFF, "Content-Type": "application/sparql-query"})
    assert r.status_code == 400


@pytest.mark.parametrize("query", [
    "SELECT * WHERE " + "{" * 3000 + "?s ?p ?o" + "}" * 3000,
    "SELECT * WHERE { FILTER(" + "(" * 3000 + "1" + ")" * 3000 + ") }",
    "SELECT * WHERE { FILTER(" + "1+(" * 500 + "1" + ")" * 500 + ") }",
    "SELECT * WHERE { " + "{ SELECT * WHERE " * 800 + "{ ?s ?p ?o }" + " }" * 800 + " }",
    "SELECT * WHERE " + "{" * 200_000 + "}" * 200_000,
])
def test_deep_nesting_is_a_400_with_a_reason_never_a_500(client, query):
    r = client.post("/sparql", content=query.encode(), headers={**STAFF, "Content-Type": "application/sparql-query"})
    assert r.status_code == 400, r.text[:300]
    assert "nested too deeply" in r.json()["detail"]


def test_long_but_shallow_queries_still_run(client):
    q = "SELECT * WHERE { " + " ".join(f"OPTIONAL {{ ?s{i} <urn:test:p> {i} }}" for i in range(300)) + " } LIMIT 1"
    r = client.post("/sparql", content=q.encode(), headers={**STAFF, "Content-Type": "application/sparql-query"})
    assert r.status_code == 200, r.text[:300]


# -- 15.5 the query's own dataset --------------------------------------------------------------------
def _count(client, query, **params):
    r = client.get("/sparql", params={"query": query, **params}, headers=STAFF)
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


COUNT = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ ?s <urn:test:p> ?o }}"
COUNT_NAMED = "SELECT (COUNT(*) AS ?n) {from} WHERE {{ GRAPH ?g {{ ?s <urn:test:p> ?o }} }}"
A, B = "urn:prtkg:graph:test:a", "urn:prtkg:graph:test:b"


def _dataset_cases():
    return [
        (COUNT.format(**{"from": ""}), {}, 3),                                  # union default
        (COUNT.format(**{"from": "FROM <urn:nonexistent>"}), {}, 0),            # issue 15.5
        (COUNT.format(**{"from": f"FROM <{A}>"}), {}, 2),
        (COUNT.format(**{"from": f"FROM <{A}> FROM <{B}>"}), {}, 3),
        (COUNT_NAMED.format(**{"from": f"FROM NAMED <{B}>"}), {}, 1),
        (COUNT.format(**{"from": f"FROM NAMED <{B}>"}), {}, 0),               # FROM NAMED only: empty default graph
        (COUNT_NAMED.format(**{"from": f"FROM <{A}>"}), {}, 0),               # FROM only: no named graphs
        (COUNT.format(**{"from": f"FROM <{A}>"}), {"default-graph-uri": B}, 1),  # the request overrides the query
        (COUNT_NAMED.format(**{"from": ""}), {"named-graph-uri": A}, 2),
        (COUNT.format(**{"from": ""}), {"named-graph-uri": A}, 0),
        (COUNT_NAMED.format(**{"from": ""}), {}, 3),
    ]


@pytest.mark.parametrize("query,params,expected", _dataset_cases())
def test_the_dataset_is_the_querys_own(client, query, params, expected):
    assert _count(client, query, **params) == expected


def test_the_dataset_is_the_querys_own_on_every_backend(backend):
    store = backend()
    store.update(f"INSERT DATA {{ GRAPH <{A}> {{ <urn:s1> <urn:test:p> 1 . <urn:s2> <urn:test:p> 2 }} "
                 f"GRAPH <{B}> {{ <urn:s3> <urn:test:p> 3 }} }}")
    app = create_app(store, Settings(**SETTINGS))
    with TestClient(app) as c:
        for query, params, expected in _dataset_cases():
            assert _count(c, query, **params) == expected, (query, params)
        if app.state.runner.pool is not None:
            app.state.runner.pool.close()
    # the CLI's path, with no request parameters
    for query, params, expected in _dataset_cases():
        if not params:
            out = json.loads(run_query(query, "json", store=store))
            assert int(out["results"]["bindings"][0]["n"]["value"]) == expected, query


def test_a_caller_can_be_confined_to_some_graphs():
    union = standard_query("SELECT * WHERE { ?s ?p ?o }")
    d = query_dataset(union, allowed_graphs={A, "urn:prtkg:ontology"})
    assert sorted(g.value for g in d["default_graph"]) == [A, "urn:prtkg:ontology"]
    assert sorted(g.value for g in d["named_graphs"]) == [A, "urn:prtkg:ontology"]
    assert query_dataset(standard_query(f"ASK FROM <{A}> {{}}"), allowed_graphs={A})["default_graph"][0].value == A
    for checked, params in [(standard_query(f"ASK FROM <{B}> {{}}"), {}),
                            (standard_query(f"ASK FROM NAMED <{B}> {{}}"), {}),
                            (union, {"default_graph_uris": [B]}), (union, {"named_graph_uris": [B]})]:
        with pytest.raises(QueryRefused) as e:
            query_dataset(checked, allowed_graphs={A}, **params)
        assert e.value.status == 403 and B in str(e.value)


# -- the second wall: query processes have no network --------------------------------------------------
def test_a_query_process_has_no_network_even_if_a_service_got_through(listener):
    reason = probe_network_isolation()
    if reason:
        pytest.skip(f"network namespaces unavailable here ({reason}); the parser alone guards")
    closed = _closed_port()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: sandboxed as a query worker, then tries what the check would refuse
        try:
            import pyoxigraph as ox
            sandbox(None, network=False)
            out = []
            for port in (listener.port, closed):
                try:
                    list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> "
                                          "{ ?s ?p ?o } }"))
                    out.append("answered")
                except Exception as e:  # noqa: BLE001 (whatever it is, it goes back to the test)
                    out.append(str(e).replace(str(port), "PORT"))
            try:
                socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
                out.append("connected")
            except OSError as e:
                out.append(f"socket: {e.strerror}")
            os.write(write, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        out = json.loads(f.read() or "[]")
    os.waitpid(pid, 0)
    assert len(out) == 3 and "answered" not in out and "connected" not in out, out
    assert out[0] == out[1]  # open and closed ports look alike
    assert listener.hits == []


def test_drop_network_says_why_when_it_cannot(monkeypatch):
    monkeypatch.setattr(os, "unshare", lambda flags: (_ for _ in ()).throw(PermissionError(1, "Operation not permitted")),
                        raising=False)
    assert "not permitted" in drop_network()


# -- 15.7 memory ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["memory", "disk"])
def test_a_query_over_the_memory_cap_is_a_503_and_the_worker_is_replaced(where, tmp_path):
    store = Store(None if where == "memory" else tmp_path / "store")
    app = create_app(store, Settings(tokens={"s": "staff"}, query_timeout=60, max_queries=1, query_memory_mb=100))
    greedy = "SELECT ?a ?b ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?b ?d ?f"
    with TestClient(app) as c:
        r = c.get("/sparql", params={"query": greedy}, headers=STAFF)
        assert r.status_code == 503, r.text[:300]
        assert "memory limit of 100 MB" in r.json()["detail"] and "PRTKG_QUERY_MEMORY_MB" in r.json()["detail"]
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=STAFF).json()["boolean"] is True
        if app.state.runner.pool is not None:
            app.state.runner.pool.close()


def test_the_memory_cap_is_a_setting(monkeypatch):
    monkeypatch.setenv("PRTKG_QUERY_MEMORY_MB", "256")
    assert Settings.from_env().query_memory_mb == 256
    monkeypatch.delenv("PRTKG_QUERY_MEMORY_MB")
    assert Settings.from_env().query_memory_mb == 1024


# -- saved questions go through the same check --------------------------------------------------------
def test_saved_questions_pass_the_same_check(client, listener, monkeypatch):
    head = "# title@zh: 甲\n# title@en: A\n# description@zh: 乙\n# description@en: B\n"
    bad = saved_queries.parse("bad", head + f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}")
    lib = {**saved_queries.library(), "bad": bad}
    monkeypatch.setattr(saved_queries, "library", lambda: lib)
    r = client.get("/queries/bad", headers=STAFF)
    assert r.status_code == 400 and "SERVICE" in r.json()["detail"]
    result = CliRunner().invoke(cli_app, ["query", "bad"])
    assert result.exit_code == 2 and "SERVICE" in result.output
    assert listener.hits == []


def test_saved_question_parameters_cannot_smuggle_syntax(client, listener):
    evil = f'all" }} SERVICE <{listener.url}> {{ ?s ?p ?o }} FILTER("'
    r = client.get("/queries/findings-by-rule", params={"severity": evil}, headers=STAFF)
    assert r.status_code == 200, r.text
    assert listener.hits == []


@pytest.mark.parametrize("name,param,value,says", [
    ("ownership-chain", "entity", "91530100MA0000000X", "check character"),
    ("ownership-chain", "entity", "not-a-code", "18"),
    ("who-supervises", "region", "999999", "region list"),
    ("who-supervises", "tradeType", "works'", "trade-type list"),
    ("who-supervises", "stage", "EVALUATION", "stage list"),
    ("top-winners-per-buyer", "top", "\u0663", "ASCII digits"),
    ("top-winners-per-buyer", "top", "1_000", "ASCII digits"),
    ("top-winners-per-buyer", "top", "9" * 40, "ASCII digits"),
    ("findings-by-rule", "severity", "x" * 5000, "longer than"),
])
def test_saved_question_parameters_are_checked_by_type(client, name, param, value, says):
    r = client.get(f"/queries/{name}", params={param: value}, headers=STAFF)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith(f"parameter {param}:") and says in detail


def test_a_repeated_saved_question_parameter_is_refused(client):
    r = client.get("/queries/who-supervises?region=530100&region=530102", headers=STAFF)
    assert r.status_code == 400 and "region" in r.json()["detail"]


def test_year_parameters_take_ascii_digits_only():
    p = saved_queries.Param("year", "year", "2026", "")
    assert p.term("2026").value == "2026"
    for bad in ("\u0662\u0660\u0662\u0666", "２０２６", "26"):
        with pytest.raises(saved_queries.QueryParamError, match="parameter year"):
            p.term(bad)
    d = saved_queries.Param("day", "date", "2026-01-01", "")
    for bad in ("20260101", "2026-W01-1", "２０２６-01-01"):
        with pytest.raises(saved_queries.QueryParamError, match="parameter day"):
            d.term(bad)
    assert re.fullmatch(r"2026-01-01", str(d.term("2026-01-01").value))


def test_check_verdicts_are_remembered_refusals_never():
    # A query asked again skips the parser (the verdict depends on the text alone); a refusal is
    # decided afresh every time, and a text longer than the cache's bound is never kept.
    from prtkg import querying
    text = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    assert standard_query(text) is standard_query(text)
    refused = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    for _ in range(2):
        with pytest.raises(QueryRefused, match="SERVICE"):
            standard_query(refused)
    long = text + " " * querying.CHECK_CACHE_CHARS
    assert standard_query(long) is not standard_query(long)
    assert standard_query(long) == standard_query(long)
