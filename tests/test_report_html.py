"""`prtkg check --format html`: one self-contained file, opened in Debian's chromium (Playwright)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from prtkg.app import report_html

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def report(tmp_path_factory, demo_check) -> tuple[Path, dict]:
    """The demo's report as `prtkg check --format html` and `--format json` write it, from the session's
    check of the demo (tests/conftest.py) rather than two more checks of it: the command's own html
    and json output is tested in test_cli.py."""
    assert demo_check.as_of.isoformat() == "2026-11-25"
    html_out = tmp_path_factory.mktemp("report") / "report.html"
    html_out.write_text(report_html.report(demo_check), encoding="utf-8")
    doc = json.loads(json.dumps(demo_check.report(), ensure_ascii=False))
    assert doc["summary"]["violations"]            # the demo has violations
    return html_out, doc


def test_report_is_self_contained(report):
    text = report[0].read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for fetch in ("<link", " src=", "@import", "url(", "http://", "fetch("):
        assert fetch not in text.replace("http://www.w3.org/2000/svg", ""), fetch


def test_finding_dates_skip_codes_and_validity_periods():
    f = {"evidence": {"entity": "91530627MA836GUF48", "bidDate": "2026-04-17", "validUntil": "2028-01-19",
                      "awards": [{"date": "2026-05-22"}], "received": "2026-07-05T10:15:00+08:00"}}
    assert report_html._finding_date(f) == "2026-07-05"
    assert report_html._finding_date({"evidence": {"entity": "91530627MA836GUF48"}}) is None


def test_untrusted_text_is_escaped():
    doc = {"summary": {"records": 1, "rejected": 0, "violations": 1, "warnings": 0, "info": 0}, "rejected": [],
           "findings": [{"rule": "BID-PERIOD-20D", "severity": "violation", "record": "<img src=x onerror=alert(1)>",
                         "message": {"zh": "<script>alert(1)</script>", "en": "x"}, "basis": "b", "evidence": {}}]}
    matrix = {"tradeTypes": [], "industries": [], "stages": [], "regions": [], "cells": []}
    out = report_html.render(doc, matrix, {})
    assert "<script>alert(1)" not in out and "<img src=x" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_report_opens_in_a_browser(report):
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    path, doc = report
    url = path.as_uri()
    problems: list[str] = []
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        page.on("request", lambda r: r.url != url and not r.url.startswith("data:")
                and problems.append(f"request: {r.url}"))
        page.goto(url)
        s = doc["summary"]
        for key in ("records", "violations", "warnings", "info"):
            assert page.inner_text(f"#summary-{key}") == str(s[key])
        rules = {f["rule"] for f in doc["findings"]}
        assert page.locator("details.rule-group").count() == len(rules)
        assert page.locator("details.record-group").count() == len({f["record"] for f in doc["findings"]})
        per_record = [f for f in doc["findings"] if f["rule"] != "DATA-INSUFFICIENT"]
        assert page.locator("details.rule-group table.findings > tbody > tr").count() == len(per_record)
        assert page.locator("table.insufficient > tbody > tr").count() == len(
            {r for f in doc["findings"] if f["rule"] == "DATA-INSUFFICIENT" for r in f["evidence"]["byRule"]})
        # the coverage map opens on the loaded data's province; the other regions wait behind their headings
        assert page.locator('details.region[data-region="530000"] table.heat').is_visible()
        assert page.locator('details.region[data-region="520000"] table.heat').is_hidden()
        assert page.locator("table.heat td.cell").count() > 0
        assert page.locator("table.heat td.cell.overlap").count() > 0   # the demo plants an overlap
        assert page.locator("figure.chart svg rect").count() > 1          # by family and by month
        heading = page.locator("h1 span[lang=zh]")
        assert heading.is_visible() and not page.locator("h1 span[lang=en]").is_visible()
        for folder in (ROOT / "docs" / "screenshots", ROOT / "tests" / "artifacts"):
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "report.png"))
            page.locator("#charts-section").screenshot(path=str(folder / "report-charts.png"))
            page.evaluate("window.scrollTo(0, 0)")
        page.click("#lang")
        assert page.locator("h1 span[lang=en]").is_visible() and not heading.is_visible()
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("figure.chart").first.inner_text().startswith("Findings by rule family")
        browser.close()
    assert not problems, problems


def test_report_reads_as_a_report_not_as_data(report):
    import re

    text = report[0].read_text(encoding="utf-8")
    assert '<b id="as-of">2026-11-25</b>' in text                       # the day it was checked as of
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\+8", text)          # China time, zone named
    assert '"buyer":' not in text and "<pre>" not in text                 # no raw JSON evidence
    assert "<span lang=\"zh\">采购人</span>" in text                      # evidence keys labelled
    # organisations by name with the code beside; code-list values by label
    assert re.search(r"[\u4e00-\u9fff]+（9\d{5}[0-9A-Z]{12}）", text)
    assert "直接采购" in text and "<td>direct</td>" not in text
    assert "丽江市小型水库除险加固工程施工" in text                      # a record by its title
    assert 'data-region="530000" open' in text                          # the map opens on the data's province
    assert text.count('class="region" data-region=') > text.count('" open><summary><h3>')


def test_insufficient_data_is_summarised_per_rule(report):
    text = report[0].read_text(encoding="utf-8")
    insufficient = [f for f in report[1]["findings"] if f["rule"] == "DATA-INSUFFICIENT"]
    rules = {r for f in insufficient for r in f["evidence"]["byRule"]}
    section = text.split('<table class="insufficient">', 1)[1].split("</table>", 1)[0]
    assert section.count("<tr>") == len(rules) + 1 and insufficient
