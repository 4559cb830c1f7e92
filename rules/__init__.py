"""The rules engine: cross-record rules, one module per rule family, parameters in catalogue.yaml."""
from __future__ import annotations


def checks():
    from . import credit_codes
    return [credit_codes.check]
