"""What a check sees (Context) and what a check is (Check): the one interface between the pipeline
(app/checking.py) and the shape and rule families it runs, so they need not import the pipeline."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Iterable, Sequence

from .applicability import Applicability, record_count  # noqa: F401 (record_count: for the checks)
from .findings import Finding, Insufficiency
from .records import Record
from .store import Store


@dataclass
class Context:
    """What a check sees: the store, the records under check, 'today', and where to report gaps in data."""
    store: Store
    records: Sequence[Record]
    as_of: dt.date
    insufficient: Insufficiency = field(default_factory=Insufficiency)
    _applicability: Applicability | None = None

    # Where the gate's decisions come from when another process makes them (app/parallel.py: the
    # rules worker, while this process runs the shapes): a call that waits for them and gives them
    # with the DATA-INSUFFICIENT entries they made.
    gate_from: Callable[[], tuple[Applicability, Insufficiency]] | None = None

    _covers_store: bool | None = None
    # Wall seconds each check took in this run, by check name (check_name): where a run's time goes.
    timings: dict[str, float] = field(default_factory=dict)

    def covers_store(self) -> bool:
        """True when the records under check are every record the store holds (a full check of a
        store): a fact query then asks the store as a whole, with no list of record graphs to join."""
        if self._covers_store is None:
            self._covers_store = len(self.records) >= record_count(self.store)
        return self._covers_store

    @cached_property
    def graphs(self) -> list[str]:
        """The records' graph IRIs, made once: reading a NamedNode's value makes a new string each
        time (0.12 s a read at 10^4 records)."""
        return [r.graph.graph.value for r in self.records]

    def applicable(self, rule_id: str) -> set[str]:
        """Ids of the records under check that the rule applies to and has the data for."""
        return self.applicability().records(rule_id)

    def assumed(self, rule_id: str, record_id: str) -> dict:
        """Evidence of what the rule assumed about the record (prtkg.applicability), e.g. mandatory tendering."""
        return self.applicability().assumed(rule_id, record_id)

    def applicability(self) -> Applicability:
        """The gate's decisions for the records under check, made (or received, gate_from) on first
        use; their DATA-INSUFFICIENT entries go to self.insufficient."""
        if self._applicability is None:
            if self.gate_from is not None:
                gate, entries = self.gate_from()
                self.insufficient.merge(entries)
                self._applicability = gate
            else:
                self.insufficient.merge(self.make_gate())
        return self._applicability

    def gate_pending(self) -> bool:
        """Whether the gate's decisions are neither made nor coming from another process."""
        return self._applicability is None and self.gate_from is None

    def make_gate(self) -> Insufficiency:
        """Make the gate's decisions here and now; returns their DATA-INSUFFICIENT entries, which it
        leaves to the caller (a worker sends them to the process whose run they belong to)."""
        entries = Insufficiency()
        self._applicability = Applicability(self.store, self.graphs, entries, self.covers_store())
        return entries


Check = Callable[[Context], Iterable[Finding]]


def check_name(check: Check) -> str:
    """A check's name in timings: its family module and function, e.g. rules.risk.check."""
    return f"{check.__module__.removeprefix('prtkg.')}.{check.__name__}"
