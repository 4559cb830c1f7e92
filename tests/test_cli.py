"""The `prtkg` command as a user meets it: exit codes, the JSON contract, one clear line for bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prtkg.app.cli import app

runner = CliRunner()
AS_OF = "2026-11-25"
# One small rule case (an entity code with a wrong check character) where a test asks about the
# report's form, not the demo: each check of the demo takes half a minute.
SMALL = [str(Path(__file__).parent / "fixtures" / "rules" / "CRD-CODE-INVALID" / "fires"), "--reference", "none"]


def run(*args, env=None):
    return runner.invoke(app, list(args), env=env)


@pytest.fixture(scope="module")
def demo_json():
    result = run("check", "--format", "json", "--as-of", AS_OF)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_demo_check_follows_the_findings_contract(demo_json):
    code, doc = demo_json
    assert set(doc) == {"summary", "findings", "rejected"}
    s = doc["summary"]
    assert s["records"] >= 300
    assert s["violations"] == sum(f["severity"] == "violation" for f in doc["findings"])
    assert code == (1 if s["violations"] else 0)
    for f in doc["findings"]:
        assert set(f) == {"id", "rule", "severity", "record", "focus", "message", "basis", "evidence"}
        assert f["message"]["zh"] and f["message"]["en"] and f["basis"]
        # "?" is what a message field the finding could not fill turns into
        assert "?" not in f["message"]["en"] and "?" not in f["message"]["zh"], f


def test_demo_shows_invalid_codes_and_insufficient_data(demo_json):
    _, doc = demo_json
    rules = {f["rule"] for f in doc["findings"]}
    assert "CRD-CODE-INVALID" in rules
    assert "DATA-INSUFFICIENT" in rules


def test_table_is_the_default(tmp_path):
    out = tmp_path / "report.txt"
    result = run("check", *SMALL, "--as-of", AS_OF, "--out", str(out), "--lang", "en")
    assert result.exit_code in (0, 1)
    text = out.read_text(encoding="utf-8")
    assert "CRD-CODE-INVALID" in text and "violations" in text


@pytest.mark.parametrize("args,needle", [
    (["check", "--as-of", "2026-02-30"], "--as-of"),
    (["check", "/no/such/file.json"], "no such file"),
    (["check", "--reference", "/no/such/dir"], "--reference"),
])
def test_bad_arguments_exit_2_with_one_line(args, needle):
    result = run(*args)
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name,content,needle", [
    ("gbk.csv", "统一社会信用代码,主体名称\n".encode("gbk"), "UTF-8"),
    ("trunc.json", b'{"ocid": "ocds-x-1", "releases": [', "not valid JSON"),
    ("empty.json", b"", "empty"),
    ("bin.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(200)), "binary"),
    ("utf16.csv", "a,b\n".encode("utf-16"), "UTF-16"),
    ("unknown.csv", "foo,bar\n1,2\n".encode(), "foo"),
])
def test_unusable_files_exit_2_naming_the_file(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content)
    result = run("check", str(path), "--reference", "none", "--as-of", AS_OF)
    assert result.exit_code == 2, result.output
    assert name in result.output and needle in result.output
    assert "Traceback" not in result.output


def test_load_then_query_the_persistent_store(tmp_path):
    env = {"PRTKG_STORE": str(tmp_path / "store")}
    demo_events = next(p for p in __import__("prtkg.app.checking", fromlist=["x"]).bundled("demo").iterdir()
                       if p.suffix == ".jsonl")
    result = run("load", str(demo_events), "--as-of", AS_OF, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["loaded"] > 0
    q = run("query", "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?g <https://w3id.org/prtkg/ontology#recordId> ?id } }",
            "--format", "json", env=env)
    assert q.exit_code == 0, q.output
    n = int(json.loads(q.stdout)["results"]["bindings"][0]["n"]["value"])
    assert n == summary["loaded"]
    refused = run("query", "DELETE WHERE { ?s ?p ?o }", env=env)
    assert refused.exit_code == 2 and "updates are refused" in refused.output


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "prtkg.app.cli", "check", str(bad), "--reference", "none"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert proc.returncode == 2
    assert "x.json" in proc.stderr and "Traceback" not in proc.stderr


def _width(line: str) -> int:
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_table_fits_the_terminal_and_speaks_the_readers_language(demo_json):
    # No PATH: the demo, as of the demo's own day (not today), said in the title.
    result = run("check", env={"COLUMNS": "100"})
    assert result.exit_code in (0, 1), result.output
    lines = result.stdout.splitlines()
    assert max(map(_width, lines)) <= 100
    assert "检查基准日2026-11-25" in result.stdout
    assert "严重程度" in result.stdout and "违规" in result.stdout
    assert not any(w in result.stdout for w in ("violation", "warning", " info "))
    # DATA-INSUFFICIENT is summarised per rule: one row per rule, not one per record
    assert result.stdout.count("DATA-INSUFFICIENT") == len(
        {r for f in demo_json[1]["findings"]
         if f["rule"] == "DATA-INSUFFICIENT" for r in f["evidence"]["byRule"]})
    # English on a small case (the demo's own day as the default is the run above's, in either language)
    en = run("check", *SMALL, "--as-of", AS_OF, "--lang", "en", env={"COLUMNS": "100"})
    assert "Severity" in en.stdout and "violation" in en.stdout and "as of 2026-11-25" in en.stdout


def test_every_report_states_its_date(demo_json, tmp_path):
    assert demo_json[1]["summary"]["asOf"] == AS_OF
    out = tmp_path / "r.html"
    result = run("check", *SMALL, "--as-of", "2026-10-01", "--format", "html", "--out", str(out))
    assert result.exit_code in (0, 1)
    assert "2026-10-01" in out.read_text(encoding="utf-8")
    assert str(out.resolve()) in result.stderr          # --out says where it wrote


def test_version_and_help_and_flags():
    v = run("--version")
    assert v.exit_code == 0 and v.stdout.startswith("prtkg ")
    h = run("serve", "-h", env={"COLUMNS": "100"})
    assert h.exit_code == 0 and "--demo" in h.stdout and "<bool>" not in h.stdout and "BOOL" not in h.stdout
