"""Re-loading is idempotent, and a streamed load checks what it wrote, not the whole store."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from prtkg.app import ingest as I
from prtkg.store import Store

RULES = Path(__file__).parent / "fixtures" / "rules"
REAL = Path(__file__).parent / "fixtures" / "ocds-real"
AS_OF = dt.date(2026, 6, 1)
FINDINGS = """SELECT ?f ?rule ?record ?ev WHERE { GRAPH <urn:prtkg:findings> {
  ?f prtkg:rule ?rule ; prtkg:record ?record ; prtkg:evidence ?ev } } ORDER BY ?f"""


def stored(store):
    return [(r["rule"], r["record"], r["ev"]) for r in store.select(FINDINGS)]


def test_loading_the_same_data_twice_leaves_the_same_findings():
    store = Store(None)
    I.ingest([RULES / "ocds.json", REAL / "py-dncp-1.1"], as_of=AS_OF, store=store)
    first = stored(store)
    # the fixture has cross-record findings about organisations, which were never replaced before
    assert any(rule == "RISK-WINNER-CONCENTRATION" for rule, _, _ in first)
    I.ingest([RULES / "ocds.json", REAL / "py-dncp-1.1"], as_of=AS_OF, store=store)
    assert stored(store) == first
    times = store.select("SELECT ?f (COUNT(?t) AS ?n) WHERE { GRAPH <urn:prtkg:findings> { "
                         "?f prov:generatedAtTime ?t } } GROUP BY ?f HAVING (COUNT(?t) > 1)")
    assert times == []
    # each finding names exactly one check run (the one that last described it), and that run is stored
    runs = store.select("SELECT ?f (COUNT(?run) AS ?n) WHERE { GRAPH <urn:prtkg:findings> { ?f a prtkg:Finding "
                        "OPTIONAL { ?f prov:wasGeneratedBy ?run . ?run a prov:Activity } } } "
                        "GROUP BY ?f HAVING (COUNT(?run) != 1)")
    assert runs == []


def test_a_streamed_load_checks_the_records_it_wrote(tmp_path, monkeypatch):
    monkeypatch.setattr(I, "STREAM_BYTES", 100)
    old = tmp_path / "old.jsonl"
    new = tmp_path / "new.jsonl"
    rels = [json.loads(x) for x in (REAL / "mx-cdmx-jsonl" / "releases.jsonl").read_text().splitlines()]
    old.write_text("\n".join(json.dumps(r) for r in rels) + "\n")
    for r in rels:
        r["ocid"] += "-new"
    new.write_text("\n".join(json.dumps(r) for r in rels) + "\n")
    store = Store(None)
    I.ingest([old], as_of=AS_OF, store=store)
    seen = []
    real_run = I.run_checks
    monkeypatch.setattr(I, "run_checks", lambda ctx: seen.extend(r.id for r in ctx.records) or real_run(ctx))
    I.ingest([new], as_of=AS_OF, store=store)
    assert seen == [rels[0]["ocid"]]


def test_a_load_of_several_files_lists_an_unusable_one_and_loads_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(I, "STREAM_BYTES", 100)  # the JSON Lines file is streamed, the others not
    (tmp_path / "releases.jsonl").write_text((REAL / "mx-cdmx-jsonl" / "releases.jsonl").read_text())
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "garbage.csv").write_text("not,a,known,header\n1,2,3,4\n")
    summary = I.ingest([tmp_path], as_of=AS_OF, store=Store(None))
    assert summary["loaded"] == 1
    assert sorted(Path(r["record"]).name for r in summary["rejected"]) == ["empty.json", "garbage.csv"]
