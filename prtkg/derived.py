"""The graphs derived from the records, kept together: what a write of a few records refreshes, what a
server derives at start where a store has none. (A load rewrites each whole at its end, one after the
other, so that bench/run can time the OWL RL closure alone: prtkg/ingest.py.)

Two kinds, each in its own module: the OWL RL closure (prtkg/inference.py: urn:prtkg:inferred,
urn:prtkg:inferred:records) and the win tallies (prtkg/tallies.py: urn:prtkg:tally:wins). The
tallies read no inferred triple, so the order between them does not matter.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager

from . import inference, tallies

GRAPHS = (*inference.DERIVED_GRAPHS, tallies.TALLY_GRAPH)


def ensure(store) -> bool:
    """Derive what a store with records lacks (see inference.ensure, tallies.ensure)."""
    inferred = inference.ensure(store)
    counted = tallies.ensure(store)
    return inferred or counted


@contextmanager
def kept_up_to_date(store, graphs: list[str]):
    """Around a write of these record graphs: every derived graph follows it."""
    with ExitStack() as stack:
        stack.enter_context(tallies.kept_up_to_date(store, graphs))
        stack.enter_context(inference.kept_up_to_date(store, graphs))
        yield
