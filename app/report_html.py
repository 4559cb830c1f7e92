"""The self-contained HTML report of `prtkg check --format html`, and the data the workbench pages share.

One file, no network fetches: CSS, the language toggle and SVG charts are inline. Labels come from
the one message catalogue (api/static/messages.json) that the workbench pages also use; code labels
come from the ontology's SKOS schemes. Every text is written in both languages and CSS shows one,
so switching language needs no re-rendering.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter, defaultdict

from prtkg import codes
from prtkg.catalogue import catalogue
from prtkg.ui_messages import messages, ordered

LANGS = ("zh", "en")

_CONTEXT = """
SELECT ?id ?kind (SAMPLE(?r) AS ?region) (SAMPLE(?t) AS ?tradeType) (SAMPLE(?d) AS ?date) (SAMPLE(?ti) AS ?title)
WHERE {
  GRAPH ?g {
    ?g prtkg:recordId ?id ; prtkg:recordKind ?kind .
    OPTIONAL { ?x prtkg:region ?r }
    OPTIONAL { ?y prtkg:tradeType ?t }
    OPTIONAL { ?g prtkg:mainNode ?main . ?main prtkg:title ?ti }
  }
  OPTIONAL { GRAPH ?g { ?g prov:generatedAtTime ?d } }
} GROUP BY ?id ?kind
"""


def china_time(value: str | dt.datetime | None) -> str | None:
    """A moment as a reader in China reads it: local time with the zone named (2026-11-30 11:47 UTC+8)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    from prtkg.clock import CHINA
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M UTC+8")


def _code(iri: str | None) -> str | None:
    return iri.rsplit("/", 1)[-1] if iri else None


def record_context(store) -> dict[str, dict]:
    """Per source record id: its kind, region and trade type, so findings can be filtered by them."""
    out = {}
    for r in store.select(_CONTEXT):
        out[r["id"]] = {"kind": r["kind"], "region": _code(r["region"]), "tradeType": _code(r["tradeType"]),
                        "title": r["title"]}
    return out


def enrich(findings: list[dict], context: dict[str, dict]) -> list[dict]:
    """Findings with their rule family, region, trade type and month (of the date in their evidence, if any)."""
    rules = catalogue()
    out = []
    for f in findings:
        ctx = context.get(f["record"], {})
        rule = rules.get(f["rule"])
        out.append({**f, "family": rule.family if rule else "data", "region": ctx.get("region"),
                    "tradeType": ctx.get("tradeType"), "kind": ctx.get("kind"), "title": ctx.get("title"),
                    "date": _finding_date(f)})
    return out


_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:$|T)")
# Validity periods say how long a record lasts, not when the thing a finding is about happened.
_NOT_EVENT = ("valid", "until", "from", "asOf")


def _finding_date(f: dict) -> str | None:
    """The day a finding is about: the latest event date in its evidence, if it has any."""
    days = []

    def walk(v, key=""):
        if isinstance(v, dict):
            for k, x in v.items():
                if not any(word.lower() in k.lower() for word in _NOT_EVENT):
                    walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str):
            m = _ISO_DAY.match(v)
            if m:
                try:
                    days.append(dt.date.fromisoformat(m.group(1)))
                except ValueError:
                    pass
    walk(f.get("evidence") or {})
    return max(days).isoformat() if days else None


def labels(region_codes: set[str]) -> dict:
    """Code labels {scheme: {code: {lang: text}}} for the schemes the pages show, and the regions in use."""
    out: dict[str, dict] = {}
    for name in ("trade-type", "stage", "industry", "credit-record-type", "power-kind", "department-type",
                 "measure", "procurement-method", "procurement-category", "award-criteria", "record-kind"):
        out[name] = {k: dict(c.labels) for k, c in codes.scheme(name).concepts.items()}
    regions = {}
    try:
        scheme = codes.scheme("region")
    except KeyError:
        scheme = None
    for code in sorted(region_codes):
        chain = [code]
        if scheme is not None:
            try:
                chain = codes.region_chain(code) or [code]
            except KeyError:
                pass
        for i, c in enumerate(chain):
            concept = scheme.concepts.get(c) if scheme is not None else None
            regions[c] = {"labels": dict(concept.labels) if concept else {"zh": c},
                          "level": concept.level if concept else None,
                          "parent": chain[i + 1] if i + 1 < len(chain) else None}
    out["region"] = regions
    out["family"] = sorted({r.family for r in catalogue().values()})
    return out


