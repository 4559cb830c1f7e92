"""The life cycle of findings: stable ids, actions with history (API, CLI, SPARQL), resolution by data,
handling time, and division-scoped tokens (issue 20)."""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prtkg import casework, rdf
from prtkg.api.app import create_app
from prtkg.api.settings import Settings, parse_tokens
from prtkg.errors import ConfigError
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
BASE = json.loads((FIX / "shapes" / "works-base.json").read_text(encoding="utf-8"))
TOKENS = {"prov": "staff", "km": "staff@530100", "qj": "staff@530300", "yn": "staff@530000",
          "ing": "ingest", "adm": "admin"}
DEPT = "12530000MB12345624"  # the fixture's supervisor (valid code)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def works(ocid: str, region: str, bid_days: int) -> dict:
    """The clean works record with its own ocid and region, and a bid period of `bid_days` days
    (BID-PERIOD-20D fires below 20)."""
    r = copy.deepcopy(BASE)
    r["ocid"], r["id"] = ocid, ocid + "-1"
    r["tender"]["regionCode"] = region
    start = dt.datetime.fromisoformat(r["tender"]["tenderPeriod"]["startDate"])
    r["tender"]["tenderPeriod"]["endDate"] = (start + dt.timedelta(days=bid_days)).isoformat()
    return r


def post(c, record: dict) -> dict:
    r = c.post("/records?asOf=2026-06-01", json=record, headers=auth("ing"))
    assert r.status_code == 200, r.text
    return r.json()


def bid_period(doc_or_list, record: str) -> dict:
    items = doc_or_list["findings"] if isinstance(doc_or_list, dict) else doc_or_list
    (f,) = [f for f in items if f["rule"] == "BID-PERIOD-20D" and f["record"] == record]
    return f


@pytest.fixture
def client():
    app = create_app(Store(None), Settings(tokens=dict(TOKENS), query_timeout=5))
    with TestClient(app) as c:
        post(c, works("ocds-life-km", "530102", 10))
        post(c, works("ocds-life-qj", "530300", 10))
        yield c


def finding_id(c, record: str) -> str:
    return bid_period(c.get("/findings", params={"rule": "BID-PERIOD-20D"}, headers=auth("prov")).json(), record)["id"]


def do(c, fid: str, token: str = "prov", **body):
    return c.post(f"/findings/{fid}/actions", json=body, headers=auth(token))


# -- 20.1 identity ----------------------------------------------------------------------------------
def test_id_is_stable_over_resubmission_and_another_day(client):
    first = post(client, works("ocds-life-km", "530102", 10))
    fid = bid_period(first, "ocds-life-km")["id"]
    assert fid == finding_id(client, "ocds-life-km")
    again = client.post("/records?asOf=2026-09-01", json=works("ocds-life-km", "530102", 10), headers=auth("ing")).json()
    assert bid_period(again, "ocds-life-km")["id"] == fid
    one = client.get(f"/findings/{fid}", headers=auth("prov")).json()
    assert one["id"] == fid and one["asOf"] == "2026-09-01"  # the description is refreshed, the case kept
    assert client.get("/findings", params={"record": "ocds-life-km", "rule": "BID-PERIOD-20D"},
                      headers=auth("prov")).json()["total"] == 1


def test_id_ignores_evidence_that_grows_with_today_but_not_the_rest():
    from prtkg.findings import finding_id as fid
    ev = {"receivedDate": "2026-03-02", "problem": "missing", "asOf": "2026-06-01", "workingDays": 60}
    later = {**ev, "asOf": "2026-07-01", "workingDays": 80}
    assert fid("CMP-DECIDE-30WD", "r", "n", ev) == fid("CMP-DECIDE-30WD", "r", "n", later)
    assert fid("CMP-DECIDE-30WD", "r", "n", ev) != fid("CMP-DECIDE-30WD", "r", "n", {**ev, "problem": "late"})
    assert fid("CMP-DECIDE-30WD", "r", "n", ev) != fid("CMP-DECIDE-30WD", "r2", "n", ev)


