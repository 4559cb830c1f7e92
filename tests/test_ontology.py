"""The ontology, its code lists and divisions: well-formed, documented, in step with the vocabulary
page and the code, and consistent under HermiT together with the bundled reference data."""
from __future__ import annotations

import ast
import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, Namespace

ROOT = Path(__file__).resolve().parent.parent
ONTO = ROOT / "ontology"
PRTKG = Namespace("https://w3id.org/prtkg/ontology#")
CODE = "https://w3id.org/prtkg/code/"
ID = "https://w3id.org/prtkg/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"

# A prtkg: term in text, but not the middle of urn:prtkg:graph:... or a prefix declaration.
TERM = re.compile(r"(?<![\w:/#-])prtkg:([A-Za-z][A-Za-z0-9_]*)")
# Every folder whose files read or write prtkg: terms: code, saved queries and the SHACL shapes.
CODE_DIRS = ("prtkg", "loaders", "rules", "api", "queries", "shapes")
TERM_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTO / "prtkg.ttl")


@pytest.fixture(scope="module")
def codes() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTO / "codes.ttl")


def defined_terms(g: rdflib.Graph) -> set[str]:
    return {str(s)[len(PRTKG):] for kind in TERM_KINDS for s in g.subjects(RDF.type, kind)
            if str(s).startswith(str(PRTKG))}


# ---------------------------------------------------------------- (c) labels and definitions
def test_every_term_has_zh_en_label_and_definition(onto):
    missing = []
    for local in sorted(defined_terms(onto)):
        term = PRTKG[local]
        labels = {lit.language for lit in onto.objects(term, RDFS.label)}
        defs = {lit.language for pred in (SKOS.definition, RDFS.comment) for lit in onto.objects(term, pred)}
        for lang in ("zh", "en"):
            if lang not in labels:
                missing.append(f"prtkg:{local} has no rdfs:label@{lang}")
            if lang not in defs:
                missing.append(f"prtkg:{local} has no definition@{lang}")
    assert not missing, "\n".join(missing)


def test_each_term_is_one_kind_and_has_a_header(onto):
    kinds = {}
    for kind in TERM_KINDS:
        for s in onto.subjects(RDF.type, kind):
            kinds.setdefault(s, []).append(kind)
    punned = {str(s): k for s, k in kinds.items() if str(s).startswith(str(PRTKG)) and len(k) > 1}
    assert not punned, f"terms declared as more than one kind: {punned}"
    header = next(onto.subjects(RDF.type, OWL.Ontology))
    assert onto.value(header, OWL.versionInfo) is not None
    assert {t.language for t in onto.objects(header, rdflib.DCTERMS.title)} >= {"zh", "en"}
    assert onto.value(header, rdflib.DCTERMS.license) is not None


@pytest.mark.parametrize("name", sorted(p.name for p in ONTO.glob("*.ttl")))
def test_each_ontology_file_has_a_versioned_header(name):
    # Every published file (generated ones too) says what it is, which version, and under which licence.
    g = rdflib.Graph().parse(ONTO / name)
    (header,) = g.subjects(RDF.type, OWL.Ontology)
    assert g.value(header, OWL.versionInfo) is not None and g.value(header, OWL.versionIRI) is not None
    assert {t.language for t in g.objects(header, rdflib.DCTERMS.title)} >= {"zh", "en"}
    assert g.value(header, rdflib.DCTERMS.license) is not None


def test_value_types_follow_the_vocabulary(onto):
    # Dates are calendar days, amounts exact decimals, code-list values concept IRIs (docs/vocabulary.md "Values").
    expect = {
        "tenderPeriodStart": XSD + "date", "awardDate": XSD + "date", "validUntil": XSD + "date",
        "tenderPeriodEndDateTime": XSD + "dateTime", "amount": XSD + "decimal", "year": XSD + "gYear",
        "isLead": XSD + "boolean", "joint": XSD + "boolean",
        "evidence": "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON",
    }
    for local, rng in expect.items():
        assert (PRTKG[local], RDF.type, OWL.DatatypeProperty) in onto, local
        assert str(onto.value(PRTKG[local], RDFS.range)) == rng, local
    for local in ("tradeType", "industry", "region", "stage", "powerKind", "creditRecordType",
                  "triggersMeasure", "appliesToTradeType", "measure"):
        assert (PRTKG[local], RDF.type, OWL.ObjectProperty) in onto, local
    # Used on tenders, bids, awards and contracts alike: a domain would retype them all.
    for local in ("amount", "currency", "status", "localId", "region", "hasDocument", "tradeType"):
        assert onto.value(PRTKG[local], RDFS.domain) is None, local


