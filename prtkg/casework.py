"""The life cycle of a finding: status, actions with history, resolution by data, handling time.

The states and transitions are data (rules/casework.yaml). A finding's description lives in the
findings graph (urn:prtkg:findings) and is refreshed by every re-check; its case (status, when it
was raised, the actions taken) lives in the cases graph (urn:prtkg:cases), which re-checks only
add to, as PROV-O activities with agents as IRIs, so staff can query the history in SPARQL.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from pyoxigraph import Literal, NamedNode, Quad

from . import rdf
from .casework_config import config, volatile_evidence
from .catalogue import CASEWORK, apply_policy, policy_overrides
from .errors import ConfigError, PrtkgError
from .findings import Finding, to_quads
from .jurisdiction import in_division
from .records import Record

CASES_GRAPH = "urn:prtkg:cases"
SYSTEM_AGENT = "prtkg"  # the checker itself: who resolves and reopens findings by data
CHINA = dt.timezone(dt.timedelta(hours=8))


class CaseError(PrtkgError):
    """A request about a finding's case that cannot be done; `status` is its HTTP status."""
    status = 400


class UnknownFinding(CaseError):
    status = 404


class InvalidAction(CaseError):
    status = 422


class InvalidTransition(CaseError):
    status = 409


@dataclass(frozen=True)
class Action:
    name: str
    sources: frozenset[str]
    target: str
    needs: tuple[str, ...] = ()
    # Where an outcome changes the rule (closing as a false positive): (statuses, fields it needs).
    by_outcome: Mapping[str, tuple[frozenset[str], tuple[str, ...]]] = field(default_factory=dict)

    def rule(self, outcome: str | None) -> tuple[frozenset[str], tuple[str, ...]]:
        """(statuses it may start from, fields it needs) for this outcome."""
        return self.by_outcome.get(outcome or "") or (self.sources, self.needs)


@dataclass(frozen=True)
class Machine:
    states: tuple[str, ...]
    initial: str
    open_states: frozenset[str]
    actions: Mapping[str, Action]
    system: Mapping[str, Action]
    outcomes: tuple[str, ...]
    handling: Mapping[str, int]
    volatile: frozenset[str]


def _action(name: str, spec: dict, states: Sequence[str], where: str) -> Action:
    def statuses(values, what):
        bad = [s for s in values or () if s not in states]
        if bad:
            raise ConfigError(f"{where}: {name}.{what} names unknown states {bad}")
        return frozenset(values or ())

    by_outcome = {o: (statuses(s.get("from", spec.get("from")), f"outcomes.{o}.from"),
                      tuple(s.get("needs", spec.get("needs") or ())))
                  for o, s in (spec.get("outcomes") or {}).items()}
    if spec.get("to") not in states:
        raise ConfigError(f"{where}: {name}.to {spec.get('to')!r} is not a state")
    return Action(name, statuses(spec.get("from"), "from"), spec["to"], tuple(spec.get("needs") or ()), by_outcome)


@lru_cache(maxsize=1)
def machine() -> Machine:
    where = "rules/casework.yaml"
    raw = config()
    states = tuple(raw["states"])
    if raw["initial"] not in states or not set(raw["open"]) <= set(states):
        raise ConfigError(f"{where}: initial and open must be states")
    actions = {n: _action(n, s, states, where) for n, s in raw["actions"].items()}
    system = {n: _action(n, s, states, where) for n, s in raw["system"].items()}
    if set(system) != {"resolve", "recur"}:
        raise ConfigError(f"{where}: system must define exactly resolve and recur")
    for a in actions.values():
        unknown = set(a.by_outcome) - set(raw["outcomes"])
        if unknown:
            raise ConfigError(f"{where}: {a.name} names unknown outcomes {sorted(unknown)}")
    handling_specs = {sev: dict(spec) for sev, spec in raw["handling"].items()}
    overrides = policy_overrides().get(CASEWORK) or {}
    if not isinstance(overrides, dict):
        raise ConfigError(f"PRTKG_PARAMS: {CASEWORK} must be a mapping like {{handling: {{violation: 15}}}}")
    unknown = set(overrides) - {"handling"}
    if unknown:
        raise ConfigError(f"PRTKG_PARAMS: {CASEWORK} has no section {sorted(unknown)[0]!r} (only 'handling')")
    apply_policy(handling_specs, overrides.get("handling") or {}, f"{CASEWORK}.handling")
    bad = [sev for sev, spec in handling_specs.items()
           if isinstance(spec["value"], bool) or not isinstance(spec["value"], int) or spec["value"] < 1]
    if bad:
        raise ConfigError(f"PRTKG_PARAMS: {CASEWORK}.handling.{bad[0]} must be a whole number of working days (1 or more)")
    handling = {sev: spec["value"] for sev, spec in handling_specs.items()}
    return Machine(states, raw["initial"], frozenset(raw["open"]), actions, system, tuple(raw["outcomes"]),
                   handling, volatile_evidence())