def test_id_is_in_the_graph(client):
    fid = finding_id(client, "ocds-life-km")
    q = f'SELECT ?f WHERE {{ GRAPH <urn:prtkg:findings> {{ ?f <https://w3id.org/prtkg/ontology#findingId> "{fid}" }} }}'
    rows = client.get("/sparql", params={"query": q}, headers={**auth("prov"), "Accept": "application/sparql-results+json"}).json()
    assert [b["f"]["value"] for b in rows["results"]["bindings"]] == [casework.node(fid).value]


# -- 20.2 actions -----------------------------------------------------------------------------------
# The expected life cycle, written out independently of rules/casework.yaml so a slip there fails here.
ALLOWED = {
    ("open", "assign"): "assigned", ("assigned", "assign"): "assigned", ("acknowledged", "assign"): "assigned",
    ("verified", "assign"): "assigned", ("open", "acknowledge"): "acknowledged",
    ("assigned", "acknowledge"): "acknowledged", ("acknowledged", "verify"): "verified",
    ("verified", "dispose"): "disposed", ("disposed", "close"): "closed", ("closed", "reopen"): "open",
    ("resolved", "reopen"): "open",
}
PATH = {"open": [], "assigned": [("assign", {"to": DEPT})], "acknowledged": [("acknowledge", {})],
        "verified": [("acknowledge", {}), ("verify", {})],
        "disposed": [("acknowledge", {}), ("verify", {}), ("dispose", {"outcome": "rectified"})],
        "closed": [("acknowledge", {}), ("verify", {}), ("dispose", {"outcome": "rectified"}),
                   ("close", {"outcome": "rectified"})]}
FIELDS = {"assign": {"to": DEPT}, "dispose": {"outcome": "penalised"}, "close": {"outcome": "rectified"},
          "reopen": {}}


@pytest.mark.parametrize("state", list(PATH))
@pytest.mark.parametrize("action", ["assign", "acknowledge", "verify", "dispose", "close", "reopen"])
def test_each_transition(client, state, action):
    fid = finding_id(client, "ocds-life-km")
    for step, body in PATH[state]:
        assert do(client, fid, action=step, **body).status_code == 200
    r = do(client, fid, action=action, note="n", **FIELDS.get(action, {}))
    if (state, action) in ALLOWED:
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["status"] == ALLOWED[(state, action)]
        last = doc["history"][-1]
        assert (last["action"], last["from"], last["status"]) == (action, state, ALLOWED[(state, action)])
        assert last["by"].startswith("token:") and "prov" not in last["by"]
        assert last["at"] and last["note"] == "n"
    else:
        assert r.status_code == 409, r.text
        assert state in r.json()["detail"]
        assert client.get(f"/findings/{fid}", headers=auth("prov")).json()["status"] == state