# ---------------------------------------------------------------- (d) vocabulary page and code in step
def test_vocabulary_page_is_generated_and_fresh():
    sys.path.insert(0, str(ROOT / "scripts"))
    import vocabulary_doc
    page = (ROOT / "docs" / "vocabulary.md").read_text(encoding="utf-8")
    assert page == vocabulary_doc.render(), "docs/vocabulary.md is stale: run python scripts/vocabulary_doc.py"


def test_vocabulary_page_terms_are_defined(onto):
    used = set(TERM.findall((ROOT / "docs" / "vocabulary.md").read_text(encoding="utf-8")))
    assert used, "docs/vocabulary.md names no prtkg: term"
    missing = sorted(used - defined_terms(onto))
    assert not missing, f"used in docs/vocabulary.md but not defined in ontology/prtkg.ttl: {missing}"


def _terms_in_python(source: str) -> set[str]:
    """prtkg terms a module writes: p("x") / rdf.p("x"), RecordGraph.add(s, "x", o), .type(s, "X"),
    P.x where P = Namespace(rdf.PRTKG), PRTKG + "x" (or an alias of PRTKG), and prtkg:x inside any
    string (SPARQL)."""
    found = set(TERM.findall(source))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # A module someone is still writing: fall back to the plain p("x") pattern.
        return found | set(re.findall(r"\bp\(\s*[\"']([A-Za-z]\w*)[\"']\s*\)", source))
    namespaces = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                  and isinstance(node.value, ast.Call) and "Namespace" in ast.unparse(node.value.func)
                  and re.search(r"PRTKG|prtkg/ontology", ast.unparse(node.value))
                  for t in node.targets if isinstance(t, ast.Name)}
    aliases = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and re.fullmatch(r"(\w+\.)?PRTKG", ast.unparse(node.value)) for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)
                and isinstance(node.right, ast.Constant) and isinstance(node.right.value, str)
                and re.fullmatch(r"[A-Za-z]\w*", node.right.value)
                and (re.fullmatch(r"(\w+\.)?PRTKG", ast.unparse(node.left)) or ast.unparse(node.left) in aliases)):
            found.add(node.right.value)
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in namespaces and not node.attr.startswith("_") and node.attr != "term"):
            found.add(node.attr)
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        args = node.args
        if name == "p" and len(args) == 1:
            arg = args[0]
        elif (name == "add" and len(args) == 3) or (name == "type" and len(args) == 2):
            arg = args[1]
        else:
            continue
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.fullmatch(r"[A-Za-z]\w*", arg.value):
            found.add(arg.value)
    return found


def test_python_unit_of_term_scanner():
    src = ('g.add(node, "localId", x)\ng.type(node, "Tender")\nrdf.p("hasLot")\nseen.add("x")\n'
           'q = "?s prtkg:ocid ?o . <urn:prtkg:graph:x>"\nP = Namespace(rdf.PRTKG)\nP.region\nQ.other\n'
           '_P = rdf.PRTKG\nox.NamedNode(_P + "dayNumber")\nrdf.PRTKG + "rule"\nOTHER + "nothing"\n')
    assert _terms_in_python(src) == {"localId", "Tender", "hasLot", "ocid", "region", "dayNumber", "rule"}


def test_terms_used_in_code_are_defined(onto):
    defined = defined_terms(onto)
    missing: dict[str, set[str]] = {}
    scanned = 0
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".py", ".rq", ".yaml", ".yml", ".ttl"} or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            terms = _terms_in_python(text) if path.suffix == ".py" else set(TERM.findall(text))
            scanned += 1
            for t in terms - defined:
                missing.setdefault(t, set()).add(str(path.relative_to(ROOT)))
    assert scanned, "no code found to scan"
    assert not missing, "prtkg terms used in code but not defined in ontology/prtkg.ttl:\n" + "\n".join(
        f"  prtkg:{t}  ({', '.join(sorted(files))})" for t, files in sorted(missing.items()))


def _datatype(literal: ox.Literal) -> str:
    return "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString" if literal.language else literal.datatype.value


def test_every_datatype_property_has_a_range(onto):
    missing = sorted(str(s)[len(PRTKG):] for s in onto.subjects(RDF.type, OWL.DatatypeProperty)
                     if str(s).startswith(str(PRTKG)) and onto.value(s, RDFS.range) is None)
    assert not missing, f"datatype properties without rdfs:range in ontology/prtkg.ttl: {missing}"


