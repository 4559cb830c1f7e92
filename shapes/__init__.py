"""SHACL shapes (one .ttl per area) and their validation; see README.md "Shapes".

Two engines over one data graph (datagraph.py), giving the same results (results.py): pySHACL per
record (validate.py) and the shapes compiled to SPARQL over the whole store (bulk.py). `check`
picks one by the number of records; neither engine imports the other.
"""
from __future__ import annotations

# Measured on demo records (fresh in-memory store, shapes already loaded): the compiled path costs
# ~0.33 s whatever the count up to 16 records (preparing the scratch graphs, ~30 queries), pySHACL
# ~40 ms per record (0.31 s for 8, 0.63 s for 16); the whole demo (478 records) takes ~4 s vs ~125 s.
BULK_MIN_RECORDS = 8


def checks():
    return [check]


def check(ctx) -> list:
    """All shape findings for the records under check: per record for a few, in the store for many."""
    if len(ctx.records) >= BULK_MIN_RECORDS:
        from . import bulk
        return bulk.check(ctx)
    from . import validate
    return validate.check_per_record(ctx)