def test_history_fields_and_sparql(client):
    fid = finding_id(client, "ocds-life-km")
    assert do(client, fid, action="assign", to=DEPT, note="to the housing bureau").status_code == 200
    assert do(client, fid, action="acknowledge").status_code == 200
    doc = client.get(f"/findings/{fid}", headers=auth("prov")).json()
    assert [h["action"] for h in doc["history"]] == ["assign", "acknowledge"]
    assert doc["history"][0]["to"] == DEPT and doc["history"][0]["note"] == "to the housing bureau"
    q = f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX p: <https://w3id.org/prtkg/ontology#>
        SELECT ?action ?agent ?to WHERE {{ GRAPH ?g {{ ?a a prov:Activity ; prov:used <{casework.node(fid).value}> ;
        p:action ?action ; prov:wasAssociatedWith ?agent . OPTIONAL {{ ?a p:assignedTo ?to }} }} }} ORDER BY ?action"""
    rows = client.get("/sparql", params={"query": q}, headers={**auth("prov"), "Accept": "application/sparql-results+json"}
                      ).json()["results"]["bindings"]
    assert [r["action"]["value"] for r in rows] == ["acknowledge", "assign"]
    assert all(r["agent"]["type"] == "uri" for r in rows)
    assert rows[1]["to"]["value"].endswith("/entity/" + DEPT)


def test_action_validation(client):
    fid = finding_id(client, "ocds-life-km")
    assert do(client, fid, action="close", outcome="false-positive").status_code == 422  # no note
    assert do(client, fid, action="close", outcome="false-positive", note="  ").status_code == 422
    assert do(client, fid, action="assign").status_code == 422  # no department
    assert do(client, fid, action="assign", to="91530100MA6K12349X").status_code == 422  # bad check character
    assert do(client, fid, action="archive").status_code == 422
    assert do(client, fid, action="dispose", outcome="forgiven").status_code == 422
    assert do(client, "0" * 24, action="acknowledge").status_code == 404
    assert client.get("/findings/" + "0" * 24, headers=auth("prov")).status_code == 404
    assert client.get(f"/findings/{fid}", headers=auth("ing")).status_code == 403
    assert do(client, fid, token="ing", action="acknowledge").status_code == 403
    r = do(client, fid, action="close", outcome="false-positive", note="the bid period was extended by notice")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert r.json()["history"][-1]["outcome"] == "false-positive"
    assert client.get("/findings", params={"status": "closed"}, headers=auth("prov")).json()["total"] == 1


# -- 20.3 resolution by data ------------------------------------------------------------------------
def test_resolved_by_a_corrected_record_and_reopened_by_a_regressed_one(client):
    fid = finding_id(client, "ocds-life-km")
    assert do(client, fid, action="acknowledge").status_code == 200
    fixed = post(client, works("ocds-life-km", "530102", 20))
    assert not [f for f in fixed["findings"] if f["rule"] == "BID-PERIOD-20D"]
    doc = client.get(f"/findings/{fid}", headers=auth("prov")).json()
    assert doc["status"] == "resolved"
    last = doc["history"][-1]
    assert (last["action"], last["from"], last["by"]) == ("resolve", "acknowledged", "prtkg")
    version = client.get("/sparql", params={"query": 'SELECT ?d WHERE { GRAPH ?g { ?g <https://w3id.org/prtkg/ontology#recordId> '
                                             '"ocds-life-km" ; <https://w3id.org/prtkg/ontology#contentDigest> ?d } }'},
                         headers={**auth("prov"), "Accept": "application/sparql-results+json"}).json()
    assert last["recordVersion"] == version["results"]["bindings"][0]["d"]["value"]
    assert client.get("/findings", params={"status": "resolved"}, headers=auth("prov")).json()["total"] == 1
    post(client, works("ocds-life-km", "530102", 20))  # the same clean record again: nothing new
    assert len(client.get(f"/findings/{fid}", headers=auth("prov")).json()["history"]) == 2
    again = post(client, works("ocds-life-km", "530102", 12))
    assert bid_period(again, "ocds-life-km")["id"] != fid  # other evidence (12 days, not 10): another finding
    post(client, works("ocds-life-km", "530102", 10))
    doc = client.get(f"/findings/{fid}", headers=auth("prov")).json()
    assert doc["status"] == "open" and doc["history"][-1]["action"] == "recur"


def test_closed_stays_closed_when_the_data_change(client):
    fid = finding_id(client, "ocds-life-km")
    do(client, fid, action="close", outcome="false-positive", note="checked: not a breach")
    post(client, works("ocds-life-km", "530102", 20))
    assert client.get(f"/findings/{fid}", headers=auth("prov")).json()["status"] == "closed"


# -- 20.5 handling time -----------------------------------------------------------------------------
def test_overdue_after_the_handling_time(client):
    found = client.get("/findings", params={"rule": "BID-PERIOD-20D"}, headers=auth("prov")).json()["findings"]
    f = found[0]
    raised = dt.datetime.fromisoformat(f["raisedAt"])
    days = casework.machine().handling[f["severity"]]
    from prtkg.workdays import default_calendar
    assert f["dueDate"] == default_calendar().add_workdays(raised.astimezone(casework.CHINA).date(), days).isoformat()
    assert f["overdue"] is False
    due = dt.date.fromisoformat(f["dueDate"])
    assert casework.handling("open", raised, "violation", due)["overdue"] is False
    assert casework.handling("open", raised, "violation", due + dt.timedelta(days=1))["overdue"] is True
    assert casework.handling("closed", raised, "violation", due + dt.timedelta(days=1))["overdue"] is False
    assert client.get("/findings", params={"overdue": "true"}, headers=auth("prov")).json()["total"] == 0


@pytest.fixture
def params_file(monkeypatch, tmp_path):
    """Write a PRTKG_PARAMS file; the machine and the catalogue are re-read around the test."""
    from prtkg.catalogue import catalogue

    def write(text: str) -> None:
        (tmp_path / "params.yaml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("PRTKG_PARAMS", str(tmp_path / "params.yaml"))
        casework.machine.cache_clear()
        catalogue.cache_clear()
    yield write
    monkeypatch.delenv("PRTKG_PARAMS", raising=False)
    casework.machine.cache_clear()
    catalogue.cache_clear()


def test_handling_time_is_a_policy_parameter(params_file):
    """casework.handling in PRTKG_PARAMS changes the policy target; the others keep casework.yaml's."""
    default = dict(casework.machine().handling)
    params_file("casework: {handling: {violation: 15}}\nCLU-FEEDBACK: {max_days: 20}\n")
    assert casework.machine().handling == {**default, "violation": 15}
    raised = dt.datetime(2026, 3, 2, 9, tzinfo=casework.CHINA)   # a Monday
    from prtkg.workdays import default_calendar
    due = default_calendar().add_workdays(raised.date(), 15)
    assert casework.handling("open", raised, "violation", due)["overdue"] is False
    assert casework.handling("open", raised, "violation", due + dt.timedelta(days=1))["overdue"] is True


