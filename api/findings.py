"""GET /findings: the stored findings (graph urn:prtkg:findings), filtered and paged."""
from __future__ import annotations

import datetime as dt
import json
from enum import Enum

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request

from prtkg import rdf

from .auth import require

router = APIRouter(tags=["findings"], dependencies=[Depends(require("staff"))])


class Severity(str, Enum):
    violation = "violation"
    warning = "warning"
    info = "info"


_ORDER = 'IF(?severity = "violation", 0, IF(?severity = "warning", 1, 2))'


def _filters(rule: str | None, severity: str | None, record: str | None, since: dt.date | None) -> str:
    # Values enter the query as terms serialised by pyoxigraph, which escapes them.
    parts = []
    if rule:
        parts.append(f"FILTER(?rule = {ox.Literal(rule)})")
    if severity:
        parts.append(f"FILTER(?severity = {ox.Literal(severity)})")
    if record:
        parts.append(f"FILTER(?record = {ox.Literal(record)})")
    if since:
        start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
        parts.append(f"FILTER(?at >= {rdf.literal(start)})")
    return "\n".join(parts)


def find(store, rule=None, severity=None, record=None, since=None, limit=100, offset=0) -> dict:
    where = f"""GRAPH <{rdf.FINDINGS_GRAPH}> {{
        ?f a prtkg:Finding ; prtkg:rule ?rule ; prtkg:severity ?severity ; prtkg:record ?record ;
           prov:generatedAtTime ?at .
        {_filters(rule, severity, record, since)}
    }}"""
    total = store.select(f"SELECT (COUNT(?f) AS ?n) WHERE {{ {where} }}")[0]["n"]
    page = store.select(f"""SELECT ?f WHERE {{ {where} }}
        ORDER BY {_ORDER} ?rule ?record ?f LIMIT {int(limit)} OFFSET {int(offset)}""")
    if not page:
        return {"total": total, "limit": limit, "offset": offset, "findings": []}
    values = " ".join(f"<{row['f']}>" for row in page)
    rows = store.select(f"""SELECT ?f ?p ?o WHERE {{ VALUES ?f {{ {values} }}
        GRAPH <{rdf.FINDINGS_GRAPH}> {{ ?f ?p ?o }} }}""")
    by_node: dict[str, dict] = {row["f"]: {"message": {}} for row in page}
    langs = {}
    for row in store.select(f"""SELECT ?f ?m (LANG(?m) AS ?lang) WHERE {{ VALUES ?f {{ {values} }}
        GRAPH <{rdf.FINDINGS_GRAPH}> {{ ?f prtkg:message ?m }} }}"""):
        langs[(row["f"], row["m"])] = row["lang"]
    for row in rows:
        out = by_node[row["f"]]
        key = row["p"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if key == "message":
            out["message"][langs.get((row["f"], row["o"]), "")] = row["o"]
        elif key == "evidence":
            out["evidence"] = json.loads(row["o"])
        elif key in ("rule", "severity", "record", "focus", "basis", "asOf", "generatedAtTime"):
            value = row["o"]
            out[key] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    keys = ("rule", "severity", "record", "focus", "message", "basis", "evidence", "asOf", "generatedAtTime")
    findings = [{k: by_node[row["f"]].get(k, "" if k == "focus" else None) for k in keys} for row in page]
    return {"total": total, "limit": limit, "offset": offset, "findings": findings}


@router.get("/findings")
def list_findings(request: Request,
                  rule: str | None = Query(None, max_length=100, description="Rule id, e.g. BID-PERIOD-20D"),
                  severity: Severity | None = None,
                  record: str | None = Query(None, max_length=500, description="Source record id (ocid, event id...)"),
                  since: dt.date | None = Query(None, description="Findings made on or after this day (China time)"),
                  limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000)) -> dict:
    """Stored findings, most severe first; `total` counts all that match, `findings` is one page."""
    return find(request.app.state.store, rule, severity.value if severity else None, record, since, limit, offset)
