"""The workbench's data routes for the record page, IRI labels and saved-question text (issue 17.6)."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from prtkg.api.app import create_app
from prtkg.api.settings import Settings
from prtkg.app.serve import demo_store

STAFF = {"Authorization": "Bearer t-staff"}


@pytest.fixture(scope="module")
def client(demo_store):
    with TestClient(create_app(demo_store, Settings(tokens={"t-staff": "staff", "t-ingest": "ingest"}))) as c:
        yield c


def test_record_view_is_for_readers(client):
    assert client.get("/workbench/record/ocds-p7x2k1-2026-0006").status_code == 401
    r = client.get("/workbench/record/ocds-p7x2k1-2026-0006", headers=STAFF)
    assert r.status_code == 200
    rec = r.json()
    assert rec["title"] == "丽江市小型水库除险加固工程施工" and rec["kind"] == "ocds"
    assert {p["name"] for p in rec["parties"]} and all(p["name"] for p in rec["parties"])
    assert rec["findings"] and all(set(f["message"]) == {"zh", "en"} for f in rec["findings"])
    # no server path, no user name, anywhere in what the page gets
    text = r.text
    assert "user:" not in text and "wasAttributedTo" not in text and "/work/" not in text
    assert rec["source"].startswith("releases.jsonl")
    assert client.get("/workbench/record/no-such-record", headers=STAFF).status_code == 404


def test_iri_labels_in_both_languages_and_no_query_injection(client):
    iris = ["https://w3id.org/prtkg/ontology#tenderer", "https://w3id.org/prtkg/code/trade-type/works",
            "https://w3id.org/prtkg/id/entity/91530521MA1JYT3420", "http://x> } } DROP ALL ; #"]
    r = client.post("/workbench/labels", json=iris, headers=STAFF)
    assert r.status_code == 200
    got = r.json()
    assert got[iris[0]] == {"zh": "投标人", "en": "tenderer"}
    assert got[iris[1]]["zh"] == "工程建设项目招标投标"
    assert got[iris[2]]["zh"] == "云南海纳城建工程有限公司"
    assert iris[3] not in got                                   # not an IRI: left out, not spliced in
    assert client.post("/workbench/labels", json=iris).status_code == 401


def test_saved_question_text_for_the_editor(client):
    r = client.get("/workbench/queries/who-supervises", headers=STAFF)
    assert r.status_code == 200 and "?tradeType" in r.json()["text"] and "SELECT" in r.json()["text"]
    assert client.get("/workbench/queries/nope", headers=STAFF).status_code == 404
