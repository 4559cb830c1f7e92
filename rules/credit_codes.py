"""CRD-CODE-INVALID: every unified social credit code that enters is checked (GB 32100-2015, GB 11714).

The one implementation is prtkg.uscc.problem, which the loaders, the API and the saved queries call
at their edges too; this module runs it over every record's codes, in the per-record and bulk
checks alike (rules run on the store whichever way the shapes run)."""
from __future__ import annotations

from prtkg import findings, uscc

from .common import fact_rows

_CODES = """
SELECT DISTINCT ?record ?node ?code WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordId ?record . ?node prtkg:uscc ?code }
}"""


def check(ctx):
    # No record under check: every stored code (the query without VALUES).
    rows = fact_rows(ctx, _CODES, ctx.records) if ctx.records else ctx.store.stream(_CODES % "")
    for row in rows:
        problem = uscc.problem(row["code"])
        if problem is not None:
            yield findings.make("CRD-CODE-INVALID", row["record"], row["node"],
                                {"code": row["code"], "problem": problem.kind},
                                problem=problem.message_en, problem_zh=problem.message_zh)
