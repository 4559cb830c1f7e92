"""Write ontology/closure.nt: what the ontology files entail by themselves, derived once here.

The closure (the division hierarchy read transitively, codes covering codes, types and scopes of the
code lists: prtkg/inference.py ontology_closure) is the same for every store with these files, and
deriving it costs every process that loads the ontology; so it is generated and checked in, and the
store loads it with the files (prtkg/store/common.py ontology_quads). Its first line is the files'
digest: a store refuses a closure made from other files. Rerun after editing any ontology/*.ttl.

    python scripts/ontology_closure.py            # regenerate ontology/closure.nt
    python scripts/ontology_closure.py --check    # exit 1 when it is stale
"""
from __future__ import annotations

import sys
from pathlib import Path

import generated_doc

from prtkg.inference import ontology_closure
from prtkg.store import Store
from prtkg.store.common import CLOSURE_FILE, ontology_sources

CLOSURE = Path(__file__).resolve().parents[1] / "ontology" / CLOSURE_FILE


def render() -> str:
    digest, blobs = ontology_sources()
    # Sorted N-Triples: a change of the ontology shows as the lines it adds or drops.
    lines = sorted(f"{t.subject} {t.predicate} {t.object} ." for t in ontology_closure(tuple(blobs), Store(None)))
    return "\n".join([f"# {digest}", *lines]) + "\n"


def main(argv: list[str] | None = None) -> int:
    return generated_doc.main(CLOSURE, render, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
