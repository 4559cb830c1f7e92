"""An entity's credit status: its records, the restrictions in force, and their history.

A serious-dishonesty record restricts its subject in its trade types (适用交易类型; where the record
names none, the trade types its measures restrict) from 有效期起 to 有效期止, both days included.
Served by `prtkg credit` and GET /entities/{uscc}/credit; CRD-RESTRICTED-BID/-AWARD read the same
restrictions (rules/credit.py).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

import yaml

from . import codes, rdf, uscc
from .errors import PrtkgError

SERIOUS = "serious-dishonesty"

_RECORDS = """
SELECT ?record ?cr ?code ?name ?type ?from ?until ?decided ?decidedBy ?decidedByName ?basis
       (GROUP_CONCAT(DISTINCT STR(?tt); separator=" ") AS ?tts)
       (GROUP_CONCAT(DISTINCT STR(?measure); separator=" ") AS ?measures)
       (GROUP_CONCAT(DISTINCT STR(?mtt); separator=" ") AS ?mtts)
WHERE {
  %s
  GRAPH ?g { ?cr a prtkg:CreditRecord ; prtkg:localId ?record ; prtkg:subject ?s ; prtkg:creditRecordType ?type .
             ?s prtkg:uscc ?code0 . BIND(UCASE(?code0) AS ?code)
             OPTIONAL { ?cr prtkg:name ?name } OPTIONAL { ?cr prtkg:validFrom ?from }
             OPTIONAL { ?cr prtkg:validUntil ?until } OPTIONAL { ?cr prtkg:decisionDate ?decided }
             OPTIONAL { ?cr prtkg:decidedBy/prtkg:uscc ?decidedBy } OPTIONAL { ?cr prtkg:decidedByName ?decidedByName }
             OPTIONAL { ?cr prtkg:legalBasisText ?basis }
             OPTIONAL { ?cr prtkg:appliesToTradeType ?tt0 }
             OPTIONAL { ?cr prtkg:triggersMeasure ?measure } }
  # "all" trade types stands for each of them, as everywhere (prtkg:covers)
  OPTIONAL { GRAPH <urn:prtkg:ontology> { ?tt0 prtkg:covers ?ttAll } }
  BIND(COALESCE(?ttAll, ?tt0) AS ?tt)
  OPTIONAL { GRAPH <urn:prtkg:ontology> { ?measure prtkg:restrictsTradeType ?mtt } }
} GROUP BY ?record ?cr ?code ?name ?type ?from ?until ?decided ?decidedBy ?decidedByName ?basis
ORDER BY ?code ?from ?record
"""


class MalformedCode(PrtkgError):
    """A credit code that cannot be one (length, character set or check character)."""

    def __init__(self, code: str, problem: uscc.CodeProblem):
        self.code = code
        self.problem = problem
        super().__init__(f"{code!r} is not a valid unified social credit code: {problem.message_en}")


@lru_cache(maxsize=1)
def measures_config() -> dict:
    return yaml.safe_load(resources.files("prtkg.rules").joinpath("measures.yaml").read_text(encoding="utf-8"))


def _code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _codes(joined: str | None) -> list[str]:
    return sorted({_code(v) for v in (joined or "").split() if v})


@dataclass(frozen=True)
class CreditRecord:
    id: str
    node: str
    subject: str
    name: str | None
    type: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    decided: dt.date | None
    decided_by: str | None
    basis: str | None
    trade_types: list[str]
    measures: list[str]           # named by the record plus those its type triggers (measures.yaml)

    @property
    def start(self) -> dt.date | None:
        return self.valid_from or self.decided

    def in_force(self, on: dt.date) -> bool:
        return (self.start is None or self.start <= on) and (self.valid_until is None or on <= self.valid_until)

    @property
    def restricted_trade_types(self) -> list[str]:
        return self.trade_types if self.type == SERIOUS else []

    def as_dict(self) -> dict:
        return {"record": self.id, "type": self.type, "name": self.name,
                "from": _iso(self.start), "until": _iso(self.valid_until), "decided": _iso(self.decided),
                "decidedBy": self.decided_by, "basis": self.basis, "tradeTypes": self.trade_types,
                "measures": self.measures}


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _literals(codes: Iterable[str]) -> str:
    return " ".join(json.dumps(c) for c in codes)


def _candidates(codes: list[str]) -> str:
    """A pattern binding ?s to the nodes that may carry one of these (upper-cased) codes, found
    through the indexes: the entity IRI minted from the code (docs/vocabulary.md), whatever the case
    of the code it carries, and any node carrying the code exactly as given upper- or lower-case.
    Comparing UCASE(code) against every prtkg:uscc in the store instead costs a scan per request."""
    iris = " ".join(f"<{rdf.entity(c).value}>" for c in codes)
    cases = _literals(sorted({v for c in codes for v in (c, c.lower())}))
    return (f"{{ SELECT DISTINCT ?s WHERE {{ {{ VALUES ?s {{ {iris} }} }} UNION "
            f"{{ VALUES ?cx {{ {cases} }} GRAPH ?gx {{ ?s prtkg:uscc ?cx }} }} }} }}")


def credit_records(store, subjects: Iterable[str] | None = None, record_graphs: Iterable[str] | None = None) -> list[CreditRecord]:
    """Credit records in the store, optionally only of these subjects' codes or in these graphs."""
    values = ""
    if subjects is not None:
        codes_ = sorted({s.upper() for s in subjects})
        if not codes_:
            return []
        values = _candidates(codes_) + " VALUES ?code { " + _literals(codes_) + " }"
    elif record_graphs is not None:
        values = "VALUES ?g { " + " ".join(f"<{g}>" for g in record_graphs) + " }"
    triggered = measures_config().get("triggered_by") or {}
    out = []
    for r in store.select(_RECORDS % values):
        rtype = _code(r["type"])
        measures = sorted(set(_codes(r["measures"])) | set((triggered.get(rtype) or {}).get("measures") or []))
        out.append(CreditRecord(
            id=r["record"], node=r["cr"], subject=r["code"], name=r["name"], type=rtype,
            valid_from=r["from"], valid_until=r["until"], decided=r["decided"],
            decided_by=r["decidedBy"] or r["decidedByName"], basis=r["basis"],
            trade_types=_codes(r["tts"]) or _codes(r["mtts"]), measures=measures))
    return out