def node(finding_id: str) -> NamedNode:
    return rdf.iri("finding", finding_id)


def agent(who: str) -> NamedNode:
    """PROV agents are IRIs: a token's fingerprint, a system user, or the checker itself."""
    return rdf.iri("agent", who)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _insert(quads: Iterable[Quad]) -> str:
    """INSERT DATA for quads of any graphs."""
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
    return "INSERT DATA { " + "\n".join(f"GRAPH {g} {{\n" + "\n".join(t) + "\n}" for g, t in by_graph.items()) + " }"


def _values(nodes: Iterable[str]) -> str:
    return " ".join(f"<{n}>" for n in nodes)


# -- writing -----------------------------------------------------------------------------------------

def _activity(finding: str, action: str, source: str | None, target: str, who: str, at: dt.datetime,
              seq: int, note: str | None = None, outcome: str | None = None, to: str | None = None,
              version: str | None = None) -> list[Quad]:
    g = NamedNode(CASES_GRAPH)
    f = NamedNode(finding)
    act = rdf.child(f, "action", uuid.uuid4().hex)
    by = agent(who)
    q = [Quad(act, rdf.RDF_TYPE, NamedNode(rdf.PROV + "Activity"), g),
         Quad(act, rdf.RDF_TYPE, rdf.p("CaseAction"), g),
         Quad(act, rdf.p("action"), Literal(action), g),
         Quad(act, NamedNode(rdf.PROV + "used"), f, g),
         Quad(act, NamedNode(rdf.PROV + "wasAssociatedWith"), by, g),
         Quad(by, rdf.RDF_TYPE, NamedNode(rdf.PROV + ("SoftwareAgent" if who == SYSTEM_AGENT else "Agent")), g),
         Quad(act, NamedNode(rdf.PROV + "endedAtTime"), rdf.literal(at), g),
         Quad(act, rdf.p("actionSequence"), Literal(str(seq), datatype=NamedNode(rdf.XSD + "integer")), g),
         Quad(act, rdf.p("toStatus"), Literal(target), g),
         Quad(f, rdf.p("caseStatus"), Literal(target), g),
         Quad(f, rdf.p("statusSince"), rdf.literal(at), g)]
    if source:
        q.append(Quad(act, rdf.p("fromStatus"), Literal(source), g))
    if note:
        q.append(Quad(act, rdf.p("note"), Literal(note), g))
    if outcome:
        q.append(Quad(act, rdf.p("outcome"), Literal(outcome), g))
    if to:
        q.append(Quad(act, rdf.p("assignedTo"), rdf.entity(to), g))
    if version:
        q.append(Quad(act, rdf.p("recordVersion"), Literal(version), g))
    return q


def _drop_status(nodes: Iterable[str]) -> str:
    values = _values(nodes)
    if not values:
        return ""
    return (f"DELETE {{ GRAPH <{CASES_GRAPH}> {{ ?f prtkg:caseStatus ?s ; prtkg:statusSince ?t }} }} WHERE {{ "
            f"VALUES ?f {{ {values} }} GRAPH <{CASES_GRAPH}> {{ ?f prtkg:caseStatus ?s ; prtkg:statusSince ?t }} }} ;\n")


def _sequences(store, nodes: Sequence[str]) -> dict[str, int]:
    if not nodes:
        return {}
    rows = store.select(f"""SELECT ?f (MAX(?n) AS ?last) WHERE {{ VALUES ?f {{ {_values(nodes)} }}
        GRAPH <{CASES_GRAPH}> {{ ?a prov:used ?f ; prtkg:actionSequence ?n }} }} GROUP BY ?f""")
    return {r["f"]: int(r["last"]) for r in rows if r["last"] is not None}


def record_check(store, records: Sequence[Record], found: Sequence[Finding], as_of: dt.date,
                 at: dt.datetime | None = None) -> None:
    """Store a re-check of `records` in one transaction (see findings_update)."""
    if records:
        store.update(findings_update(store, records, found, as_of, at))


