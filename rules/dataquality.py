"""DATA-QUALITY: problems the loaders found in a record and kept it for (a contract whose `awardID`
names no award, an amount given as an empty string, ...). The loader stores each as
`prtkg:dataProblem "field: problem"` on the record's main node; one finding per problem."""
from __future__ import annotations

from prtkg import findings

from .common import graphs_values

_PROBLEMS = """
SELECT ?record ?node ?problem WHERE { %s GRAPH ?g {
  ?g prtkg:recordId ?record . ?node prtkg:dataProblem ?problem } }"""


def check(ctx):
    if not ctx.records:
        return []
    out = []
    for r in ctx.store.select(_PROBLEMS % graphs_values(ctx.records)):
        field, _, problem = r["problem"].partition(": ")
        out.append(findings.make("DATA-QUALITY", r["record"], r["node"], {"field": field, "problem": problem}))
    return out