def _measure_label(code: str) -> dict:
    try:
        c = codes.scheme("measure").concepts.get(code)
    except KeyError:
        c = None
    return {"code": code, "zh": c.label("zh") if c else code, "en": c.label("en") if c else code}


def credit_status(store, code: str, as_of: dt.date, trade_type: str | None = None) -> dict | None:
    """The entity's credit status on `as_of`; None when the store knows nothing of the code.

    Raises MalformedCode for a code that cannot be a unified social credit code.
    """
    code = code.strip().upper()
    problem = uscc.problem(code)
    if problem is not None:
        raise MalformedCode(code, problem)
    # Most entities have no credit record: one cheap probe says whether the code is known at all and
    # whether any credit record names it, before the full records query is worth running.
    probe = store.select(f"""SELECT DISTINCT ?cr WHERE {{
        {{ SELECT DISTINCT ?s WHERE {{ {_candidates([code])}
            GRAPH ?gk {{ ?s prtkg:uscc ?c FILTER(UCASE(STR(?c)) = {json.dumps(code)}) }} }} }}
        OPTIONAL {{ GRAPH ?g {{ ?cr prtkg:subject ?s ; a prtkg:CreditRecord }} }} }}""")
    if not probe:
        return None
    recs = credit_records(store, [code]) if any(r["cr"] for r in probe) else []
    in_force = [r for r in recs if r.in_force(as_of)]
    restrictions = []
    for r in in_force:
        for t in r.restricted_trade_types:
            if trade_type is None or t == trade_type:
                restrictions.append({"record": r.id, "tradeType": t, "from": _iso(r.start),
                                     "until": _iso(r.valid_until), "basis": r.basis,
                                     "measures": [_measure_label(x) for x in r.measures]})
    if restrictions:
        overall = "restricted"
    elif any(r.type == SERIOUS for r in in_force):
        overall = "serious-dishonesty"
    elif any(r.type == "administrative-penalty" for r in in_force):
        overall = "penalised"
    elif any(r.type == "good-credit" for r in in_force):
        overall = "good"
    else:
        overall = "no-record-in-force"
    name = next((r.name for r in recs if r.name), None)
    return {"uscc": code, "name": name, "asOf": as_of.isoformat(), "tradeType": trade_type,
            "status": overall, "recordsInForce": [r.as_dict() for r in in_force],
            "restrictions": restrictions,
            "history": [{**r.as_dict(), "inForce": r.in_force(as_of)} for r in recs]}


