"""durable-rules, wrapped once: every rule family posts facts here and gets back the rules that fired.

durable-rules' habits, and what this module does about them:
- a fact that no rule matches raises MessageNotHandledException: that is an ordinary outcome here
  (most facts are fine), so it is caught for that one exception and nothing else;
- rulesets live in a process-wide host (durable.lang keeps a global registry and a daemon-threaded
  Host): instead each run builds its own `durable.engine.Ruleset` under a name unique to the run and
  deletes it afterwards, so runs share no state and no background thread is started;
- an exception in an action is swallowed into the ruleset's state: actions here catch it and
  run() raises it;
- "id" is the fact's identity (two facts with one id are one fact) and cannot be compared in a
  condition: every fact carries a distinct id, and rules order pairs by another field;
- it is a C extension (declared Python >=3.10,<3.13 in pyproject.toml).
The conditions are written in durable.lang's DSL by the family modules; actions only record what
fired, and the family turns each firing into a finding through prtkg.findings.make.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from durable import engine as _engine
from durable import lang as _lang

_names = itertools.count()
# durable.lang builds definitions through module-level stacks: one definition at a time.
_define_lock = threading.Lock()


@dataclass(frozen=True)
class Rule:
    """One catalogue rule as durable-rules conditions (`durable.lang` expressions, aliased with c.x << ...)."""
    id: str
    conditions: tuple


@dataclass(frozen=True)
class Fired:
    rule: str
    facts: dict[str, dict]     # alias -> fact ('m' for a one-fact rule)

    @property
    def m(self) -> dict:
        return self.facts["m"]


def rule(rule_id: str, *conditions: Any) -> Rule:
    return Rule(rule_id, conditions)


def any_of(field: Any, values: Iterable[Any]) -> Any:
    """`field` equals one of `values` (durable-rules has no 'in'); values come from the catalogue."""
    values = list(values)
    if not values:
        raise ValueError("any_of needs at least one value")
    expr = field == values[0]
    for v in values[1:]:
        expr = expr | (field == v)
    return expr


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
                    _lang.when_all(*r.conditions)(_action(r.id, fired, errors))
        finally:
            _lang._rulesets.pop(name, None)
        return rs.define()[1]


def run(family: str, build: Callable[[], Sequence[Rule]], facts: Iterable[dict]) -> list[Fired]:
    """Post `facts` into a fresh ruleset of `family` made by `build()`; the firings, in order.

    Each fact needs a distinct "id". Facts are not consumed: one fact may fire several rules.
    """
    fired: list[Fired] = []
    name = f"prtkg-{family}-{next(_names)}"
    errors: list[BaseException] = []
    definition = _definition(name, build(), fired, errors)
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
