"""The per-rule fixture cases of tests/fixtures/rules/<RULE-ID>/ (format: that folder's README.md).

Read by tests/test_catalogue.py (each case run once, as `prtkg check` would) and by
scripts/rules_doc.py (docs/rules.md quotes what fires and what does not).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "fixtures" / "rules"
KINDS = ("fires", "passes")
KEYS = {"as_of", "reference", "about", "findings", "records", "rejected"}


class CaseError(ValueError):
    """A case folder or its case.yaml that cannot be used (names the file and the key)."""


@dataclass(frozen=True)
class Case:
    rule: str
    folder: Path
    kind: str                        # fires | passes
    as_of: dt.date
    reference: str | Path | None     # "bundled", a folder, or None
    about: dict[str, str]            # zh / en
    findings: int | None = None
    records: tuple[str, ...] | None = None
    rejected: int = 0
    files: tuple[Path, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.rule}/{self.folder.name}"

    def run(self):
        """One check run over the case folder, as `prtkg check` makes it; the CheckResult (its findings
        and loads are the run's own; its store is emptied by the next run)."""
        from prtkg.app import checking
        return checking.check([self.folder], reference=self.reference, as_of=self.as_of, store=_empty_store())

    def problems(self, result) -> list[str]:
        """What is wrong with `result` for this case (empty when the case holds)."""
        out = []
        mine = [f for f in result.findings if f.rule == self.rule]
        rejected = len(result.loaded.rejected) + len(result.reference.rejected)
        if rejected != self.rejected:
            out.append(f"{rejected} records rejected (expected {self.rejected}): "
                       f"{[r.as_dict() for r in result.loaded.rejected + result.reference.rejected][:3]}")
        if self.kind == "passes":
            if mine:
                out.append(f"fired on {sorted({f.record for f in mine})}")
            blocked = sorted({f.record for f in result.findings if f.rule == "DATA-INSUFFICIENT"
                              and self.rule in f.evidence.get("rules", ())})
            if blocked and self.rule != "DATA-INSUFFICIENT":
                out.append(f"could not run (DATA-INSUFFICIENT) on {blocked}")
            return out
        if not mine:
            out.append("did not fire")
        if self.findings is not None and len(mine) != self.findings:
            out.append(f"fired {len(mine)} times (expected {self.findings})")
        if self.records is not None and sorted({f.record for f in mine}) != sorted(self.records):
            out.append(f"fired on {sorted({f.record for f in mine})} (expected {sorted(self.records)})")
        return out


_store = None
_ontology_size = 0


def _empty_store():
    """An in-memory store holding only the ontology. Loading the ontology is most of a small check
    run, so one store is emptied between runs instead of a new one being built for each; the size
    check proves nothing of the last run is left."""
    global _store, _ontology_size
    from prtkg import rdf
    from prtkg.store import Store
    if _store is None:
        _store = Store(None)
        _store.load_ontology()
        _ontology_size = len(_store)
    for graph in list(_store.named_graphs()):
        if graph != rdf.ONTOLOGY_GRAPH:
            _store.remove_graph(graph)
    if len(_store) != _ontology_size:
        raise RuntimeError(f"the case store holds {len(_store)} quads after emptying, not the ontology's {_ontology_size}")
    return _store


def _date(value, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CaseError(f"{where}: as_of must be a date like 2026-11-25, not {value!r}") from None


def read(rule: str, folder: Path) -> Case:
    where = folder / "case.yaml"
    kind = next((k for k in KINDS if folder.name == k or folder.name.startswith(k + "-")), None)
    if kind is None:
        raise CaseError(f"{folder}: a case folder is named fires, passes, fires-<name> or passes-<name>")
    if not where.is_file():
        raise CaseError(f"{where}: missing")
    doc = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise CaseError(f"{where}: must be a mapping")
    unknown = set(doc) - KEYS
    if unknown:
        raise CaseError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(KEYS)})")
    for key in ("as_of", "about"):
        if key not in doc:
            raise CaseError(f"{where}: {key} is required")
    about = doc["about"]
    if not isinstance(about, dict) or set(about) != {"zh", "en"} or not all(isinstance(v, str) and v for v in about.values()):
        raise CaseError(f"{where}: about needs a zh and an en line")
    if kind == "passes" and ({"findings", "records"} & set(doc)):
        raise CaseError(f"{where}: findings / records belong to a fires case")
    ref = doc.get("reference", "none")
    reference = {"none": None, "default": "bundled"}[ref] if ref in ("none", "default") else (folder / str(ref)).resolve()
    if isinstance(reference, Path) and not reference.is_dir():
        raise CaseError(f"{where}: reference must be default, none or a folder; {reference} is not a folder")
    records = doc.get("records")
    if records is not None and not (isinstance(records, list) and all(isinstance(r, str) for r in records)):
        raise CaseError(f"{where}: records must be a list of record ids")
    for key in ("findings", "rejected"):
        if key in doc and not (isinstance(doc[key], int) and doc[key] >= 0):
            raise CaseError(f"{where}: {key} must be a whole number")
    files = tuple(sorted(p for p in folder.iterdir() if p.is_file() and p.name != "case.yaml"))
    if not files:
        raise CaseError(f"{folder}: no record files")
    return Case(rule, folder, kind, _date(doc["as_of"], str(where)), reference, about,
                doc.get("findings"), tuple(records) if records is not None else None, doc.get("rejected", 0), files)


def cases(rule: str) -> list[Case]:
    """The cases of `rule`, fires first; [] when the rule has no folder."""
    folder = CASES / rule
    if not folder.is_dir():
        return []
    subs = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))),
                  key=lambda p: (not p.name.startswith("fires"), p.name))
    return [read(rule, p) for p in subs]


def rule_folders() -> list[str]:
    """Every per-rule folder here (to catch a folder whose rule left the catalogue)."""
    return sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name[:1].isupper())
