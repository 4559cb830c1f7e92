"""OCDS 1.1 loader: releases, release packages and record packages -> one compiled record per ocid.

Releases of one ocid are merged into their compiled release by `ocdsmerge`, with merge rules built
once from the schemas shipped in loaders/schemas/ocds/ (OCDS 1.1 core + bids extension + prtkg's
extension), never from the network. A record package's `compiledRelease` is used as given, with
releases of its ocid given elsewhere merged onto it when newer and reported as superseded otherwise.
OCDS 1.0 data (a package without `version`; a bare release without `parties`) is upgraded to 1.1 by
ocdskit first, so inline organisations become parties. The compiled release is then checked and
mapped to the ontology as docs/vocabulary.md says.

Rejections name the source of the record (`file.json`, `file.jsonl#3`, `pkg.json/releases[2]`,
`pkg.json/records[0]`; several joined with ", " for a process compiled from several releases) and
the field path inside the release. What each problem does:

- rejects the item: not a JSON object; not a release, release package or record package.
- rejects the release: no `ocid`, or one with a control character; no `id`; no `date` or a
  malformed one; an `amount` given as an array or object (even empty: merging would drop it); a
  field the release schema declares an array or an object given with another JSON type (`awards`
  as an object, `parties[0].roles` as a string...), named.
  The other releases of its process are rejected with it (a process compiled without one of its
  stages would make rules report missing stages that are not missing).
- rejects the later release only: the same release (`ocid` + `id`) again with different content.
  The same release again with identical content is dropped silently.
- rejects the process: a malformed field the rules rely on -- a bad date anywhere it is mapped, an
  unknown trade type or industry, a region code that is not a known 6-digit GB/T 2260 code, a
  negative or non-numeric amount, an amount or date written with full-width (or any non-ASCII)
  digits (refused, not converted: see `_foreign_digits`), a non-integer number of tenderers, a
  supervisor responsibility or evaluation mode outside its code list, a reference to a party that
  is not in `parties`.
- loads and reports (DATA-QUALITY): a contract whose `awardID` names no award (the contract is kept
  without its award link); an amount given as an empty string (kept as no amount).
- loads: a party whose `CN-USCC` code fails its check (CRD-CODE-INVALID reports it; the node is
  minted from the code as given); any field prtkg does not map; missing optional fields (rules that
  need them report DATA-INSUFFICIENT).

Date-times keep the offset they were published with (`…DateTime`). The day (`…Date` / day
predicates) is China's calendar day for a record of Chinese jurisdiction (with `tender.regionCode`
or `tender.tradeType`) and the day as published for any other. Date-times without an offset are
Beijing time in a Chinese record (how Chinese trading platforms publish them) and have no instant
in a foreign one; a date without a time is that day, and then no instant is recorded.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import warnings
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Iterator

import ocdsmerge
from ocdskit.upgrade import upgrade_release_10_11
from ocdskit.util import get_ocds_minor_version
from ocdsmerge.exceptions import OCDSMergeError
from ocdsmerge.merge import CompiledRelease
from ocdsmerge.rules import get_merge_rules
from pyoxigraph import NamedNode

from prtkg import codes
from prtkg.rdf import (USCC_SCHEME, RecordGraph, child, code as code_concept, data_problem, entity, graph_iri,
                       identifier, iri)
from prtkg.records import FieldError, LoadResult, Record, Rejection, id_error

from .csvlists import RESIDENT_ID, classify_department, person, person_problem, relation

SCHEMA_FILES = ("release-schema.json", "bids-release-schema.json", "prtkg-extension.json")
CHINA = dt.timezone(dt.timedelta(hours=8), "UTC+08:00")
RESPONSIBILITIES = ("primary", "secondary")
EVALUATION_MODES = ("local", "remote")
# Fields that make an object without `ocid` a release missing its ocid rather than junk.
RELEASE_KEYS = {"tag", "initiationType", "parties", "planning", "tender", "awards", "contracts", "buyer"}
CN_BID_FIELDS = ("agent", "projectManager", "depositAccount", "documentAuthor")

# Extended ISO 8601 only: fromisoformat alone would also take week dates and basic formats.
# ASCII digits only: `\d` alone would also take full-width (and other scripts') digits.
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?", re.ASCII)
_REGION = re.compile(r"\d{6}", re.ASCII)
# Keys whose object is an OCDS Value (amount + currency); `planning.budget.amount` is one too.
_VALUE_KEYS = {"value", "minValue", "maxValue"}


# --- schema and merger (built once per process) -------------------------------------------------

def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: how OCDS extensions are applied to the release schema."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


@lru_cache(maxsize=1)
def release_schema() -> dict:
    """The OCDS 1.1 release schema patched with the bids extension and prtkg's extension."""
    folder = resources.files("prtkg.loaders").joinpath("schemas", "ocds")
    schema: dict = {}
    for name in SCHEMA_FILES:
        schema = _merge_patch(schema, json.loads(folder.joinpath(name).read_text(encoding="utf-8")))
    return schema


@lru_cache(maxsize=1)
def merger() -> ocdsmerge.Merger:
    """The ocdsmerge Merger, its merge rules derived once from the shipped schema (no download)."""
    return ocdsmerge.Merger(merge_rules=get_merge_rules(release_schema()))


