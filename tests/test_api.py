"""The HTTP API through its routes: every endpoint, its status codes, and the access matrix."""
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prtkg.api.app import create_app
from prtkg.api.auth import role_of
from prtkg.api.settings import Settings, parse_tokens
from prtkg.errors import ConfigError
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
TOKENS = {"adm-tok": "admin", "staff-tok": "staff", "ingest-tok": "ingest"}
RESTRICTED = "91530100216584033Q"  # credit_yn.csv: serious dishonesty, bid restriction for works 2026-01-15..2029-01-14


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def client(empty_reference):
    store = Store(None)
    app = create_app(store, Settings(tokens=dict(TOKENS), query_timeout=5, body_limit=200_000))
    # The routes' access and body handling do not depend on the reference; test_validate_stores_nothing
    # puts the bundled one back.
    app.state.reference = empty_reference
    with TestClient(app) as c:
        for name in ("credit_yn.csv", "powers_yn.csv"):
            r = c.post(f"/records?name={name}&asOf=2026-06-01", content=(FIX / "csv" / name).read_bytes(),
                       headers={"Content-Type": "text/csv", **auth("ingest-tok")})
            assert r.status_code == 200, r.text
        yield c


# -- access -----------------------------------------------------------------------------------
STAFF_ROUTES = [
    ("GET", "/sparql?query=ASK%20%7B%7D", {}),
    ("POST", "/sparql", {"content": "ASK {}", "headers": {"Content-Type": "application/sparql-query"}}),
    ("GET", "/queries", {}),
    ("GET", "/queries/findings-by-rule", {}),
    ("GET", "/findings", {}),
    ("GET", "/supervision/coverage", {}),
]
INGEST_ROUTES = [
    ("POST", "/records?name=credit_yn.csv", {"content": (FIX / "csv" / "credit_yn.csv").read_bytes(),
                                             "headers": {"Content-Type": "text/csv"}}),
]
OPEN_ROUTES = [
    ("GET", f"/entities/{RESTRICTED}/credit", {}),
    ("POST", "/validate", {"content": (FIX / "csv" / "credit_yn.csv").read_bytes(),
                           "headers": {"Content-Type": "text/csv"}}),
    ("GET", "/healthz", {}),
    ("GET", "/docs", {}),
    ("GET", "/openapi.json", {}),
]


def _call(client, method, path, kwargs, token=None):
    kwargs = dict(kwargs)
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers.update(auth(token))
    return client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize("method,path,kwargs", STAFF_ROUTES + INGEST_ROUTES)
def test_protected_routes_need_a_token(client, method, path, kwargs):
    r = _call(client, method, path, kwargs)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert _call(client, method, path, kwargs, "not-a-token").status_code == 401


@pytest.mark.parametrize("method,path,kwargs", STAFF_ROUTES)
def test_staff_routes_by_role(client, method, path, kwargs):
    wrong = _call(client, method, path, kwargs, "ingest-tok")
    assert wrong.status_code == 403 and "staff" in wrong.json()["detail"]
    assert _call(client, method, path, kwargs, "staff-tok").status_code == 200
    assert _call(client, method, path, kwargs, "adm-tok").status_code == 200


@pytest.mark.parametrize("method,path,kwargs", INGEST_ROUTES)
def test_ingest_routes_by_role(client, method, path, kwargs):
    wrong = _call(client, method, path, kwargs, "staff-tok")
    assert wrong.status_code == 403 and "ingest" in wrong.json()["detail"]
    assert _call(client, method, path, kwargs, "ingest-tok").status_code == 200
    assert _call(client, method, path, kwargs, "adm-tok").status_code == 200


@pytest.mark.parametrize("method,path,kwargs", OPEN_ROUTES)
def test_open_routes(client, method, path, kwargs):
    for token in (None, "ingest-tok", "not-a-token"):
        assert _call(client, method, path, kwargs, token).status_code in (200, 201)


