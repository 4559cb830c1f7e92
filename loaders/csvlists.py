"""CSV lists: powers-and-duties lists (权力和责任清单) and credit records (信用记录), recognised by header.

Each list type is one `ListType` entry: its columns (Chinese and English header names), which of
them a file must have, and the function that maps its rows. Adding a list type (entity relations)
means adding one entry to LIST_TYPES; recognition, header errors and row numbering stay shared.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import PurePath
from typing import Callable

import pyoxigraph as ox
from pyoxigraph import NamedNode

from prtkg import codes, rdf, uscc
from prtkg.errors import InputError
from prtkg.records import FieldError, LoadResult, Record, Rejection

from .jsonin import decode


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str


@dataclass(frozen=True)
class ListType:
    name: str
    columns: tuple[Column, ...]
    required: frozenset[str]
    load: Callable[["Table"], LoadResult]


@dataclass
class Row:
    """One data row: values by column key, the header names as the file spelt them, its 1-based number."""
    number: int
    values: dict[str, str]
    headers: dict[str, str]
    source: str

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def error(self, key: str, reason: str) -> FieldError:
        return FieldError(self.headers.get(key, key), reason)


@dataclass
class Table:
    name: str
    data: bytes
    headers: dict[str, str]
    rows: list[Row]


# Multi-valued code cells: the list's own separators (half- and full-width semicolon, 顿号).
_SPLIT = re.compile(r"[;；、]")
_DATE_FORMS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
               re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"))
_BOOLEAN = {"是": True, "否": False, "true": True, "false": False, "yes": True, "no": False,
            "y": True, "n": False, "1": True, "0": False}
# A cell that is shaped like a credit code names an organisation; anything else is a name.
_CODE_SHAPED = re.compile(r"^[0-9A-Za-z]{18}$")


@lru_cache(maxsize=1)
def department_classes() -> dict[str, NamedNode]:
    """Department-type concept IRI -> the class a department of that type is (prtkg:departmentClass)."""
    store = ox.Store()
    store.load(resources.files("prtkg.ontology").joinpath("codes.ttl").read_bytes(), format=ox.RdfFormat.TURTLE)
    rows = store.query(f"SELECT ?c ?cls WHERE {{ ?c <{rdf.PRTKG}departmentClass> ?cls }}")
    return {row["c"].value: row["cls"] for row in rows}


def classify_department(g, dept: NamedNode, concept: NamedNode) -> None:
    """Type a department by one of its department types. The types classify (org:classification), they are
    not exclusive kinds: a body may hold several, so every call adds, none replaces; the class is written
    too because queries select by it and nothing reasons over the store at load."""
    g.type(dept, "Department")
    g.add(dept, NamedNode(rdf.ORG + "classification"), concept)
    g.add(dept, "departmentType", concept)
    g.add(dept, rdf.RDF_TYPE, department_classes().get(concept.value))


class RowError(Exception):
    def __init__(self, *errors: FieldError):
        super().__init__(errors)
        self.errors = list(errors)


def collector(errors: list[FieldError]) -> Callable:
    """Run a cell parser, keeping its errors, so one rejection names every bad cell of a row."""
    def attempt(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RowError as e:
            errors.extend(e.errors)
            return None
    return attempt


def digest_of(value: object) -> str:
    """sha256 of a value's canonical JSON: the same content gives the same digest wherever it came from."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def organisation(g: rdf.RecordGraph, code: str) -> NamedNode:
    """The node of an organisation named by its credit code, carrying the code as given.

    The code is not checked here: CRD-CODE-INVALID reports a bad one, with its record, later.
    """
    node = rdf.entity(code)
    g.add(node, "uscc", code.strip())
    rdf.identifier(g, node, rdf.USCC_SCHEME, code)
    return node


