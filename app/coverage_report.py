"""The supervision coverage report: the grid of prtkg.coverage with the rules engine's SUP-OVERLAP and
SUP-GAP firings marked on it (GET /supervision/coverage, the HTML report).

It sits above the rule families, which read prtkg.coverage's grid themselves, so neither imports
the other's importer.
"""
from __future__ import annotations

import datetime as dt

from prtkg.rules import supervision

from prtkg.clock import today
from prtkg.coverage import grid, power_rows, region_label, region_level


def coverage_matrix(store, on: dt.date | None = None) -> dict:
    """Trade type x (industry) x stage x region -> departments with their list rows; overlaps and gaps,
    by the lists in force on `on` (default: today in China).

    JSON-ready, for GET /supervision/coverage and the HTML report. Overlaps and gaps are the
    SUP-OVERLAP and SUP-GAP firings of the rules engine, so the matrix and the findings agree.
    """
    on = on or today()
    g = grid(store, [row for row in power_rows(store) if row.on(on)], on=on)
    fired = supervision.evaluate(g)
    overlaps = [supervision.overlap_evidence(pair) for pair in supervision.overlap_pairs(fired)]
    gaps = [f.m for f in fired if f.rule == "SUP-GAP"]
    overlap_cells = {(o["region"], m["tradeType"], m["industry"], m["stage"])
                     for o in overlaps for m in o["matters"]}
    gap_cells = {(x["region"], x["tradeType"], x["industry"], x["stage"]) for x in gaps}
    cells = []
    for matter, rows in g.cover.items():
        by_dept: dict[str, dict] = {}
        for row in rows:
            d = by_dept.setdefault(row.department, {
                "code": row.department, "name": row.department_name, "type": row.department_type,
                "rows": [], "kinds": set(), "lead": False})
            d["rows"].append(row.ref)
            d["kinds"].add(row.kind)
            d["lead"] = d["lead"] or row.lead
        key = (matter.region, matter.trade_type, matter.industry, matter.stage)
        cells.append({**matter.as_dict(),
                      "departments": [{**d, "kinds": sorted(d["kinds"])} for _, d in sorted(by_dept.items())],
                      "overlap": key in overlap_cells,
                      "gap": key in gap_cells})
    return {"tradeTypes": g.trade_types, "industries": g.industries, "stages": g.stages,
            "regions": [{"code": r, "label": region_label(r), "level": region_level(r)} for r in g.regions],
            "cells": cells, "overlaps": [{k: v for k, v in o.items() if k != "_focus"} for o in overlaps],
            "gaps": [{k: v for k, v in x.items() if k != "id"} for x in gaps]}
