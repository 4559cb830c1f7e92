"""The rules engine: cross-record rules, one module (and durable-rules ruleset) per rule family,
parameters in catalogue.yaml, punishment measures in measures.yaml; rules/engine.py wraps durable-rules."""
from __future__ import annotations


def checks():
    from . import cardinal, collusion, complaints, credit, credit_codes, dataquality, oversight, risk, supervision
    return [credit_codes.check, supervision.check, credit.check, oversight.check_inspections,
            oversight.check_plans, complaints.check, risk.check, collusion.check, cardinal.check, dataquality.check]


def gate_free():
    """The families that never read the applicability gate (Context.applicable): a rules worker may
    start them before it has made the gate's decisions (app/parallel.py). A family missing here only
    starts later; one wrongly here would make the decisions again in its own process."""
    from . import cardinal, complaints, credit, credit_codes, dataquality, oversight
    return [cardinal.check, credit_codes.check, credit.check, oversight.check_inspections, oversight.check_plans,
            complaints.check, dataquality.check]
