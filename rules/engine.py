"""durable-rules, wrapped once: every rule family posts facts here and gets back the rules that fired.

The families write their conditions with this module's `m` and `c` (the same expressions as
durable.lang's: `m.t == "bid"`, `&`, `|`, `c.a << cond`, `m.day >= c.r.start`). They are matched by
durable-rules wherever its C extension loads, and otherwise by a small matcher in Python with the same
semantics for the facts the families post (scalar fields, an int/float/str per field): durable-rules'
extension calls PyEval_CallObject, which Python 3.13 removed, so on 3.13 it does not import (and is not
installed: see pyproject.toml). PRTKG_RULES_ENGINE=durable|python forces one; tests/test_rules_engine.py
runs the rule fixtures through both and requires identical findings.

durable-rules' habits, and what this module does about them:
- a fact that no rule matches raises MessageNotHandledException: that is an ordinary outcome here
  (most facts are fine), so it is caught for that one exception and nothing else;
- rulesets live in a process-wide host (durable.lang keeps a global registry and a daemon-threaded
  Host): instead each run builds its own `durable.engine.Ruleset` under a name unique to the run and
  deletes it afterwards, so runs share no state and no background thread is started;
- an exception in an action is swallowed into the ruleset's state: actions here catch it and
  run() raises it;
- "id" is the fact's identity (two facts with one id are an error) and cannot be compared in a
  condition: every fact carries a distinct id, and rules order pairs by another field;
- one fact never fills two aliases of one rule; a join fires once per ordered combination.
Actions only record what fired, and the family turns each firing into a finding through
prtkg.findings.make.
"""
from __future__ import annotations

import itertools
import operator
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from prtkg.errors import ConfigError

try:
    from durable import engine as _engine
    from durable import lang as _lang
    DURABLE_MISSING: str | None = None
except ImportError as _e:  # not installed (Python 3.13), or its extension does not load there
    _engine = _lang = None
    DURABLE_MISSING = f"durable-rules cannot be imported here ({_e})"

ENGINES = ("durable", "python")


def engine_name() -> str:
    """Which matcher runs: PRTKG_RULES_ENGINE if set, else durable-rules where it imports."""
    chosen = os.environ.get("PRTKG_RULES_ENGINE", "").strip().lower()
    if chosen and chosen not in ENGINES:
        raise ConfigError(f"PRTKG_RULES_ENGINE={chosen!r}: expected one of {', '.join(ENGINES)}")
    if chosen == "durable" and DURABLE_MISSING:
        raise ConfigError(f"PRTKG_RULES_ENGINE=durable: {DURABLE_MISSING}")
    return chosen or ("python" if DURABLE_MISSING else "durable")


# -- the condition language -------------------------------------------------------------------

_OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class Cond:
    """A condition on one fact (and the facts bound to earlier aliases of its rule)."""

    def __and__(self, other: "Cond") -> "Cond":
        return Both("&", self, other)

    def __or__(self, other: "Cond") -> "Cond":
        return Both("|", self, other)


@dataclass(frozen=True, eq=False)
class Compare(Cond):
    op: str
    left: "Field"
    right: Any          # a constant, or a Field of this fact or of an earlier alias


@dataclass(frozen=True, eq=False)
class Both(Cond):
    op: str             # & or |
    left: Cond
    right: Cond


