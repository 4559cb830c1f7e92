"""DATA-QUALITY: problems the loaders found in a record and kept it for (a contract whose `awardID`
names no award, an amount given as an empty string, a credit measure in words no code list knows).
The loader stores each as a `prtkg:DataProblem` node (field, problem code, value as given) on the
record's main node (prtkg.rdf.data_problem); one finding per problem."""
from __future__ import annotations

from prtkg import findings

from .common import code, fact_rows

_PROBLEMS = """
SELECT ?record ?node ?field ?kind ?value WHERE { %s GRAPH ?g {
  ?g prtkg:recordId ?record . ?node prtkg:dataProblem ?x .
  ?x prtkg:problemField ?field ; prtkg:problemKind ?kind ; prtkg:problemValue ?value } }"""


def check(ctx):
    if not ctx.records:
        return []
    out = []
    for r in fact_rows(ctx, _PROBLEMS, ctx.records):
        out.append(findings.make("DATA-QUALITY", r["record"], r["node"], {
            "field": r["field"], "problem": code(r["kind"]), "value": r["value"]}))
    return out
