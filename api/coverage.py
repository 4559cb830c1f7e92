"""GET /supervision/coverage: trade type x stage x region against departments (overlaps and gaps)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder

from .auth import require

router = APIRouter(tags=["supervision"], dependencies=[Depends(require("staff"))])


@router.get("/supervision/coverage")
def coverage(request: Request) -> dict:
    """Who holds a power over each trade type, stage and region of the powers lists: overlaps and gaps."""
    from prtkg.coverage import coverage_matrix

    return jsonable_encoder(coverage_matrix(request.app.state.store))
