"""The saved-question library: `queries/*.rq`, each a SPARQL query with zh/en titles and parameters.

A file starts with comment headers:

    # title@zh: 某地某环节由谁监管
    # title@en: Who supervises trade type X at stage Y in region Z
    # description@zh: ...
    # description@en: ...
    # param: tradeType:code/trade-type = works (trade type code)

A parameter line is `NAME[:TYPE] = DEFAULT (description)`. In the query body a parameter is written
as the variable `?NAME`; running the question replaces that variable by the given value as an RDF
term (SEP-0007 substitution), so a parameter is never projected by SELECT. Values are turned into
terms by pyoxigraph, which escapes them: a parameter cannot change the shape of the query.
Two defaults are words: `none` makes the parameter optional (given no value, or an empty one, its
variable is left unbound, and the query says what an unbound one means); `today` on a date is the
day the question runs (in China, as for deadlines).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Mapping

import pyoxigraph as ox

from . import codes, rdf, uscc
from .errors import ConfigError, PrtkgError

TYPES = ("string", "integer", "date", "year", "iri", "entity", "code/<scheme>")
NONE, TODAY = "none", "today"   # the defaults that are words (module docstring)
MAX_STRING = 1000  # a string parameter is a name or a label, never a document

_HEADER = re.compile(r"^#\s*(title|description)@(zh|en)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(r"^#\s*param\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([\w/-]+))?\s*=\s*(.*?)\s*(?:\((.*)\))?\s*$")
# SPARQL text that may contain any word or `?name` without it being syntax: strings, IRIs, comments.
OPAQUE = (r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
          r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"
          r'|<[^<>"{}|^`\\\s]*>' r"|#[^\n]*")
# Opaque text is matched first, so the variable alternative only ever sees query text proper.
_TOKENS = re.compile(OPAQUE + r"|[?$]([A-Za-z_][A-Za-z0-9_]*)")


class QueryParamError(PrtkgError):
    """A parameter value that does not fit its declared type, or a parameter the question lacks."""


class UnknownQuery(PrtkgError):
    pass


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str
    description: str

    @property
    def optional(self) -> bool:
        return self.default == NONE

    def term(self, value: str) -> ox.NamedNode | ox.Literal | None:
        """The RDF term for a value given as text (from a URL or the command line), checked as the
        API checks the same kind of value elsewhere: a USCC by its check characters, a code by its
        code list in the ontology, numbers and dates in ASCII digits (int() and fromisoformat() would
        take other scripts' digits too)."""
        value = value.strip()
        kind = self.type
        reason = ""
        if self.optional and value in ("", NONE):
            return None
        if kind == "date" and value == TODAY:
            from .clock import today
            value = today().isoformat()
        try:
            if kind == "string":
                if len(value) > MAX_STRING:
                    raise ValueError(f"longer than {MAX_STRING} characters")
                return ox.Literal(value)
            if kind == "integer":
                if not re.fullmatch(r"-?[0-9]{1,18}", value):
                    raise ValueError("not an integer in ASCII digits (at most 18)")
                return rdf.literal(int(value))
            if kind == "date":
                if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                    raise ValueError("not a date as YYYY-MM-DD")
                return rdf.literal(dt.date.fromisoformat(value))
            if kind == "year":
                if not re.fullmatch(r"[0-9]{4}", value):
                    raise ValueError("not a year as YYYY")
                return ox.Literal(value, datatype=ox.NamedNode(rdf.XSD + "gYear"))
            if kind == "entity":
                problem = uscc.problem(value.upper())
                if problem is not None:
                    raise ValueError(f"not a unified social credit code: {problem.message_en}")
                return rdf.entity(value)
            if kind == "iri":
                if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\s]*", value):
                    raise ValueError("not an absolute IRI")
                return ox.NamedNode(value)
            if kind.startswith("code/"):
                scheme = codes.scheme(kind[5:])
                if value not in scheme:
                    known = sorted(scheme.concepts)
                    shown = ", ".join(known) if len(known) <= 20 else f"{len(known)} codes in ontology/"
                    raise ValueError(f"not a code of the {kind[5:]} list ({shown})")
                return rdf.code(kind[5:], value)
        except KeyError as e:  # a code list the ontology lacks: the file's fault
            raise ConfigError(f"parameter {self.name}: {e.args[0]}") from None
        except ValueError as e:
            reason = f" ({e})" if str(e) else ""
        else:
            raise ConfigError(f"parameter {self.name}: unknown type {kind!r} (one of {', '.join(TYPES)})")
        raise QueryParamError(f"parameter {self.name}: {value[:100]!r} is not a valid {kind}{reason}")

    def as_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "default": self.default, "description": self.description}


@dataclass(frozen=True)
class SavedQuery:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    params: tuple[Param, ...]
    text: str = field(repr=False)

    def bind(self, values: Mapping[str, str] | None = None) -> str:
        """The query text with every parameter replaced by its value (or default)."""
        values = dict(values or {})
        by_name = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            known = ", ".join(by_name) or "none"
            raise QueryParamError(f"{self.name}: unknown parameter {', '.join(unknown)} (parameters: {known})")
        terms = {name: str(term) for name, p in by_name.items()
                 if (term := p.term(values.get(name, p.default))) is not None}

        def replace(m: re.Match) -> str:
            var = m.group(1)
            return terms[var] if var in terms else m.group(0)

        return _TOKENS.sub(replace, self.text)

    def as_dict(self) -> dict:
        return {"name": self.name, "title": dict(self.title), "description": dict(self.description),
                "params": [p.as_dict() for p in self.params]}


def parse(name: str, text: str) -> SavedQuery:
    title: dict[str, str] = {}
    description: dict[str, str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break  # headers end where the query starts
            continue
        m = _HEADER.match(line)
        if m:
            (title if m.group(1) == "title" else description)[m.group(2)] = m.group(3)
            continue
        m = _PARAM.match(line)
        if m:
            params.append(Param(m.group(1), m.group(2) or "string", m.group(3), (m.group(4) or "").strip()))
    missing = [f"{k}@{lang}" for k, d in (("title", title), ("description", description))
               for lang in ("zh", "en") if lang not in d]
    if missing:
        raise ConfigError(f"saved query {name}: missing header {', '.join(missing)}")
    sq = SavedQuery(name, title, description, tuple(params), text)
    for p in params:  # a default that does not fit its type is a bug in the file: say so at load time
        p.term(p.default)
    return sq


def library() -> dict[str, SavedQuery]:
    """Every saved question shipped in queries/, by name (the file stem)."""
    folder = resources.files("prtkg.queries")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[:-3]
            out[name] = parse(name, entry.read_text(encoding="utf-8"))
    return out


def get(name: str) -> SavedQuery:
    lib = library()
    if name not in lib:
        raise UnknownQuery(f"no saved question {name!r} (known: {', '.join(lib)})")
    return lib[name]


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`--param k=v` options as a dict."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryParamError(f"--param: {pair!r} is not NAME=VALUE")
        out[key.strip()] = value
    return out