def findings_update(store, records: Sequence[Record], found: Sequence[Finding], as_of: dt.date,
                    at: dt.datetime | None = None) -> str:
    """The SPARQL update storing a re-check of `records`, read against the store as it is now (the
    caller holds the write lock until the update is applied): their new findings replace the
    descriptions of the same ids; a finding of theirs the check no longer produces is kept and
    resolved (naming the record version that resolved it); a resolved finding that comes back reopens."""
    m = machine()
    at = at or _now()
    ids = " ".join(str(rdf.literal(r.id)) for r in records)
    if not ids:
        return ""
    versions = {r.id: r.digest for r in records}
    status_of = f"OPTIONAL {{ GRAPH <{CASES_GRAPH}> {{ ?f prtkg:caseStatus ?status }} }}"
    new = {node(f.id).value: f for f in found}
    # The findings this check answers for: those about the records under check, and those of the same
    # rule about the same subject as a new one (a cross-record finding names an organisation or a
    # group, not a record under check; the new one supersedes it).
    pairs = " ".join(f"({rdf.literal(r)} {rdf.literal(s)})" for r, s in {(f.rule, f.record) for f in found})
    by_subject = (f"UNION {{ VALUES (?rule ?record) {{ {pairs} }} GRAPH <{rdf.FINDINGS_GRAPH}> "
                  f"{{ ?f prtkg:rule ?rule ; prtkg:record ?record }} }}") if pairs else ""
    before = {r["f"]: (r["record"], r["status"]) for r in store.select(f"""
        SELECT ?f ?record ?status WHERE {{
          {{ VALUES ?record {{ {ids} }} GRAPH <{rdf.FINDINGS_GRAPH}> {{ ?f prtkg:record ?record }} }}
          {by_subject} {status_of} }}""")}
    # A cross-record rule may find about a record outside this batch: its case is kept as it is too.
    others = [n for n in new if n not in before]
    if others:
        before.update((r["f"], (new[r["f"]].record, r["status"])) for r in store.select(f"""
            SELECT ?f ?status WHERE {{ VALUES ?f {{ {_values(others)} }} {status_of} FILTER(BOUND(?status)) }}"""))
    resolve, recur = m.system["resolve"], m.system["recur"]
    gone = [n for n, (_, s) in before.items() if n not in new and (s or m.initial) in resolve.sources]
    back = [n for n in new if n in before and before[n][1] in recur.sources]
    fresh = [n for n in new if n not in before or before[n][1] is None]
    seqs = _sequences(store, gone + back)
    g = NamedNode(CASES_GRAPH)
    case: list[Quad] = []
    for n in fresh:
        case += [Quad(NamedNode(n), rdf.p("raisedAt"), rdf.literal(at), g),
                 Quad(NamedNode(n), rdf.p("caseStatus"), Literal(m.initial), g),
                 Quad(NamedNode(n), rdf.p("statusSince"), rdf.literal(at), g)]
    for n in gone:
        record, status = before[n]
        case += _activity(n, "resolve", status or m.initial, resolve.target, SYSTEM_AGENT, at,
                          seqs.get(n, 0) + 1, version=versions.get(record))
    for n in back:
        case += _activity(n, "recur", before[n][1], recur.target, SYSTEM_AGENT, at, seqs.get(n, 0) + 1,
                          version=versions.get(new[n].record))
    fg = f"<{rdf.FINDINGS_GRAPH}>"
    refresh = (f"DELETE {{ GRAPH {fg} {{ ?f ?p ?o }} }} WHERE {{ VALUES ?f {{ {_values(new)} }} "
               f"GRAPH {fg} {{ ?f ?p ?o }} }} ;\n") if new else ""
    # A run whose findings were all re-described by this one generated nothing still stored: dropped.
    orphans = (f" ;\nDELETE {{ GRAPH {fg} {{ ?run ?p ?o }} }} WHERE {{ GRAPH {fg} {{ ?run a prov:Activity ; ?p ?o "
               f"FILTER NOT EXISTS {{ ?f prov:wasGeneratedBy ?run }} }} }}") if new else ""
    return (refresh + _drop_status(gone + back)
            + _insert([*to_quads(found, as_of, at, _graphs(store, records, found)), *case]) + orphans)


def _graphs(store, records: Sequence[Record], found: Sequence[Finding]) -> dict[str, NamedNode]:
    """Record id -> its graph IRI, for the findings' prov:wasDerivedFrom: the batch's own records, and
    the stored records a cross-record finding names."""
    graphs = {r.id: r.graph.graph for r in records}
    others = {f.record for f in found} - graphs.keys()
    if others:
        ids = " ".join(str(rdf.literal(i)) for i in sorted(others))
        rows = store.select(f"SELECT ?g ?id WHERE {{ VALUES ?id {{ {ids} }} GRAPH ?g {{ ?g prtkg:recordId ?id }} }}")
        graphs.update((r["id"], NamedNode(r["g"])) for r in rows)
    return graphs


