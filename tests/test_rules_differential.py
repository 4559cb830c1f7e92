"""The rule families' findings on the bundled demo and on a larger generated demo, compared with what
the engine found before the families asked the store for aggregated facts in pages (issue #18):
tests/fixtures/rules-differential/*.json were written by the families as they stood on main at
c300863, when every family read its facts whole into Python.

A change that is meant to change findings rewrites the files, and the diff shows what it changed:
    python tests/test_rules_differential.py --write
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from prtkg import demo, loaders, rules
from prtkg.checking import Context, bundled, run_checks
from prtkg.store import Store

AS_OF = dt.date(2026, 11, 25)
FIXTURES = Path(__file__).parent / "fixtures" / "rules-differential"
# The bundled demo (320 projects) and a generated one large enough to hold several pages of every
# paged query (rules/common.py PAGE is lowered to make them many).
DATASETS = {"bundled": None, "generated-600": 600}


def _paths(name: str, tmp: Path) -> list[Path]:
    size = DATASETS[name]
    if size is None:
        return [bundled("reference"), bundled("demo")]
    demo.generate(tmp / name, projects=size)
    return [bundled("reference"), tmp / name]


def findings_of(paths: list[Path]) -> list[dict]:
    records = [r for p in paths for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    found = run_checks(Context(store, records, AS_OF), rules.checks())
    rows = [f.as_dict() for f in found]
    return sorted((json.loads(json.dumps(r, ensure_ascii=False, sort_keys=True, default=str)) for r in rows),
                  key=lambda r: (r["rule"], r["record"], r["focus"] or "", r["id"]))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_rule_findings_are_unchanged(name, tmp_path, monkeypatch):
    from prtkg.rules import common
    # Small pages: every paged query turns over several pages even on the bundled demo.
    monkeypatch.setattr(common, "PAGE", 97)
    expected = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    got = findings_of(_paths(name, tmp_path))
    assert len(got) == len(expected)
    by_id = {r["id"]: r for r in got}
    missing = [r for r in expected if r["id"] not in by_id]
    assert not missing, f"{len(missing)} findings no longer found, e.g. {missing[:2]}"
    assert got == expected


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in DATASETS:
            out = findings_of(_paths(name, Path(tmp)))
            (FIXTURES / f"{name}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                                   encoding="utf-8")
            print(name, len(out))