def accepted(scheme_name: str) -> str:
    """The accepted values of a code list, for an error message (docs/codelists.md has them all)."""
    concepts = sorted(codes.scheme(scheme_name).concepts.values(), key=lambda c: c.code)
    if len(concepts) > 40:
        return f"see docs/codelists.md for the {len(concepts)} accepted {scheme_name} codes"
    return "accepted: " + "; ".join(f"{c.code} ({c.label('zh')} / {c.label('en')})" for c in concepts)


def resolve(row: Row, key: str, scheme_name: str, *, many: bool = False, required: bool = True,
            unknown_out: list[str] | None = None) -> list[NamedNode]:
    """The concepts a code cell names (several when `many`) by code, Chinese or English label or
    alternative label; an unknown value rejects the row, or with `unknown_out` is put there."""
    cell = row.get(key)
    if not cell:
        if required:
            raise RowError(row.error(key, "empty; a code is required"))
        return []
    scheme = codes.scheme(scheme_name)
    # A label may itself contain a 、 (限制参与土地使用权、矿业权出让竞买): split only what is not one code.
    values = [cell]
    if many and scheme.resolve(cell) is None:
        values = [v.strip() for v in _SPLIT.split(cell) if v.strip()]
    out, unknown = [], []
    for value in values:
        concept = scheme.resolve(value)
        if concept is None:
            unknown.append(value)
        elif NamedNode(concept.iri) not in out:
            out.append(NamedNode(concept.iri))
    if unknown and unknown_out is not None:
        unknown_out.extend(unknown)
    elif unknown:
        raise RowError(row.error(key, f"unknown {scheme_name} code {', '.join(map(repr, unknown))}; "
                                      f"{accepted(scheme_name)}"))
    return out


def resolve_code(row: Row, key: str, scheme_name: str) -> str:
    """The code a cell names, for a list whose code is stored as a literal (prtkg:relationType)."""
    resolve(row, key, scheme_name)   # the row error for an empty or unknown value
    return codes.scheme(scheme_name).resolve(row.get(key)).code


def parse_date(row: Row, key: str, *, required: bool) -> dt.date | None:
    cell = row.get(key)
    if not cell:
        if required:
            raise RowError(row.error(key, "empty; a date is required"))
        return None
    for form in _DATE_FORMS:
        m = form.match(cell)
        if m:
            try:
                return dt.date(*map(int, m.groups()))
            except ValueError:
                raise RowError(row.error(key, f"{cell!r} is not a real calendar date")) from None
    raise RowError(row.error(key, f"{cell!r} is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)"))


def parse_boolean(row: Row, key: str) -> bool | None:
    cell = row.get(key)
    if not cell:
        return None
    value = _BOOLEAN.get(cell.casefold())
    if value is None:
        raise RowError(row.error(key, f"{cell!r} is not 是/否 (yes/no, true/false)"))
    return value


# -- powers and duties --------------------------------------------------------------------------

def _whole_file_record(table: Table, graph_kind: str, record_kind: str, list_class: str,
                       row_triples, describe: Callable | None = None) -> LoadResult:
    """A list whose whole file is one record (one graph); each good row adds its triples, a bad row
    is rejected on its own and leaves nothing behind. `describe(g, the_list)` adds what the list as a
    document says of itself."""
    result = LoadResult()
    stem = PurePath(table.name).stem
    g = rdf.RecordGraph(rdf.graph_iri(graph_kind, stem))
    the_list = rdf.iri("list", stem)
    g.type(the_list, list_class)
    g.add(the_list, "localId", stem)
    if describe is not None:
        describe(g, the_list)
    for row in table.rows:
        try:
            triples = row_triples(row, stem, the_list)
        except RowError as e:
            result.rejected.append(Rejection(row.source, e.errors))
            continue
        g.triples.extend(triples.triples)
    # A node named by several rows (a department holding several powers) is described once per row.
    g.triples = list(dict.fromkeys(g.triples))
    result.records.append(Record(id=stem, kind=record_kind, graph=g, source=table.name,
                                 digest=hashlib.sha256(table.data).hexdigest(), focus=the_list))
    return result