def act(store, finding_id: str, action: str, who: str, note: str | None = None, outcome: str | None = None,
        to: str | None = None, within: str | None = None, at: dt.datetime | None = None) -> dict:
    """Apply a staff action to a finding and return the finding with its status and history.

    Raises UnknownFinding (also for a finding outside the division `within`), InvalidAction (unknown
    action or outcome, a missing or malformed field) or InvalidTransition (not from this status).
    Callers serialise writers (the API's write lock; the CLI is one process).
    """
    from .uscc import problem

    m = machine()
    spec = m.actions.get(action)
    if spec is None:
        raise InvalidAction(f"action {action!r} is not one of {', '.join(m.actions)}")
    if outcome is not None and outcome not in m.outcomes:
        raise InvalidAction(f"outcome {outcome!r} is not one of {', '.join(m.outcomes)}")
    note = (note or "").strip() or None
    sources, needs = spec.rule(outcome)
    given = {"note": note, "outcome": outcome, "to": to}
    missing = [n for n in needs if not given.get(n)]
    if missing:
        what = f"{action} with outcome {outcome}" if outcome and spec.by_outcome.get(outcome) else action
        raise InvalidAction(f"{what} needs {' and '.join(missing)}")
    if to is not None:
        bad = problem(to)
        if bad:
            raise InvalidAction(f"to: {to!r} is not a unified social credit code: {bad}")
    current = get(store, finding_id, within=within)
    if current is None:
        raise UnknownFinding(f"no finding {finding_id!r}" + (f" in division {within}" if within else ""))
    status = current["status"]
    if status not in sources:
        raise InvalidTransition(f"finding {finding_id} is {status}; {action}"
                                + (f" with outcome {outcome}" if outcome else "")
                                + f" needs one of: {', '.join(sorted(sources))}")
    n = node(finding_id).value
    at = at or _now()
    seq = _sequences(store, [n]).get(n, 0) + 1
    quads = _activity(n, action, status, spec.target, who, at, seq, note, outcome, to)
    store.update(_drop_status([n]) + _insert(quads))
    return get(store, finding_id, within=within)


# -- reading -----------------------------------------------------------------------------------------

def due_date(raised: dt.datetime | None, severity: str) -> dt.date | None:
    """The day handling is due: the handling time of the severity in working days after raising.
    None when the official calendar does not know the years involved (never a guess)."""
    from .workdays import CalendarUnknown, default_calendar

    days = machine().handling.get(severity)
    if raised is None or days is None:
        return None
    try:
        return default_calendar().add_workdays(raised.astimezone(CHINA).date(), days)
    except CalendarUnknown:
        return None


def handling(status: str, raised: dt.datetime | None, severity: str, as_of: dt.date) -> dict:
    due = due_date(raised, severity)
    overdue = None if due is None else (status in machine().open_states and as_of > due)
    return {"raisedAt": raised.isoformat() if raised else None, "dueDate": due.isoformat() if due else None,
            "overdue": overdue}


_ORDER = 'IF(?severity = "violation", 0, IF(?severity = "warning", 1, 2))'
_KEYS = ("id", "rule", "severity", "record", "focus", "message", "basis", "evidence", "asOf", "generatedAtTime")


def _filters(rule=None, severity=None, record=None, since=None, status=None, ids=None) -> str:
    # Values enter the query as terms serialised by pyoxigraph, which escapes them.
    parts = []
    for var, value in (("rule", rule), ("severity", severity), ("record", record)):
        if value:
            parts.append(f"FILTER(?{var} = {Literal(value)})")
    if status:
        parts.append(f"FILTER(?status = {Literal(status)})")
    if ids is not None:
        parts.append(f"VALUES ?f {{ {_values(node(i).value for i in ids) or '<urn:prtkg:none>'} }}")
    if since:
        start = dt.datetime.combine(since, dt.time(), tzinfo=CHINA)
        parts.append(f"FILTER(?at >= {rdf.literal(start)})")
    return "\n".join(parts)