def statuses(store, codes: list[str], as_of: dt.date, trade_type: str | None = None) -> list[dict]:
    """Status of each code; every code is checked first, so one malformed code fails the whole request."""
    for raw in codes:
        problem = uscc.problem(raw.strip().upper())
        if problem is not None:
            raise MalformedCode(raw, problem)
    if trade_type is not None and trade_type not in codes_scheme_trade_types():
        raise PrtkgError(f"--trade-type: {trade_type!r} is not a trade type "
                         f"({', '.join(sorted(codes_scheme_trade_types()))})")
    out = []
    for raw in codes:
        status = credit_status(store, raw, as_of, trade_type)
        out.append(status if status is not None else
                   {"uscc": raw.strip().upper(), "asOf": as_of.isoformat(), "status": "unknown"})
    return out


def codes_scheme_trade_types() -> set[str]:
    return set(codes.scheme("trade-type").concepts)


_STORE_SUMMARY = """SELECT (COUNT(DISTINCT ?g) AS ?n) (MAX(?at) AS ?last) WHERE {
  GRAPH ?g { ?g prtkg:recordId ?id . OPTIONAL { ?g <http://www.w3.org/ns/prov#generatedAtTime> ?at } } }"""


def store_summary(store) -> dict:
    """How many records the store holds and when the last was loaded: what an "unknown" answer rests on."""
    rows = store.select(_STORE_SUMMARY)
    n = int(rows[0]["n"]) if rows and rows[0]["n"] is not None else 0
    return {"records": n, "loadedAt": rows[0]["last"] if rows and rows[0]["last"] else None}


def status_table(statuses: list[dict], lang: str = "zh"):
    """A rich table: one block per entity, one line per restriction or record; headers and words from
    the shared message catalogue, codes by their labels, in `lang`."""
    from rich.markup import escape
    from rich.table import Table

    from .ui_messages import messages

    ui = messages()[lang]

    def t(key: str, default: str) -> str:
        return ui.get(key, default)

    def label(scheme: str, code: str) -> str:
        return codes.label(scheme, code, lang) if code else "-"

    forever = "长期" if lang == "zh" else "no end"
    table = Table(show_lines=True)
    for key, default in (("col.uscc", "uscc"), ("col.status", "status"),
                         ("col.restrictions", "restrictions in force"), ("col.history", "history")):
        table.add_column(t(key, default), overflow="fold")
    for s in statuses:
        restrictions = "\n".join(
            f"{label('trade-type', r['tradeType'])} {r['from'] or '?'}..{r['until'] or forever} [{r['record']}] "
            f"{'、'.join(m.get(lang) or m['zh'] for m in r['measures'])} ({r['basis'] or '-'})"
            for r in s.get("restrictions", []))
        history = "\n".join(f"{h['record']} {label('credit-record-type', h['type'])} "
                            f"{h['from'] or '?'}..{h['until'] or forever}"
                            f"{' *' if h['inForce'] else ''}" for h in s.get("history", []))
        name = f"\n{s['name']}" if s.get("name") else ""
        status = t("status." + s["status"], s["status"])
        if s.get("note"):
            status += "\n" + s["note"]
        table.add_row(escape(s["uscc"] + name), escape(status), escape(restrictions or "-"), escape(history or "-"))
    return table