@dataclass(frozen=True, eq=False)
class Field:
    alias: str | None   # None: the fact being matched (durable's m); else an earlier alias (c.<alias>)
    name: str

    def _cmp(self, op: str, other: Any) -> Compare:
        return Compare(op, self, other)

    def __eq__(self, other):  # type: ignore[override]
        return self._cmp("==", other)

    def __ne__(self, other):  # type: ignore[override]
        return self._cmp("!=", other)

    def __lt__(self, other):
        return self._cmp("<", other)

    def __le__(self, other):
        return self._cmp("<=", other)

    def __gt__(self, other):
        return self._cmp(">", other)

    def __ge__(self, other):
        return self._cmp(">=", other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Aliased:
    alias: str
    cond: Cond


class _Fact:
    """`m`: fields of the fact being matched."""

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(None, name)


class _Alias:
    def __init__(self, alias: str):
        self._alias = alias

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(self._alias, name)

    def __lshift__(self, cond: Cond) -> Aliased:
        return Aliased(self._alias, cond)


class _Aliases:
    """`c`: `c.a << cond` names a fact of a join; `c.a.x` is field x of that fact in a later condition."""

    def __getattr__(self, name: str) -> _Alias:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Alias(name)


m = _Fact()
c = _Aliases()

_names = itertools.count()
# durable.lang builds definitions through module-level stacks: one definition at a time.
_define_lock = threading.Lock()


@dataclass(frozen=True)
class Rule:
    """One catalogue rule: its conditions, one per fact it joins (aliased with c.x << ... when more than one)."""
    id: str
    conditions: tuple

    def aliased(self) -> list[Aliased]:
        if len(self.conditions) == 1 and isinstance(self.conditions[0], Cond):
            return [Aliased("m", self.conditions[0])]
        if not all(isinstance(x, Aliased) for x in self.conditions):
            raise ValueError(f"{self.id}: a rule joining facts names each with c.<alias> << condition")
        return list(self.conditions)


@dataclass(frozen=True)
class Fired:
    rule: str
    facts: dict[str, dict]     # alias -> fact ('m' for a one-fact rule)

    @property
    def m(self) -> dict:
        return self.facts["m"]


def rule(rule_id: str, *conditions: Any) -> Rule:
    return Rule(rule_id, conditions)


def any_of(field: Field, values: Iterable[Any]) -> Cond:
    """`field` equals one of `values` (durable-rules has no 'in'); values come from the catalogue."""
    values = list(values)
    if not values:
        raise ValueError("any_of needs at least one value")
    expr = field == values[0]
    for v in values[1:]:
        expr = expr | (field == v)
    return expr


def run(family: str, build: Callable[[], Sequence[Rule]], facts: Iterable[dict]) -> list[Fired]:
    """Post `facts` into a fresh ruleset of `family` made by `build()`; the firings, in order.

    Each fact needs a distinct "id". Facts are not consumed: one fact may fire several rules.
    """
    if engine_name() == "python":
        return _match(build(), facts)
    return _run_durable(family, build(), facts)


# -- durable-rules ------------------------------------------------------------------------------

_names = itertools.count()
# durable.lang builds definitions through module-level stacks: one definition at a time.
_define_lock = threading.Lock()


def _lang_value(v: Any) -> Any:
    if isinstance(v, Field):
        return getattr(_lang.m if v.alias is None else getattr(_lang.c, v.alias), v.name)
    return v


def _lang_cond(cond: Cond) -> Any:
    """The same condition in durable.lang's expressions."""
    if isinstance(cond, Both):
        left, right = _lang_cond(cond.left), _lang_cond(cond.right)
        return left & right if cond.op == "&" else left | right
    return _OPS[cond.op](_lang_value(cond.left), _lang_value(cond.right))


def _lang_conditions(r: Rule) -> list[Any]:
    if len(r.conditions) == 1 and isinstance(r.conditions[0], Cond):
        return [_lang_cond(r.conditions[0])]
    return [getattr(_lang.c, a.alias) << _lang_cond(a.cond) for a in r.aliased()]


def _record(fired: list[Fired], rule_id: str, c: Any) -> None:
    fired.append(Fired(rule_id, {k: dict(v) for k, v in c._m.items()}))


def _action(rule_id: str, fired: list[Fired], errors: list[BaseException]) -> Callable[[Any], None]:
    # durable-rules reads an action's arity (a second parameter would make it asynchronous), and it
    # swallows an action's exception into the ruleset state: catch it here so run() can raise it.
    def action(c):
        try:
            _record(fired, rule_id, c)
        except BaseException as e:  # noqa: BLE001 - re-raised by run()
            errors.append(e)
    return action


def _definition(name: str, rules: Sequence[Rule], fired: list[Fired], errors: list[BaseException]) -> dict:
    with _define_lock:
        rs = _lang.ruleset(name)
        try:
            with rs:
                for r in rules:
                    _lang.when_all(*_lang_conditions(r))(_action(r.id, fired, errors))
        finally:
            _lang._rulesets.pop(name, None)
        return rs.define()[1]


def _run_durable(family: str, rules: Sequence[Rule], facts: Iterable[dict]) -> list[Fired]:
    fired: list[Fired] = []
    name = f"prtkg-{family}-{next(_names)}"
    errors: list[BaseException] = []
    definition = _definition(name, rules, fired, errors)
    ruleset = _engine.Ruleset(name, None, definition)

    def done(error, _state):
        if error:
            errors.append(error)

    try:
        for fact in facts:
            try:
                ruleset.do_actions(ruleset.assert_fact(fact), done)
            except _engine.MessageNotHandledException:
                continue
            if errors:
                raise errors[0]
    finally:
        _engine.durable_rules_engine.delete_ruleset(ruleset._handle)
    return fired


# -- the matcher in Python (where durable-rules cannot run) -------------------------------------

_MISSING = object()


def _value(v: Any, fact: dict, bound: dict[str, dict]) -> Any:
    if isinstance(v, Field):
        return (fact if v.alias is None else bound[v.alias]).get(v.name, _MISSING)
    return v


def _count(cond: Cond, fact: dict, bound: dict[str, dict]) -> int:
    """How many alternatives of `cond` hold: durable-rules turns `|` into alternative branches of a
    rule and fires once per branch that holds, so `a | b` with both true fires twice."""
    if isinstance(cond, Both):
        left = _count(cond.left, fact, bound)
        if cond.op == "&":
            return left and left * _count(cond.right, fact, bound)
        return left + _count(cond.right, fact, bound)
    a, b = _value(cond.left, fact, bound), _value(cond.right, fact, bound)
    if a is _MISSING or b is _MISSING:
        return 0                # durable-rules: a condition on a field the fact lacks does not hold
    if isinstance(a, str) != isinstance(b, str):
        # durable-rules compares a text with a number by coercions of its own; no family relies on
        # that, and guessing them here could only make the two matchers differ silently.
        raise TypeError(f"rule condition compares {a!r} with {b!r}: a text with a number")
    return int(_OPS[cond.op](a, b))


def _product(conds: list[Cond], fact: dict, bound: dict[str, dict]) -> int:
    n = 1
    for x in conds:
        n *= _count(x, fact, bound)
        if not n:
            return 0
    return n


def _conjuncts(cond: Cond) -> list[Cond]:
    if isinstance(cond, Both) and cond.op == "&":
        return _conjuncts(cond.left) + _conjuncts(cond.right)
    return [cond]


def _refers(cond: Cond) -> bool:
    if isinstance(cond, Both):
        return _refers(cond.left) or _refers(cond.right)
    return isinstance(cond.right, Field) and cond.right.alias is not None


@dataclass
class _Slot:
    """One alias of a rule: the facts passing its own tests, looked up by the fields joins compare
    with == (an index per set of fields, made when first asked for and kept up to date)."""
    alias: str
    local: list[Cond]
    joins: list[Cond]
    equal: list[tuple[str, Field]]          # (this fact's field, earlier alias's field) for == joins
    facts: list[tuple[int, dict, int]]      # (arrival, fact, how many alternatives of `local` hold)
    indexes: dict[tuple[str, ...], dict[tuple, list[tuple[int, dict, int]]]]

    def add(self, n: int, fact: dict, times: int) -> None:
        self.facts.append((n, fact, times))
        for fields, index in self.indexes.items():
            index.setdefault(tuple(fact.get(f, _MISSING) for f in fields), []).append((n, fact, times))

    def lookup(self, wanted: dict[str, Any]) -> list[tuple[int, dict, int]]:
        """The facts whose fields equal `wanted` (all facts when nothing is wanted)."""
        if not wanted:
            return self.facts
        fields = tuple(sorted(wanted))
        index = self.indexes.get(fields)
        if index is None:
            index = self.indexes[fields] = {}
            for x in self.facts:
                index.setdefault(tuple(x[1].get(f, _MISSING) for f in fields), []).append(x)
        return index.get(tuple(wanted[f] for f in fields), [])


def _slots(r: Rule) -> list[_Slot]:
    out = []
    for a in r.aliased():
        parts = _conjuncts(a.cond)
        local = [x for x in parts if not _refers(x)]
        joins = [x for x in parts if _refers(x)]
        equal = [(x.left.name, x.right) for x in joins if isinstance(x, Compare) and x.op == "=="
                 and x.left.alias is None]
        out.append(_Slot(a.alias, local, joins, equal, [], {}))
    return out


def _wanted(slots: list[_Slot], p: int, fixed: int, new: dict, bound: dict[str, dict]) -> dict[str, Any]:
    """Field values a fact of slot p must have: its own == joins on earlier aliases, and the == joins
    of the new fact's slot (later than p) on p's alias."""
    wanted = {name: bound[f.alias].get(f.name, _MISSING) for name, f in slots[p].equal}
    if fixed > p:
        for name, f in slots[fixed].equal:
            if f.alias == slots[p].alias:
                wanted[f.name] = new.get(name, _MISSING)
    return wanted


def _match(rules: Sequence[Rule], facts: Iterable[dict]) -> list[Fired]:
    """durable-rules' firings, computed in Python: facts asserted in turn; after each, every rule in
    order fires for each new combination of distinct facts whose latest member is this fact (as often
    as durable-rules does). The order among one fact's matches may differ from durable-rules' own."""
    compiled = [(r.id, _slots(r)) for r in rules]
    fired: list[Fired] = []
    seen: set = set()
    for n, fact in enumerate(facts):
        if fact["id"] in seen:
            raise ValueError(f"fact id {fact['id']!r} posted twice (durable-rules refuses that too)")
        seen.add(fact["id"])
        for rule_id, slots in compiled:
            hits = []
            for i, slot in enumerate(slots):
                times = _product(slot.local, fact, {})
                if times:
                    slot.add(n, fact, times)
                    hits.append((i, times))
            # The new fact at each slot it passes, the last slot first; the other slots from earlier facts.
            for i, times in reversed(hits):
                for bound, repeat in _combinations(slots, i, (n, fact, times)):
                    fired.extend(Fired(rule_id, {k: dict(v) for k, v in bound.items()}) for _ in range(repeat))
    return fired


def _combinations(slots: list[_Slot], fixed: int, new: tuple[int, dict, int], p: int = 0,
                  bound: dict[str, dict] | None = None, used: frozenset = frozenset(), repeat: int = 1):
    """Bindings of every slot with the new fact at slot `fixed` and earlier, distinct facts elsewhere;
    each with how many times durable-rules fires it (the product of the alternatives that hold)."""
    bound = bound or {}
    if p == len(slots):
        yield dict(bound), repeat
        return
    slot = slots[p]
    # Latest first, as durable-rules mostly does.
    options = [new] if p == fixed else [x for x in reversed(slot.lookup(_wanted(slots, p, fixed, new[1], bound)))
                                        if x[0] < new[0]]
    for k, f, times in options:
        if k in used:
            continue
        joined = _product(slot.joins, f, bound)
        if joined:
            yield from _combinations(slots, fixed, new, p + 1, {**bound, slot.alias: f}, used | {k},
                                     repeat * times * joined)