def compile_releases(releases: list[dict]) -> dict:
    """Merge releases, already in date order, into a compiled release.

    ocdsmerge would sort by the `date` string, which misorders date-times with different offsets;
    the caller sorts by instant instead and the releases are appended in that order.
    """
    m = merger()
    compiled = CompiledRelease(merge_rules=m.merge_rules, rule_overrides=m.rule_overrides)
    with warnings.catch_warnings():
        # Two objects with one id in an array: OCDS says the later wins, which is what merging does.
        warnings.simplefilter("ignore")
        for release in releases:
            compiled.append(release)
    return compiled.asdict()


def organisation(scheme: str, code: str) -> NamedNode:
    """One node per organisation identifier (org-id.guide scheme + id) across records: every record
    naming GB-COH 01234567 names one organisation. Schemes are case-blind codes; ids are as given
    (a USCC is upper-cased by `entity`, which CN-USCC parties use)."""
    return iri("entity", scheme.strip().upper(), code.strip())


# --- values ---------------------------------------------------------------------------------------

class Invalid(Exception):
    def __init__(self, field: str, error: str):
        super().__init__(f"{field}: {error}")
        self.field = field
        self.error = error


def _foreign_digits(text: str) -> str | None:
    """The first non-ASCII digit in text (full-width ０-９ typed in a Chinese IME's full-width mode,
    or another script's), or None.

    Refused rather than normalised: OCDS wants ASCII numbers and ISO 8601 dates, the publishing
    platform should be corrected, and a supervision record should say what the platform published;
    mapping digits silently would hide a data-entry channel that also mangles other characters."""
    if text.isascii():  # nearly always: every date and amount of a load passes here
        return None
    return next((ch for ch in text if ch.isdigit() and not ch.isascii()), None)


def _digits_error(field: str, value: str, ch: str, what: str) -> "Invalid":
    return Invalid(field, f"{value!r} has the non-ASCII digit {ch!r} (U+{ord(ch):04X}); write {what} with "
                          f"ASCII digits 0-9 (full-width digits are not converted)")