# What a powers list says of itself as a document (publisher, issue date, validity). A CSV list has no
# place for a title block, so these are columns: every row that fills one must give the list's value.
_LIST_FIELDS = ("publisher", "issued", "validFrom", "validUntil")


@dataclass(frozen=True)
class VersionCells:
    """A powers list's publisher (credit code), issue date and validity, as its rows give them (the
    checks read them back from the store as prtkg.coverage.ListVersion)."""
    publisher: str = ""
    issued: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    source_row: dict[str, Row] = field(default_factory=dict)   # the row each value was first given on

    def describe(self, g: rdf.RecordGraph, the_list: NamedNode) -> None:
        if self.publisher:
            g.add(the_list, NamedNode(rdf.DCTERMS + "publisher"), organisation(g, self.publisher))
        g.add(the_list, NamedNode(rdf.DCTERMS + "issued"), self.issued)
        # Valid from the issue date unless the list says otherwise: the in-force test reads one date.
        g.add(the_list, "validFrom", self.valid_from or self.issued)
        g.add(the_list, "validUntil", self.valid_until)


def _list_version(table: Table) -> VersionCells:
    """The list's version fields: each the first value its rows give. A value that is no date or no
    credit code stays out (every row giving it is rejected for it by _version_errors)."""
    first: dict[str, Row] = {}
    for row in table.rows:
        for key in _LIST_FIELDS:
            if row.get(key) and key not in first:
                first[key] = row
    values: dict[str, object] = {}
    for key, row in first.items():
        try:
            values[key] = _version_value(row, key)
        except RowError:
            pass
    issued, start, until = values.get("issued"), values.get("validFrom"), values.get("validUntil")
    if until and (start or issued) and until < (start or issued):
        until = None
    return VersionCells(values.get("publisher") or "", issued, start, until, first)


def _version_value(row: Row, key: str):
    if key == "publisher":
        code = row.get(key)
        problem = uscc.problem(code)
        if problem is not None:
            raise RowError(row.error(key, f"{code!r} is not a valid unified social credit code: {problem}; "
                                          "give the issuing body's credit code"))
        return code
    return parse_date(row, key, required=False)


def _version_errors(row: Row, version: VersionCells) -> list[FieldError]:
    """A row's list-version cells: each a valid value, and the value the list has (one list, one version)."""
    errors: list[FieldError] = []
    for key in _LIST_FIELDS:
        cell = row.get(key)
        if not cell:
            continue
        first = version.source_row[key]
        if cell != first.get(key):
            errors.append(row.error(key, f"{cell!r} differs from {first.get(key)!r} on row {first.number}; "
                                         "a list has one publisher, issue date and validity"))
            continue
        try:
            _version_value(row, key)
        except RowError as e:
            errors.extend(e.errors)
    start = version.valid_from or version.issued
    if row.get("validUntil") and version.valid_until is None and start and not errors:
        errors.append(row.error("validUntil", f"{row.get('validUntil')} is before the list takes effect "
                                              f"({start.isoformat()})"))
    return errors


def _load_powers(table: Table) -> LoadResult:
    """The whole file is one record (the list); each good row is one SupervisoryPower."""
    version = _list_version(table)
    return _whole_file_record(table, "list", "powers-list", "PowersList",
                              lambda row, stem, the_list: _power_row(row, stem, the_list, version),
                              version.describe)