def _load_quietly(path: Path):
    """Records of one fixture file; a file meant to be unusable (InputError) gives none."""
    from prtkg.errors import InputError
    from prtkg.loaders import load_paths
    try:
        return load_paths([path]).records
    except InputError:
        return []


def test_loaded_records_use_defined_terms_of_the_right_kind(onto):
    """What the loaders actually write, not just what the code mentions: every prtkg: predicate and
    class is defined, object properties point at nodes and datatype properties hold literals (HermiT
    would quietly drop a literal given to an object property)."""
    objects = {str(s) for s in onto.subjects(RDF.type, OWL.ObjectProperty)}
    data = {str(s) for s in onto.subjects(RDF.type, OWL.DatatypeProperty)}
    defined = {str(PRTKG[t]) for t in defined_terms(onto)}
    # The declared range of a datatype property is what the loaders write, literal for literal.
    ranges = {p: str(onto.value(rdflib.URIRef(p), RDFS.range)) for p in data if onto.value(rdflib.URIRef(p), RDFS.range)}
    files = [ROOT / "data" / "reference"] + sorted(p for p in (ROOT / "tests" / "fixtures").rglob("*") if p.is_file())
    problems: set[str] = set()
    checked = 0
    for path in files:
        for record in _load_quietly(path):
            if record.kind == "rdf":
                continue  # RDF given as such is the submitter's vocabulary, passed through unmapped
            for q in record.graph.quads():
                checked += 1
                pred, obj = q.predicate.value, q.object
                where = f"{path.relative_to(ROOT)} ({record.id})"
                if pred.startswith(str(PRTKG)) and pred not in defined:
                    problems.add(f"undefined predicate <{pred}> in {where}")
                if pred == str(RDF.type) and obj.value.startswith(str(PRTKG)) and obj.value not in defined:
                    problems.add(f"undefined class <{obj.value}> in {where}")
                if pred in objects and isinstance(obj, ox.Literal):
                    problems.add(f"object property <{pred}> given a literal in {where}")
                if pred in data and not isinstance(obj, ox.Literal):
                    problems.add(f"datatype property <{pred}> given a node in {where}")
                elif pred in ranges and _datatype(obj) != ranges[pred]:
                    problems.add(f"<{pred}> has range <{ranges[pred]}> but is given a <{_datatype(obj)}> in {where}")
    assert checked, "no records loaded from data/reference or tests/fixtures"
    assert not problems, "\n".join(sorted(problems))


# ---------------------------------------------------------------- code lists
# design.md "Record formats" fixes these codes; codes.ttl may add altLabels, never drop a code.
DESIGN_CODES = {
    "trade-type": {"works", "government-procurement", "land-use-right", "mining-right", "state-assets",
                   "drug-procurement", "other", "all"},
    "industry": {"housing-municipal", "transport", "water", "energy", "other", "all"},
    "stage": {"tender", "bid", "opening", "evaluation", "award", "contract", "all"},
    "power-kind": {"administrative-penalty", "administrative-inspection", "administrative-coercion",
                   "administrative-licensing", "administrative-confirmation", "other"},
    "department-type": {"supervision", "management", "trading-centre", "discipline", "audit"},
    "credit-record-type": {"serious-dishonesty", "administrative-penalty", "good-credit"},
}


def _concepts(g: rdflib.Graph, scheme: str) -> dict[str, rdflib.URIRef]:
    return {str(g.value(c, SKOS.notation)): c for c in g.subjects(SKOS.inScheme, rdflib.URIRef(CODE + scheme))}


def test_code_schemes_hold_the_design_codes(codes):
    for scheme, expected in DESIGN_CODES.items():
        s = rdflib.URIRef(CODE + scheme)
        assert (s, RDF.type, SKOS.ConceptScheme) in codes, scheme
        assert {lit.language for lit in codes.objects(s, RDFS.label)} >= {"zh", "en"}, scheme
        found = _concepts(codes, scheme)
        assert set(found) == expected, scheme
        for code, c in found.items():
            assert str(c) == f"{CODE}{scheme}/{code}"
            assert {lit.language for lit in codes.objects(c, SKOS.prefLabel)} >= {"zh", "en"}, c
    assert set(_concepts(codes, "measure")) >= {
        "bid-restriction", "procurement-ban", "land-mining-restriction", "state-asset-restriction",
        "drug-procurement-restriction", "public-disclosure", "qualification-restriction", "financing-restriction"}


