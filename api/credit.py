"""Credit status of an entity, and the credit checks agencies make for bidders (kept as provenance)."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from prtkg import codes, rdf, uscc
from prtkg.clock import today
from prtkg.credit import MalformedCode
from prtkg.store import Store

from .auth import Principal, bearer, caller, require
from .records import read_body

router = APIRouter(tags=["credit"])


def _problem(code: str) -> dict | None:
    # Codes are compared upper-cased everywhere (docs/vocabulary.md), so a lower-case code is not malformed.
    p = uscc.problem(code.strip().upper())
    if p is None:
        return None
    return {"code": code, "problem": p.kind, "message": {"en": p.message_en, "zh": p.message_zh}}


def _trade_type(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in codes.scheme("trade-type"):
        known = ", ".join(sorted(codes.scheme("trade-type").concepts))
        raise HTTPException(422, f"tradeType: {value!r} is not a trade type code ({known})")
    return value


def status(store: Store, code: str, as_of: dt.date, trade_type: str | None) -> dict | None:
    from prtkg.credit import credit_status

    return credit_status(store, code, as_of, trade_type=trade_type)


@router.get("/entities/{code}/credit", responses={404: {"description": "No entity with this code"},
                                                  422: {"description": "Malformed code: length, characters or check character"}})
def entity_credit(request: Request, code: str,
                  as_of: dt.date | None = Query(None, alias="asOf", description="Day of the status (default: today)"),
                  trade_type: str | None = Query(None, alias="tradeType", description="Only restrictions for this trade type")) -> dict:
    """An entity's credit status: overall status, active records, restrictions in force, history."""
    problem = _problem(code)
    if problem is not None:
        raise HTTPException(422, problem)
    try:
        found = status(request.app.state.store, code, as_of or today(), _trade_type(trade_type))
    except MalformedCode as e:
        raise HTTPException(422, str(e)) from None
    if found is None:
        raise HTTPException(404, f"no entity with unified social credit code {code} is known")
    # credit_status answers in JSON types already: returning the response skips FastAPI's
    # response-model validation and second encoding pass (the OpenAPI schema still reads `-> dict`).
    return JSONResponse(found)


# A unified social credit code has 18 characters (GB 32100-2015). A slightly longer one is a typing
# slip the answer should name as malformed; anything past this is not an attempt at a code, and
# storing it would let one check fill the store.
CODE_CHARS = 64


class CreditCheckRequest(BaseModel):
    codes: list[Annotated[str, Field(max_length=CODE_CHARS)]] = Field(
        ..., min_length=1, description="Bidders' unified social credit codes (at most PRTKG_CREDIT_MAX_CODES, "
                                       f"each at most {CODE_CHARS} characters)")
    tradeType: str | None = Field(None, max_length=64, description="Trade type code of the tender, e.g. works")
    date: dt.date | None = Field(None, description="Day the check is for (evaluation day); default today")
    project: str | None = Field(None, max_length=200, description="The project's ocid")


def _answer(store: Store, code: str, on: dt.date, trade_type: str | None) -> dict:
    problem = _problem(code)
    if problem is not None:
        return {"code": code, "valid": False, "known": False, "error": problem}
    found = status(store, code, on, trade_type)
    if found is None:
        return {"code": code, "valid": True, "known": False, "status": None, "restrictions": []}
    found = jsonable_encoder(found)
    return {"code": code, "valid": True, "known": True, "status": found.get("status"),
            "restrictions": found.get("restrictions", [])}


def _check_graph(check_id: str) -> str:
    return rdf.graph_iri("credit-check", check_id).value


