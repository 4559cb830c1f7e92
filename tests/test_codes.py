"""Code lists and their sub-lists come from ontology/codes.ttl only; queries and shapes read them."""
import re
from pathlib import Path

import pytest

from prtkg import codes

ROOT = Path(__file__).resolve().parent.parent


def test_submitted_bid_statuses_are_cardinals():
    # OCDS bidStatus.csv; Cardinal's get_submitted_bids keeps every status but invited and withdrawn.
    assert set(codes.scheme("bid-status").concepts) == {"invited", "pending", "valid", "disqualified", "withdrawn"}
    assert codes.members("bid-status", "submitted") == {"pending", "valid", "disqualified"}
    assert codes.not_submitted_bid_statuses() == {"invited", "withdrawn"}


def test_bid_statuses_match_the_ocds_schema():
    import json
    schema = json.loads((ROOT / "loaders/schemas/ocds/bids-release-schema.json").read_text(encoding="utf-8"))
    enum = {v for v in schema["definitions"]["Bid"]["properties"]["status"]["enum"] if v}
    assert set(codes.scheme("bid-status").concepts) == enum


def test_fill_replaces_placeholders_with_the_list():
    text = 'FILTER(?s IN ({{codes:bid-status/not submitted}})) FILTER(?s IN ({{ codes:bid-status/submitted }}))'
    assert codes.fill(text) == 'FILTER(?s IN ("invited", "withdrawn")) FILTER(?s IN ("disqualified", "pending", "valid"))'


def test_unknown_sub_list_is_a_clear_error():
    with pytest.raises(KeyError, match="no sub-list 'nope' of code list 'bid-status'"):
        codes.fill("{{codes:bid-status/nope}}")


def test_no_query_restates_the_bid_statuses():
    # The list is data: "invited" (a bid status only; withdrawn is a tender status too) restates it.
    pattern = re.compile(r'"invited"')
    offenders = [str(p.relative_to(ROOT)) for folder in ("rules", "shapes", "queries", "prtkg", "loaders")
                 for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ttl", ".rq")
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], offenders


@pytest.mark.parametrize("scheme_name, definition", [("award-status", "Award"), ("tender-status", "Tender")])
def test_award_and_tender_statuses_are_the_ocds_code_lists(scheme_name, definition):
    import json
    schema = json.loads((ROOT / "loaders/schemas/ocds/release-schema.json").read_text(encoding="utf-8"))
    enum = {v for v in schema["definitions"][definition]["properties"]["status"]["enum"] if v}
    assert set(codes.scheme(scheme_name).concepts) == enum


def test_award_and_tender_sub_lists():
    assert codes.non_members("award-status", "effective") == {"pending", "cancelled", "unsuccessful"}
    assert codes.non_members("award-status", "standing") == {"cancelled", "unsuccessful"}
    assert codes.non_members("tender-status", "proceeding") == {"cancelled", "unsuccessful", "withdrawn"}


def test_no_rule_or_shape_restates_the_award_or_tender_statuses():
    # "unsuccessful" is in every restatement of those lists (a single "cancelled" or "active" is a
    # comparison with one code, not a list).
    pattern = re.compile(r'"unsuccessful"')
    offenders = [str(p.relative_to(ROOT)) for folder in ("rules", "shapes", "queries", "prtkg", "loaders")
                 for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ttl", ".rq")
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], offenders