@pytest.mark.parametrize("text,needle", [
    ("casework: {handling: {urgent: 5}}\n", "has no parameter 'urgent'"),
    ("casework: {handling: {violation: 0}}\n", "whole number of working days"),
    ("casework: {handling: {violation: 2.5}}\n", "whole number of working days"),
    ("casework: {handling: {violation: ten}}\n", "must be like 10"),
    ("casework: {states: [open]}\n", "no section 'states'"),
    ("casework: [1]\n", "must be a mapping"),
])
def test_bad_handling_parameters_are_refused_by_name(params_file, text, needle):
    params_file(text)
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        casework.machine()


# -- 20.4 jurisdiction ------------------------------------------------------------------------------
def test_division_tokens_see_and_act_on_their_own_only(client):
    km, qj = finding_id(client, "ocds-life-km"), finding_id(client, "ocds-life-qj")
    records = lambda tok: {f["record"] for f in client.get("/findings", params={"limit": 1000}, headers=auth(tok)).json()["findings"]}
    assert records("km") == {"ocds-life-km"} and records("qj") == {"ocds-life-qj"}
    assert {"ocds-life-km", "ocds-life-qj"} <= records("yn") and records("prov") >= records("yn")
    assert client.get(f"/findings/{qj}", headers=auth("km")).status_code == 404
    assert do(client, qj, token="km", action="acknowledge").status_code == 404
    assert client.get(f"/findings/{qj}", headers=auth("prov")).json()["status"] == "open"
    assert do(client, km, token="km", action="acknowledge").status_code == 200
    assert do(client, qj, token="yn", action="acknowledge").status_code == 200
    assert client.get("/findings", params={"region": "530300"}, headers=auth("km")).json()["total"] == 0
    assert client.get("/findings", params={"region": "530300"}, headers=auth("prov")).json()["total"] >= 1
    wb = client.get("/workbench/findings", headers=auth("qj")).json()
    assert {f["record"] for f in wb} == {"ocds-life-qj"} and all("status" in f for f in wb)


def test_division_tokens_are_configured_and_checked():
    assert parse_tokens("a:staff@530100, b:ingest", "x") == {"a": "staff@530100", "b": "ingest"}
    with pytest.raises(ConfigError, match="999999"):
        parse_tokens("a:staff@999999", "x")
    with pytest.raises(ConfigError, match="role"):
        parse_tokens("a:boss@530100", "x")


