"""Code lists and their sub-lists come from ontology/codes.ttl only; queries and shapes read them."""
from pathlib import Path

import pytest

from prtkg import codes

ROOT = Path(__file__).resolve().parent.parent


def test_submitted_bid_statuses_are_cardinals():
    # OCDS bidStatus.csv; Cardinal's get_submitted_bids keeps every status but invited and withdrawn.
    assert set(codes.scheme("bid-status").concepts) == {"invited", "pending", "valid", "disqualified", "withdrawn"}
    assert codes.members("bid-status", "submitted") == {"pending", "valid", "disqualified"}
    assert codes.not_submitted_bid_statuses() == {"invited", "withdrawn"}


def test_fill_replaces_placeholders_with_the_list():
    text = 'FILTER(?s IN ({{codes:bid-status/not submitted}})) FILTER(?s IN ({{ codes:bid-status/submitted }}))'
    assert codes.fill(text) == 'FILTER(?s IN ("invited", "withdrawn")) FILTER(?s IN ("disqualified", "pending", "valid"))'


def test_unknown_sub_list_is_a_clear_error():
    with pytest.raises(KeyError, match="no sub-list 'nope' of code list 'bid-status'"):
        codes.fill("{{codes:bid-status/nope}}")


@pytest.mark.parametrize("word", [
    # "invited" (a bid status only; withdrawn is a tender status too) restates the bid statuses;
    '"invited"',
    # "unsuccessful" is in every restatement of the award and tender statuses (a single "cancelled"
    # or "active" is a comparison with one code, not a list).
    '"unsuccessful"',
])
def test_no_query_or_shape_restates_a_status_list(word):
    # The lists are data (ontology/codes.ttl), read through prtkg.codes.
    offenders = [str(p.relative_to(ROOT)) for folder in ("rules", "shapes", "queries", "prtkg", "loaders")
                 for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".ttl", ".rq")
                 and word in p.read_text(encoding="utf-8")]
    assert offenders == [], offenders


@pytest.mark.parametrize("scheme_name, schema_file, definition", [
    ("bid-status", "bids-release-schema.json", "Bid"), ("award-status", "release-schema.json", "Award"),
    ("tender-status", "release-schema.json", "Tender")])
def test_statuses_are_the_ocds_code_lists(scheme_name, schema_file, definition):
    import json
    schema = json.loads((ROOT / "loaders/schemas/ocds" / schema_file).read_text(encoding="utf-8"))
    enum = {v for v in schema["definitions"][definition]["properties"]["status"]["enum"] if v}
    assert set(codes.scheme(scheme_name).concepts) == enum


def test_award_and_tender_sub_lists():
    assert codes.non_members("award-status", "effective") == {"pending", "cancelled", "unsuccessful"}
    assert codes.non_members("award-status", "standing") == {"cancelled", "unsuccessful"}
    assert codes.non_members("tender-status", "proceeding") == {"cancelled", "unsuccessful", "withdrawn"}
