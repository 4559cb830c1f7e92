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


def test_a_streamed_load_is_checked_whole_or_in_parts_each_finding_stored_once(tmp_path, monkeypatch):
    """Into a store holding nothing else, one check of everything (the store asked as a whole); into
    one holding other records, CHECK_BATCH records a check, each finding stored with its record."""
    monkeypatch.setattr(I, "STREAM_BYTES", 100)
    releases = json.loads((RULES / "ocds.json").read_text(encoding="utf-8"))["releases"]
    path = tmp_path / "releases.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in releases) + "\n", encoding="utf-8")
    checked: list[tuple[int, bool]] = []
    real_run = I.run_checks

    def spy(ctx):
        checked.append((len(ctx.records), ctx.covers_store()))
        return real_run(ctx)
    monkeypatch.setattr(I, "run_checks", spy)

    alone = Store(None)
    I.ingest([path], as_of=AS_OF, store=alone)
    records = len({r["ocid"] for r in releases})
    assert checked == [(records, True)]

    checked.clear()
    monkeypatch.setattr(I, "CHECK_BATCH", 7)
    monkeypatch.setattr(I, "BATCH", 3)
    store = Store(None)
    I.ingest([REAL / "mx-cdmx-jsonl" / "releases.jsonl"], as_of=AS_OF, store=store)
    before = set(stored(store))
    checked.clear()
    I.ingest([path], as_of=AS_OF, store=store)
    assert [n for n, _ in checked] == [7] * (records // 7) + ([records % 7] if records % 7 else [])
    assert not any(whole for _, whole in checked)
    # What one check of the same records finds is what the parts stored, each finding once.
    from prtkg.app.checking import Context, stored_records
    ocids = {r["ocid"] for r in releases}
    mine = [r for r in stored_records(store) if r.id in ocids]
    # (RISK-OUTLIER-NOT-RUN is said once per check, on its first record concerned: once per part.)
    one = [f for f in real_run(Context(store, mine, AS_OF)) if f.rule != "RISK-OUTLIER-NOT-RUN"]
    ids = {r["f"].rsplit("/", 1)[-1] for r in store.select(FINDINGS)}
    assert {f.id for f in one} <= ids
    added = [row for row in stored(store) if row not in before and row[0] != "RISK-OUTLIER-NOT-RUN"]
    assert len(added) == len({f.id for f in one}) > 20
