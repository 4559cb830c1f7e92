"""The staff workbench in a real browser: Debian's chromium driven by Playwright, against a real uvicorn
over the bundled demo. Each page is loaded, used, switched to English, and screenshotted
(docs/screenshots/ and tests/artifacts/)."""
from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (.ci/run installs it)", allow_module_level=True)


from prtkg.api.app import create_app  # noqa: E402
from prtkg.api.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHOTS = [ROOT / "docs" / "screenshots", ROOT / "tests" / "artifacts"]
TOKEN = "workbench-staff"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# demo: serious dishonesty, barred from government procurement to 2028 (read from the demo, which is regenerated)
RESTRICTED, RESTRICTED_NAME = next((r["统一社会信用代码"], r["主体名称"]) for r in csv.DictReader(
    (ROOT / "data" / "demo" / "credit-records.csv").read_text(encoding="utf-8").splitlines())
    if r["记录类型"] == "serious-dishonesty" and "government-procurement" in r["适用交易类型"]
    and r["有效期止"] >= "2028")


@pytest.fixture(scope="module")
def server(live_server, demo_store_copy):
    # a copy: the case-action test writes to the store
    app = create_app(demo_store_copy(), Settings(tokens={TOKEN: "staff"}, query_timeout=10))
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page that records console errors and failed or off-host requests, so a test can assert none."""

    def __init__(self, browser, base):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("request", lambda r: r.url.startswith(("http", "ws")) and not r.url.startswith(base)
                     and self.problems.append(f"off-host request: {r.url}"))

    def enter_token(self):
        self.page.fill("#token", TOKEN)
        self.page.click("#token-form button[type=submit]")

    def login(self):
        """The token entered once, on the first page; later pages of the tab read it from sessionStorage."""
        self.page.goto(self.base + "/")
        self.enter_token()
        self.page.wait_for_selector("#saved li")

    def shoot(self, name: str):
        for folder in SHOTS:
            folder.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(folder / f"{name}.png"))

    def close(self):
        self.context.close()


@pytest.fixture
def web(browser, server):
    w = Watched(browser, server)
    yield w
    w.close()


def _rows(page, selector="table.results tbody tr") -> list[list[str]]:
    return page.eval_on_selector_all(selector, "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))")


def test_sparql_page_runs_a_saved_question_sorts_and_downloads(web):
    page = web.page
    page.goto(web.base + "/")
    assert page.locator("#nav-sparql").inner_text() == "查询"              # zh by default
    assert page.locator(".CodeMirror").count() == 1                          # the Yasqe editor is up
    assert "PREFIX prtkg:" in page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    web.enter_token()
    question = page.locator("#saved li[data-name=findings-by-rule]")
    question.wait_for()
    assert question.inner_text() != "findings-by-rule"                      # a zh title, not the file name
    zh_title = question.inner_text()
    question.click()
    page.click("#run-saved")
    page.wait_for_selector("table.results tbody tr")
    rows = _rows(page)
    assert len(rows) > 5
    assert any(r[0] == "BID-CANDIDATE-PUBLICITY-3D" for r in rows)
    headers = page.eval_on_selector_all("table.results th", "ths => ths.map(th => th.textContent)")
    web.shoot("sparql")
    # Sorting: a click on the first column's header orders the rows by it, a second click reverses them.
    page.click("table.results th[data-col='0']")
    first = [r[0] for r in _rows(page)]
    assert first == sorted(first, key=str)
    page.click("table.results th[data-col='0']")
    assert [r[0] for r in _rows(page)] == list(reversed(first))
    with page.expect_download() as dl:
        page.click("#csv")
    text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == headers and len(parsed) == len(rows) + 1
    # A query typed in the editor runs against /sparql.
    page.evaluate("""document.querySelector('.CodeMirror').CodeMirror.setValue(
        'PREFIX prtkg: <https://w3id.org/prtkg/ontology#> SELECT ?name WHERE { ' +
        '?r a prtkg:CreditRecord ; prtkg:name ?name } ORDER BY ?name LIMIT 3')""")
    page.click("#run")
    # Locator assertions, not wait_for_function: the pages' CSP forbids the eval a string predicate needs.
    expect(page.locator("#count")).to_have_text(re.compile(r"^3 "))
    assert len(_rows(page)) == 3
    page.click("#lang-switch")
    assert page.locator("#nav-sparql").inner_text() == "Queries"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert question.inner_text() != zh_title                               # the saved question's en title
    assert not web.problems, web.problems


def test_token_is_kept_for_the_session_and_open_pages_work_without_it(web):
    page = web.page
    page.goto(web.base + "/pages/findings")
    page.wait_for_selector("#list .need-token")                            # staff data needs a token
    assert "令牌" in page.inner_text("#list .need-token")
    web.enter_token()
    page.wait_for_selector("#list article.finding")
    page.click("#nav-coverage")                                            # another page, same session
    page.wait_for_selector("#heat-table")
    assert not web.problems, web.problems


def _findings_page(web):
    """The findings page, logged in and loaded: (page, number of findings shown)."""
    page = web.page
    web.login()
    page.goto(web.base + "/pages/findings")
    page.wait_for_selector("#list article.finding")
    return page, int(page.inner_text("#count"))


def test_findings_page_filters(web):
    page, total = _findings_page(web)
    assert total == page.locator("#list article").count() > 20
    page.select_option("#f-severity", "violation")
    shown = int(page.inner_text("#count"))
    assert 0 < shown < total
    assert page.locator("#list article.violation").count() == shown
    page.select_option("#f-family", "credit")
    rules = page.eval_on_selector_all("#list article", "as => as.map(a => a.dataset.rule)")
    assert rules and all(r.startswith("CRD-") for r in rules)
    first = page.locator("#list article").first
    # Credit codes in the evidence link to the entity page.
    link = page.locator("#list article .entities a").first
    assert link.get_attribute("href") == "/pages/entity?code=" + link.inner_text()
    assert first.locator(".basis").inner_text().strip() != ""
    assert first.locator("a.record").get_attribute("href").startswith("/pages/record?id=")
    # evidence as a labelled table in the page's language, not raw JSON
    evidence = first.locator("details table.evidence").first.text_content()
    assert first.locator("details pre").count() == 0 and re.search(r"[\u4e00-\u9fff]", evidence)
    page.click("#filters button[type=reset]")
    expect(page.locator("#count")).to_have_text(str(total))
    page.select_option("#f-tradeType", "works")
    assert 0 < int(page.inner_text("#count")) < total
    page.fill("#f-from", "2099-01-01")
    page.dispatch_event("#f-from", "change")
    assert page.inner_text("#count") == "0"
    page.click("#filters button[type=reset]")
    expect(page.locator("#count")).to_have_text(str(total))
    regions = page.eval_on_selector_all("#f-region option", "os => os.map(o => o.value).filter(Boolean)")
    assert regions
    page.select_option("#f-region", regions[0])
    assert 0 < int(page.inner_text("#count")) <= total
    page.select_option("#f-region", "")
    page.select_option("#f-severity", "violation")
    web.shoot("findings")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Findings"
    assert page.locator("#list article .meta span").first.inner_text() in ("violation", "warning", "info")
    assert not web.problems, web.problems


def test_coverage_map_cell_lists_rows(web):
    page = web.page
    web.login()
    page.goto(web.base + "/pages/coverage")
    page.wait_for_selector("#heat-table")
    options = page.eval_on_selector_all("#region option", "os => os.map(o => o.value)")
    assert len(options) > 1
    # Find a region with an overlap (the demo plants one) and open that cell.
    for code in options:
        page.select_option("#region", code)
        if page.locator("#heat-table td.overlap").count():
            break
    else:
        pytest.fail("no overlap cell in any region")
    assert " › " in page.inner_text("#region-path") or page.inner_text("#region-path")
    stages = page.eval_on_selector_all("#heat-table thead th", "ths => ths.map(th => th.textContent)")
    assert stages == ["", "招标", "投标", "开标", "评标", "定标", "合同"]   # as the procedure runs
    cell = page.locator("#heat-table td.overlap").first
    assert cell.inner_text().strip() != "—"
    cell.click()
    page.wait_for_selector("#detail:not([hidden]) table.results tbody tr")
    rows = _rows(page, "#detail table.results tbody tr")
    assert len({r[1] for r in rows}) >= 2                                  # an overlap is two departments or more
    assert all("#" in r[2] for r in rows)                                  # each names its list rows (file.csv#N)
    assert page.locator("#heat-table td.selected").count() == 1
    web.shoot("coverage")
    page.click("#lang-switch")
    assert page.locator("h1").inner_text() == "Supervision coverage map"
    assert not web.problems, web.problems


def test_entity_page_looks_up_a_credit_code(web):
    page = web.page
    page.goto(web.base + "/pages/entity")                                  # open: no token needed
    page.fill("#code", RESTRICTED)
    page.fill("#asof", "2026-11-25")
    page.click("#lookup-button")
    page.wait_for_selector("#entity-status")
    status = page.locator("#entity-status")
    assert "restricted" in status.get_attribute("class") or "serious-dishonesty" in status.get_attribute("class")
    zh = status.inner_text()
    assert RESTRICTED_NAME in page.inner_text("#entity-name")
    assert page.locator("#result table.results").count() == 2             # restrictions and history
    web.shoot("entity")
    page.click("#lang-switch")
    assert status.inner_text() != zh and page.locator("#nav-entity").inner_text() == "Credit lookup"
    page.fill("#code", "91530000000000000X")                                # wrong check character
    page.click("#lookup-button")
    page.wait_for_selector("#result .error")
    # The refused lookup is expected; the page shows it as a message, not as a broken page.
    web.problems = [p for p in web.problems if "422" not in p and "Failed to load resource" not in p]
    assert not web.problems, web.problems


def test_saved_question_fills_the_editor_and_results_read_as_words(web):
    page = web.page
    web.login()
    page.locator("#saved li[data-name=who-supervises]").click()
    # The question's text, in the editor (CodeMirror draws only the lines in view: read its value).
    expect(page.locator(".CodeMirror")).to_contain_text("param:")
    text = page.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
    assert "?tradeType" in text and "param:" in text
    assert page.locator("#param-fields label span").first.inner_text() in ("交易类型", "地区", "交易环节")
    page.evaluate("""document.querySelector('.CodeMirror').CodeMirror.setValue(
        'PREFIX prtkg: <https://w3id.org/prtkg/ontology#> SELECT ?entity ?type ?p WHERE { GRAPH ?g { ' +
        '?r a prtkg:CreditRecord ; prtkg:subject ?entity ; prtkg:creditRecordType ?type } BIND(prtkg:subject AS ?p) ' +
        // a few listed entities are named nowhere in the demo: no label to read (rows come in store order)
        'FILTER EXISTS { GRAPH ?h { ?entity prtkg:name ?name } } } LIMIT 5')""")
    page.click("#run")
    page.wait_for_selector("table.results tbody tr .iri-label")
    first = page.locator("table.results tbody tr").first
    link = first.locator("td").nth(0).locator("a")
    assert link.inner_text().startswith("id:entity/") and link.get_attribute("href").startswith("/pages/entity?code=")
    assert first.locator("td").nth(0).locator(".iri-label").inner_text().strip()          # the entity's name
    assert first.locator("td").nth(1).inner_text().startswith("code:credit-record-type/")
    assert first.locator("td").nth(1).locator(".iri-label").inner_text().strip() in ("严重失信", "行政处罚", "守信")
    assert first.locator("td").nth(2).inner_text().startswith("prtkg:subject")
    # the results fit the page: no sideways scrolling of the whole page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    web.shoot("sparql-labels")
    page.click("#lang-switch")
    assert page.locator("#param-fields label span").first.inner_text() in ("Trade type", "Region", "Stage")
    # the CSV download defuses formula cells as the server's text/csv does
    text = page.evaluate("WB.csv(['a'], [['=cmd|x'], ['-1'], ['@SUM(A1)'], ['+86 871'], ['\\tx'], ['ok']])")
    assert text.split("\r\n")[1:6] == ["'=cmd|x", "-1", "'@SUM(A1)", "'+86 871", "'\\tx"] or \
        text.split("\r\n")[1:4] == ["'=cmd|x", "-1", "'@SUM(A1)"]
    assert not web.problems, web.problems


def test_record_page_reads_as_a_record(web):
    page = web.page
    web.login()
    page.goto(web.base + "/pages/record?id=ocds-p7x2k1-2026-0006")
    page.wait_for_selector("#record-title")
    assert page.inner_text("#record-title") == "丽江市小型水库除险加固工程施工"
    parties = page.inner_text("#sec-parties + table")
    assert "投标人" in parties and "有限公司" in parties                    # roles and names, in zh
    assert page.locator("#sec-dates + table tbody tr").count() > 3
    assert page.locator("#sec-amounts + table tbody tr").count() > 2
    assert page.locator("#sec-documents + table tbody tr").count() >= 1
    assert "RISK-WINNING-MARGIN-LOW" in page.inner_text("#sec-findings + table")
    assert not page.locator("#raw table").is_visible()                     # raw triples behind a toggle
    text = page.inner_text("body")
    assert "/work" not in text and "user:" not in text and "releases.jsonl" in text
    web.shoot("record")
    page.click("#raw summary")
    assert page.locator("#raw table").is_visible()
    assert "user:" not in page.inner_text("#raw") and "/work/" not in page.inner_text("#raw")
    page.click("#lang-switch")
    assert "tenderer" in page.inner_text("#sec-parties + table")
    assert not web.problems, web.problems


def test_findings_page_case_timeline_and_actions(web):
    page, total = _findings_page(web)
    page.select_option("#f-status", "open")
    assert int(page.inner_text("#count")) == total  # the demo's findings are all open at first
    page.select_option("#f-severity", "violation")
    first = page.locator("#list article").first
    fid = first.get_attribute("data-id")
    first.locator("details.case summary").click()
    page.wait_for_selector(f"article[data-id='{fid}'] form.actions button[data-action=acknowledge]")
    case = f"article[data-id='{fid}']"
    assert page.locator(f"{case} .timeline").count() == 0  # no action yet
    # allowed from open: assign, acknowledge, close (as a false positive); not verify, dispose, reopen
    buttons = page.eval_on_selector_all(f"{case} form.actions button", "bs => bs.map(b => b.dataset.action)")
    assert set(buttons) == {"assign", "acknowledge", "close"}
    page.click(f"{case} button[data-action=acknowledge]")
    page.wait_for_selector(f"{case}[data-status=acknowledged] .timeline li[data-action=acknowledge]")
    # a refused action (a false positive without a note) says why and changes nothing
    page.select_option(f"{case} select[name=outcome]", "false-positive")
    page.click(f"{case} button[data-action=close]")
    expect(page.locator(f"{case} .case-body p.error")).to_contain_text("note")
    assert page.get_attribute(case, "data-status") == "acknowledged"
    page.fill(f"{case} textarea[name=note]", "招标文件已按规定延长投标期，属误报")
    page.click(f"{case} button[data-action=close]")
    page.wait_for_selector(f"{case}[data-status=closed] .timeline li[data-action=close]")
    assert "误报" in page.inner_text(f"{case} .timeline")
    assert page.locator(f"{case} .timeline li").count() == 2
    page.select_option("#f-status", "closed")
    expect(page.locator("#count")).to_have_text("1")
    page.select_option("#f-status", "")
    page.locator(f"{case} details.case summary").click()
    page.wait_for_selector(f"{case} .timeline li[data-action=close]")
    web.shoot("findings")
    page.click("#lang-switch")
    assert page.locator(f"#f-status option[value=closed]").inner_text() == "closed"
    assert [p for p in web.problems if "422" not in p] == [], web.problems


def test_api_docs_render_offline_under_the_csp(web):
    """Served from the package's assets: no request leaves the host, and the CSP refuses nothing
    (a refusal is a console error, which Watched records)."""
    web.page.goto(web.base + "/docs")
    web.page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert "/credit/checks" in web.page.inner_text("body")
    assert not web.problems, web.problems
