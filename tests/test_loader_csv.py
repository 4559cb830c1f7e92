"""CSV lists: powers-and-duties lists and credit records, good rows, bad rows, unusable files."""
from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from prtkg import rdf
from prtkg.errors import InputError
from prtkg.loaders import csvlists, load_paths
from prtkg.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "csv"
DEPT_FGW = "115300000152346861"
DEPT_ZJT = "11530000015234694U"


def load(name: str):
    return csvlists.load((FIXTURES / name).read_bytes(), name)


def objects(record, subject: NamedNode, prop: str) -> set:
    pred = rdf.p(prop) if ":" not in prop else NamedNode(prop)
    return {o for s, p, o in record.graph.triples if s == subject and p == pred}


def concept(scheme: str, code: str) -> NamedNode:
    return rdf.code(scheme, code)


def rejections(result) -> dict[str, list[tuple[str, str]]]:
    """Errors without the accepted values an unknown code lists (test_unknown_code_lists_the_accepted_values)."""
    return {r.record: [(e.field, e.error.split("; accepted: ")[0].split("; see docs/codelists.md")[0])
                       for e in r.errors] for r in result.rejected}


# -- powers and duties ---------------------------------------------------------------------------

def test_powers_list_is_one_record_with_a_power_per_row():
    result = load("powers_yn.csv")
    assert result.rejected == []
    [record] = result.records
    assert (record.id, record.kind, record.source) == ("powers_yn", "powers-list", "powers_yn.csv")
    assert record.graph.graph == NamedNode("urn:prtkg:graph:list:powers_yn")
    assert record.focus == rdf.iri("list", "powers_yn")
    rows = {s for s, p, o in record.graph.triples if p == rdf.RDF_TYPE and o == rdf.p("SupervisoryPower")}
    assert rows == {rdf.iri("list", "powers_yn", "row", n) for n in (1, 2, 3, 4)}


def test_power_row_maps_labels_to_concepts():
    [record] = load("powers_yn.csv").records
    row1 = rdf.iri("list", "powers_yn", "row", 1)
    assert objects(record, row1, "heldBy") == {rdf.entity(DEPT_FGW)}
    assert objects(record, row1, "powerKind") == {concept("power-kind", "administrative-penalty")}
    assert objects(record, row1, "tradeType") == {concept("trade-type", "works")}  # 工程建设 is an altLabel
    assert objects(record, row1, "industry") == {concept("industry", "energy")}
    assert objects(record, row1, "stage") == {concept("stage", "all")}  # 全过程
    assert objects(record, row1, "region") == {concept("region", "530000")}
    assert objects(record, row1, "isLead") == {Literal("true", datatype=NamedNode(rdf.XSD + "boolean"))}
    assert objects(record, row1, "listRow") == {rdf.literal(1)}
    assert objects(record, row1, "powerCode") == {Literal("YN-FGW-001")}
    [basis] = objects(record, row1, "hasLegalBasis")
    assert objects(record, basis, rdf.RDFS + "label") == {Literal("招标投标法 第七条")}
    assert objects(record, basis, rdf.RDF + "type") == {rdf.p("LegalBasis")}


def test_several_codes_in_a_cell_cover_each():
    [record] = load("powers_yn.csv").records
    row2 = rdf.iri("list", "powers_yn", "row", 2)
    assert objects(record, row2, "industry") == {concept("industry", "housing-municipal"),
                                                  concept("industry", "transport")}
    assert objects(record, row2, "stage") == {concept("stage", "tender"), concept("stage", "bid")}  # 招标、投标
    row4 = rdf.iri("list", "powers_yn", "row", 4)
    assert objects(record, row4, "tradeType") == {concept("trade-type", "works"),
                                                   concept("trade-type", "government-procurement")}


def test_empty_text_cells_and_empty_industry_are_left_out_not_rejected():
    [record] = load("powers_yn.csv").records
    row2 = rdf.iri("list", "powers_yn", "row", 2)
    assert objects(record, row2, "hasLegalBasis") == set()
    assert objects(record, row2, "isLead") == {Literal("false", datatype=NamedNode(rdf.XSD + "boolean"))}
    assert len(objects(record, row2, "hasDuty")) == 1
    row3 = rdf.iri("list", "powers_yn", "row", 3)
    assert objects(record, row3, "industry") == set()
    assert objects(record, row3, "hasDuty") == objects(record, row3, "hasAccountability") == set()
    assert objects(record, row3, "isLead") == set()


