"""docs/codelists.md is generated from ontology/codes.ttl and must not be stale."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("gen_codelists", ROOT / "scripts" / "gen_codelists.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_codelists_doc_is_current():
    assert (ROOT / "docs" / "codelists.md").read_text(encoding="utf-8") == _script().render(), \
        "docs/codelists.md is stale: run python scripts/gen_codelists.py"


def test_every_code_of_every_list_is_documented():
    from prtkg import codes
    text = (ROOT / "docs" / "codelists.md").read_text(encoding="utf-8")
    for name in ("trade-type", "industry", "stage", "power-kind", "department-type", "credit-record-type", "measure"):
        for code in codes.scheme(name).concepts:
            assert f"| `{code}` |" in text, (name, code)
