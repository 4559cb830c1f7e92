"""GET /supervision/coverage: trade type x stage x region against departments (overlaps and gaps)."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder

from .auth import Principal, require

router = APIRouter(tags=["supervision"])


def within_division(matrix: dict, division: str | None) -> dict:
    """The matrix cut to a division and those below it (a division token's view)."""
    if division is None:
        return matrix
    from prtkg.jurisdiction import divisions_within

    keep = divisions_within(division)
    return {**matrix, "regions": [r for r in matrix["regions"] if r["code"] in keep],
            **{part: [x for x in matrix[part] if x.get("region") in keep] for part in ("cells", "overlaps", "gaps")}}


@router.get("/supervision/coverage")
def coverage(request: Request, who: Principal = Depends(require("staff")),
             as_of: dt.date | None = Query(None, alias="asOf",
                                           description="The day whose powers lists in force count (default: today in China)")) -> dict:
    """Who holds a power over each trade type, stage and region of the powers lists in force on a day:
    overlaps and gaps (of the caller's division and those below it, for a token with a division)."""
    from prtkg.app.coverage_report import coverage_matrix

    return jsonable_encoder(within_division(coverage_matrix(request.app.state.store, as_of), who.division))