def test_tokens_from_environment_and_file(tmp_path, monkeypatch):
    f = tmp_path / "tokens"
    f.write_text("# service tokens\nfile-tok:ingest\nother:admin, third:staff\n")
    monkeypatch.setenv("PRTKG_TOKENS", "env-tok:staff")
    monkeypatch.setenv("PRTKG_TOKENS_FILE", str(f))
    s = Settings.from_env()
    assert s.tokens == {"env-tok": "staff", "file-tok": "ingest", "other": "admin", "third": "staff"}
    assert role_of(s.tokens, "file-tok") == "ingest" and role_of(s.tokens, "file-to") is None
    with pytest.raises(ConfigError, match="role 'root'"):
        parse_tokens("x:root", "PRTKG_TOKENS")
    monkeypatch.setenv("PRTKG_TOKENS_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env()


def test_no_token_configured_means_no_access(monkeypatch):
    monkeypatch.delenv("PRTKG_TOKENS", raising=False)
    monkeypatch.delenv("PRTKG_TOKENS_FILE", raising=False)
    with TestClient(create_app(Store(None))) as c:
        assert c.get("/findings", headers=auth("")).status_code in (401, 403)
        assert c.get("/findings", headers=auth("staff-tok")).status_code == 401


def test_cors_is_off_by_default(client):
    r = client.options("/healthz", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    r = client.get("/healthz", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_when_configured():
    app = create_app(Store(None), Settings(cors_origins=["https://staff.example.org"]))
    with TestClient(app) as c:
        r = c.get("/healthz", headers={"Origin": "https://staff.example.org"})
        assert r.headers["access-control-allow-origin"] == "https://staff.example.org"


# -- SPARQL -----------------------------------------------------------------------------------
SELECT = "PREFIX prtkg: <https://w3id.org/prtkg/ontology#> SELECT ?name WHERE { ?r a prtkg:CreditRecord ; prtkg:name ?name } ORDER BY ?name"
CONSTRUCT = "PREFIX prtkg: <https://w3id.org/prtkg/ontology#> CONSTRUCT { ?r prtkg:name ?n } WHERE { ?r a prtkg:CreditRecord ; prtkg:name ?n }"
STAFF = auth("staff-tok")


def test_sparql_three_ways_give_the_same_answer(client):
    a = client.get("/sparql", params={"query": SELECT}, headers=STAFF)
    b = client.post("/sparql", data={"query": SELECT}, headers=STAFF)
    c = client.post("/sparql", content=SELECT.encode(), headers={**STAFF, "Content-Type": "application/sparql-query"})
    assert a.status_code == b.status_code == c.status_code == 200
    assert a.headers["content-type"].startswith("application/sparql-results+json")
    assert a.json() == b.json() == c.json()
    names = [row["name"]["value"] for row in a.json()["results"]["bindings"]]
    assert "云南某建设工程有限公司" in names


@pytest.mark.parametrize("accept,media,probe", [
    ("application/sparql-results+json", "application/sparql-results+json", '"bindings"'),
    ("application/sparql-results+xml", "application/sparql-results+xml", "<sparql"),
    ("text/csv", "text/csv", "name\r\n"),
    ("text/tab-separated-values", "text/tab-separated-values", "?name\n"),
    ("text/html;q=0.9, text/csv;q=0.5", "text/csv", "name\r\n"),
    ("*/*", "application/sparql-results+json", '"bindings"'),
])
def test_sparql_select_formats(client, accept, media, probe):
    r = client.get("/sparql", params={"query": SELECT}, headers={**STAFF, "Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert probe in r.text and "云南某建设工程有限公司" in r.text


@pytest.mark.parametrize("accept,media,probe", [
    ("text/turtle", "text/turtle", "ontology#name"),
    ("application/n-triples", "application/n-triples", "<https://w3id.org/prtkg/ontology#name>"),
    ("application/ld+json", "application/ld+json", "https://w3id.org/prtkg/ontology#name"),
    (None, "text/turtle", "ontology#name"),
])
def test_sparql_construct_formats(client, accept, media, probe):
    headers = {**STAFF, **({"Accept": accept} if accept else {})}
    r = client.get("/sparql", params={"query": CONSTRUCT}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert probe in r.text and "云南某建设工程有限公司" in r.text
    if media == "application/ld+json":
        json.loads(r.text)


def test_sparql_ask_and_dataset(client):
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": "urn:prtkg:nothing"},
                   headers=STAFF)
    assert r.json()["boolean"] is False
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=STAFF)
    assert r.json()["boolean"] is True


@pytest.mark.parametrize("how", ["get", "form", "body", "update-form", "update-body"])
def test_sparql_refuses_updates(client, how):
    update = "PREFIX ex: <http://ex.org/> # comment\nINSERT DATA { ex:a ex:b ex:c }"
    if how == "get":
        r = client.get("/sparql", params={"query": update}, headers=STAFF)
    elif how == "form":
        r = client.post("/sparql", data={"query": update}, headers=STAFF)
    elif how == "body":
        r = client.post("/sparql", content=update, headers={**STAFF, "Content-Type": "application/sparql-query"})
    elif how == "update-form":
        r = client.post("/sparql", data={"update": update}, headers=STAFF)
    else:
        r = client.post("/sparql", content=update, headers={**STAFF, "Content-Type": "application/sparql-update"})
    assert r.status_code == 400
    assert "updates are refused" in r.json()["detail"]
    ask = client.get("/sparql", params={"query": "ASK { <http://ex.org/a> ?p ?o }"}, headers=STAFF)
    assert ask.json()["boolean"] is False


@pytest.mark.parametrize("query", ["LOAD <http://example.org/data.ttl>", "DROP ALL", "CLEAR DEFAULT"])
def test_sparql_refuses_load_and_drops(client, query):
    r = client.get("/sparql", params={"query": query}, headers=STAFF)
    assert r.status_code == 400 and "updates are refused" in r.json()["detail"]


def test_sparql_refuses_service_but_not_the_word(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://dbpedia.org/sparql> { ?s ?p ?o } }"},
                   headers=STAFF)
    assert r.status_code == 400 and "SERVICE <http://dbpedia.org/sparql> is refused" in r.json()["detail"]
    ok = client.get("/sparql", params={"query": 'SELECT ?service WHERE { BIND("SERVICE <x>" AS ?service) } # SERVICE'},
                    headers=STAFF)
    assert ok.status_code == 200


def test_sparql_errors(client):
    r = client.get("/sparql", params={"query": "SELEC ?x WHERE {"}, headers=STAFF)
    assert r.status_code == 400 and "not a SPARQL query in standard SPARQL 1.1 syntax" in r.json()["detail"]
    assert client.get("/sparql", headers=STAFF).status_code == 400
    r = client.get("/sparql", params={"query": SELECT}, headers={**STAFF, "Accept": "image/png"})
    assert r.status_code == 406 and "application/sparql-results+json" in r.json()["detail"]
    r = client.post("/sparql", content=SELECT, headers={**STAFF, "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_sparql_time_limit_stops_a_runaway_query_and_the_server_keeps_answering():
    store = Store(None)
    app = create_app(store, Settings(tokens={"t": "staff"}, query_timeout=1))
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with TestClient(app) as c:
        import threading
        out = {}

        def run():
            t = time.monotonic()
            out["r"] = c.get("/sparql", params={"query": runaway}, headers=auth("t"))
            out["t"] = time.monotonic() - t

        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(0.2)
        t = time.monotonic()
        assert c.get("/healthz").status_code == 200
        assert time.monotonic() - t < 0.5
        worker.join(10)
        assert out["r"].status_code == 503
        assert "time limit of 1 s" in out["r"].json()["detail"]
        assert out["t"] < 3


def test_sparql_on_disk_sees_every_acknowledged_write_and_stops_a_runaway_query(tmp_path):
    """The on-disk store's queries run in read-only worker processes (api/query_worker.py): each
    answer reflects every write acknowledged before it, and a worker killed at the limit is replaced."""
    path = tmp_path / "store"
    app = create_app(Store(path), Settings(tokens={"t": "staff", "i": "ingest"}, query_timeout=2, max_queries=1))
    count = ("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?g "
             "<https://w3id.org/prtkg/ontology#recordId> ?id } }")
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

    def records(c):
        r = c.get("/sparql", params={"query": count}, headers=auth("t"))
        assert r.status_code == 200, r.text
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    def post(c, name):
        r = c.post(f"/records?name={name}&asOf=2026-06-01", content=(FIX / "csv" / name).read_bytes(),
                   headers={"Content-Type": "text/csv", **auth("i")})
        assert r.status_code == 200, r.text
        return r.json()["summary"]["records"]

    with TestClient(app) as c:
        assert records(c) == 0  # the worker's first snapshot: the ontology only
        first = post(c, "credit_yn.csv")
        assert records(c) == first  # the same worker, a fresh snapshot
        t = time.monotonic()
        r = c.get("/sparql", params={"query": runaway}, headers=auth("t"))
        assert r.status_code == 503 and "time limit of 2 s" in r.json()["detail"], r.text
        assert 1.8 <= time.monotonic() - t < 6
        second = post(c, "powers_yn.csv")
        assert records(c) == first + second  # answered by the replacement worker
        # A write by another path than the API's own is seen as well (the store counts every write).
        body = " ".join(f"<urn:test:s{i}> <urn:test:p> {i} ." for i in range(3000))
        app.state.store.update(f"INSERT DATA {{ GRAPH <urn:test:bulk> {{ {body} }} }}")
        r = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:test:bulk> "
                                              "{ ?s ?p ?o } }"}, headers=auth("t"))
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "3000", r.text
        app.state.runner.pool.close()


# -- saved questions ----------------------------------------------------------------------------
def test_queries_listed_with_titles_and_params(client):
    r = client.get("/queries", headers=STAFF)
    qs = {q["name"]: q for q in r.json()}
    assert len(qs) >= 12
    for q in qs.values():
        assert q["title"]["zh"] and q["title"]["en"] and q["description"]["zh"] and q["description"]["en"]
    assert {p["name"]: p["default"] for p in qs["who-supervises"]["params"]} == {
        "tradeType": "works", "stage": "evaluation", "region": "530100", "industry": "none", "date": "today"}


def test_saved_question_with_parameters(client):
    r = client.get("/queries/who-supervises", params={"tradeType": "works", "stage": "bid", "region": "530102"},
                   headers={**STAFF, "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    # powers_yn.csv: the provincial housing department holds an inspection power over works bids in 530100
    assert "YN-ZJT-002" in r.text
    r = client.get("/queries/who-supervises", params={"tradeType": "works", "stage": "bid", "region": "110000"},
                   headers={**STAFF, "Accept": "text/csv"})
    assert "YN-ZJT-002" not in r.text


def test_saved_question_errors(client):
    r = client.get("/queries/no-such-question", headers=STAFF)
    assert r.status_code == 404 and "who-supervises" in r.json()["detail"]
    r = client.get("/queries/top-winners-per-buyer", params={"top": "three"}, headers=STAFF)
    assert r.status_code == 422 and "top" in r.json()["detail"]
    r = client.get("/queries/top-winners-per-buyer", params={"limit": "3"}, headers=STAFF)
    assert r.status_code == 422 and "unknown parameter limit" in r.json()["detail"]
    r = client.get("/queries/who-supervises", params={"region": '530100> } ; DROP ALL #'}, headers=STAFF)
    assert r.status_code == 422


# -- credit -----------------------------------------------------------------------------------
@pytest.mark.parametrize("code,problem", [
    ("9153010021658403", "length"),
    ("91530100216584033O", "charset"),
    ("91530100216584033R", "check"),
])
def test_credit_malformed_code(client, code, problem):
    r = client.get(f"/entities/{code}/credit")
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail["problem"] == problem and detail["message"]["en"] and detail["message"]["zh"]


def test_credit_unknown_and_known(client):
    from prtkg.uscc import complete
    unknown = complete("9153010000000000")
    assert client.get(f"/entities/{unknown}/credit").status_code == 404
    r = client.get(f"/entities/{RESTRICTED}/credit", params={"asOf": "2026-06-01"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "restricted"
    assert {x["tradeType"] for x in body["restrictions"]} >= {"works"}
    before = client.get(f"/entities/{RESTRICTED}/credit", params={"asOf": "2025-06-01"}).json()
    assert before["restrictions"] == [] and before["history"]
    assert client.get(f"/entities/{RESTRICTED}/credit", params={"asOf": "June"}).status_code == 422
    assert client.get(f"/entities/{RESTRICTED}/credit", params={"tradeType": "cars"}).status_code == 422


def test_credit_check_is_stored_and_returned_unchanged(client):
    body = {"codes": [RESTRICTED, "91530100216584041K", "123"], "tradeType": "works",
            "date": "2026-06-01", "project": "ocds-p7x2k1-2026-0042"}
    r = client.post("/credit/checks", json=body, headers=auth("ingest-tok"))
    assert r.status_code == 201
    doc = r.json()
    assert r.headers["location"] == f"/credit/checks/{doc['id']}"
    answers = {a["code"]: a for a in doc["answers"]}
    assert answers[RESTRICTED]["status"] == "restricted" and answers[RESTRICTED]["restrictions"]
    assert answers["91530100216584041K"]["restrictions"] == []
    assert answers["123"]["valid"] is False and answers["123"]["error"]["problem"] == "length"
    assert doc["caller"].startswith("token:") and "ingest-tok" not in doc["caller"]
    again = client.get(f"/credit/checks/{doc['id']}")
    assert again.status_code == 200 and again.json() == doc
    q = ("PREFIX prtkg: <https://w3id.org/prtkg/ontology#> SELECT ?p WHERE { ?c a prtkg:CreditCheck ; "
         f'prtkg:localId "{doc["id"]}" ; prtkg:aboutProject ?p }}')
    rows = client.get("/sparql", params={"query": q}, headers=STAFF).json()["results"]["bindings"]
    assert rows[0]["p"]["value"].endswith("/project/ocds-p7x2k1-2026-0042")
    by_staff = client.post("/credit/checks", json={"codes": [RESTRICTED]}, headers=STAFF).json()
    assert by_staff["caller"].startswith("token:") and by_staff["caller"] != doc["caller"]


def test_credit_check_needs_an_ingest_or_staff_token(client):
    body = {"codes": [RESTRICTED]}
    for headers, status in (({}, 401), (auth("not-a-token"), 401), (auth("ingest-tok"), 201), (STAFF, 201),
                            (auth("adm-tok"), 201)):
        assert client.post("/credit/checks", json=body, headers=headers).status_code == status
    assert client.get(f"/entities/{RESTRICTED}/credit").status_code == 200  # reading a status stays open


def _check_error(client, **kwargs) -> list:
    r = client.post("/credit/checks", headers={**STAFF, **kwargs.pop("headers", {})}, **kwargs)
    assert r.status_code == 422, r.text
    return r.json()["detail"]


def test_credit_check_errors(client):
    assert client.get("/credit/checks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/credit/checks/nope").status_code == 404
    assert _check_error(client, json={"codes": []})
    assert _check_error(client, json={"codes": [RESTRICTED], "tradeType": "cars"})
    assert _check_error(client, content="{", headers={"Content-Type": "application/json"})


def test_credit_check_caps_name_the_item(client):
    long = "9" * 65
    detail = _check_error(client, json={"codes": [RESTRICTED, long]})
    assert detail[0]["loc"] == ["body", "codes", 1] and "64" in detail[0]["msg"]
    assert long not in json.dumps(detail)  # a refused value is never echoed back
    many = client.app.state.settings.credit_max_codes + 1
    detail = _check_error(client, json={"codes": [RESTRICTED] * many})
    assert detail[0]["loc"] == ["body", "codes"] and "PRTKG_CREDIT_MAX_CODES" in detail[0]["msg"]
    assert _check_error(client, json={"codes": [RESTRICTED], "tradeType": "w" * 65})[0]["loc"] == ["body", "tradeType"]


def test_credit_check_body_goes_through_the_limit(client):
    big = json.dumps({"codes": [RESTRICTED] * 20_000}).encode()  # over the client's 200 kB body limit
    before = _triples(client)
    r = client.post("/credit/checks", content=big, headers={**STAFF, "Content-Type": "application/json"})
    assert r.status_code == 413 and "PRTKG_BODY_LIMIT" in r.json()["detail"]
    assert _triples(client) == before


# -- records ----------------------------------------------------------------------------------
def _triples(client):
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    return int(client.get("/sparql", params={"query": q}, headers=STAFF).json()["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def bundled_reference(client):
    """The module's client checking /validate bodies against the bundled reference, as served."""
    from prtkg.api.records import Reference
    state = client.app.state
    kept, state.reference = state.reference, Reference()
    yield
    state.reference = kept


def test_validate_stores_nothing(client, bundled_reference):
    before = _triples(client)
    r = client.post("/validate?name=credit_bad.csv", content=(FIX / "csv" / "credit_bad.csv").read_bytes(),
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 200
    doc = r.json()
    assert set(doc) == {"summary", "findings", "rejected"}
    assert doc["rejected"] and all(rej["errors"] for rej in doc["rejected"])
    assert _triples(client) == before


@pytest.mark.parametrize("fixture,media", [
    ("events/good.json", "application/json"),
    ("events/bad.jsonl", "application/x-ndjson"),
    ("rdf/departments.ttl", "text/turtle"),
    ("rdf/departments.jsonld", "application/ld+json"),
    ("ocds/release-package.json", "application/json"),
])
def test_validate_each_format(client, fixture, media):
    r = client.post(f"/validate?name={Path(fixture).name}", content=(FIX / fixture).read_bytes(),
                    headers={"Content-Type": media})
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["records"] + r.json()["summary"]["rejected"] > 0


def test_unusable_bodies(client):
    r = client.post("/validate", content=b'{"not json', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["detail"]
    r = client.post("/validate", content=b"hello", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "text/csv" in r.json()["detail"]
    assert client.post("/validate", content=b"", headers={"Content-Type": "text/csv"}).status_code == 400
    r = client.post("/validate", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400
    big = b"x" * 200_001
    r = client.post("/validate", content=big, headers={"Content-Type": "text/csv"})
    assert r.status_code == 413 and "200000" in r.json()["detail"]
    r = client.post("/records", content=big, headers={"Content-Type": "text/csv", **auth("ingest-tok")})
    assert r.status_code == 413


def test_records_replace_a_resubmitted_record_and_reject_bad_ones(client):
    ingest = {"Content-Type": "text/csv", **auth("ingest-tok")}
    good = (FIX / "csv" / "credit_yn.csv").read_bytes()
    before = _triples(client)
    assert client.post("/records?name=credit_yn.csv", content=good, headers=ingest).status_code == 200
    assert _triples(client) == before  # the same records again: their graphs replaced, nothing added
    r = client.post("/records?name=credit_bad.csv", content=(FIX / "csv" / "credit_bad.csv").read_bytes(), headers=ingest)
    doc = r.json()
    assert r.status_code == 200 and doc["rejected"]
    assert doc["summary"]["rejected"] == len(doc["rejected"])
    q = 'SELECT ?g WHERE { GRAPH ?g { ?g <https://w3id.org/prtkg/ontology#recordKind> "credit-record" } }'
    graphs = client.get("/sparql", params={"query": q}, headers=STAFF).json()["results"]["bindings"]
    assert len(graphs) >= 3


# -- findings, coverage, health ---------------------------------------------------------------------
def test_findings_filters_and_paging(client):
    everything = client.get("/findings", params={"limit": 1000}, headers=STAFF).json()
    assert everything["total"] == len(everything["findings"]) > 0
    first = everything["findings"][0]
    assert set(first) >= {"rule", "severity", "record", "focus", "message", "basis", "evidence"}
    page = client.get("/findings", params={"limit": 1, "offset": 1}, headers=STAFF).json()
    assert page["total"] == everything["total"] and page["findings"] == everything["findings"][1:2]
    by_rule = client.get("/findings", params={"rule": first["rule"]}, headers=STAFF).json()
    assert by_rule["total"] == sum(f["rule"] == first["rule"] for f in everything["findings"])
    by_record = client.get("/findings", params={"record": first["record"]}, headers=STAFF).json()
    assert all(f["record"] == first["record"] for f in by_record["findings"]) and by_record["total"] >= 1
    for sev in ("violation", "warning", "info"):
        got = client.get("/findings", params={"severity": sev, "limit": 1000}, headers=STAFF).json()
        assert got["total"] == sum(f["severity"] == sev for f in everything["findings"])
    assert client.get("/findings", params={"since": "2999-01-01"}, headers=STAFF).json()["total"] == 0
    assert client.get("/findings", params={"since": "2000-01-01"}, headers=STAFF).json()["total"] == everything["total"]
    assert client.get("/findings", params={"severity": "fatal"}, headers=STAFF).status_code == 422
    assert client.get("/findings", params={"limit": 0}, headers=STAFF).status_code == 422


def test_coverage(client):
    r = client.get("/supervision/coverage", headers=STAFF)
    assert r.status_code == 200 and isinstance(r.json(), dict) and r.json()
    # By the lists in force on asOf (tests/test_powers_versions.py has dated lists); this list states no
    # version, so it is in force on any day.
    regions = {x["code"] for x in r.json()["regions"]}
    before = client.get("/supervision/coverage", params={"asOf": "2001-06-01"}, headers=STAFF).json()
    assert regions and {x["code"] for x in before["regions"]} == regions
    assert client.get("/supervision/coverage", params={"asOf": "June"}, headers=STAFF).status_code == 422


def test_health_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/sparql", "/queries", "/queries/{name}", "/entities/{code}/credit", "/credit/checks",
              "/credit/checks/{check_id}", "/validate", "/records", "/findings", "/supervision/coverage", "/healthz"):
        assert p in paths


# -- prtkg serve -------------------------------------------------------------------------------------
def test_serve_demo_prints_url_and_a_working_staff_token(monkeypatch):
    import re

    import uvicorn
    from typer.testing import CliRunner

    from prtkg.app import serve as serve_module
    from prtkg.app.cli import app as cli

    small = Store(None)
    small.load_ontology()
    monkeypatch.setattr(serve_module, "demo_store", lambda as_of=serve_module.DEMO_AS_OF: small)
    monkeypatch.delenv("PRTKG_TOKENS", raising=False)
    monkeypatch.delenv("PRTKG_TOKENS_FILE", raising=False)
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: served.update(app=app, host=host, port=port))
    result = CliRunner().invoke(cli, ["serve", "--demo", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/docs" in result.output
    token = re.search(r"staff token for this session: (\S+)", result.output).group(1)
    with TestClient(served["app"]) as c:
        assert c.get("/queries", headers=auth(token)).status_code == 200
        assert c.get("/queries").status_code == 401
        assert c.get("/records", headers=auth(token)).status_code == 405


def test_cli_lists_saved_questions():
    from typer.testing import CliRunner

    from prtkg.app.cli import app as cli

    result = CliRunner().invoke(cli, ["queries"])
    assert result.exit_code == 0 and "who-supervises" in result.output and "tradeType=works" in result.output