def find(store, rule: str | None = None, severity: str | None = None, record: str | None = None,
         since: dt.date | None = None, status: str | None = None, region: str | None = None,
         within: str | None = None, ids: Sequence[str] | None = None, limit: int = 100, offset: int = 0,
         as_of: dt.date | None = None) -> dict:
    """Stored findings, most severe first, with status and handling time; `total` counts all that match.

    `within` is the caller's division (only its findings exist for it); `region` a filter on top.
    """
    from .clock import today

    as_of = as_of or today()
    scope = in_division("?record", within) + "\n" + in_division("?record", region)
    where = f"""GRAPH <{rdf.FINDINGS_GRAPH}> {{
        ?f a prtkg:Finding ; prtkg:rule ?rule ; prtkg:severity ?severity ; prtkg:record ?record ;
           prov:generatedAtTime ?at . }}
        OPTIONAL {{ GRAPH <{CASES_GRAPH}> {{ ?f prtkg:caseStatus ?st }} }}
        BIND(COALESCE(?st, "{machine().initial}") AS ?status)
        {_filters(rule, severity, record, since, status, ids)}
        {scope}"""
    total = store.select(f"SELECT (COUNT(?f) AS ?n) WHERE {{ {where} }}")[0]["n"]
    page = store.select(f"""SELECT ?f WHERE {{ {where} }}
        ORDER BY {_ORDER} ?rule ?record ?f LIMIT {int(limit)} OFFSET {int(offset)}""")
    found = describe(store, [row["f"] for row in page], as_of)
    return {"total": total, "limit": limit, "offset": offset, "findings": found}


def describe(store, nodes: Sequence[str], as_of: dt.date) -> list[dict]:
    """The findings at these nodes, in this order, with status, raisedAt, dueDate and overdue."""
    if not nodes:
        return []
    values = _values(nodes)
    by_node: dict[str, dict] = {n: {"message": {}} for n in nodes}
    for row in store.select(f"""SELECT ?f ?p ?o (LANG(?o) AS ?lang) WHERE {{ VALUES ?f {{ {values} }}
            GRAPH <{rdf.FINDINGS_GRAPH}> {{ ?f ?p ?o }} }}"""):
        out = by_node[row["f"]]
        key = row["p"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if key == "message":
            out["message"][row["lang"]] = row["o"]
        elif key == "evidence":
            out["evidence"] = json.loads(row["o"])
        elif key == "findingId":
            out["id"] = row["o"]
        elif key in _KEYS:
            value = row["o"]
            out[key] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    cases = {r["f"]: r for r in store.select(f"""SELECT ?f ?status ?raised WHERE {{ VALUES ?f {{ {values} }}
            OPTIONAL {{ GRAPH <{CASES_GRAPH}> {{ ?f prtkg:caseStatus ?status }} }}
            OPTIONAL {{ GRAPH <{CASES_GRAPH}> {{ ?f prtkg:raisedAt ?raised }} }} }}""")}
    out = []
    for n in nodes:
        d = {k: by_node[n].get(k, "" if k == "focus" else None) for k in _KEYS}
        d["id"] = d["id"] or n.rsplit("/", 1)[-1]
        case = cases.get(n, {})
        d["status"] = case.get("status") or machine().initial
        d.update(handling(d["status"], case.get("raised"), d["severity"], as_of))
        out.append(d)
    return out


def history(store, finding_id: str) -> list[dict]:
    """The actions taken on a finding, oldest first: action, by, at, note, outcome, to, version."""
    rows = store.select(f"""SELECT ?action ?by ?at ?seq ?from ?status ?note ?outcome ?to ?version WHERE {{
        GRAPH <{CASES_GRAPH}> {{ ?a prov:used {node(finding_id)} ; prtkg:action ?action ;
            prov:wasAssociatedWith ?by ; prov:endedAtTime ?at ; prtkg:actionSequence ?seq ; prtkg:toStatus ?status .
          OPTIONAL {{ ?a prtkg:fromStatus ?from }} OPTIONAL {{ ?a prtkg:note ?note }}
          OPTIONAL {{ ?a prtkg:outcome ?outcome }} OPTIONAL {{ ?a prtkg:assignedTo ?to }}
          OPTIONAL {{ ?a prtkg:recordVersion ?version }} }} }} ORDER BY ?seq""")
    prefix = rdf.ID + "agent/"
    return [{"action": r["action"], "by": r["by"][len(prefix):] if r["by"].startswith(prefix) else r["by"],
             "at": r["at"].isoformat(), "from": r["from"], "status": r["status"], "note": r["note"],
             "outcome": r["outcome"], "to": r["to"].rsplit("/", 1)[-1] if r["to"] else None,
             "recordVersion": r["version"]} for r in rows]


def get(store, finding_id: str, within: str | None = None, as_of: dt.date | None = None) -> dict | None:
    """One finding with status, handling time and history; None if unknown (or outside `within`)."""
    if not finding_id or len(finding_id) > 100:
        return None
    found = find(store, ids=[finding_id], within=within, limit=1, as_of=as_of)["findings"]
    if not found:
        return None
    return {**found[0], "history": history(store, finding_id)}
