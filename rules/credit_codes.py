"""CRD-CODE-INVALID: every unified social credit code that enters is checked (GB 32100-2015, GB 11714).

The one implementation is prtkg.uscc.problem, which the loaders, the API and the saved queries call
at their edges too; this module runs it over every record's codes, in the per-record and bulk
checks alike (rules run on the store whichever way the shapes run)."""
from __future__ import annotations

from prtkg import findings, uscc

_CODES = """
SELECT DISTINCT ?record ?node ?code WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordId ?record . ?node prtkg:uscc ?code }
}"""


def check(ctx):
    values = "VALUES ?g { " + " ".join(f"<{g}>" for g in ctx.graphs) + " }" if ctx.records else ""
    for row in ctx.store.select(_CODES % values):
        problem = uscc.problem(row["code"])
        if problem is not None:
            yield findings.make("CRD-CODE-INVALID", row["record"], row["node"],
                                {"code": row["code"], "problem": problem.kind},
                                problem=problem.message_en, problem_zh=problem.message_zh)