def _power_row(row: Row, stem: str, the_list: NamedNode, version: VersionCells) -> rdf.RecordGraph:
    # Every cell is checked before a triple is made, so a rejected row leaves nothing behind.
    g = rdf.RecordGraph(rdf.graph_iri("list", stem))
    errors: list[FieldError] = _version_errors(row, version)
    attempt = collector(errors)
    dept_code = row.get("departmentCode")
    if not dept_code:
        errors.append(row.error("departmentCode", "empty; the department's credit code is required"))
    dept_type = attempt(resolve, row, "departmentType", "department-type")
    power_kind = attempt(resolve, row, "powerKind", "power-kind")
    trade_types = attempt(resolve, row, "tradeType", "trade-type", many=True)
    industries = attempt(resolve, row, "industry", "industry", many=True, required=False)
    stages = attempt(resolve, row, "stage", "stage", many=True)
    region = attempt(resolve, row, "region", "region")
    # Division names repeat across the country (朝阳区, 市辖区): only the GB/T 2260 code is unambiguous.
    if region and not row.get("region").isdigit():
        errors.append(row.error("region", f"{row.get('region')!r} is not a GB/T 2260 division code"))
    lead = attempt(parse_boolean, row, "lead")
    if errors:
        raise RowError(*errors)

    dept = organisation(g, dept_code)
    classify_department(g, dept, dept_type[0])
    g.add(dept, "name", row.get("departmentName") or None)

    node = rdf.iri("list", stem, "row", row.number)
    g.type(node, "SupervisoryPower")
    g.add(node, "inList", the_list)
    g.add(node, "listRow", row.number)
    g.add(node, "heldBy", dept)
    g.add(node, "heldAs", dept_type[0])
    g.add(node, "powerCode", row.get("powerCode") or None)
    g.add(node, "powerName", row.get("powerName") or None)
    g.add(node, "powerKind", power_kind[0])
    for concept in trade_types:
        g.add(node, "tradeType", concept)
    for concept in industries:
        g.add(node, "industry", concept)
    for concept in stages:
        g.add(node, "stage", concept)
    g.add(node, "region", region[0])
    g.add(node, "isLead", lead)
    # Empty text cells are left out, not rejected: SUP-LIST-INCOMPLETE reports them as findings.
    for key, segment, prop, cls in (("legalBasis", "basis", "hasLegalBasis", "LegalBasis"),
                                    ("duties", "duty", "hasDuty", "Duty"),
                                    ("accountability", "accountability", "hasAccountability", "AccountabilityCase")):
        text = row.get(key)
        if text:
            part = rdf.child(node, segment)
            g.add(node, prop, part)
            g.type(part, cls)
            g.add(part, rdf.RDFS_LABEL, text)
    return g


# -- credit records -----------------------------------------------------------------------------

def credit_record_id(code: str, decided: dt.date, record_type: str) -> str:
    """The id of a credit record given without 记录编号 (loaders/schemas/README.md)."""
    return f"{code}-{decided.strftime('%Y%m%d')}-{record_type}"


def _load_credit(table: Table) -> LoadResult:
    """Each row is one record: its own graph, so a record can be replaced or withdrawn alone."""
    result = LoadResult()
    first_row: dict[str, int] = {}
    for row in table.rows:
        try:
            record = _credit_row(row)
        except RowError as e:
            result.rejected.append(Rejection(row.source, e.errors))
            continue
        if record.id in first_row:
            key = "recordId" if row.get("recordId") else "uscc"
            result.rejected.append(Rejection(row.source, [row.error(
                key, f"duplicate record id {record.id!r}: row {first_row[record.id]} has it already")]))
            continue
        first_row[record.id] = row.number
        result.records.append(record)
    return result