# ---------------------------------------------------------------------------------------------- HTML


def _both(texts: dict[str, str]) -> str:
    """A text in both languages; CSS shows the selected one."""
    zh = texts.get("zh") or texts.get("en") or ""
    en = texts.get("en") or zh
    return f'<span lang="zh">{html.escape(zh)}</span><span lang="en">{html.escape(en)}</span>'


def _m(key: str) -> str:
    cat = messages()
    return _both({lang: cat[lang].get(key, key) for lang in LANGS})


def _label(lab: dict, scheme: str, code: str | None) -> str:
    if code is None:
        return "—"
    entry = lab.get(scheme, {}).get(code)
    if scheme == "region" and entry:
        entry = entry["labels"]
    return _both(entry) if entry else html.escape(code)


def _bar_chart(counts: list[tuple[str, int]], title_key: str) -> str:
    """A horizontal bar chart as inline SVG; each bar's label is given in both languages."""
    width, bar_h, left = 640, 22, 200
    top = max((n for _, n in counts), default=0) or 1
    height = bar_h * len(counts) + 10
    parts = [f'<figure class="chart"><figcaption>{_m(title_key)}</figcaption>'
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, n) in enumerate(counts):
        y = 5 + i * bar_h
        w = (width - left - 50) * n / top
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{label}</text>'
                     f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="#3b6ea8"/>'
                     f'<text x="{left + w + 4:.1f}" y="{y + 15}">{n}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _svg_text(texts: dict[str, str]) -> str:
    zh = texts.get("zh") or texts.get("en") or ""
    en = texts.get("en") or zh
    return f'<tspan lang="zh">{html.escape(zh)}</tspan><tspan lang="en">{html.escape(en)}</tspan>'


def home_province(context: dict[str, dict]) -> str | None:
    """The province most of the loaded records are in: where the coverage map opens."""
    provinces = Counter()
    for ctx in context.values():
        if ctx.get("region"):
            try:
                chain = codes.region_chain(ctx["region"])
            except KeyError:
                chain = []
            provinces[(chain or [ctx["region"]])[-1]] += 1
    return provinces.most_common(1)[0][0] if provinces else None