def test_code_links_point_at_defined_things(codes, onto):
    # "all" is one way in every dimension: it covers each other code of its scheme (issue #22)
    for scheme in ("stage", "trade-type", "industry"):
        found = _concepts(codes, scheme)
        assert set(codes.objects(found["all"], PRTKG.covers)) == {c for k, c in found.items() if k != "all"}, scheme
    assert not list(codes.objects(None, SKOS.broader))
    classes = set(onto.subjects(RDF.type, OWL.Class))
    for code, c in _concepts(codes, "department-type").items():
        cls = codes.value(c, PRTKG.departmentClass)
        assert cls in classes and (cls, RDFS.subClassOf, PRTKG.Department) in onto, code
    trade_types = set(_concepts(codes, "trade-type").values())
    measures = _concepts(codes, "measure")
    for c in measures.values():
        assert (c, RDF.type, PRTKG.PunishmentMeasure) in codes
        assert set(codes.objects(c, PRTKG.restrictsTradeType)) <= trade_types
    assert set(codes.objects(measures["land-mining-restriction"], PRTKG.restrictsTradeType)) == {
        rdflib.URIRef(CODE + "trade-type/land-use-right"), rdflib.URIRef(CODE + "trade-type/mining-right")}


def test_codes_resolve_chinese_and_english_spellings():
    from prtkg import codes as code_lists
    assert code_lists.scheme("stage").resolve("全过程").code == "all"
    assert code_lists.scheme("stage").resolve(" Opening ").code == "opening"
    assert code_lists.scheme("power-kind").resolve("行政处罚").code == "administrative-penalty"
    assert code_lists.scheme("department-type").resolve("公共资源交易中心").code == "trading-centre"
    assert code_lists.scheme("credit-record-type").resolve("严重失信").code == "serious-dishonesty"
    assert code_lists.scheme("stage").resolve("投诉") is None


# ---------------------------------------------------------------- divisions
def test_divisions_hierarchy_levels_and_yunnan():
    from prtkg import codes as code_lists
    regions = code_lists.scheme("region")
    by_level: dict[str, int] = {}
    for code, c in regions.concepts.items():
        assert re.fullmatch(r"\d{6}", code) and c.labels.get("zh"), code
        by_level[c.level] = by_level.get(c.level, 0) + 1
        chain = code_lists.region_chain(code)
        top = regions.concepts[chain[-1]]
        assert top.level == "province" and chain[-1][:2] == code[:2], (code, chain)
        if c.level == "county":
            assert 2 <= len(chain) <= 3, code
    assert by_level["province"] >= 31 and by_level["prefecture"] > 300 and by_level["county"] > 2800
    yunnan = [c for c in regions.concepts.values() if c.code.startswith("53")]
    assert sorted(c.level for c in yunnan).count("prefecture") == 16
    assert sum(c.level == "county" for c in yunnan) == 129
    assert code_lists.region_chain("530102") == ["530102", "530100", "530000"]
    # A county directly under its province (Hainan) has no prefecture in between.
    assert code_lists.region_chain("469007") == ["469007", "460000"]


def test_divisions_file_is_what_the_generator_makes(tmp_path):
    out = tmp_path / "divisions.ttl"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_divisions.py"), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert out.read_text(encoding="utf-8") == (ONTO / "divisions.ttl").read_text(encoding="utf-8"), \
        "ontology/divisions.ttl differs from its generator's output: run python scripts/gen_divisions.py"


# ---------------------------------------------------------------- HermiT
def _ntriples(*sources) -> bytes:
    """Turtle files and quad iterables as one N-Triples document (owlready2 reads no Turtle)."""
    store = ox.Store()
    for src in sources:
        if isinstance(src, Path):
            store.load(src.read_bytes(), format=ox.RdfFormat.TURTLE)
        else:
            store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in src)
    return ox.serialize(store.quads_for_pattern(None, None, None, None), format=ox.RdfFormat.N_TRIPLES)


def _hermit(data: bytes) -> None:
    """Run HermiT on the data in a world of its own; raises OwlReadyInconsistentOntologyError."""
    world = owlready2.World()
    try:
        world.get_ontology("urn:prtkg:test").load(fileobj=io.BytesIO(data), format="ntriples")
        # xsd:date, xsd:gYear and rdf:JSON lie outside the OWL 2 datatype map; the shapes check them.
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                       ignore_unsupported_datatypes=True)
    finally:
        world.close()


ONTOLOGY_FILES = (ONTO / "prtkg.ttl", ONTO / "codes.ttl", ONTO / "alignment.ttl")