def parse_when(value: Any, field: str, china: bool = True) -> tuple[dt.date, dt.datetime | None]:
    """An OCDS date or date-time -> (its calendar day, its instant as published or None).

    The instant keeps the offset it was published with. The day is the day in China for a record
    of Chinese jurisdiction (`china`: Chinese statutory day counts run on China's calendar), and
    the day as published otherwise (a foreign date is not moved to a UTC+8 day). A date-time
    without offset is Beijing time in a Chinese record; in a foreign one its offset is unknown, so
    only its day is kept."""
    if isinstance(value, str) and (ch := _foreign_digits(value)):
        raise _digits_error(field, value, ch, "dates as ISO 8601 (2026-03-02)")
    if not isinstance(value, str) or not _WHEN.fullmatch(value.strip()):
        raise Invalid(field, f"not a date or date-time: {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text), None
        moment = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise Invalid(field, f"not a valid date: {value!r} ({e})") from None
    if moment.tzinfo is None:
        if not china:
            return moment.date(), None
        moment = moment.replace(tzinfo=CHINA)
    return (moment.astimezone(CHINA).date() if china else moment.date()), moment


def _instant(value: str) -> dt.datetime:
    day, moment = parse_when(value, "date")
    return moment or dt.datetime.combine(day, dt.time(), CHINA)


def parse_amount(value: Any, field: str) -> Decimal:
    # Fractions arrive as strings (exact); integers as int. A JSON NaN/Infinity arrives as float.
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise Invalid(field, f"not a number: {value!r} ({_kind_of(value)})")
    if isinstance(value, str) and (ch := _foreign_digits(value)):
        raise _digits_error(field, value, ch, "amounts")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise Invalid(field, f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise Invalid(field, f"not a finite number: {value!r}")
    if amount < 0:
        raise Invalid(field, f"negative amount {value}")
    return amount


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def _list(obj: dict, key: str) -> list:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _obj(obj: Any, key: str) -> dict:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


# --- input items -> releases grouped by ocid --------------------------------------------------------

class _Process:
    """The releases of one ocid (or one record package record's compiled release)."""

    def __init__(self, ocid: str):
        self.ocid = ocid
        self.releases: list[tuple[str, dict]] = []       # (label, release)
        self.by_id: dict[str, tuple[str, dict]] = {}
        self.compiled: tuple[str, dict] | None = None    # a record package's compiledRelease
        self.bad: list[str] = []                         # labels of releases rejected


def _reject(result: LoadResult, record: str, field: str, error: str) -> None:
    result.rejected.append(Rejection(record, [FieldError(field, error)]))


def _container_amounts(obj: Any, path: str, in_value: bool = False) -> list[FieldError]:
    """Amounts given as an array or object, found in a release as published: merging drops an empty
    one without a trace, so they are looked for before it."""
    found = []
    if isinstance(obj, dict):
        for key, item in obj.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "amount" and in_value and isinstance(item, (list, dict)):
                found.append(FieldError(here, f"not a number: {item!r} ({_kind_of(item)})"))
            elif isinstance(item, (list, dict)):
                value_object = key in _VALUE_KEYS or here.endswith("budget.amount")
                found += _container_amounts(item, here, value_object)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            found += _container_amounts(item, f"{path}[{i}]")
    return found


def _kind_of(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


@lru_cache(maxsize=1)
def container_types() -> dict[tuple[str, ...], type]:
    """Path of field names (array indices left out) -> list or dict, for every field the shipped
    release schema declares an array or an object: a value of another JSON type there is rejected
    naming the field (read as "absent", `awards` given as an object would hide a whole stage)."""
    schema = release_schema()
    out: dict[tuple[str, ...], type] = {}

    def resolve(node: dict) -> dict:
        while "$ref" in node and node["$ref"].startswith("#/definitions/"):
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    def walk(node: dict, path: tuple[str, ...], seen: frozenset) -> None:
        for key, sub in (node.get("properties") or {}).items():
            ref = sub.get("$ref") or (sub.get("items") or {}).get("$ref")
            if ref in seen:
                continue
            sub = resolve(sub)
            types = sub.get("type")
            types = {types} if isinstance(types, str) else set(types or ())
            here = (*path, key)
            if "array" in types and "object" not in types:
                out[here] = list
                items = resolve(sub.get("items") or {})
                walk(items, here, seen | {ref})
            elif "object" in types or "properties" in sub:
                out[here] = dict
                walk(sub, here, seen | {ref})

    walk(schema, (), frozenset())
    return out


def _type_errors(release: dict) -> list[FieldError]:
    """Every field of the release whose JSON type is not the array or object the schema declares."""
    expected = container_types()
    out: list[FieldError] = []

    def walk(obj: Any, path: tuple[str, ...], shown: str) -> None:
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                walk(item, path, f"{shown}[{i}]")
            return
        if not isinstance(obj, dict):
            return
        for key, value in obj.items():
            here, where = (*path, key), f"{shown}.{key}" if shown else str(key)
            want = expected.get(here)
            if want is not None and value is not None and not isinstance(value, want):
                out.append(FieldError(where, f"not {'an array' if want is list else 'an object'} but "
                                             f"{_kind_of(value)}: {value!r:.60}"))
            elif isinstance(value, (dict, list)):
                walk(value, here, where)

    walk(release, (), "")
    return out


def _legacy(obj: Any) -> bool:
    """Whether an input item is OCDS 1.0: a package without `version`, or (a bare release or
    record, which carries no version) one without `parties` (ocdskit's test; 1.1 requires parties
    for every organisation referenced)."""
    if not isinstance(obj, dict):
        return False
    try:
        return get_ocds_minor_version(obj) == "1.0"
    except (AttributeError, KeyError, TypeError):  # `releases` not an array of objects: rejected later
        return False


class _Collector:
    def __init__(self, result: LoadResult):
        self.result = result
        self.processes: dict[str, _Process] = {}
        self.legacy = False

    def process(self, ocid: str) -> _Process:
        proc = self.processes.get(ocid)
        if proc is None:
            proc = self.processes[ocid] = _Process(ocid)
        return proc

    def item(self, source: str, obj: Any) -> None:
        self.legacy = _legacy(obj)
        if not isinstance(obj, dict):
            _reject(self.result, source, "(item)", f"not a JSON object but {_kind_of(obj)}; expected an OCDS "
                    "release, release package or record package")
        elif isinstance(obj.get("records"), list) and "ocid" not in obj:
            for i, rec in enumerate(obj["records"]):
                self.record(f"{source}/records[{i}]", rec)
        elif isinstance(obj.get("releases"), list) and "ocid" not in obj:
            for i, rel in enumerate(obj["releases"]):
                self.release(f"{source}/releases[{i}]", rel)
        elif "ocid" in obj or RELEASE_KEYS & obj.keys():
            self.release(source, obj)
        else:
            _reject(self.result, source, "(item)", "not an OCDS release, release package or record package "
                    "(no 'ocid', 'releases' or 'records'); a JSON event record needs 'recordType'")

    def _upgrade(self, label: str, release: dict, upgrade) -> bool:
        """Upgrade OCDS 1.0 data to 1.1 in place (ocdskit: inline organisations become `parties`,
        amendments and transactions get their 1.1 names); False when the data is too malformed to
        upgrade, which is then rejected naming the field ocdskit stumbled on."""
        if not self.legacy or _type_errors(release):  # wrong types: rejected naming them, not upgraded
            return True
        try:
            upgrade(release, reorder=False)
        except (AttributeError, KeyError, TypeError) as e:
            _reject(self.result, label, "(OCDS 1.0 upgrade)", f"cannot be upgraded to OCDS 1.1: {e!r}")
            return False
        return True

    def _ocid(self, label: str, obj: Any) -> str | None:
        if not isinstance(obj, dict):
            _reject(self.result, label, "(item)", f"not a JSON object but {_kind_of(obj)}")
            return None
        ocid = obj.get("ocid")
        if not isinstance(ocid, str) or not ocid.strip():
            _reject(self.result, label, "ocid", "missing or empty" if ocid in (None, "") else
                    f"not a non-empty string: {ocid!r}")
            return None
        if (problem := id_error(ocid.strip())) is not None:
            _reject(self.result, label, "ocid", problem)
            return None
        return ocid.strip()

    def release(self, label: str, rel: Any) -> None:
        ocid = self._ocid(label, rel)
        if ocid is None:
            return
        if not self._upgrade(label, rel, upgrade_release_10_11):
            return
        proc = self.process(ocid)
        errors = []
        rid = rel.get("id")
        if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not str(rid).strip():
            errors.append(FieldError("id", "missing or empty release id"))
        errors += _container_amounts(rel, "")
        errors += _type_errors(rel)
        if rel.get("date") in (None, ""):
            errors.append(FieldError("date", "missing release date"))
        else:
            try:
                parse_when(rel["date"], "date")
            except Invalid as e:
                errors.append(FieldError(e.field, e.error))
        if errors:
            self.result.rejected.append(Rejection(label, errors))
            proc.bad.append(label)
            return
        key = str(rid).strip()
        first = proc.by_id.get(key)
        if first is not None:
            if first[1] != rel:
                _reject(self.result, label, "id", f"release {key!r} of {ocid!r} was already given with "
                        f"different content (in {first[0]}); a changed release needs a new id")
            return
        proc.by_id[key] = (label, rel)
        proc.releases.append((label, rel))

    def record(self, label: str, rec: Any) -> None:
        ocid = self._ocid(label, rec)
        if ocid is None:
            return
        if isinstance(rec.get("compiledRelease"), dict) and not self._upgrade(
                label, rec["compiledRelease"], upgrade_release_10_11):
            return
        compiled = rec.get("compiledRelease")
        if isinstance(compiled, dict):
            proc = self.process(ocid)
            if proc.compiled is not None and proc.compiled[1] != compiled:
                _reject(self.result, label, "compiledRelease", f"a different compiled release of {ocid!r} "
                        f"was already given (in {proc.compiled[0]})")
            elif proc.compiled is None:
                proc.compiled = (label, compiled)
            return
        if compiled is not None:
            _reject(self.result, label, "compiledRelease", f"not a JSON object but {_kind_of(compiled)}")
            return
        embedded = [r for r in _list(rec, "releases") if isinstance(r, dict) and "ocid" in r]
        if not embedded:
            _reject(self.result, label, "compiledRelease", "missing, and its releases are links only "
                    "(no release data to compile; links are not fetched)")
            return
        for i, rel in enumerate(_list(rec, "releases")):
            self.release(f"{label}/releases[{i}]", rel)


# --- compiled release -> triples ------------------------------------------------------------------

class _Mapper:
    """Maps one compiled release; collects every problem rather than stopping at the first."""

    def __init__(self, ocid: str, release: dict):
        self.ocid = ocid
        self.r = release
        self.g = RecordGraph(graph_iri("ocds", ocid))
        self.project = iri("project", ocid)
        self.errors: list[FieldError] = []
        self.parties: dict[str, NamedNode] = {}
        # Chinese jurisdiction: the record carries prtkg's extension (a GB/T 2260 region or a trade
        # type), as Chinese platforms publish; days are then China's (parse_when).
        tender = _obj(release, "tender")
        self.china = tender.get("regionCode") not in (None, "") or tender.get("tradeType") not in (None, "")

    def fail(self, field: str, error: str) -> None:
        self.errors.append(FieldError(field, error))

    def note(self, field: str, kind: str, value: str) -> None:
        """A problem that leaves the rest of the process usable: kept, and reported as DATA-QUALITY."""
        data_problem(self.g, self.project, field, kind, value)

    # values: each returns None (and records the problem) when the value is malformed

    def day(self, obj: dict, key: str, field: str, pred: str, subject: NamedNode,
            instant_pred: str | None = None) -> None:
        value = obj.get(key)
        if value in (None, ""):
            return
        try:
            day, moment = parse_when(value, field, self.china)
        except Invalid as e:
            self.fail(e.field, e.error)
            return
        self.g.add(subject, pred, day)
        if instant_pred and moment is not None:
            self.g.add(subject, instant_pred, moment)

    def value(self, subject: NamedNode, obj: dict, field: str) -> None:
        value = _obj(obj, "value")
        if isinstance(value.get("amount"), str) and not value["amount"].strip():
            self.note(f"{field}.value.amount", "empty-amount", '""')
        elif "amount" in value and value["amount"] is not None:
            try:
                self.g.add(subject, "amount", parse_amount(value["amount"], f"{field}.value.amount"))
            except Invalid as e:
                self.fail(e.field, e.error)
        self.g.add(subject, "currency", _text(value.get("currency")))

    def concept(self, scheme: str, value: Any, field: str) -> NamedNode | None:
        if value in (None, ""):
            return None
        found = codes.scheme(scheme).resolve(value) if isinstance(value, str) else None
        if found is None:
            known = ", ".join(sorted(codes.scheme(scheme).concepts))
            self.fail(field, f"unknown {scheme} code {value!r}; expected one of: {known}")
            return None
        return NamedNode(found.iri)

    def region(self, value: Any, field: str) -> NamedNode | None:
        if value in (None, ""):
            return None
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text is None or not _REGION.fullmatch(text):
            self.fail(field, f"not a 6-digit GB/T 2260 division code: {value!r}")
            return None
        found = codes.scheme("region").concepts.get(text)
        if found is None:
            self.fail(field, f"unknown GB/T 2260 division code {text!r}")
            return None
        return NamedNode(found.iri)

    def ref(self, obj: Any, field: str) -> NamedNode | None:
        """An OrganizationReference -> the party's node (by id; a 1.0-style inline USCC as a fallback)."""
        if not isinstance(obj, dict):
            self.fail(field, f"not an organization reference but {_kind_of(obj)}")
            return None
        pid = _text(obj.get("id"))
        if pid is not None and pid in self.parties:
            return self.parties[pid]
        ident = _obj(obj, "identifier")
        scheme, code = _text(ident.get("scheme")), _text(ident.get("id"))
        if scheme is not None and code is not None:
            return entity(code) if scheme.upper() == USCC_SCHEME else organisation(scheme, code)
        self.fail(f"{field}.id", f"no party with id {pid!r} in parties" if pid else "missing party id")
        return None

    def party_id(self, value: Any, field: str) -> NamedNode | None:
        pid = _text(value)
        if pid is None:
            return None
        if pid not in self.parties:
            self.fail(field, f"no party with id {pid!r} in parties")
            return None
        return self.parties[pid]

    # sections

    def map(self) -> RecordGraph:
        g, P = self.g, self.project
        g.type(P, "Project")
        g.add(P, "ocid", self.ocid)
        tender = _obj(self.r, "tender")
        g.add(P, "title", _text(tender.get("title")) or _text(_obj(_obj(self.r, "planning"), "budget").get("project")))
        supervisors = self.parties_()
        buyer = self.r.get("buyer")
        if buyer is not None:
            g.add(P, "buyer", self.ref(buyer, "buyer"))
        if tender.get("procuringEntity") is not None:
            g.add(P, "procuringEntity", self.ref(tender["procuringEntity"], "tender.procuringEntity"))
        self.tender(tender, supervisors)
        self.bids()
        awards = self.awards()
        self.contracts(awards)
        return g

    def parties_(self) -> list[str]:
        """Every party -> its node; returns the ids of parties with role supervisor."""
        g, P = self.g, self.project
        entries = _list(self.r, "parties")
        supervisors = []
        for i, party in enumerate(entries):
            field = f"parties[{i}]"
            if not isinstance(party, dict):
                self.fail(field, f"not an object but {_kind_of(party)}")
                continue
            pid = _text(party.get("id"))
            ident = _obj(party, "identifier")
            scheme, code = _text(ident.get("scheme")), _text(ident.get("id"))
            natural = _natural_person(party, scheme, code)
            if natural is not None:
                # A natural person who bids (land and mining rights): a person, not an organisation,
                # named by the id given or by a hash of an identity card number, never the number.
                node = person(g, natural)
            elif scheme is not None and scheme.upper() == USCC_SCHEME and code is not None:
                node = entity(code)
                g.add(node, "uscc", code)  # as given: CRD-CODE-INVALID judges it, not the loader
                identifier(g, node, USCC_SCHEME, code)
            elif scheme is not None and code is not None:
                node = organisation(scheme, code)
                g.add(node, "identifierScheme", scheme)
                g.add(node, "identifierId", code)
                identifier(g, node, scheme, code)
            elif pid is None:
                self.fail(f"{field}.id", "missing party id (needed to refer to a party without an identifier)")
                continue
            else:  # no identifier: nothing says it is the same organisation as in another record
                node = iri("project", self.ocid, "party", pid)
                g.add(node, "identifierScheme", scheme)
                g.add(node, "identifierId", code)
            roles = {str(r) for r in party.get("roles") or [] if isinstance(r, str)}
            if natural is not None:
                pass
            elif roles & {"supervisor", "tradingCentre"}:
                g.type(node, "Department")
                if "tradingCentre" in roles:
                    classify_department(g, node, code_concept("department-type", "trading-centre"))
            else:
                g.type(node, "MarketEntity")
            g.add(node, "name", _text(party.get("name")) or _text(ident.get("legalName")))
            g.add(P, "hasParty", node)
            self.beneficial_owners(node, party, field)
            if pid is not None:
                self.parties[pid] = node
            if "buyer" in roles:
                g.add(P, "buyer", node)
            if "procuringEntity" in roles:
                g.add(P, "procuringEntity", node)
            if "tradingCentre" in roles:
                g.add(P, "tradingCentre", node)
            if "supervisor" in roles and pid is not None:
                supervisors.append(pid)
        return supervisors

    def beneficial_owners(self, node: NamedNode, party: dict, field: str) -> None:
        """parties[].beneficialOwners (OCDS beneficial owners extension) -> EntityRelation to a Person."""
        for k, owner in enumerate(_list(party, "beneficialOwners")):
            where = f"{field}.beneficialOwners[{k}]"
            if not isinstance(owner, dict):
                self.fail(where, f"not an object but {_kind_of(owner)}")
                continue
            ident = _obj(owner, "identifier")
            key = f"{where}.identifier.id" if _text(ident.get("id")) else f"{where}.id"
            person_id = _text(ident.get("id")) or _text(owner.get("id"))
            if person_id is None:
                self.fail(f"{where}.id", "missing beneficial owner id")
                continue
            problem = person_problem(person_id)
            if problem is not None:
                self.fail(key, problem)
                continue
            relation(self.g, child(node, "beneficialOwner", self.ocid, k), node, person(self.g, person_id),
                     "beneficial-owner")

    def tender(self, tender: dict, supervisor_roles: list[str]) -> None:
        g, P = self.g, self.project
        g.add(P, "tradeType", self.concept("trade-type", tender.get("tradeType"), "tender.tradeType"))
        g.add(P, "industry", self.concept("industry", tender.get("industry"), "tender.industry"))
        g.add(P, "region", self.region(tender.get("regionCode"), "tender.regionCode"))
        self.supervision(tender, supervisor_roles)
        if not tender:
            return
        T = child(P, "tender")
        g.type(T, "Tender")
        g.add(P, "hasTender", T)
        g.add(T, "localId", _text(tender.get("id")))
        for key in ("status", "procurementMethod", "procurementMethodDetails", "mainProcurementCategory",
                    "awardCriteria"):
            g.add(T, key, _text(tender.get(key)))
        self.value(T, tender, "tender")
        period = _obj(tender, "tenderPeriod")
        self.day(period, "startDate", "tender.tenderPeriod.startDate", "tenderPeriodStart", T)
        self.day(period, "endDate", "tender.tenderPeriod.endDate", "tenderPeriodEnd", T, "tenderPeriodEndDateTime")
        n = tender.get("numberOfTenderers")
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                self.fail("tender.numberOfTenderers", f"not a non-negative integer: {n!r}")
            else:
                g.add(T, "numberOfTenderers", n)
        for i, amendment in enumerate(_list(tender, "amendments")):
            A = child(T, "amendment", i)
            g.type(A, "Amendment")
            g.add(T, "hasAmendment", A)
            if isinstance(amendment, dict):
                self.day(amendment, "date", f"tender.amendments[{i}].date", "date", A)
                g.add(A, "description", _text(amendment.get("description")) or _text(amendment.get("rationale")))
        self.documents(T, tender, "tender")
        for i, lot in enumerate(_list(tender, "lots")):
            if isinstance(lot, dict) and _text(lot.get("id")):
                L = child(T, "lot", _text(lot["id"]))
                g.type(L, "Lot")
                g.add(L, "localId", _text(lot["id"]))
                g.add(T, "hasLot", L)
        self.items(T, tender, "tender", child(T, "item"))
        self.evaluation(T, _obj(tender, "evaluation"))
        publicity = _obj(tender, "candidatePublicity")
        self.day(publicity, "startDate", "tender.candidatePublicity.startDate", "candidatePublicityStart", T)
        self.day(publicity, "endDate", "tender.candidatePublicity.endDate", "candidatePublicityEnd", T)

    def supervision(self, tender: dict, supervisor_roles: list[str]) -> None:
        g, P = self.g, self.project
        listed = set()
        for i, entry in enumerate(_list(tender, "supervisors")):
            field = f"tender.supervisors[{i}]"
            if not isinstance(entry, dict):
                self.fail(field, f"not an object but {_kind_of(entry)}")
                continue
            pid = _text(entry.get("id"))
            if pid is None:
                self.fail(f"{field}.id", "missing party id")
                continue
            node = self.party_id(pid, f"{field}.id")
            if node is None:
                continue
            responsibility = entry.get("responsibility")
            if responsibility is not None and responsibility not in RESPONSIBILITIES:
                self.fail(f"{field}.responsibility", f"unknown responsibility {responsibility!r}; expected "
                          + " or ".join(RESPONSIBILITIES))
                continue
            listed.add(pid)
            self.assignment(pid, node, responsibility)
        for pid in supervisor_roles:
            if pid not in listed:
                self.assignment(pid, self.parties[pid], None)

    def assignment(self, pid: str, node: NamedNode, responsibility: str | None) -> None:
        S = iri("project", self.ocid, "supervision", pid)
        self.g.type(S, "SupervisorAssignment")
        self.g.add(self.project, "hasSupervisorAssignment", S)
        self.g.add(S, "supervisor", node)
        self.g.add(S, "responsibility", responsibility)

    def evaluation(self, T: NamedNode, ev: dict) -> None:
        if not ev:
            return
        g = self.g
        E = child(T, "evaluation")
        g.type(E, "Evaluation")
        g.add(T, "hasEvaluation", E)
        mode = ev.get("mode")
        if mode is not None and mode not in EVALUATION_MODES:
            self.fail("tender.evaluation.mode", f"unknown evaluation mode {mode!r}; expected "
                      + " or ".join(EVALUATION_MODES))
        else:
            g.add(E, "evaluationMode", mode)
        self.day(ev, "reportDate", "tender.evaluation.reportDate", "reportDate", E)
        venues = [("primaryVenue", "tender.evaluation.primaryVenue", _obj(ev, "primaryVenue"))]
        venues += [("secondaryVenue", f"tender.evaluation.secondaryVenues[{i}]", v)
                   for i, v in enumerate(_list(ev, "secondaryVenues"))]
        for n, (pred, field, venue) in enumerate(venues):
            if not venue:
                if n > 0:
                    self.fail(field, "not a venue object")
                continue
            V = child(E, "venue", n)
            g.type(V, "Venue")
            g.add(E, pred, V)
            g.add(V, "region", self.region(venue.get("regionCode"), f"{field}.regionCode"))
            g.add(V, "supervisor", self.party_id(venue.get("supervisor"), f"{field}.supervisor"))

    def identified(self, array: list, field: str, base: NamedNode, cls: str, owner: NamedNode,
                   link: str) -> Iterator[tuple[str, dict, NamedNode]]:
        """Each object of an array of OCDS objects with ids: (its field path, it, its node <base>/<id>).

        The node is typed, linked from its owner and given its localId; an object without id is a
        problem, since neither merging nor the rules can tell it apart.
        """
        for i, obj in enumerate(array):
            where = f"{field}[{i}]"
            local = _text(obj.get("id")) if isinstance(obj, dict) else None
            if local is None:
                self.fail(f"{where}.id", f"missing {cls.lower()} id")
                continue
            node = child(base, local)
            self.g.type(node, cls)
            self.g.add(owner, link, node)
            self.g.add(node, "localId", local)
            yield where, obj, node

    def documents(self, owner: NamedNode, obj: dict, field: str) -> None:
        g = self.g
        docs = _list(obj, "documents")
        for where, doc, D in self.identified(docs, f"{field}.documents", child(owner, "document"), "Document",
                                             owner, "hasDocument"):
            g.add(D, "documentType", _text(doc.get("documentType")))
            self.day(doc, "datePublished", f"{where}.datePublished", "datePublished", D)
            g.add(D, "url", _text(doc.get("url")))

    def items(self, owner: NamedNode, obj: dict, field: str, base: NamedNode) -> None:
        g = self.g
        for i, item in enumerate(_list(obj, "items")):
            iid = _text(item.get("id")) if isinstance(item, dict) else None
            if iid is None:
                continue  # an item without id cannot be told apart; nothing in the rules needs it
            I = child(base, iid)
            g.type(I, "Item")
            g.add(owner, "hasItem", I)
            classification = _obj(item, "classification")
            g.add(I, "classificationScheme", _text(classification.get("scheme")))
            g.add(I, "classificationId", _text(classification.get("id")))

    def lots(self, subject: NamedNode, ids: Any) -> None:
        T = child(self.project, "tender")
        for lot in ids if isinstance(ids, list) else []:
            if _text(lot) is not None:
                self.g.add(subject, "relatedLot", child(T, "lot", _text(lot)))

    def bids(self) -> None:
        g, P = self.g, self.project
        bids = _list(_obj(self.r, "bids"), "details")
        for field, bid, B in self.identified(bids, "bids.details", child(P, "bid"), "Bid", P, "hasBid"):
            for j, tenderer in enumerate(_list(bid, "tenderers")):
                g.add(B, "tenderer", self.ref(tenderer, f"{field}.tenderers[{j}]"))
            self.day(bid, "date", f"{field}.date", "bidDate", B, "bidDateTime")
            g.add(B, "status", _text(bid.get("status")))
            self.value(B, bid, field)
            self.lots(B, bid.get("relatedLots"))
            cn = _obj(bid, "cn")
            for key in CN_BID_FIELDS:
                g.add(B, key, _text(cn.get(key)))

    def awards(self) -> dict[str, NamedNode]:
        g, P = self.g, self.project
        nodes = {}
        awards = _list(self.r, "awards")
        for field, award, A in self.identified(awards, "awards", child(P, "award"), "Award", P, "hasAward"):
            nodes[_text(award["id"])] = A
            g.add(A, "status", _text(award.get("status")))
            self.day(award, "date", f"{field}.date", "awardDate", A)
            self.value(A, award, field)
            for j, supplier in enumerate(_list(award, "suppliers")):
                g.add(A, "supplier", self.ref(supplier, f"{field}.suppliers[{j}]"))
            self.documents(A, award, field)
            self.lots(A, award.get("relatedLots"))
            self.items(A, award, field, child(A, "item"))
        return nodes

    def contracts(self, awards: dict[str, NamedNode]) -> None:
        g, P = self.g, self.project
        contracts = _list(self.r, "contracts")
        for field, contract, C in self.identified(contracts, "contracts", child(P, "contract"), "Contract", P,
                                                  "hasContract"):
            g.add(C, "status", _text(contract.get("status")))
            award_id = _text(contract.get("awardID"))
            if award_id is not None:
                if award_id in awards:
                    g.add(C, "awardRef", awards[award_id])
                else:  # the contract is still a fact; only its link to an award is unknown
                    self.note(f"{field}.awardID", "award-not-found", str(award_id))
            self.day(contract, "dateSigned", f"{field}.dateSigned", "dateSigned", C)
            self.value(C, contract, field)
            self.documents(C, contract, field)


# --- entry point ------------------------------------------------------------------------------------

def load(items: list[tuple[str, object]]) -> LoadResult:
    """Load OCDS items (source label, parsed JSON) as one compiled record per ocid."""
    result = LoadResult()
    for proc in _collect(items, result):
        compiled = _compile(proc, result)
        if compiled is None:
            continue
        record = _record(proc.ocid, *compiled)
        if isinstance(record, Rejection):
            result.rejected.append(record)
        else:
            result.records.append(record)
    return result


def compiled_releases(items: Iterable[tuple[str, object]]) -> dict[str, dict]:
    """The compiled release of each usable ocid, unmapped (for inspection and tests)."""
    out = {}
    for proc in _collect(items, LoadResult()):
        compiled = _compile(proc, LoadResult())
        if compiled is not None:
            out[proc.ocid] = compiled[0]
    return out


def _collect(items: Iterable[tuple[str, object]], result: LoadResult) -> Iterable[_Process]:
    collector = _Collector(result)
    for source, obj in items:
        collector.item(source, obj)
    return collector.processes.values()


def _compile(proc: _Process, result: LoadResult) -> tuple[dict, list[str]] | None:
    """The process's compiled release and the labels of its sources, or None (rejected or empty)."""
    if proc.compiled is not None:
        return _with_compiled(proc, result)
    if proc.bad:
        if proc.releases:
            _reject(result, ", ".join(lbl for lbl, _ in proc.releases), "ocid",
                    f"process {proc.ocid!r} not compiled: another of its releases was rejected "
                    f"({', '.join(proc.bad)})")
        return None
    if not proc.releases:
        return None
    ordered = sorted(proc.releases, key=lambda lr: _instant(lr[1]["date"]))
    labels = [lbl for lbl, _ in ordered]
    try:
        return compile_releases([rel for _, rel in ordered]), labels
    except OCDSMergeError as e:  # a field that is an object in one release and a string in another
        _reject(result, ", ".join(labels), "(merge)", f"releases of {proc.ocid!r} cannot be merged: {e}")
        return None


def _with_compiled(proc: _Process, result: LoadResult) -> tuple[dict, list[str]] | None:
    """A record package's compiled release, with the releases of its ocid given elsewhere: those
    dated after it are merged onto it (they are news it has not seen); the others are reported as
    superseded (the compiled release already holds them, or a later state)."""
    label, compiled = proc.compiled
    try:
        as_of = _instant(compiled["date"]) if compiled.get("date") not in (None, "") else None
    except Invalid:
        as_of = None  # _record rejects the compiled release's date
    newer = []
    for rel_label, rel in proc.releases:
        if as_of is not None and _instant(rel["date"]) > as_of:
            newer.append((rel_label, rel))
        else:
            _reject(result, rel_label, "date", f"superseded: the compiled release of {proc.ocid!r} in {label} "
                    f"(dated {compiled.get('date')}) is as recent as this release ({rel['date']}); not merged")
    if not newer:
        return compiled, [label]
    newer.sort(key=lambda lr: _instant(lr[1]["date"]))
    try:
        return compile_releases([compiled, *(rel for _, rel in newer)]), [label, *(lbl for lbl, _ in newer)]
    except OCDSMergeError as e:
        _reject(result, ", ".join(lbl for lbl, _ in newer), "(merge)",
                f"releases of {proc.ocid!r} cannot be merged onto the compiled release in {label}: {e}")
        return compiled, [label]


def _record(ocid: str, compiled: dict, labels: list[str]) -> Record | Rejection:
    source = ", ".join(labels)
    errors = []
    if _text(compiled.get("ocid")) != ocid:
        errors.append(FieldError("ocid", f"compiled release ocid {compiled.get('ocid')!r} is not {ocid!r}"))
    if compiled.get("date") not in (None, ""):
        try:
            parse_when(compiled["date"], "date")
        except Invalid as e:
            errors.append(FieldError(e.field, e.error))
    mapper = _Mapper(ocid, compiled)
    graph = mapper.map()
    errors += mapper.errors
    if errors:
        return Rejection(source, errors)
    return Record(id=ocid, kind="ocds", graph=graph, source=source,
                  digest=hashlib.sha256(canonical(compiled)).hexdigest(), focus=mapper.project)


def _natural_person(party: dict, scheme: str | None, code: str | None) -> str | None:
    """The person id of a party that is a natural person, else None. Decided by the data: an
    explicit `details.partyType` of the party-type code list (个人 / 自然人 / person), or an
    identifier shaped like a resident identity card number (GB 11643), which is then hashed (a credit
    code has 18 characters too: one given as CN-USCC is an organisation's)."""
    kind = _text(_obj(party, "details").get("partyType"))
    concept = codes.scheme("party-type").resolve(kind) if kind else None
    uscc_given = scheme is not None and scheme.upper() == USCC_SCHEME
    if code is not None and not uscc_given and RESIDENT_ID.match(code.strip()):
        return "sha256:" + hashlib.sha256(code.strip().upper().encode()).hexdigest()
    if concept is not None and concept.code == "person":
        return code or _text(party.get("id"))
    return None