def _coverage_section(matrix: dict, lab: dict, home: str | None = None) -> str:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for c in matrix["cells"]:
        cells[(c["region"], c["tradeType"], c["stage"])].append(c)
    out = [f'<h2 id="coverage">{_m("coverage.title")}</h2><p class="legend">'
           f'<span class="cell overlap">{_m("coverage.overlap")}</span> '
           f'<span class="cell gap">{_m("coverage.gap")}</span> '
           f'<span class="cell ok">{_m("coverage.covered")}</span></p>']
    regions = matrix["regions"]
    for region in regions:
        code = region["code"]
        chain = []
        cur = lab["region"].get(code, {}).get("parent")
        while cur:
            chain.append(_label(lab, "region", cur))
            cur = lab["region"].get(cur, {}).get("parent")
        path = " › ".join(reversed(chain))
        is_open = " open" if code == home or (home is None and region is regions[0]) else ""
        out.append(f'<details class="region" data-region="{html.escape(code)}"{is_open}><summary><h3>'
                   f'{_label(lab, "region", code)} <small>{code}{" · " + path if path else ""}</small></h3></summary>')
        out.append('<table class="heat"><thead><tr><th></th>')
        stages = ordered(matrix["stages"], "stage")
        out.extend(f"<th>{_label(lab, 'stage', s)}</th>" for s in stages)
        out.append("</tr></thead><tbody>")
        for t in matrix["tradeTypes"]:
            out.append(f"<tr><th>{_label(lab, 'trade-type', t)}</th>")
            for s in stages:
                group = cells.get((code, t, s), [])
                depts = {d["code"]: d["name"] for c in group for d in c["departments"]}
                gap = any(c["gap"] for c in group)
                overlap = any(c["overlap"] for c in group)
                cls = "gap" if gap else "overlap" if overlap else "ok" if depts else "empty"
                names = "<br>".join(html.escape(n) for n in sorted(depts.values()))
                out.append(f'<td class="cell {cls}" title="{len(depts)}">{names or "—"}</td>')
            out.append("</tr>")
        out.append("</tbody></table></details>")
    return "<section id=\"coverage-section\">" + "".join(out) + "</section>"


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0 2em 3em;color:#222}
html.zh [lang=en],html.en [lang=zh]{display:none}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:2px solid #3b6ea8}
h2{border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;font-size:13px;text-align:left}
.summary td{font-size:18px;text-align:center;min-width:6em}
.violation{color:#b00020;font-weight:600}.warning{color:#a86500}.info{color:#2060a0}
.case-status{font-weight:400;color:#24446c}.overdue{background:#b00020;color:#fff;padding:0 4px}.due{font-weight:400;color:#555}
.cell.gap{background:#f7c6c6}.cell.overlap{background:#fde3a7}.cell.ok{background:#d4edda}.cell.empty{background:#eee}
.legend .cell{padding:2px 8px;border:1px solid #ccc}
.chart svg text{font-size:12px}
details{margin:.3em 0}pre{white-space:pre-wrap;margin:0;font-size:12px}
table.evidence{margin:0}table.evidence th{font-weight:normal;color:#555;white-space:nowrap}
nav a{margin-right:1em}
details.region summary h3{display:inline}
"""

_JS = """
function setLang(l){document.documentElement.className=l;document.documentElement.lang=l==='zh'?'zh-CN':'en';}
document.getElementById('lang').addEventListener('click',function(){
  setLang(document.documentElement.className==='zh'?'en':'zh');});
"""


_SPEC = re.compile(r"\{(\w+):([^}]+)\}")
# Tukey fences follow the figure they fence: percentages where it is a ratio.
_FENCE_KEYS = ("lowerFence", "upperFence", "q1", "q3", "fence", "topTendererFence")


def _value_kinds(rule_id: str) -> dict[str, str]:
    """How a rule's evidence values read: a code list, an organisation or a percentage, per key.

    From the catalogue message's own format specs ({ratio:%}, {buyer:org}, {method:procurement-method}),
    then the message catalogue's evidence schemes for keys a message does not show."""
    kinds = dict(messages().get("evidence", {}).get("scheme", {}))
    rule = catalogue().get(rule_id)
    for template in (rule.message.values() if rule else ()):
        kinds.update(dict(_SPEC.findall(template)))
    if kinds.get("fence") == "%":
        kinds.update({k: "%" for k in _FENCE_KEYS})
    return kinds


class Evidence:
    """A finding's evidence as a labelled table in both languages: keys by their labels (ev.* in the
    message catalogue), codes by their labels, organisations by name with the code beside it."""

    def __init__(self, names=None) -> None:
        self.names = names or (lambda code: None)

    def table(self, evidence: dict, rule_id: str) -> str:
        if not evidence:
            return ""
        kinds = _value_kinds(rule_id)
        rows = "".join(f"<tr><th>{self._key(k)}</th><td>{self._value(v, k, kinds)}</td></tr>"
                       for k, v in evidence.items())
        return f'<table class="evidence">{rows}</table>'

    @staticmethod
    def _key(key: str) -> str:
        cat = messages()
        return _both({lang: cat[lang].get("ev." + key, key) for lang in LANGS})

    def _value(self, value, key: str, kinds: dict[str, str]) -> str:
        from prtkg import uscc
        from prtkg.findings import percent

        if isinstance(value, dict):
            rows = "".join(f"<tr><th>{self._key(k)}</th><td>{self._value(v, k, kinds)}</td></tr>"
                           for k, v in value.items())
            return f'<table class="evidence">{rows}</table>'
        if isinstance(value, list):
            return "<br>".join(self._value(v, key, kinds) for v in value) or "—"
        if value is None:
            return "—"
        kind = kinds.get(key)
        text = str(value)
        if kind == "%" and isinstance(value, (int, float)):
            return html.escape(percent(value))
        if kind and kind not in ("%", "org"):
            try:
                return _both(codes.labels(kind, text))
            except KeyError:
                return html.escape(text)
        if len(text) == 18 and uscc.problem(text) is None:
            name = self.names(text)
            return f"{html.escape(name)}（{html.escape(text)}）" if name else html.escape(text)
        return html.escape(text)


def _finding_rows(findings: list[dict], evidence: Evidence) -> str:
    rows = []
    for f in findings:
        title = f' title="{html.escape(f["title"])}"' if f.get("title") else ""
        record = html.escape(f["record"]) + (f"<br><small>{html.escape(f['title'])}</small>" if f.get("title") else "")
        rows.append(f'<tr><td class="{f["severity"]}">{_m("severity." + f["severity"])}{_case(f)}</td>'
                    f'<td>{html.escape(f["rule"])}</td><td{title}>{record}</td>'
                    f'<td>{_both(f["message"])}</td><td>{html.escape(f.get("basis") or "")}</td>'
                    f"<td>{evidence.table(f.get('evidence') or {}, f['rule'])}</td></tr>")
    return "".join(rows)


def _insufficiency_table(findings: list[dict]) -> str:
    """DATA-INSUFFICIENT per rule: how many records could not be judged, for want of which fields."""
    from prtkg.findings import insufficiency_by_rule

    cat = messages()
    rows = []
    for x in insufficiency_by_rule(findings):
        text = {lang: cat[lang]["insufficient.summary"].format(records=x["records"], fields="、".join(x["fields"]))
                for lang in LANGS}
        rows.append(f"<tr><td>{html.escape(x['rule'])}</td><td>{x['records']}</td><td>{_both(text)}</td></tr>")
    head = "".join(f"<th>{_m(k)}</th>" for k in ("col.rule", "summary.records", "col.message"))
    return f'<table class="insufficient"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _case(f: dict) -> str:
    """A stored finding's case status and, past its handling time, the overdue mark (prtkg findings --format html)."""
    if "status" not in f:
        return ""
    due = f' <span class="due">{html.escape(f["dueDate"])}</span>' if f.get("dueDate") else ""
    mark = f' <b class="overdue">{_m("case.overdue")}</b>' if f.get("overdue") else ""
    return f'<br><span class="case-status">{_m("case.status." + f["status"])}</span>{due}{mark}'


def _findings_table(findings: list[dict], evidence: Evidence) -> str:
    head = "".join(f"<th>{_m(k)}</th>" for k in ("col.severity", "col.rule", "col.record", "col.message",
                                                   "col.basis", "col.evidence"))
    return (f'<table class="findings"><thead><tr>{head}</tr></thead>'
            f'<tbody>{_finding_rows(findings, evidence)}</tbody></table>')


def render(doc: dict, matrix: dict, context: dict[str, dict], generated: dt.datetime | None = None,
           names=None) -> str:
    """The report for a findings document (CheckResult.report()), the coverage matrix and record context;
    `names` resolves an organisation's credit code to its name."""
    evidence = Evidence(names)
    findings = enrich(doc["findings"], context)
    region_codes = {r["code"] for r in matrix["regions"]} | {f["region"] for f in findings if f["region"]}
    lab = labels(region_codes)
    s = doc["summary"]
    generated = generated or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    parts = [f"<!DOCTYPE html><html class=\"zh\" lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width\">"
             f"<title>{html.escape(messages()['zh']['report.title'])}</title><style>{_CSS}</style></head><body>",
             f'<header><h1>{_m("report.title")}</h1>'
             f'<button id="lang" type="button">{_m("lang.switch")}</button></header>',
             f'<p>{_m("report.asOf")} <b id="as-of">{html.escape(s.get("asOf") or "—")}</b> · '
             f'{_m("report.generated")} {html.escape(china_time(generated))}</p>',
             f'<nav><a href="#summary">{_m("report.summary")}</a><a href="#by-rule">{_m("report.byRule")}</a>'
             f'<a href="#by-record">{_m("report.byRecord")}</a><a href="#coverage">{_m("coverage.title")}</a>'
             f'<a href="#charts">{_m("report.charts")}</a></nav>',
             f'<h2 id="summary">{_m("report.summary")}</h2><table class="summary"><tr>']
    keys = ("records", "rejected", "violations", "warnings", "info")
    parts.extend(f"<th>{_m('summary.' + k)}</th>" for k in keys)
    parts.append("</tr><tr>")
    parts.extend(f'<td id="summary-{k}">{s.get(k, 0)}</td>' for k in keys)
    parts.append("</tr></table>")
    if doc.get("rejected"):
        parts.append(f"<h3>{_m('summary.rejected')}</h3><ul>")
        for r in doc["rejected"]:
            reasons = "; ".join(f"{e['field']}: {e['error']}" for e in r["errors"])
            parts.append(f"<li>{html.escape(r['record'])}: {html.escape(reasons)}</li>")
        parts.append("</ul>")

    rules = catalogue()
    parts.append(f'<h2 id="by-rule">{_m("report.byRule")}</h2>')
    by_rule: dict[str, list[dict]] = defaultdict(list)
    for f in findings:
        by_rule[f["rule"]].append(f)
    for rule_id, group in by_rule.items():
        rule = rules.get(rule_id)
        title = html.escape(rule.basis) if rule else ""
        # Insufficient data is read per rule (how many records, which fields), not record by record.
        body = (_insufficiency_table(group) if rule_id == "DATA-INSUFFICIENT"
                else _findings_table(group, evidence))
        parts.append(f'<details class="rule-group" open><summary><b>{html.escape(rule_id)}</b> '
                     f'({len(group)}) {_m("family." + group[0]["family"])} · {title}</summary>{body}</details>')
    parts.append(f'<h2 id="by-record">{_m("report.byRecord")}</h2>')
    by_record: dict[str, list[dict]] = defaultdict(list)
    for f in findings:
        by_record[f["record"]].append(f)
    for record, group in sorted(by_record.items()):
        first = group[0]
        title = f" {html.escape(first['title'])}" if first.get("title") else ""
        parts.append(f'<details class="record-group"><summary><b>{html.escape(record)}</b>{title} ({len(group)}) '
                     f'{_label(lab, "trade-type", first["tradeType"])} · {_label(lab, "region", first["region"])}'
                     f"</summary>{_findings_table(group, evidence)}</details>")

    parts.append(_coverage_section(matrix, lab, home_province(context)))

    parts.append(f'<section id="charts-section"><h2 id="charts">{_m("report.charts")}</h2>')
    fam = Counter(f["family"] for f in findings)
    cat = messages()
    parts.append(_bar_chart([(_svg_text({l: cat[l].get("family." + k, k) for l in LANGS}), n)
                             for k, n in fam.most_common()], "chart.byFamily"))
    months = Counter((f["date"] or "")[:7] for f in findings)
    undated = _svg_text({l: cat[l]["chart.undated"] for l in LANGS})
    by_month = sorted(months.items(), key=lambda kv: kv[0] or "~")  # undated last
    parts.append(_bar_chart([(html.escape(k) if k else undated, n) for k, n in by_month], "chart.byMonth"))
    parts.append(f"</section><script>{_JS}</script></body></html>")
    return "".join(parts)


def stored_report(store, found: list[dict]) -> str:
    """The report of findings read from a store (prtkg findings --format html), with their case status."""
    from .coverage_report import coverage_matrix

    records = store.select("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?g prtkg:recordId ?id } }")[0]["n"]
    summary = {"records": records, "rejected": 0,
               **{k + "s": sum(f["severity"] == k for f in found) for k in ("violation", "warning")},
               "info": sum(f["severity"] == "info" for f in found)}
    doc = {"summary": summary, "findings": found, "rejected": []}
    from prtkg.findings import naming
    with naming(store) as names:
        return render(doc, coverage_matrix(store), record_context(store), names=names)


def report(result) -> str:
    """The HTML report of a CheckResult."""
    from .coverage_report import coverage_matrix
    from prtkg.findings import naming

    with naming(result.store) as names:
        return render(result.report(), coverage_matrix(result.store, result.as_of), record_context(result.store),
                      names=names)
