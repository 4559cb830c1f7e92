"""DATA-QUALITY: problems the loaders found in a record and kept it for (a contract whose `awardID`
names no award, an amount given as an empty string, a credit measure in words no code list knows).
The loader stores each as a `prtkg:DataProblem` node (field, problem code, value as given) on the
record's main node (prtkg.rdf.data_problem); one finding per problem."""
from __future__ import annotations

from prtkg import findings

from .common import code, fact_rows

# The problems (few) before their records: Oxigraph joins in the order written, and a whole store's
# records first cost 1.6 s CPU at 10^5 projects for no problem at all (0.0 s so).
_PROBLEMS = """
SELECT ?record ?node ?field ?kind ?value WHERE { %s GRAPH ?g {
  ?node prtkg:dataProblem ?x . ?g prtkg:recordId ?record .
  ?x prtkg:problemField ?field ; prtkg:problemKind ?kind ; prtkg:problemValue ?value } }"""


def check(ctx):
    if not ctx.records:
        return []
    out = []
    for r in fact_rows(ctx, _PROBLEMS, ctx.records):
        out.append(findings.make("DATA-QUALITY", r["record"], r["node"], {
            "field": r["field"], "problem": code(r["kind"]), "value": r["value"]}))
    return out