def _credit_row(row: Row) -> Record:
    errors: list[FieldError] = []
    attempt = collector(errors)
    code = row.get("uscc")
    # The code is the record's identity (and part of its id), so a bad one cannot be kept for later.
    problem = uscc.problem(code) if code else None
    if not code:
        errors.append(row.error("uscc", "empty; the subject's unified social credit code is required"))
    elif problem is not None:
        errors.append(row.error("uscc", f"{code!r} is not a valid unified social credit code: {problem}"))
    record_type = attempt(resolve, row, "recordType", "credit-record-type")
    decided = attempt(parse_date, row, "decisionDate", required=True)
    valid_from = attempt(parse_date, row, "validFrom", required=False)
    valid_until = attempt(parse_date, row, "validUntil", required=False)
    # A measure in words the code list does not know must not drop the record: its type, trade
    # types and validity still restrict (a serious-dishonesty record above all). Kept, with a warning.
    unknown_measures: list[str] = []
    measures = attempt(resolve, row, "measures", "measure", many=True, required=False, unknown_out=unknown_measures)
    trade_types = attempt(resolve, row, "tradeTypes", "trade-type", many=True, required=False)
    if valid_from and valid_until and valid_until < valid_from:
        errors.append(row.error("validUntil", f"{valid_until.isoformat()} is before "
                                f"{row.headers.get('validFrom', 'validFrom')} {valid_from.isoformat()}"))
    if errors:
        raise RowError(*errors)

    type_code = codes.scheme("credit-record-type").resolve(row.get("recordType")).code
    record_id = row.get("recordId") or credit_record_id(code, decided, type_code)
    g = rdf.RecordGraph(rdf.graph_iri("credit", record_id))
    node = rdf.iri("credit", record_id)
    g.type(node, "CreditRecord")
    g.add(node, "localId", record_id)
    subject = organisation(g, code)
    g.add(node, "subject", subject)
    g.add(node, "name", row.get("name") or None)
    g.add(node, "creditRecordType", record_type[0])
    decided_by = row.get("decidedBy")
    if _CODE_SHAPED.match(decided_by):
        g.add(node, "decidedBy", organisation(g, decided_by))
    else:
        g.add(node, "decidedByName", decided_by or None)
    g.add(node, "decisionDate", decided)
    g.add(node, "validFrom", valid_from)
    g.add(node, "validUntil", valid_until)
    for concept in measures:
        g.add(node, "triggersMeasure", concept)
    for text in unknown_measures:
        rdf.data_problem(g, node, row.headers.get("measures", "measures"), "unknown-measure", text)
    for concept in trade_types:
        g.add(node, "appliesToTradeType", concept)
    g.add(node, "legalBasisText", row.get("basis") or None)
    return Record(id=record_id, kind="credit-record", graph=g, source=row.source,
                  digest=digest_of(row.values), focus=node)


# -- entity relations ---------------------------------------------------------------------------

# A raw resident ID number (GB 11643: 6-digit division, birth date, sequence, check character) must
# never enter the graph: persons are named by an id or a hash of one.
RESIDENT_ID = re.compile(r"^\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]$")


def person_problem(person_id: str) -> str | None:
    """Why a person id cannot be used, or None."""
    if RESIDENT_ID.match(person_id.strip()):
        return ("looks like a raw 18-digit resident ID number; give the person's id or a hash of the "
                "number (e.g. p:<sha256>), never the number itself")
    return None


def person(g: rdf.RecordGraph, person_id: str) -> NamedNode:
    node = rdf.iri("person", person_id.strip())
    g.type(node, "Person")
    return node


def relation(g: rdf.RecordGraph, node: NamedNode, of: NamedNode, party: NamedNode, kind: str,
             share: object = None, start: dt.date | None = None, until: dt.date | None = None) -> None:
    """One relation: `party` is `of`'s legal representative, shareholder, manager or beneficial owner."""
    g.type(node, "EntityRelation")
    g.add(node, "relationOf", of)
    g.add(node, "relatedParty", party)
    g.add(node, "relationType", kind)
    g.add(node, "shareholding", share)
    g.add(node, "relationFrom", start)
    g.add(node, "relationUntil", until)


def _parse_share(row: Row):
    from decimal import Decimal, InvalidOperation
    cell = row.get("share").rstrip("%％").strip()
    if not cell:
        return None
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise RowError(row.error("share", f"{row.get('share')!r} is not a percentage (e.g. 60 or 60%)")) from None
    if not 0 < value <= 100:
        raise RowError(row.error("share", f"{row.get('share')!r} is not a percentage above 0 and at most 100"))
    return value


def _load_relations(table: Table) -> LoadResult:
    """The whole file is one record (a registry extract); each good row is one EntityRelation."""
    return _whole_file_record(table, "relations", "entity-relations", "RelationList",
                              lambda row, stem, _list: _relation_row(row, stem))


