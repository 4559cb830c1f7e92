"""CRD-CODE-INVALID: every unified social credit code that enters is checked (GB 32100-2015, GB 11714).

The one implementation is prtkg.uscc.problem, which the loaders, the API and the saved queries call
at their edges too; this module runs it over every record's codes, in the per-record and bulk
checks alike (rules run on the store whichever way the shapes run)."""
from __future__ import annotations

import json

from prtkg import findings, uscc

from .common import fact_rows

# Each code is judged once and then looked for where it occurs: most codes are an entity's, repeated
# in every record that names it (at 10^4 projects 88,259 (record, node, code) rows held ~7,500 codes),
# so the store lists the distinct codes and only a bad code's places come back as rows.
_CODES = """
SELECT DISTINCT ?code WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordId ?record . ?node prtkg:uscc ?code }
}"""

# STR(): a code is judged as text, whatever its literal's datatype. The codes before their records
# (Oxigraph joins in the order written): at 10^5 projects 11.4 -> 4.8 s CPU for the 878,000 codes
# stored. A page's VALUES goes first inside the GRAPH block (in_dialect), where it bounds the codes.
_PLACES = """
SELECT DISTINCT ?record ?node ?code WHERE { %s GRAPH ?g {
  ?node prtkg:uscc ?code FILTER(STR(?code) IN ({codes})) ?g prtkg:recordId ?record } }"""


def check(ctx):
    def rows(query):
        # No record under check: every stored code (the query without VALUES).
        return fact_rows(ctx, query, ctx.records) if ctx.records else ctx.store.stream(query % "")

    problems = {}
    for row in rows(_CODES):
        problem = uscc.problem(row["code"])
        if problem is not None:
            problems[row["code"]] = problem
    if not problems:
        return
    # %% : the query is still to be formatted with its page's VALUES.
    codes = ", ".join(json.dumps(c, ensure_ascii=False).replace("%", "%%") for c in sorted(problems))
    for row in rows(_PLACES.replace("{codes}", codes)):
        problem = problems[row["code"]]
        yield findings.make("CRD-CODE-INVALID", row["record"], row["node"],
                            {"code": row["code"], "problem": problem.kind},
                            problem=problem.message_en, problem_zh=problem.message_zh)
