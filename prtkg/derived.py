"""The graphs derived from the records, kept together: what a write of a few records refreshes, what a
server derives at start where a store has none. (A load rewrites each whole at its end, one after the
other, so that bench/run can time the OWL RL closure alone: app/ingest.py.)

Two kinds, each in its own module: the OWL RL closure (prtkg/inference.py: urn:prtkg:inferred,
urn:prtkg:inferred:records) and the win tallies (prtkg/tallies.py: urn:prtkg:tally:wins). The
tallies read no inferred triple, so the order between them does not matter.
"""
from __future__ import annotations

from contextlib import contextmanager

from . import inference, packed, tallies

GRAPHS = (*inference.DERIVED_GRAPHS, tallies.TALLY_GRAPH)

# Each derivation with what a record graph touches in it: the nodes its triples mention (the closure),
# the buyers it counts for (the tallies).
_KINDS = ((inference, inference.nodes), (tallies, tallies.buyers))


def ensure(store) -> bool:
    """Derive what a store with records lacks or holds from an earlier version or a killed run (each
    kind's is_current), and pack the records written before packed copies (prtkg/packed.py); True
    when it derived or packed something."""
    stale = [kind for kind, _ in _KINDS if not kind.is_current(store) and kind.has_input(store)]
    for kind in stale:
        kind.materialise(store)
    return packed.ensure(store) > 0 or bool(stale)


# Above this many records a write re-derives whole: cheaper than a refresh of that many nodes.
WHOLE_ABOVE = 50


def _holds_no_other_record(store, graphs: list[str]) -> bool:
    """True when the store holds no record beyond these graphs (a store just made, as /validate and
    `prtkg check` of files make one): a whole run then reads what a refresh would, and a refresh of
    a powers list's thousands of nodes cost 7 s where the whole run took 0.2 s."""
    these = ", ".join(f"<{g}>" for g in graphs)
    return not store.ask(f"ASK {{ GRAPH ?g {{ ?g prtkg:recordKind ?kind }} FILTER(?g NOT IN ({these})) }}")


@contextmanager
def kept_up_to_date(store, graphs: list[str]):
    """Around a write of these record graphs: every derived graph follows it, refreshed for what the
    old and the new versions touch (taken before and after the write), or whole for a large write or
    a store holding nothing else."""
    whole = len(graphs) > WHOLE_ABOVE or _holds_no_other_record(store, graphs)
    before = [set() if whole else touched(store, graphs) for _, touched in _KINDS]
    yield
    for (kind, touched), old in zip(_KINDS, before):
        if whole:
            kind.materialise(store)
        else:
            kind.refresh(store, old | touched(store, graphs))