# -- 20.6 command line, over restarts ---------------------------------------------------------------
def _prtkg(store: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRTKG_STORE": str(store)}
    env.pop("PRTKG_SPARQL_ENDPOINT", None)
    return subprocess.run([sys.executable, "-m", "prtkg.app.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_findings_and_act_keep_ids_and_cases_over_restarts(tmp_path):
    store = tmp_path / "store"
    rec = tmp_path / "km.json"
    rec.write_text(json.dumps(works("ocds-life-cli", "530102", 10), ensure_ascii=False), encoding="utf-8")
    assert _prtkg(store, "load", str(rec), "--as-of", "2026-06-01").returncode == 0
    listed = json.loads(_prtkg(store, "findings", "--rule", "BID-PERIOD-20D", "--format", "json").stdout)
    fid = bid_period(listed, "ocds-life-cli")["id"]
    assert _prtkg(store, "load", str(rec), "--as-of", "2026-07-01").returncode == 0  # another process, a re-load
    assert bid_period(json.loads(_prtkg(store, "findings", "--format", "json").stdout), "ocds-life-cli")["id"] == fid
    done = _prtkg(store, "act", fid, "assign", "--to", DEPT, "--note", "please verify")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["history"][0]["by"].startswith("user:")
    bad = _prtkg(store, "act", fid, "close", "--outcome", "false-positive")
    assert bad.returncode == 2 and "note" in bad.stderr
    bad = _prtkg(store, "act", fid, "dispose", "--outcome", "rectified")
    assert bad.returncode == 2 and "assigned" in bad.stderr
    assigned = json.loads(_prtkg(store, "findings", "--status", "assigned", "--format", "json").stdout)
    assert [f["id"] for f in assigned["findings"]] == [fid]
    assert json.loads(_prtkg(store, "findings", "--region", "530300", "--format", "json").stdout)["total"] == 0
    assert _prtkg(store, "findings", "--status", "pending").returncode == 2
    table = _prtkg(store, "findings", "--status", "assigned")
    assert fid in table.stdout and "assigned" in table.stdout


def test_division_tokens_on_coverage_and_records(client):
    powers = (FIX / "csv" / "powers_yn.csv").read_bytes()
    assert client.post("/records?name=powers_yn.csv", content=powers,
                       headers={"Content-Type": "text/csv", **auth("ing")}).status_code == 200
    whole = client.get("/supervision/coverage", headers=auth("prov")).json()
    km = client.get("/supervision/coverage", headers=auth("km")).json()
    assert {c["region"] for c in whole["cells"]} > {c["region"] for c in km["cells"]} == {"530100"}
    assert {r["code"] for r in km["regions"]} == {"530100"}
    assert all(x["region"] == "530100" for part in ("overlaps", "gaps") for x in km[part])
    # an ingest token of Kunming stores Kunming's records, and neither stores nor replaces Qujing's
    app = client.app
    app.state.settings.tokens.update({"ing-km": "ingest@530100"})
    r = client.post("/records?asOf=2026-06-01", json=works("ocds-life-km2", "530102", 25), headers=auth("ing-km"))
    assert r.status_code == 200 and r.json()["summary"]["records"] == 1 and not r.json()["rejected"]
    for record in (works("ocds-life-qj2", "530302", 25), works("ocds-life-qj", "530102", 25)):
        r = client.post("/records?asOf=2026-06-01", json=record, headers=auth("ing-km"))
        assert r.status_code == 200 and r.json()["summary"]["records"] == 0
        (rej,) = r.json()["rejected"]
        assert rej["record"] == record["ocid"] and "5303" in rej["errors"][0]["error"]
    assert client.get(f"/findings/{finding_id(client, 'ocds-life-qj')}", headers=auth("prov")).json()["status"] == "open"


def test_report_marks_status_and_overdue(client):
    from prtkg.app.report_html import stored_report
    store = client.app.state.store
    found = casework.find(store, rule="BID-PERIOD-20D")["findings"]
    late = [{**f, "overdue": True} if f["record"] == "ocds-life-km" else f for f in found]
    page = stored_report(store, late)  # each finding is shown by rule and by record
    assert page.count('class="overdue"') == 2 and "待处置" in page and "超期" in page
    assert 'class="due"' in page


# -- 20.4 jurisdiction in SPARQL --------------------------------------------------------------------
P = "PREFIX p: <https://w3id.org/prtkg/ontology#> "
JSON_RESULTS = {"Accept": "application/sparql-results+json"}


def sparql(c, token: str, query: str, method: str = "GET", **params):
    if method == "GET":
        r = c.get("/sparql", params={"query": query, **params}, headers={**auth(token), **JSON_RESULTS})
    else:
        r = c.post("/sparql", data={"query": query, **params}, headers={**auth(token), **JSON_RESULTS})
    return r


def values(r, var: str) -> set[str]:
    assert r.status_code == 200, r.text
    return {b[var]["value"] for b in r.json()["results"]["bindings"] if var in b}


def record_graph(c, record: str) -> str:
    (g,) = values(sparql(c, "prov", P + f'SELECT ?g WHERE {{ GRAPH ?g {{ ?g p:recordId "{record}" }} }}'), "g")
    return g


@pytest.fixture
def scoped(client):
    """Besides the two projects: a complaint about the Qujing one, and a powers list (shared)."""
    complaint = {"recordType": "complaint", "id": "CMP-LIFE-QJ", "project": "ocds-life-qj",
                 "complainant": "91530100MA6K123497", "receivedDate": "2026-04-01", "handler": DEPT}
    assert client.post("/records?asOf=2026-06-01", json=complaint, headers=auth("ing")).status_code == 200
    powers = (FIX / "csv" / "powers_yn.csv").read_bytes()
    assert client.post("/records?name=powers_yn.csv", content=powers,
                       headers={"Content-Type": "text/csv", **auth("ing")}).status_code == 200
    return client


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparql_dataset_of_a_division_token(scoped, method):
    c = scoped
    km, qj = record_graph(c, "ocds-life-km"), record_graph(c, "ocds-life-qj")
    complaint = record_graph(c, "CMP-LIFE-QJ")
    every = P + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    everything = values(sparql(c, "prov", every, method), "g")
    assert {km, qj, complaint, "urn:prtkg:findings", "urn:prtkg:cases", "urn:prtkg:ontology"} <= everything
    mine = values(sparql(c, "km", every, method), "g")
    assert km in mine and "urn:prtkg:ontology" in mine
    assert not {qj, complaint, "urn:prtkg:findings", "urn:prtkg:cases"} & mine
    assert any(g.startswith("urn:prtkg:powers") or "powers" in g for g in mine)  # a shared reference list
    # what the shared lists entail is shared; what the records entail describes every division's: not
    assert {"urn:prtkg:inferred", "urn:prtkg:inferred:records"} <= everything
    assert "urn:prtkg:inferred" in mine and "urn:prtkg:inferred:records" not in mine
    about_qj = P + f"SELECT ?p WHERE {{ {{ <{rdf.iri('project', 'ocds-life-qj').value}> ?p ?o }} UNION {{ GRAPH ?g {{ <{rdf.iri('project', 'ocds-life-qj').value}> ?p ?o }} }} }}"
    assert values(sparql(c, "prov", about_qj, method), "p") and not values(sparql(c, "km", about_qj, method), "p")
    assert {qj, complaint} <= values(sparql(c, "qj", every, method), "g")  # a complaint goes with its project
    assert km not in values(sparql(c, "qj", every, method), "g")
    # the default graph is the union of the visible graphs only
    ids = P + "SELECT ?id WHERE { ?g p:recordId ?id }"
    assert "ocds-life-km" in values(sparql(c, "km", ids, method), "id")
    assert not {"ocds-life-qj", "CMP-LIFE-QJ"} & values(sparql(c, "km", ids, method), "id")
    # naming another division's graph, or the findings, by FROM, FROM NAMED or the Protocol: refused
    for q in (P + f"SELECT * FROM <{qj}> WHERE {{ ?s ?p ?o }}",
              P + f"SELECT * FROM NAMED <{qj}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
              P + "SELECT * FROM NAMED <urn:prtkg:findings> WHERE { GRAPH ?g { ?s ?p ?o } }"):
        assert sparql(c, "km", q, method).status_code == 403
        assert sparql(c, "prov", q, method).status_code == 200
    for param in ("default-graph-uri", "named-graph-uri"):
        assert sparql(c, "km", every, method, **{param: qj}).status_code == 403
    assert values(sparql(c, "km", P + f"SELECT ?o WHERE {{ GRAPH <{qj}> {{ ?s ?p ?o }} }}", method), "o") == set()
    assert values(sparql(c, "km", P + "SELECT ?f WHERE { GRAPH <urn:prtkg:findings> { ?f ?p ?o } }", method), "f") == set()
    assert values(sparql(c, "km", every, method, **{"named-graph-uri": km}), "g") == {km}


def test_saved_questions_of_a_division_token(scoped):
    c = scoped
    r = c.get("/queries/findings-by-rule", headers={**auth("prov"), **JSON_RESULTS})
    assert r.status_code == 200 and r.json()["results"]["bindings"]
    r = c.get("/queries/findings-by-rule", headers={**auth("km"), **JSON_RESULTS})
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []  # findings: through /findings only
    # who supervises reads the derived graph of the shared lists: a division gets staff's answer
    ask = {"tradeType": "works", "stage": "evaluation", "region": "530102"}
    answers = [c.get("/queries/who-supervises", params=ask, headers={**auth(who), **JSON_RESULTS})
               for who in ("prov", "km")]
    assert [r.status_code for r in answers] == [200, 200]
    staff, km = (r.json()["results"]["bindings"] for r in answers)
    assert staff and km == staff


def test_credit_checks_of_a_division_token(scoped):
    c = scoped
    body = {"codes": [DEPT], "tradeType": "works"}
    r = c.post("/credit/checks", json={**body, "project": "ocds-life-qj"}, headers=auth("km"))
    assert r.status_code == 403 and "530300" in r.json()["detail"]
    assert c.post("/credit/checks", json={**body, "project": "ocds-life-qj"}, headers=auth("qj")).status_code == 201
    mine = c.post("/credit/checks", json={**body, "project": "ocds-life-km"}, headers=auth("km"))
    assert mine.status_code == 201
    # the check is a graph about the project: in Kunming's SPARQL dataset, not in Qujing's
    every = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    checks = {g for g in values(sparql(c, "prov", every), "g") if "credit-check" in g}
    assert len(checks) == 2
    assert len(checks & values(sparql(c, "km", every), "g")) == 1
    assert len(checks & values(sparql(c, "qj", every), "g")) == 1


def test_a_finding_about_a_record_outside_the_batch_keeps_its_case(client):
    from prtkg.app.checking import Context, run_checks, stored_records
    store = client.app.state.store
    qj = finding_id(client, "ocds-life-qj")
    assert do(client, qj, action="acknowledge").status_code == 200
    records = {r.id: r for r in stored_records(store)}
    km_found = run_checks(Context(store, [records["ocds-life-km"]], dt.date(2026, 6, 1)))
    qj_found = run_checks(Context(store, [records["ocds-life-qj"]], dt.date(2026, 6, 1)))
    # a check of the Kunming record that (as a cross-record rule may) also finds about the Qujing one
    casework.record_check(store, [records["ocds-life-km"]], km_found + qj_found, dt.date(2026, 6, 1))
    doc = client.get(f"/findings/{qj}", headers=auth("prov")).json()
    assert doc["status"] == "acknowledged" and [h["action"] for h in doc["history"]] == ["acknowledge"]
    n = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{casework.CASES_GRAPH}> {{ "
                     f"<{casework.node(qj).value}> <https://w3id.org/prtkg/ontology#caseStatus> ?s }} }}")[0]["n"]
    assert n == 1


def test_a_superseded_cross_record_finding_is_resolved(client):
    from prtkg import findings
    from prtkg.app.checking import stored_records
    store = client.app.state.store
    records = {r.id: r for r in stored_records(store)}
    org = "91530100MA6K123497"  # a finding about an organisation, made while checking some project
    before = findings.make("RISK-WINNER-CONCENTRATION", org, None, {"wins": 5, "share": 0.5})
    after = findings.make("RISK-WINNER-CONCENTRATION", org, None, {"wins": 6, "share": 0.6})
    casework.record_check(store, [records["ocds-life-km"]], [before], dt.date(2026, 6, 1))
    casework.record_check(store, [records["ocds-life-qj"]], [after], dt.date(2026, 6, 1))
    old = client.get(f"/findings/{before.id}", headers=auth("prov")).json()
    assert old["status"] == "resolved" and old["history"][-1]["action"] == "resolve"
    assert client.get(f"/findings/{after.id}", headers=auth("prov")).json()["status"] == "open"