def _relation_row(row: Row, stem: str) -> rdf.RecordGraph:
    g = rdf.RecordGraph(rdf.graph_iri("relations", stem))
    errors: list[FieldError] = []
    attempt = collector(errors)
    code = row.get("uscc")
    problem = uscc.problem(code) if code else "empty; the entity's unified social credit code is required"
    if problem is not None:
        errors.append(row.error("uscc", problem if not code else f"{code!r} is not a valid unified social credit code: {problem}"))
    party_type = attempt(resolve_code, row, "partyType", "party-type")
    kind = attempt(resolve_code, row, "relation", "relation-type")
    party = row.get("party")
    if not party:
        errors.append(row.error("party", "empty; the related party's credit code or person id is required"))
    elif party_type == "person" and person_problem(party):
        errors.append(row.error("party", f"{party[:6]}…: {person_problem(party)}"))
    elif party_type == "entity" and uscc.problem(party):
        errors.append(row.error("party", f"{party!r} is not a valid unified social credit code: {uscc.problem(party)}"))
    if kind == "legal-representative" and party_type == "entity":
        errors.append(row.error("partyType", "a legal representative is a person (个人)"))
    share = attempt(_parse_share, row)
    start = attempt(parse_date, row, "validFrom", required=False)
    until = attempt(parse_date, row, "validUntil", required=False)
    if start and until and until < start:
        errors.append(row.error("validUntil", f"{until.isoformat()} is before {row.headers.get('validFrom', '起')} "
                                f"{start.isoformat()}"))
    if errors:
        raise RowError(*errors)
    of = organisation(g, code)
    g.type(of, "MarketEntity")
    other = organisation(g, party) if party_type == "entity" else person(g, party)
    relation(g, rdf.iri("list", stem, "relation", row.number), of, other, kind, share, start, until)
    return g


# -- recognition --------------------------------------------------------------------------------

POWERS = ListType("powers-and-duties list (权力和责任清单)", (
    Column("departmentCode", "部门编码", "departmentCode"),
    Column("departmentName", "部门名称", "departmentName"),
    Column("departmentType", "部门类型", "departmentType"),
    Column("powerCode", "权力编码", "powerCode"),
    Column("powerName", "权力名称", "powerName"),
    Column("powerKind", "权力类型", "powerKind"),
    Column("tradeType", "交易类型", "tradeType"),
    Column("industry", "行业", "industry"),
    Column("stage", "环节", "stage"),
    Column("region", "区划", "region"),
    Column("legalBasis", "实施依据", "legalBasis"),
    Column("duties", "责任事项", "duties"),
    Column("accountability", "追责情形", "accountability"),
    Column("lead", "牵头", "lead"),
    # The list as a document (optional, one value per list): loaders/schemas/README.md.
    Column("publisher", "发布机关", "publisher"),
    Column("issued", "发布日期", "issued"),
    Column("validFrom", "有效期起", "validFrom"),
    Column("validUntil", "有效期止", "validUntil"),
), frozenset({"departmentCode", "departmentName", "departmentType", "powerCode", "powerName", "powerKind",
              "tradeType", "industry", "stage", "region", "legalBasis", "duties", "accountability"}), _load_powers)

CREDIT = ListType("credit record list (信用记录)", (
    Column("uscc", "统一社会信用代码", "uscc"),
    Column("name", "主体名称", "name"),
    Column("recordType", "记录类型", "recordType"),
    Column("decidedBy", "认定部门", "decidedBy"),
    Column("decisionDate", "认定日期", "decisionDate"),
    Column("validFrom", "有效期起", "validFrom"),
    Column("validUntil", "有效期止", "validUntil"),
    Column("measures", "惩戒措施", "measures"),
    Column("tradeTypes", "适用交易类型", "tradeTypes"),
    Column("basis", "依据", "basis"),
    Column("recordId", "记录编号", "recordId"),
), frozenset({"uscc", "name", "recordType", "decidedBy", "decisionDate", "validFrom", "validUntil",
              "measures", "tradeTypes", "basis"}), _load_credit)

