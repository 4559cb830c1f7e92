"""The SPARQL endpoint with a real client (SPARQLWrapper) against a real server (uvicorn on 127.0.0.1)."""
import threading
import time
from pathlib import Path
from urllib.error import HTTPError

import httpx
import pytest
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, Unauthorized

from prtkg import loaders
from prtkg.api.app import create_app
from prtkg.api.settings import Settings
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
TOKEN = "client-staff"
NAMES = ("PREFIX prtkg: <https://w3id.org/prtkg/ontology#> "
         "SELECT DISTINCT ?name WHERE { ?r a prtkg:CreditRecord ; prtkg:name ?name } ORDER BY ?name")


@pytest.fixture(scope="module")
def server(live_server):
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaders.load_paths([FIX / "csv" / "credit_yn.csv"]).records)
    app = create_app(store, Settings(tokens={TOKEN: "staff"}, query_timeout=1.5))
    with live_server(app) as url:
        yield url


def _client(base, query, fmt=JSON, token=TOKEN, method=None):
    sw = SPARQLWrapper(base + "/sparql")
    if token:
        sw.addCustomHttpHeader("Authorization", f"Bearer {token}")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method:
        sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", [None, POST])
def test_select_json(server, method):
    result = _client(server, NAMES, method=method).queryAndConvert()
    names = [b["name"]["value"] for b in result["results"]["bindings"]]
    assert "云南某建设工程有限公司" in names and names == sorted(names)


def test_select_xml_and_csv(server):
    xml = _client(server, NAMES, XML).queryAndConvert()
    assert "云南某建设工程有限公司" in xml.toxml()
    csv = _client(server, NAMES, CSV).queryAndConvert()
    assert csv.decode().startswith("name\r\n")


def test_ask_and_construct(server):
    assert _client(server, "ASK { GRAPH ?g { ?s ?p ?o } }").queryAndConvert()["boolean"] is True
    q = ("PREFIX prtkg: <https://w3id.org/prtkg/ontology#> CONSTRUCT { ?r prtkg:name ?n } "
         "WHERE { ?r a prtkg:CreditRecord ; prtkg:name ?n }")
    graph = _client(server, q, TURTLE).queryAndConvert()
    assert "云南某建设工程有限公司" in graph.decode()


def test_update_refused(server):
    sw = _client(server, "INSERT DATA { <http://ex.org/a> <http://ex.org/b> <http://ex.org/c> }", method=POST)
    with pytest.raises(QueryBadFormed, match="updates are refused"):
        sw.query()
    assert _client(server, "ASK { <http://ex.org/a> ?p ?o }").queryAndConvert()["boolean"] is False


def test_token_needed(server):
    with pytest.raises(Unauthorized):
        _client(server, NAMES, token=None).query()


def test_runaway_query_is_stopped_while_the_server_answers_others(server):
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    outcome = {}

    def run():
        started = time.monotonic()
        try:
            _client(server, runaway).query()
        except HTTPError as e:  # SPARQLWrapper leaves 503 to urllib
            outcome["status"], outcome["body"] = e.code, e.read().decode()
        outcome["seconds"] = time.monotonic() - started

    http = httpx.Client(base_url=server, timeout=5)  # made first: creating a client costs more than a request
    http.get("/healthz")
    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    for _ in range(3):
        t = time.monotonic()
        r = http.get("/healthz")
        assert r.status_code == 200 and time.monotonic() - t < 0.5
        result = _client(server, NAMES).queryAndConvert()
        assert result["results"]["bindings"]
    worker.join(15)
    assert outcome["status"] == 503 and "time limit of 1.5 s" in outcome["body"]
    assert outcome["seconds"] < 4
