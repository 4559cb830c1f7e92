"""Transfers and feedback: CMP-FEEDBACK, CLU-FEEDBACK, REM-RESULT-SHARED.

Deadlines in working days come from the official calendar (prtkg.workdays) when the fact is made;
the rule compares the feedback (or transfer) day with the deadline and with 'today'. A year the
calendar does not know makes the record DATA-INSUFFICIENT for that rule, never a guess.
"""
from __future__ import annotations

import datetime as dt

from .engine import m

from prtkg import findings

from . import engine
from .common import day, fact_rows, param, period_deadline, records, workday_deadline

_LATE = ((m.done == 0) & (m.as_of > m.due)) | (m.done > m.due)


def _rules():
    return [
        engine.rule("CMP-FEEDBACK", (m.t == "transfer") & (m.kind == "complaint") & _LATE),
        engine.rule("CLU-FEEDBACK", (m.t == "transfer") & (m.kind == "clue") & _LATE),
        engine.rule("REM-RESULT-SHARED", (m.t == "host-handled") & _LATE),
    ]


# The OPTIONALs stand outside the record's GRAPH block: inside, Oxigraph 0.5 evaluates them over every
# graph of the store (rules/risk.py _TENDERS). Oxigraph joins the patterns in the order written, so the
# few transfers come first: a whole store's records first cost 4.2 s CPU and 0.6 GiB at 10^5 projects
# (for 21 transfers), the transfers first 0.0 s.
_TRANSFERS = """
SELECT ?record ?kind ?tr ?to ?toName ?date ?feedback WHERE { %s GRAPH ?g {
  ?x prtkg:hasTransfer ?tr . ?tr prtkg:transferDate ?date ; prtkg:transferredTo ?d . ?d prtkg:uscc ?to .
  ?g prtkg:recordId ?record ; prtkg:recordKind ?kind . FILTER(?kind IN ("complaint", "clue")) }
  OPTIONAL { GRAPH ?g { ?d prtkg:name ?toName } } OPTIONAL { GRAPH ?g { ?tr prtkg:feedbackDate ?feedback } } }"""

# An event about a remotely evaluated project, handled by a host venue's supervisor who is not the
# primary one: complaint (handler), clue (the department it was first transferred to), inspection
# (an inspecting department). The first transfer to the primary supervisor is what shares the result.
# The events (few: 43 at 10^5 projects) before their records; the remotely evaluated projects' venues
# asked once, as a sub-SELECT: joined as one block, Oxigraph evaluated them again for each event
# (10^5 projects: 19.5 s CPU whole, 0.9 s so).
_HOST_HANDLED = """
SELECT ?record ?kind ?x ?project ?handler ?primary ?start (MIN(?tdate) AS ?shared) WHERE {
  %s
  GRAPH ?g { ?x prtkg:aboutProject ?project . ?g prtkg:recordId ?record ; prtkg:recordKind ?kind .
    FILTER(?kind IN ("complaint", "clue", "inspection"))
    { ?x prtkg:handler/prtkg:uscc ?handler ; prtkg:receivedDate ?start }
    UNION { ?x prtkg:receivedDate ?start ; prtkg:hasTransfer ?t0 . ?t0 prtkg:sequence 1 ; prtkg:transferredTo/prtkg:uscc ?handler . FILTER(?kind = "clue") }
    UNION { ?x prtkg:inspectingDepartment/prtkg:uscc ?handler ; prtkg:inspectionDate ?start }
    OPTIONAL { ?x prtkg:hasTransfer ?t . ?t prtkg:transferredTo/prtkg:uscc ?to ; prtkg:transferDate ?tdate0 }
  }
  { SELECT DISTINCT ?project ?handler ?primary WHERE { GRAPH ?pg {
      ?ev prtkg:evaluationMode "remote" . ?tender prtkg:hasEvaluation ?ev . ?project prtkg:hasTender ?tender .
      ?ev prtkg:secondaryVenue/prtkg:supervisor/prtkg:uscc ?handler ; prtkg:primaryVenue/prtkg:supervisor/prtkg:uscc ?primary .
      FILTER(?handler != ?primary) } } }
  FILTER NOT EXISTS { GRAPH ?g { ?x prtkg:inspectingDepartment/prtkg:uscc ?primary } }
  BIND(IF(BOUND(?to) && ?to = ?primary, ?tdate0, ?none) AS ?tdate)
} GROUP BY ?record ?kind ?x ?project ?handler ?primary ?start"""


def check(ctx):
    recs = records(ctx, "complaint", "clue", "inspection")
    if not recs:
        return []
    as_of = day(ctx.as_of)
    facts = []
    cmp_days = param("CMP-FEEDBACK", "max_working_days")
    clu_days = param("CLU-FEEDBACK", "max_days")
    # Both queries name the kinds they read, so a check of the whole store asks them whole (fact_rows).
    for r in fact_rows(ctx, _TRANSFERS, recs):
        if r["kind"] == "complaint":
            due = workday_deadline(r["date"], cmp_days)
            if due is None:
                ctx.insufficient.add(r["record"], r["tr"], "CMP-FEEDBACK", [f"working-day calendar {r['date'].year}"])
                continue
            reading = {}
        else:
            found = period_deadline("CLU-FEEDBACK", r["date"], clu_days, r["feedback"])
            if found is None:
                ctx.insufficient.add(r["record"], r["tr"], "CLU-FEEDBACK",
                                     [f"working-day calendar {(r['date'] + dt.timedelta(days=clu_days)).year}"])
                continue
            due, reading = found
        facts.append({"t": "transfer", "id": f"transfer|{r['tr']}", "kind": r["kind"], "record": r["record"],
                      "reading": reading, "node": r["tr"], "to": r["to"], "toName": r["toName"] or r["to"],
                      "date": r["date"].isoformat(), "due": day(due), "dueDate": due.isoformat(),
                      "done": day(r["feedback"]), "feedbackDate": r["feedback"].isoformat() if r["feedback"] else None,
                      "as_of": as_of})
    rem_days = param("REM-RESULT-SHARED", "max_working_days")
    for r in fact_rows(ctx, _HOST_HANDLED, recs):
        due = workday_deadline(r["start"], rem_days)
        if due is None:
            ctx.insufficient.add(r["record"], r["x"], "REM-RESULT-SHARED", [f"working-day calendar {r['start'].year}"])
            continue
        facts.append({"t": "host-handled", "id": f"host|{r['x']}|{r['handler']}", "kind": r["kind"],
                      "record": r["record"], "node": r["x"], "project": r["project"], "handler": r["handler"],
                      "primary": r["primary"], "start": r["start"].isoformat(), "due": day(due),
                      "dueDate": due.isoformat(), "done": day(r["shared"]),
                      "sharedDate": r["shared"].isoformat() if r["shared"] else None, "as_of": as_of})
    out = []
    for f in engine.run("complaints", _rules, facts):
        x = f.m
        if f.rule == "REM-RESULT-SHARED":
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"event": x["record"], "kind": x["kind"], "project": x["project"],
                                      "handler": x["handler"], "primary": x["primary"], "start": x["start"],
                                      "due": x["dueDate"], "transferredToPrimary": x["sharedDate"]}))
        else:
            out.append(findings.make(f.rule, x["record"], x["node"],
                                     {"transferredTo": x["to"], "transferDate": x["date"], "due": x["dueDate"],
                                      "feedbackDate": x["feedbackDate"], **x["reading"]}))
    return out
