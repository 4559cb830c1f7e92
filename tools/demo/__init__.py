"""The seeded demo dataset: `python -m tools.demo [--seed N] [--projects N] [--out DIR]`
(from the repository root). A development tool: not part of the installed package.

Hundreds of trading projects in Yunnan (OCDS releases with our extension), market entities with
valid credit codes, credit records, complaints, clues, inspections, plans and sanction executions.
Most records comply; a few carry deliberate, realistic problems, one or more per rule family, and
`demo-planted.json` (beside the demo folder) names each of them ({rule, record, note}) so tests can assert that the rule fires.

Supervisors, handlers and inspecting departments are the departments of the bundled powers-and-duties
list (data/reference), so the demo and the reference data agree on who supervises what.
The same seed gives the same bytes: one random.Random, fixed dates, sorted output, and the working
days of the calendar without any override file.

Split by what it plants: world.py (entities, departments, the random stream), projects.py
(projects and their releases), events.py (credit, complaints, clues, inspections), lists.py
(powers-and-duties lists, entity relations), anomalies.py (Cardinal's patterns).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

from .anomalies import Anomalies
from .events import Events
from .lists import Lists
from .projects import releases
from .world import CREDIT_HEADER, DEFAULT_PROJECTS, DEFAULT_SEED, PARTNER_FILE, POWERS_HEADER, RELATIONS_HEADER


class Dataset(Events, Lists, Anomalies):
    def build(self) -> None:
        self.credit_subjects()
        self.plant_projects()
        self.fill()
        self._describe_concentration()
        self.by_ocid = {p.ocid: p for p in self.projects}
        self.events: list[dict] = []
        self.credit_rows: list[list[str]] = []
        self.make_credit()
        self.make_complaints()
        self.make_clues()
        self.make_plans_and_inspections()


# -- output ------------------------------------------------------------------------------------------

def _csv(header: str, rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header.split(","))
    w.writerows(rows)
    return buf.getvalue()


def _jsonl(objects: list[dict]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects)


def generate(out_dir: str | Path, seed: int = DEFAULT_SEED, projects: int = DEFAULT_PROJECTS) -> dict[str, Path]:
    """Write the demo dataset into out_dir; the same seed and count give the same bytes."""
    if projects < 150:
        raise ValueError(f"--projects {projects}: the planted problems and their neighbours need at least 150")
    g = Dataset(seed, projects)
    g.build()
    overlay = g.overlay()
    partner = g.partner_list()
    relations = g.relations()
    g.cardinal_plants()
    rels = [r for p in sorted(g.projects, key=lambda p: p.ocid) for r in releases(p, g.cal)]
    events = sorted(g.events, key=lambda e: (e["recordType"], e["id"]))
    files = {
        "releases.jsonl": _jsonl(rels),
        "events.jsonl": _jsonl(events),
        "credit-records.csv": _csv(CREDIT_HEADER, sorted(g.credit_rows, key=lambda r: r[-1])),
        "powers-demo-overlay.csv": _csv(POWERS_HEADER, overlay),
        PARTNER_FILE: _csv(POWERS_HEADER, partner),
        "entity-relations.csv": _csv(RELATIONS_HEADER, relations),
        # The manifest of planted problems is not a record: it lives beside the folder, not in it,
        # so that `prtkg check data/demo` reads records only.
        "../demo-planted.json": json.dumps(sorted((p.as_json() for p in g.planted), key=lambda p: (p["rule"], p["record"],
                                                                                          p["note"])),
                                   ensure_ascii=False, indent=1) + "\n",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, text in files.items():
        path = (out / name).resolve()
        path.write_text(text, encoding="utf-8", newline="\n")
        written[name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--out", default="data/demo")
    args = parser.parse_args(argv)
    try:
        written = generate(args.out, args.seed, args.projects)
    except (ValueError, OSError) as e:
        parser.exit(2, f"tools.demo: {e}\n")
    for name, path in written.items():
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0