def _reference_records():
    from prtkg.loaders import load_paths
    reference = ROOT / "data" / "reference"
    files = [p for p in sorted(reference.iterdir()) if p.is_file() and not p.name.startswith((".", "_"))
             and p.suffix in {".csv", ".json", ".jsonl", ".ttl", ".nt", ".jsonld"}]
    assert files, f"no bundled reference data under {reference}"
    result = load_paths(files)
    assert not result.rejected, "bundled reference data has rejected records: " + "; ".join(
        f"{r.record}: {[e.as_dict() for e in r.errors]}" for r in result.rejected)
    assert result.records, "bundled reference data produced no records"
    return result.records


def test_ontology_codes_divisions_and_reference_data_are_consistent():
    from prtkg import store
    records = _reference_records()
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    quads = [q for r in records for q in r.graph.quads()]
    prov = [ox.Quad(s, p, o, ox.DefaultGraph()) for r in records for s, p, o in store.provenance(r, "test", at)]
    _hermit(_ntriples(*ONTOLOGY_FILES, ONTO / "divisions.ttl", quads, prov))


def _typed(iri: str, *classes: str) -> list[ox.Quad]:
    return [ox.Quad(ox.NamedNode(iri), ox.NamedNode(str(RDF.type)), ox.NamedNode(PRTKG + c), ox.DefaultGraph())
            for c in classes]


def test_ontology_alone_is_consistent_with_well_typed_departments():
    # The control for the inconsistency cases below: each department type on its own is fine.
    quads = [q for i, c in enumerate(("SupervisionDepartment", "ManagementDepartment", "TradingCentre",
                                      "DisciplineInspectionBody", "AuditBody"))
             for q in _typed(f"{ID}entity/D{i}", c)]
    _hermit(_ntriples(*ONTOLOGY_FILES, quads))


@pytest.mark.parametrize("classes", [
    ("ManagementDepartment", "SupervisionDepartment"),  # a 住建局 manages its industry and supervises its tendering
    ("TradingCentre", "SupervisionDepartment"),         # two lists classifying one body differently
    ("ServiceBody", "ManagementBody", "SupervisoryBody"),
], ids="+".join)
def test_one_body_may_hold_several_functions(classes):
    # Department types classify; 管办分离 is the rule SUP-SEPARATION over the rows, not a disjointness axiom.
    _hermit(_ntriples(*ONTOLOGY_FILES, _typed(ID + "entity/X", *classes)))


def test_powers_list_in_which_one_body_manages_and_supervises_is_consistent():
    from prtkg.loaders import load_paths
    folder = ROOT / "tests" / "fixtures" / "rules" / "SUP-SEPARATION"
    quads = []
    for case in ("passes-manages-and-supervises", "fires-serves-and-supervises"):  # one list each
        result = load_paths([folder / case / "powers.csv"])
        assert not result.rejected and len(result.records) == 1
        quads += [q for q in result.records[0].graph.quads()]
    # with the functions inferred from the powers held (roles.ttl: no divisions, see its header)
    _hermit(_ntriples(*ONTOLOGY_FILES, ONTO / "roles.ttl", quads))


def test_supervision_department_as_a_projects_trading_centre_is_consistent():
    # An OCDS release may name a 政务服务管理局 that also supervises as the project's trading centre.
    dept = ID + "entity/S"
    quads = _typed(dept, "SupervisionDepartment") + [ox.Quad(
        ox.NamedNode(ID + "project/ocds-x-1"), ox.NamedNode(PRTKG + "tradingCentre"), ox.NamedNode(dept),
        ox.DefaultGraph())]
    _hermit(_ntriples(*ONTOLOGY_FILES, quads))


def test_identifiers_are_adms_identifiers_as_the_epo_models_them():
    """Each organisation's credit code (and any other scheme's id) is an adms:Identifier node reached by
    adms:identifier, with the value as skos:notation: what the alignment module's axioms entail."""
    import owlrl

    from prtkg.loaders import load_paths
    adms = Namespace("http://www.w3.org/ns/adms#")
    fixtures = ROOT / "tests" / "fixtures"
    g = rdflib.Graph().parse(ONTO / "prtkg.ttl").parse(ONTO / "alignment.ttl")
    for r in load_paths([fixtures / "rules" / "powers-small.csv", fixtures / "rules" / "ocds.json"]).records:
        g.parse(data="\n".join(f"{s} {p} {o} ." for s, p, o in r.graph.triples), format="nt")
    coded = set(g.subject_objects(PRTKG.uscc))
    assert len(coded) > 5
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    for org, code in coded:
        ids = [i for i in g.objects(org, adms.identifier) if (i, RDF.type, adms.Identifier) in g]
        assert [(str(g.value(i, PRTKG.identifierScheme)), str(g.value(i, SKOS.notation))) for i in ids] == \
            [("CN-USCC", str(code))], org
