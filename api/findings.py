"""Findings and their cases: GET /findings (filtered, paged), GET /findings/{id} (status, history,
handling time), POST /findings/{id}/actions. A token with a division sees and acts on the findings
of its division and those below it only; another region's finding does not exist for it (404)."""
from __future__ import annotations

import datetime as dt
from enum import Enum

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from prtkg import casework

from .auth import Principal, require

router = APIRouter(tags=["findings"])
staff = require("staff")

Severity = Enum("Severity", {s: s for s in ("violation", "warning", "info")}, type=str)
Status = Enum("Status", {s: s for s in casework.machine().states}, type=str)
ActionName = Enum("ActionName", {a: a for a in casework.machine().actions}, type=str)
Outcome = Enum("Outcome", {o.replace("-", "_"): o for o in casework.machine().outcomes}, type=str)


def find(store, rule=None, severity=None, record=None, since=None, limit=100, offset=0, **scope) -> dict:
    """Kept for the pages: the stored findings with their status (prtkg.casework.find)."""
    return casework.find(store, rule, severity, record, since, limit=limit, offset=offset, **scope)


@router.get("/findings")
def list_findings(request: Request,
                  rule: str | None = Query(None, max_length=100, description="Rule id, e.g. BID-PERIOD-20D"),
                  severity: Severity | None = None,
                  record: str | None = Query(None, max_length=500, description="Source record id (ocid, event id...)"),
                  since: dt.date | None = Query(None, description="Findings made on or after this day (China time)"),
                  status: Status | None = Query(None, description="Case status (open, assigned, ..., resolved)"),
                  region: str | None = Query(None, pattern=r"^\d{6}$",
                                             description="GB/T 2260 division: findings of it and those below it"),
                  overdue: bool | None = Query(None, description="Only findings past (true) or within (false) their handling time"),
                  limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000),
                  who: Principal = Depends(staff)) -> dict:
    """Stored findings, most severe first, each with its id, status, dueDate and overdue flag;
    `total` counts all that match, `findings` is one page."""
    store = request.app.state.store
    args = dict(rule=rule, severity=severity.value if severity else None, record=record, since=since,
                status=status.value if status else None, region=region, within=who.division)
    if overdue is None:
        return casework.find(store, **args, limit=limit, offset=offset)
    # Overdue depends on the calendar, not on stored data: filter the open findings here.
    found = casework.find(store, **args, limit=1_000_000, offset=0)["findings"]
    chosen = [f for f in found if bool(f["overdue"]) is overdue]
    return {"total": len(chosen), "limit": limit, "offset": offset, "findings": chosen[offset:offset + limit]}


_ID = Path(..., max_length=100, pattern=r"^[0-9a-f]+$", description="The finding's id")


@router.get("/findings/{finding_id}", responses={404: {"description": "No such finding (in the caller's division)"}})
def get_finding(request: Request, finding_id: str = _ID, who: Principal = Depends(staff)) -> dict:
    """One finding with its status, handling time (raisedAt, dueDate, overdue) and history."""
    found = casework.get(request.app.state.store, finding_id, within=who.division)
    if found is None:
        raise HTTPException(404, f"no finding {finding_id!r}")
    return found


class ActionRequest(BaseModel):
    action: ActionName
    note: str | None = Field(None, max_length=4000)
    outcome: Outcome | None = None
    to: str | None = Field(None, max_length=18, description="The department's unified social credit code")


def _act(state, finding_id: str, body: ActionRequest, who: Principal) -> dict:
    with state.write_lock:
        result = casework.act(state.store, finding_id, body.action.value, who.agent, body.note,
                              body.outcome.value if body.outcome else None, body.to, within=who.division)
        state.store.flush()
    return result


@router.post("/findings/{finding_id}/actions",
             responses={404: {"description": "No such finding (in the caller's division)"},
                        409: {"description": "The action is not allowed from the finding's status"},
                        422: {"description": "Unknown action or outcome, or a field the action needs is missing"}})
async def act_on_finding(request: Request, body: ActionRequest, finding_id: str = _ID,
                         who: Principal = Depends(staff)) -> dict:
    """Move a finding through its life cycle (rules/casework.yaml); answers the finding with its history.
    Closing with outcome false-positive needs a note."""
    try:
        return await run_in_threadpool(_act, request.app.state, finding_id, body, who)
    except casework.CaseError as e:
        raise HTTPException(e.status, str(e)) from None