def test_departments_get_their_type_class_from_the_code_list():
    [record] = load("powers_yn.csv").records
    fgw = rdf.entity(DEPT_FGW)
    assert objects(record, fgw, rdf.RDF + "type") == {rdf.p("Department"), rdf.p("SupervisionDepartment")}
    assert objects(record, fgw, "uscc") == {Literal(DEPT_FGW)}
    assert objects(record, fgw, "name") == {Literal("云南省发展和改革委员会")}
    centre = rdf.entity("125300000152347234")
    assert rdf.p("TradingCentre") in objects(record, centre, rdf.RDF + "type")


def test_english_headers_in_any_order():
    result = load("powers_en.csv")
    assert result.rejected == []
    [record] = result.records
    row1 = rdf.iri("list", "powers_en", "row", 1)
    assert objects(record, row1, "powerCode") == {Literal("EN-001")}
    assert objects(record, row1, "heldBy") == {rdf.entity("11530100015234715H")}
    assert objects(record, row1, "stage") == {concept("stage", "evaluation")}
    assert objects(record, row1, "industry") == {concept("industry", "water")}


def test_bad_power_rows_are_rejected_one_by_one_and_the_list_keeps_the_rest():
    result = load("powers_bad.csv")
    assert rejections(result) == {
        "powers_bad.csv#1": [("部门类型", "unknown department-type code '监察部门'")],
        "powers_bad.csv#3": [("权力类型", "unknown power-kind code '行政审批'")],
        "powers_bad.csv#4": [("交易类型", "unknown trade-type code '铁路'")],
        "powers_bad.csv#5": [("行业", "unknown industry code '航天'")],
        "powers_bad.csv#6": [("环节", "unknown stage code '履约'")],
        "powers_bad.csv#8": [("区划", "unknown region code '539999'")],
        "powers_bad.csv#9": [("区划", "'昆明市' is not a GB/T 2260 division code")],
        "powers_bad.csv#10": [("牵头", "'也许' is not 是/否 (yes/no, true/false)")],
        "powers_bad.csv#11": [("部门编码", "empty; the department's credit code is required"),
                              ("交易类型", "empty; a code is required")],
        "powers_bad.csv#12": [("(row)", "has 15 cells, the header has 14 columns")],
    }
    [record] = result.records
    powers = {s for s, p, o in record.graph.triples if p == rdf.RDF_TYPE and o == rdf.p("SupervisoryPower")}
    assert powers == {rdf.iri("list", "powers_bad", "row", 2)}
    # Nothing of a rejected row is left behind, not even its department's name.
    assert not [t for t in record.graph.triples if t[0] == rdf.iri("list", "powers_bad", "row", 3)]


def test_invalid_department_code_does_not_reject_the_row():
    data = (FIXTURES / "powers_en.csv").read_bytes().replace(b"11530100015234715H", b"ABC")
    result = csvlists.load(data, "p.csv")
    assert result.rejected == []
    [record] = result.records
    assert objects(record, rdf.entity("ABC"), "uscc") == {Literal("ABC")}


# -- credit records ------------------------------------------------------------------------------

def test_credit_records_one_record_per_row():
    result = load("credit_yn.csv")
    assert result.rejected == []
    ids = [r.id for r in result.records]
    assert ids == ["91530100216584033Q-20260115-serious-dishonesty",
                   "91530100216584041K-20260203-administrative-penalty",
                   "91530100216584041K-20251201-good-credit"]
    first = result.records[0]
    assert (first.kind, first.source) == ("credit-record", "credit_yn.csv#1")
    assert first.graph.graph == NamedNode("urn:prtkg:graph:credit:91530100216584033Q-20260115-serious-dishonesty")
    node = rdf.iri("credit", first.id)
    assert first.focus == node
    assert objects(first, node, "subject") == {rdf.entity("91530100216584033Q")}
    assert objects(first, node, "creditRecordType") == {concept("credit-record-type", "serious-dishonesty")}
    assert objects(first, node, "decidedBy") == {rdf.entity(DEPT_FGW)}
    assert objects(first, node, "decisionDate") == {rdf.literal(__import__("datetime").date(2026, 1, 15))}
    assert objects(first, node, "validUntil") == {Literal("2029-01-14", datatype=NamedNode(rdf.XSD + "date"))}
    assert objects(first, node, "triggersMeasure") == {concept("measure", "bid-restriction"),
                                                       concept("measure", "public-disclosure")}
    assert objects(first, node, "appliesToTradeType") == {concept("trade-type", "works")}


