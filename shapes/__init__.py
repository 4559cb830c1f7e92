"""SHACL shapes (one .ttl per area) and their validation; see README.md "Shapes"."""
from __future__ import annotations


def checks():
    from . import validate
    return [validate.check]
