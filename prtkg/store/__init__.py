"""The triple store behind one small interface, one module per backend.

- embedded.py: Oxigraph on disk (default) or in memory, `Store(path)` / `Store(None)`;
- remote.py: a SPARQL 1.1 server, `RemoteStore` (imported on first use: it pulls in SPARQLWrapper);
- common.py: what both share (result terms as Python values, a record's quads and provenance, the
  ontology graph).

Every source record lives in its own named graph, together with its provenance, so replacing a
record is one transaction: a reader sees the old graph or the new one, never a mix.
"""
from __future__ import annotations

import os
from typing import Any

from .common import load_ontology_into, provenance, python_rows, to_python
from .embedded import DEFAULT_PATH, Store


def open_store(read_only: bool = False) -> Any:
    """The store every command and the API use: remote (PRTKG_SPARQL_ENDPOINT) or embedded (PRTKG_STORE)."""
    if os.environ.get("PRTKG_SPARQL_ENDPOINT"):
        from .remote import RemoteStore
        return RemoteStore.from_env()
    return Store(os.environ.get("PRTKG_STORE", str(DEFAULT_PATH)), read_only=read_only)


def __getattr__(name: str) -> Any:
    # The remote backend on first use, so the embedded one never imports SPARQLWrapper.
    if name in ("RemoteStore", "is_remote"):
        from . import remote
        return getattr(remote, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_PATH", "RemoteStore", "Store", "is_remote", "load_ontology_into", "open_store",
           "provenance", "python_rows", "to_python"]