def test_credit_record_date_forms_names_and_open_ended_validity():
    second, third = load("credit_yn.csv").records[1:]
    node = rdf.iri("credit", second.id)
    assert objects(second, node, "validFrom") == {Literal("2026-02-03", datatype=NamedNode(rdf.XSD + "date"))}
    assert objects(second, node, "validUntil") == set()
    assert objects(second, node, "decidedByName") == {Literal("昆明市财政局")}
    assert objects(second, node, "decidedBy") == set()
    # A measure label containing 、 is one measure; trade types split on the full-width ；.
    assert objects(second, node, "triggersMeasure") == {concept("measure", "land-mining-restriction")}
    assert objects(second, node, "appliesToTradeType") == {concept("trade-type", "government-procurement"),
                                                           concept("trade-type", "land-use-right")}
    assert objects(third, rdf.iri("credit", third.id), "decisionDate") == {
        Literal("2025-12-01", datatype=NamedNode(rdf.XSD + "date"))}


def test_record_id_column_and_duplicates_within_a_file():
    result = load("credit_ids.csv")
    assert [r.id for r in result.records] == ["CR-2026-001", "91530100216584033Q-20260115-serious-dishonesty"]
    assert rejections(result) == {
        "credit_ids.csv#3": [("记录编号", "duplicate record id 'CR-2026-001': row 1 has it already")]}


def test_bad_credit_rows():
    result = load("credit_bad.csv")
    assert rejections(result) == {
        "credit_bad.csv#1": [("统一社会信用代码", "'915301002165840410' is not a valid unified social credit code: "
                              "check character is '0', expected 'K' (GB 32100-2015)")],
        "credit_bad.csv#2": [("统一社会信用代码", "'91530100216584033' is not a valid unified social credit code: "
                              "has 17 characters, not 18")],
        "credit_bad.csv#3": [("记录类型", "unknown credit-record-type code '黑名单'")],
        "credit_bad.csv#4": [("认定日期", "'2026-02-30' is not a real calendar date")],
        "credit_bad.csv#5": [("认定日期", "'15.01.2026' is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)")],
        "credit_bad.csv#6": [("有效期止", "2025-12-31 is before 有效期起 2026-01-15")],
        "credit_bad.csv#8": [("适用交易类型", "unknown trade-type code '航天'")],
        "credit_bad.csv#10": [("统一社会信用代码", "duplicate record id "
                               "'91530100216584033Q-20260116-serious-dishonesty': row 9 has it already")],
        "credit_bad.csv#11": [("统一社会信用代码", "'91530100216584041k' is not a valid unified social credit code: "
                               "contains characters outside the code's alphabet: 'k' "
                               "(I, O, S, V, Z and lower case are not used)")],
    }
    # an unknown measure keeps the record (row 7), with a warning: see test_credit_measures_in_words
    assert [r.id for r in result.records] == ["91530100216584033Q-20260115-serious-dishonesty",
                                              "91530100216584033Q-20260116-serious-dishonesty"]


def test_unknown_code_lists_the_accepted_values():
    errors = {e.field: e.error for r in load("credit_bad.csv").rejected for e in r.errors}
    assert errors["记录类型"].endswith("serious-dishonesty (严重失信主体 / serious dishonesty)") or \
        "serious-dishonesty (" in errors["记录类型"]
    assert "; accepted: " in errors["适用交易类型"] and "works (" in errors["适用交易类型"]
    assert "see docs/codelists.md" in rejections_raw(load("powers_bad.csv"))["powers_bad.csv#8"][0][1]


def rejections_raw(result):
    return {r.record: [(e.field, e.error) for e in r.errors] for r in result.rejected}