RELATIONS = ListType("entity relation list (关联关系)", (
    Column("uscc", "统一社会信用代码", "uscc"),
    Column("partyType", "关联方类型", "partyType"),
    Column("party", "关联方", "party"),
    Column("relation", "关系", "relation"),
    Column("share", "持股比例", "share"),
    Column("validFrom", "起", "from"),
    Column("validUntil", "止", "until"),
), frozenset({"uscc", "partyType", "party", "relation"}), _load_relations)

LIST_TYPES: tuple[ListType, ...] = (POWERS, CREDIT, RELATIONS)


def _column_keys(list_type: ListType) -> dict[str, str]:
    keys = {}
    for c in list_type.columns:
        keys[c.zh] = c.key
        keys[c.en.casefold()] = c.key
    return keys


def recognise(header: list[str], name: str) -> tuple[ListType, dict[int, str]]:
    """The list type a header belongs to and the column key of each position; else InputError."""
    cells = [h.strip() for h in header]
    best: tuple[int, ListType, dict[int, str], list[str]] | None = None
    for list_type in LIST_TYPES:
        keys = _column_keys(list_type)
        positions: dict[int, str] = {}
        unknown = []
        for i, cell in enumerate(cells):
            key = keys.get(cell) or keys.get(cell.casefold())
            if key is None:
                if cell:
                    unknown.append(cell)
            else:
                positions[i] = key
        if best is None or len(positions) > best[0]:
            best = (len(positions), list_type, positions, unknown)
    assert best is not None
    matched, list_type, positions, unknown = best
    if not matched:
        raise InputError(name, "header matches no known list (expected a powers-and-duties list "
                         "or a credit record list; see loaders/schemas/README.md); columns: " + ", ".join(cells))
    if unknown:
        raise InputError(name, f"unrecognised columns for a {list_type.name}: {', '.join(unknown)}")
    if any(not c for c in cells):
        raise InputError(name, f"column {cells.index('') + 1} of the header is empty")
    seen: dict[str, str] = {}
    for i, key in positions.items():
        if key in seen:
            raise InputError(name, f"columns {seen[key]!r} and {cells[i]!r} are the same column")
        seen[key] = cells[i]
    missing = [c for c in list_type.columns if c.key in list_type.required and c.key not in seen]
    if missing:
        raise InputError(name, f"missing columns for a {list_type.name}: "
                         f"{', '.join(c.zh + ' (' + c.en + ')' for c in missing)}")
    return list_type, positions


def read_table(data: bytes, name: str) -> tuple[ListType, Table, list[Rejection]]:
    """The list type, its rows (values by column key) and the rows too wide to read."""
    text = decode(data, name)
    # strict: a stray quote is an error to report, not a cell to guess at.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, rejected = [], []
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(name, "no header row")
        list_type, positions = recognise(header, name)
        headers = {key: header[i].strip() for i, key in positions.items()}
        # N counts every line after the header, blank ones too, so row N is spreadsheet row N+1.
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue
            source = f"{name}#{number}"
            if len(cells) > len(header):
                rejected.append(Rejection(source, [FieldError(
                    "(row)", f"has {len(cells)} cells, the header has {len(header)} columns")]))
                continue
            values = {positions[i]: c.strip() for i, c in enumerate(cells) if i in positions}
            rows.append(Row(number, values, headers, source))
    except csv.Error as e:
        raise InputError(name, f"not valid CSV at line {reader.line_num}: {e}") from None
    return list_type, Table(name, data, headers, rows), rejected


def load(data: bytes, name: str) -> LoadResult:
    list_type, table, rejected = read_table(data, name)
    result = list_type.load(table)
    result.rejected.extend(rejected)
    result.rejected.sort(key=lambda r: int(r.record.rsplit("#", 1)[1]))
    return result
