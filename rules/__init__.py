"""The rules engine: cross-record rules, one module (and durable-rules ruleset) per rule family,
parameters in catalogue.yaml, punishment measures in measures.yaml; rules/engine.py wraps durable-rules."""
from __future__ import annotations


def checks():
    from . import cardinal, collusion, complaints, credit, credit_codes, dataquality, oversight, risk, supervision
    return [credit_codes.check, supervision.check, credit.check, oversight.check_inspections,
            oversight.check_plans, complaints.check, risk.check, collusion.check, cardinal.check, dataquality.check]