def test_credit_measures_in_words(tmp_path):
    from prtkg.app.checking import check
    head = "统一社会信用代码,主体名称,记录类型,认定部门,认定日期,有效期起,有效期止,惩戒措施,适用交易类型,依据\n"
    rows = ("91530100216584033Q,丙公司,serious-dishonesty,,2026-01-15,2026-01-15,,"
            "限制参与依法必须招标项目投标、限制参与依法必须进行招标的项目的投标活动,works,条例\n")
    (tmp_path / "credit.csv").write_text(head + rows, encoding="utf-8")
    result = check([tmp_path], reference=None)
    assert result.loaded.rejected == [] and len(result.loaded.records) == 1
    [dq] = [f for f in result.findings if f.rule == "DATA-QUALITY"]
    assert dq.evidence["field"] == "惩戒措施" and dq.evidence["problem"] == "unknown-measure"
    assert dq.evidence["value"] == "限制参与依法必须进行招标的项目的投标活动"
    assert "限制参与依法必须进行招标的项目的投标活动" in dq.message["zh"] and "措施代码表" in dq.message["zh"]
    triples = result.loaded.records[0].graph.triples
    assert any(o.value.endswith("/measure/bid-restriction") for _, p, o in triples if p.value.endswith("triggersMeasure"))


def test_bom_and_crlf_are_tolerated():
    result = load("credit_bom_crlf.csv")
    assert result.rejected == []
    assert [r.id for r in result.records] == ["91530100216584033Q-20260115-good-credit"]


def test_same_row_gives_same_digest_in_any_file():
    a = load("credit_ids.csv").records[1]
    b = csvlists.load((FIXTURES / "credit_ids.csv").read_bytes(), "other.csv").records[1]
    assert a.digest == b.digest and a.source != b.source


# -- unusable files ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("unknown_column.csv", "unknown_column.csv: unrecognised columns for a powers-and-duties list "
                           "(权力和责任清单): 备注, 说明"),
    ("not_a_list.csv", "not_a_list.csv: header matches no known list (expected a powers-and-duties list "
                       "or a credit record list; see loaders/schemas/README.md); columns: a, b, c"),
    ("powers_gbk.csv", "powers_gbk.csv: not valid UTF-8 at byte 0 (it looks like GBK/GB18030; re-save it as UTF-8)"),
])
def test_unusable_files(name, message):
    with pytest.raises(InputError) as e:
        load(name)
    assert str(e.value) == message


def test_missing_required_column():
    data = "统一社会信用代码,主体名称,记录类型\n91530100216584033Q,A,good-credit\n".encode()
    with pytest.raises(InputError) as e:
        csvlists.load(data, "c.csv")
    assert str(e.value) == ("c.csv: missing columns for a credit record list (信用记录): 认定部门 (decidedBy), "
                            "认定日期 (decisionDate), 有效期起 (validFrom), 有效期止 (validUntil), "
                            "惩戒措施 (measures), 适用交易类型 (tradeTypes), 依据 (basis)")


def test_same_column_twice():
    header = (FIXTURES / "credit_yn.csv").read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(InputError) as e:
        csvlists.load((header + ",uscc\n").encode(), "c.csv")
    assert str(e.value) == "c.csv: columns '统一社会信用代码' and 'uscc' are the same column"


def test_broken_quoting():
    header = (FIXTURES / "credit_yn.csv").read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(InputError) as e:
        csvlists.load((header + '\n91530100216584033Q,A,good-credit,,2026-01-15,,,,,\n"abc"x,\n').encode(), "c.csv")
    assert str(e.value) == "c.csv: not valid CSV at line 3: ',' expected after '\"'"


# -- through the dispatcher and into a store -----------------------------------------------------

def test_loaded_lists_go_into_the_store_in_their_own_graphs():
    result = load_paths([FIXTURES / "powers_yn.csv", FIXTURES / "credit_yn.csv"])
    assert result.rejected == []
    store = Store(None)
    store.replace_records(result.records, agent="test")
    rows = store.select("SELECT ?g (COUNT(?p) AS ?n) WHERE { GRAPH ?g { ?p a prtkg:SupervisoryPower } } GROUP BY ?g")
    assert rows == [{"g": "urn:prtkg:graph:list:powers_yn", "n": 4}]
    credit = store.select("SELECT ?r WHERE { GRAPH ?g { ?r a prtkg:CreditRecord } } ORDER BY ?r")
    assert len(credit) == 3