def record_check(store: Store, lock: threading.Lock, doc: dict) -> None:
    """The check as provenance: its own named graph, a prov:Activity holding the answers verbatim."""
    g = ox.NamedNode(_check_graph(doc["id"]))
    node = rdf.iri("credit-check", doc["id"])
    prov = rdf.PROV
    at = dt.datetime.fromisoformat(doc["time"])
    by, by_triples = rdf.agent(doc["caller"])
    triples = by_triples + [
        (g, rdf.RDF_TYPE, ox.NamedNode(prov + "Entity")),
        (g, rdf.p("recordId"), rdf.literal(doc["id"])),
        (g, rdf.p("recordKind"), rdf.literal("credit-check")),
        (g, ox.NamedNode(prov + "generatedAtTime"), rdf.literal(at)),
        (g, ox.NamedNode(prov + "wasAttributedTo"), by),
        (node, rdf.RDF_TYPE, rdf.p("CreditCheck")),
        (node, rdf.RDF_TYPE, ox.NamedNode(prov + "Activity")),
        (node, rdf.p("localId"), rdf.literal(doc["id"])),
        (node, ox.NamedNode(prov + "startedAtTime"), rdf.literal(at)),
        (node, ox.NamedNode(prov + "wasAssociatedWith"), by),
        (node, rdf.p("checkDate"), rdf.literal(dt.date.fromisoformat(doc["date"]))),
        (node, rdf.p("answers"), ox.Literal(json.dumps(doc, ensure_ascii=False, sort_keys=True),
                                            datatype=ox.NamedNode(rdf.RDF + "JSON"))),
    ]
    if doc["tradeType"]:
        triples.append((node, rdf.p("tradeType"), rdf.code("trade-type", doc["tradeType"])))
    if doc["project"]:
        triples.append((node, rdf.p("aboutProject"), rdf.iri("project", doc["project"])))
    for a in doc["answers"]:
        if a["valid"]:
            triples.append((node, rdf.p("checkedEntity"), rdf.entity(a["code"])))
    with lock:
        store.replace_graph(g.value, (ox.Quad(s, p, o, g) for s, p, o in triples))
        store.flush()


def make_check(store: Store, lock: threading.Lock, body: CreditCheckRequest, who: str) -> dict:
    on = body.date or today()
    trade_type = _trade_type(body.tradeType)
    doc = {"id": str(uuid.uuid4()),
           "time": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
           "caller": who, "project": body.project, "tradeType": trade_type, "date": on.isoformat(),
           "answers": [_answer(store, c, on, trade_type) for c in body.codes]}
    record_check(store, lock, doc)
    return doc


def parse_check(body: bytes, max_codes: int) -> CreditCheckRequest:
    """The request, or 422 naming each bad item (never echoing it: a refused value may be megabytes)."""
    try:
        parsed = CreditCheckRequest.model_validate_json(body)
    except ValidationError as e:
        raise HTTPException(422, [{"loc": ["body", *e_["loc"]], "msg": e_["msg"], "type": e_["type"]}
                                  for e_ in e.errors(include_url=False)]) from None
    if len(parsed.codes) > max_codes:
        raise HTTPException(422, [{"loc": ["body", "codes"], "type": "too_long",
                                   "msg": f"{len(parsed.codes)} codes; at most {max_codes} in one check "
                                          "(PRTKG_CREDIT_MAX_CODES)"}])
    return parsed


@router.post("/credit/checks", status_code=201,
             responses={401: {}, 403: {"description": "The role does not allow it, or the project is another division's"},
                        413: {"description": "Body over the limit"},
                        422: {"description": "Malformed request; `detail` names each bad item"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": CreditCheckRequest.model_json_schema()}}}})
async def create_check(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer),
                       who: Principal = Depends(require("ingest", "staff"))) -> JSONResponse:
    """The credit check an agency makes for every bidder at evaluation time: each code's status and
    restrictions for the trade type on the day. The check itself (id, time, caller, project, answers)
    is stored in the graph; GET /credit/checks/{id} returns it unchanged. Recording a check is a write
    by the evaluation committee: a token with role `ingest` or `staff` (or `admin`). A token with a
    division records checks about its division's projects only (403 for a stored project of another)."""
    state = request.app.state
    body = parse_check(await read_body(request), state.settings.credit_max_codes)
    if who.division and body.project:
        from prtkg.jurisdiction import divisions_within, project_regions
        outside = sorted(await run_in_threadpool(project_regions, state.store, body.project)
                         - divisions_within(who.division))
        if outside:
            raise HTTPException(403, f"project {body.project} is in division {', '.join(outside)}, "
                                     f"outside the token's division {who.division}")
    doc = await run_in_threadpool(make_check, state.store, state.write_lock, body, caller(request, cred))
    return JSONResponse(doc, status_code=201, headers={"Location": f"/credit/checks/{doc['id']}"})


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@router.get("/credit/checks/{check_id}", responses={404: {"description": "No such check"}})
def get_check(request: Request, check_id: str) -> dict:
    """A stored credit check, exactly as it was answered."""
    if not _UUID.fullmatch(check_id):
        raise HTTPException(404, f"no credit check {check_id!r}")
    rows = request.app.state.store.select(f"""SELECT ?answers WHERE {{ GRAPH <{_check_graph(check_id)}> {{
        ?c a prtkg:CreditCheck ; prtkg:answers ?answers }} }}""")
    if not rows:
        raise HTTPException(404, f"no credit check {check_id!r}")
    return json.loads(rows[0]["answers"])
