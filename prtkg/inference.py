"""OWL RL, materialised at load into the derived graphs urn:prtkg:inferred and urn:prtkg:inferred:records.

What the ontology's axioms say of the records is written once, after a load, so queries, shapes and
rules read it instead of restating the axioms: every superclass of a node's types (`?x a
org:Organization` answers), types from domains and ranges, the functions a body has from the powers it
holds (prtkg:holdsPowerAs + owl:hasValue), the region hierarchy read transitively
(skos:broaderTransitive, prtkg:covers) and what a code reaches (prtkg:scopeStage / scopeTradeType /
scopeIndustry / scopeRegion: the code given and every code it covers -- 全过程, "all", a division
and those below it).

The terminology (urn:prtkg:ontology) is small and is compiled here into a few SPARQL updates; the
assertions, which grow with the data, are closed by those updates inside the store, so it scales with
the store and works the same on a remote SPARQL server. The rules are OWL 2 RL's (prp-dom, prp-rng,
prp-spo1, prp-spo2, prp-inv, prp-trp, cax-sco, cls-hv2, with scm-sco/scm-spo/scm-dom/scm-rng folded
into the compilation). The derived graphs hold exactly the entailed triples of VOCABULARY that no
graph asserts (the shared one: no graph it reads), but for what a code reaches (TBox.reach:
prtkg:scopeStage / scopeTradeType / scopeIndustry / scopeRegion), which is derived from the shared
lists only (records_tier); tests/test_inference.py holds them equal to owlrl's closure (the
maintained reasoner) restricted the same way. One link beyond OWL is written with them: a powers
list dcterms:isReplacedBy each later list of its publisher (_replacements).

Speed (the load's bench row `owl`): the types come in one pass after the property rules (each
domain, range or value gives its most specific class, then every class its superclasses), and a
whole run subtracts what is known already with MINUS rather than asking for each triple.

Two derived graphs, by what their triples are derived from: urn:prtkg:inferred from the ontology and
the reference lists every division shares (rules/casework.yaml `jurisdiction.shared_kinds`) alone, so
it is in every division's SPARQL dataset (who-supervises and the coverage read it);
urn:prtkg:inferred:records, what every graph entails beyond it, describes every division's records and
is staff's only. Their union is the closure above.

Sources: the ontology graph and the record graphs (urn:prtkg:graph:...), not findings or cases, which
are outputs. The transitive properties close over the ontology and derived graphs (the code lists and
the division hierarchy live there); a record cannot add to a hierarchy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import pyoxigraph as ox

from . import rdf

INFERRED_GRAPH = "urn:prtkg:inferred"                    # from the ontology and the shared lists
RECORDS_INFERRED_GRAPH = "urn:prtkg:inferred:records"    # the rest: every division's records
DERIVED_GRAPHS = (INFERRED_GRAPH, RECORDS_INFERRED_GRAPH)
# What this code derives, stamped on the derived graph when a whole run ends. Change it whenever what
# is derived changes (a rule added or narrowed, a link written), so a store derived by an earlier
# version is derived again when served (`ensure`), not read with a gap: the isReplacedBy links
# (version 2) are absent from stores derived before them. A run killed midway leaves no stamp.
DERIVATION = "prtkg-derivation 2"
_STAMP = f"<{INFERRED_GRAPH}> <http://www.w3.org/2002/07/owl#versionInfo>"
_O = f"<{rdf.ONTOLOGY_GRAPH}>"
_D = f"<{INFERRED_GRAPH}>"
_R = f"<{RECORDS_INFERRED_GRAPH}>"
OWL = "http://www.w3.org/2002/07/owl#"
COVERS = rdf.PRTKG + "covers"
# Namespaces whose classes are the language's, not the domain's: never materialised.
_BUILTIN = (OWL, rdf.RDF, rdf.RDFS, rdf.XSD)

@dataclass
class TBox:
    """The terminology, compiled: what each rule needs, with subclass/subproperty closures applied."""
    classes: set[str] = field(default_factory=set)                 # materialised rdf:type objects
    supers: dict[str, set[str]] = field(default_factory=dict)      # class -> its superclasses (itself too)
    derived: set[str] = field(default_factory=set)                 # materialised properties
    subprops: list[tuple[str, str]] = field(default_factory=list)  # (sub, super), super derived
    inverses: list[tuple[str, str]] = field(default_factory=list)  # (p, q): x p y -> y q x
    transitive: list[str] = field(default_factory=list)
    chains: list[tuple[str, str, str]] = field(default_factory=list)  # (p1, p2, head)
    domains: dict[str, set[str]] = field(default_factory=dict)     # property -> classes of its subjects
    ranges: dict[str, set[str]] = field(default_factory=dict)      # property -> classes of its objects
    has_value: list[tuple[str, str, set[str]]] = field(default_factory=list)  # (p, value, classes)
    reach: set[str] = field(default_factory=set)   # what a code reaches: chain heads over prtkg:covers

    @property
    def vocabulary(self) -> tuple[set[str], set[str]]:
        """(classes, properties) of the derived graph: rdf:type of the one, triples of the other."""
        return self.classes, self.derived


def _closure(pairs: Iterable[tuple[str, str]], nodes: Iterable[str]) -> dict[str, set[str]]:
    up: dict[str, set[str]] = {}
    for a, b in pairs:
        up.setdefault(a, set()).add(b)
    out = {}
    for n in set(nodes) | set(up):
        seen, todo = {n}, [n]
        while todo:
            for m in up.get(todo.pop(), ()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        out[n] = seen
    return out


def _select(store, query: str) -> list[dict[str, Any]]:
    return store.select(f"PREFIX owl: <{OWL}>\n" + query)


def _pairs(store, pattern: str) -> list[tuple[Any, Any]]:
    rows = _select(store, f"SELECT ?a ?b WHERE {{ GRAPH {_O} {{ {pattern} }} }}")
    return [(r["a"], r["b"]) for r in rows]


def _iri(value: Any) -> bool:
    return isinstance(value, str) and not value.startswith("_:")


def compile_tbox(store) -> TBox:
    """Read the terminology from the ontology graph (a handful of small queries)."""
    t = TBox()
    subclass = _pairs(store, "?a rdfs:subClassOf ?b")
    declared = [a for a, _ in _pairs(store, "?a a ?b . FILTER(?b = <http://www.w3.org/2002/07/owl#Class>)")]
    t.supers = _closure(subclass, declared)
    t.classes = {c for cs in t.supers.values() for c in cs
                 if _iri(c) and not c.startswith(_BUILTIN)}
    subprop = _pairs(store, "?a rdfs:subPropertyOf ?b")
    inverse = _pairs(store, "?a <http://www.w3.org/2002/07/owl#inverseOf> ?b")
    t.transitive = sorted(a for a, _ in _pairs(store, "?a a ?b . FILTER(?b = <http://www.w3.org/2002/07/owl#TransitiveProperty>)"))
    chain_rows = _select(store, f"""SELECT ?head ?p1 ?p2 WHERE {{ GRAPH {_O} {{
        ?head owl:propertyChainAxiom ?l . ?l rdf:first ?p1 ; rdf:rest ?r . ?r rdf:first ?p2 ; rdf:rest rdf:nil }} }}""")
    longer = _select(store, f"""SELECT ?head WHERE {{ GRAPH {_O} {{ ?head owl:propertyChainAxiom ?l .
        FILTER NOT EXISTS {{ ?l rdf:rest/rdf:rest rdf:nil }} }} }}""")
    if longer:
        raise ValueError(f"ontology: property chains of two links only are materialised: {longer[0]['head']}")
    t.chains = [(r["p1"], r["p2"], r["head"]) for r in chain_rows]
    t.reach = {h for _, p2, h in t.chains if p2 == COVERS}
    # Materialised properties: those the axioms make (chain heads, transitive, inverse ones) and their
    # superproperties; plain subproperties of a vocabulary term (uscc -> dcterms:identifier) are not.
    made = {h for _, _, h in t.chains} | set(t.transitive) | {a for a, _ in inverse} | {b for _, b in inverse}
    sup_closure = _closure(subprop, made | {a for a, _ in subprop})
    t.derived = {q for p in made for q in sup_closure[p]}
    t.subprops = sorted((p, q) for p, qs in sup_closure.items() for q in qs if q != p and q in t.derived)
    t.inverses = sorted(set(inverse) | {(b, a) for a, b in inverse})
    for attr, pattern in (("domains", "?a rdfs:domain ?b"), ("ranges", "?a rdfs:range ?b")):
        direct = _pairs(store, pattern)
        out: dict[str, set[str]] = {}
        for p, c in direct:
            for sub, ups in sup_closure.items():
                if p in ups:
                    out.setdefault(sub, set()).update(t.supers.get(c, {c}) & t.classes)
            out.setdefault(p, set()).update(t.supers.get(c, {c}) & t.classes)
        setattr(t, attr, {p: cs for p, cs in out.items() if cs})
    rows = _select(store, f"""SELECT ?r ?p ?v ?c WHERE {{ GRAPH {_O} {{
        ?r owl:onProperty ?p ; owl:hasValue ?v ; rdfs:subClassOf ?c }} }}""")
    for r in rows:
        classes = {c for c in t.supers.get(r["c"], {r["c"]})} & t.classes
        t.has_value.append((r["p"], r["v"], classes))
    return t


def _values(rows: Iterable[tuple[str, ...]], names: str) -> str:
    body = " ".join("(" + " ".join(f"<{x}>" for x in row) + ")" for row in rows)
    return f"VALUES ({names}) {{ {body} }}"


@dataclass(frozen=True)
class Graphs:
    """Some graphs a pattern may match in: a filter on ?VAR after `GRAPH ?VAR { pattern }` (after
    it, as the store joins that fastest for the property rules: naming the graphs first measured
    slower there), or, for a few graphs named (`names`), those names first where `lead` asks: a type
    rule's pattern has a variable property, and the few shared lists' triples of those properties are
    found fastest graph by graph (ten times faster than filtering every record's)."""
    where: str
    names: tuple[str, ...] | None = None

    def around(self, var: str, pattern: str, lead: bool = False) -> str:
        if lead and self.names is not None:
            return f"VALUES {var} {{ {' '.join(self.names)} }} GRAPH {var} {{ {pattern} }}"
        return f"GRAPH {var} {{ {pattern} }} {self.where.replace('?VAR', var)}"


def _shared_graphs(store) -> list[str]:
    """The record graphs every division shares, by their kind (rules/casework.yaml)."""
    from .casework_config import config
    kinds = " ".join(str(rdf.literal(k)) for k in config()["jurisdiction"]["shared_kinds"])
    rows = store.select(f"SELECT DISTINCT ?g WHERE {{ VALUES ?k {{ {kinds} }} GRAPH ?g {{ ?g prtkg:recordKind ?k }} }}")
    return sorted(r["g"] for r in rows)


# Where a rule's first pattern may match: the ontology (closing it, once per ontology version), the
# records (at each load) or both (a refresh); the derived graphs are read too. A rule's other patterns
# match in any of its tier's inputs.
ONTOLOGY = Graphs(f"FILTER(?VAR = {_O})")
_RECORD_PREFIX = 'STRSTARTS(STR(?VAR), "urn:prtkg:graph:")'


def _records(store) -> tuple[Graphs, Graphs]:
    """The record graphs (urn:prtkg:graph:...), without and with the ontology graph. In the embedded
    store, as the store's other graphs left out: comparing a graph with a few names is three times
    faster than testing its name's prefix, which builds a string per triple. A server may keep graphs
    of its own that it does not list (prtkg.store.remote SYSTEM_GRAPHS): there, the prefix."""
    if not getattr(store, "lists_every_graph", False):
        return Graphs(f"FILTER({_RECORD_PREFIX})"), Graphs(f"FILTER(?VAR = {_O} || {_RECORD_PREFIX})")
    # Listed once: after the derived graphs are dropped, a listing takes a few tenths of a second.
    others = {g for g in store.named_graphs() if not g.startswith("urn:prtkg:graph:")} | set(DERIVED_GRAPHS)

    def without(*graphs: str) -> Graphs:
        return Graphs(f"FILTER(?VAR NOT IN ({', '.join(f'<{g}>' for g in sorted(set(graphs)))}))")
    return without(rdf.ONTOLOGY_GRAPH, *others), without(*(others - {rdf.ONTOLOGY_GRAPH}))


def _among(graphs: list[str], ontology: bool) -> Graphs:
    names = ([_O] if ontology else []) + [f"<{g}>" for g in graphs]
    return Graphs(f"FILTER(?VAR IN ({', '.join(names)}))" if names else "FILTER(false)", tuple(names))


@dataclass(frozen=True)
class Tier:
    """One derived graph: the graph it writes, the derived graphs it reads (its own first), the
    asserted graphs it reads (`inputs`), and the graphs whose triples it does not derive again
    (`known`: the asserted ones it reads and the derived ones). `reach`: whether it derives what a
    code reaches (TBox.reach: prtkg:scopeStage ...)."""
    graph: str
    reads: tuple[str, ...]
    inputs: Graphs
    known: Graphs
    reach: bool = True


def shared_tier(graphs: list[str]) -> Tier:
    """urn:prtkg:inferred: what the ontology and the reference lists every division shares entail
    (powers lists, credit records, relations: rules/casework.yaml `jurisdiction.shared_kinds`). It
    reads nothing else, so a division may see it whole: no triple in it comes from, nor is left out
    because of, another division's records. `graphs`: those lists' graphs (_shared_graphs)."""
    return Tier(INFERRED_GRAPH, (INFERRED_GRAPH,), _among(graphs, ontology=True),
                _among([*graphs, INFERRED_GRAPH], ontology=True))


def records_tier(inputs: Graphs) -> Tier:
    """urn:prtkg:inferred:records: what every graph entails beyond urn:prtkg:inferred (the records'
    own consequences: types of bidders, projects, ...). It describes every division's records: staff
    only. Not what a code reaches (prtkg:scopeRegion ...): only a power row's is read (who-supervises,
    the coverage), and power rows are in the shared lists; a project's or a venue's was two thirds of
    the derived triples and a third of the time."""
    return Tier(RECORDS_INFERRED_GRAPH, (RECORDS_INFERRED_GRAPH, INFERRED_GRAPH), inputs, Graphs(""), reach=False)


def _unknown(tier: Tier, template: str, only: str, lead: bool = False, among: str = "") -> str:
    """Keep what no known graph holds yet. A whole run subtracts every known triple of the template's
    shape at once (MINUS: one pass, measured four times faster than asking for each result; `among`,
    a VALUES clause, keeps that to the classes a type rule derives: a fraction of the store's types); a
    refresh, which derives a few nodes' triples, asks for each (NOT EXISTS)."""
    known = tier.known.around("?h", template, lead)
    if tier.known.names is not None:     # a few graphs named first: small already (and `among` on top measured 5x slower)
        among = ""
    return f"FILTER NOT EXISTS {{ {known} }}" if only else f"MINUS {{ {among} {known} }}"


def _from(tier: Tier, pattern: str, source: Graphs, only: str = "", lead: bool = False) -> str:
    """A pattern matched in a source graph or in what is derived so far (`only` first: it binds the
    subject, so a refresh reads the few touched nodes' triples, not every graph's)."""
    return " UNION ".join([f"{{ {only} {source.around('?g', pattern, lead)} }}"] +
                          [f"{{ {only} GRAPH <{d}> {{ {pattern} }} }}" for d in tier.reads])


def _anywhere(tier: Tier, pattern: str) -> str:
    return " UNION ".join([f"{{ {tier.inputs.around('?g2', pattern)} }}"] +
                          [f"{{ GRAPH <{d}> {{ {pattern} }} }}" for d in tier.reads])


@dataclass(frozen=True)
class Rule:
    """What a rule writes into the derived graph (template), when (where), and the properties it
    reads and writes, so a round reruns only the rules whose input grew; `first`, the property of
    the pattern matched first."""
    template: str
    where: str
    reads: frozenset = frozenset()
    writes: frozenset = frozenset()
    first: str = ""


def property_rules(tier: Tier, t: TBox, source: Graphs, only: str = "") -> list[Rule]:
    """The property rules (prp-spo1, prp-inv, prp-trp, prp-spo2), one per axiom, in the order that
    feeds each the output of the one before. `only` (a VALUES clause on ?s) keeps the triples about
    some subjects."""
    out = []
    skip = set() if tier.reach else t.reach
    for p, q in t.subprops:
        if q in skip:
            continue
        tpl = f"?x <{q}> ?y"
        out.append(Rule(tpl, f"{_from(tier, f'?x <{p}> ?y', source, only.replace('?s', '?x'))} "
                             f"{_unknown(tier, tpl, only)}", frozenset({p}), frozenset({q}), p))
    for p, q in t.inverses:
        tpl = f"?y <{q}> ?x"
        out.append(Rule(tpl, f"{_from(tier, f'?x <{p}> ?y', source, only.replace('?s', '?y'))} "
                             f"{_unknown(tier, tpl, only)}", frozenset({p}), frozenset({q}), p))
    links = [(p, p, p) for p in t.transitive] + [c for c in t.chains if c[2] not in skip]
    for p1, p2, head in links:
        tpl = f"?x <{head}> ?z"
        out.append(Rule(tpl, f"{_from(tier, f'?x <{p1}> ?y', source, only.replace('?s', '?x'))} "
                             f"{_anywhere(tier, f'?y <{p2}> ?z')} {_unknown(tier, tpl, only)}",
                        frozenset({p1, p2}), frozenset({head}), p1))
    return out


def _most_specific(t: TBox, classes: set[str]) -> set[str]:
    """The classes no other of them is a subclass of (two equivalent ones both stay)."""
    return {c for c in classes
            if not any(d != c and c in t.supers.get(d, ()) and d not in t.supers.get(c, ()) for d in classes)}


def type_rules(tier: Tier, t: TBox, source: Graphs, only: str = "") -> list[Rule]:
    """prp-dom, prp-rng, cls-hv2 with their most specific classes, then cax-sco: every superclass of
    a node's classes, asserted or just derived (one pass: the superclasses are closed already). A
    domain's superclasses are not written from each triple: a node has many properties of one domain,
    and its superclasses come once from its class."""
    domain = sorted((p, c) for p, cs in t.domains.items() for c in _most_specific(t, cs))
    rng = sorted((p, c) for p, cs in t.ranges.items() for c in _most_specific(t, cs))
    hv = sorted((p, v, c) for p, v, cs in t.has_value for c in _most_specific(t, cs))
    supers = sorted((c0, c) for c0, cs in t.supers.items() if _iri(c0) for c in cs & t.classes if c != c0)
    parts = []
    if domain:
        parts.append((domain, "?p ?c", "?x ?p ?y", ""))
    if rng:
        parts.append((rng, "?p ?c", "?y ?p ?x", "FILTER(!isLiteral(?x))"))
    if hv:
        parts.append((hv, "?p ?v ?c", "?x ?p ?v", ""))
    if supers:
        parts.append((supers, "?c0 ?c", "?x a ?c0", ""))
    # Distinct (node, class) pairs first: a node has many properties of one domain, and each
    # would otherwise be probed for the class on its own.
    return [Rule("?x a ?c", f"{{ SELECT DISTINCT ?x ?c WHERE {{ {_values(rows, names)} "
                            f"{_from(tier, pattern, source, only.replace('?s', '?x'), True)} {extra} }} }} "
                            f"{_unknown(tier, '?x a ?c', only, True, _values(sorted({(r[-1],) for r in rows}), '?c'))}")
            for rows, names, pattern, extra in parts]


IS_REPLACED_BY = rdf.DCTERMS + "isReplacedBy"


def _replacements(store) -> None:
    """dcterms:isReplacedBy from each powers list to the later lists of its publisher (its new
    versions: prtkg/coverage.py later_versions), where no record states it: not OWL, but derived from
    the lists alone, so into the shared graph with what they entail (the lists are shared), for
    queries to read with the links records state. Rewritten whole after every run and refresh: a
    new list changes the links of the old ones, which a refresh does not touch (and lists are few)."""
    from .casework_config import config
    from .coverage import later_versions, list_versions
    graph = INFERRED_GRAPH if "powers-list" in config()["jurisdiction"]["shared_kinds"] else RECORDS_INFERRED_GRAPH
    for g in DERIVED_GRAPHS:
        store.update(f"DELETE WHERE {{ GRAPH <{g}> {{ ?a <{IS_REPLACED_BY}> ?b }} }}")
    versions = list_versions(store)     # what the records state, now the derived links are gone
    stated = {v.iri: v.replaced_by for v in versions}
    p, g = ox.NamedNode(IS_REPLACED_BY), ox.NamedNode(graph)
    quads = [ox.Quad(ox.NamedNode(a), p, ox.NamedNode(b), g)
             for a, later in sorted(later_versions(versions).items()) for b in sorted(later - stated[a])]
    if quads:
        store.add_quads(quads)


def _size(store) -> int:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?d {{ {_D} {_R} }} GRAPH ?d {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"]) if rows else 0


def _holds(store, tier: Tier, source: Graphs, p: str) -> bool:
    return store.ask(f"ASK {{ {_from(tier, f'?x <{p}> ?y', source)} }}")


def _close(store, tier: Tier, t: TBox, source: Graphs, only: str = "") -> None:
    """Run the rules from `source` into the tier's graph until it is closed: the property rules in
    rounds, each rerun only while a property it reads got new triples since it last ran (the
    hierarchies are three levels deep: a few reruns), then the types, which no property rule reads."""
    rules = property_rules(tier, t, source, only)
    grown: dict[str, int] = {}      # property -> the step at which it last got new triples
    # rule -> the step at which it last ran. One whose first property is in none of its graphs yet
    # counts as run (step -1): it runs when that grows. (The hierarchies' rules find nothing in the
    # records, yet each run scans the ontology's hierarchy: a question per property is cheaper.)
    ran: dict[int, int] = {i: -1 for i, r in enumerate(rules) if not _holds(store, tier, source, r.first)}
    step = 0
    while True:
        todo = [i for i, r in enumerate(rules)
                if i not in ran or any(grown.get(p, -1) > ran[i] for p in r.reads)]
        if not todo:
            break
        for i in todo:
            r = rules[i]
            ran[i] = step
            step += 1
            if store.insert_where(tier.graph, r.template, r.where):
                for p in r.writes:
                    grown[p] = step
    for r in type_rules(tier, t, source, only):
        store.insert_where(tier.graph, r.template, r.where)


def ontology_closure(data: tuple[bytes, ...], scratch) -> tuple[ox.Triple, ...]:
    """What the ontology files alone entail (the division hierarchy read transitively, codes that
    cover codes, ...), by the same rules, in a scratch store: the same for every store with these
    files, so derived once by scripts/ontology_closure.py into ontology/closure.nt, which the store
    loads with the ontology graph. `scratch` is an empty embedded store (passed in: the store package
    calls this module, so this module does not import it)."""
    g = ox.NamedNode(rdf.ONTOLOGY_GRAPH)
    scratch.add_quads(ox.Quad(q.subject, q.predicate, q.object, g)
                      for blob in data for q in ox.parse(blob, format=ox.RdfFormat.TURTLE))
    _close(scratch, shared_tier([]), compile_tbox(scratch), ONTOLOGY)
    return tuple(ox.Triple(q.subject, q.predicate, q.object) for q in scratch.graph_quads(INFERRED_GRAPH))


def materialise(store, tbox: TBox | None = None) -> int:
    """Rewrite the derived graphs: what the shared lists entail with the (closed) ontology, then what
    the other records add; returns their size.

    Whole, not incremental: a record replaced or withdrawn leaves nothing behind, and no derived
    triple needs to know which records support it. (Adding only the consequences of new graphs,
    with the graphs named in the rules, measured 70 times slower on Oxigraph at 10^3 projects.)"""
    t = tbox or compile_tbox(store)
    for g in DERIVED_GRAPHS:
        store.remove_graph(g)
    graphs = _shared_graphs(store)
    _close(store, shared_tier(graphs), t, _among(graphs, ontology=False))
    records, every = _records(store)
    _close(store, records_tier(every), t, records)
    _replacements(store)
    size = _size(store)
    if size:    # a store without the ontology derives nothing, and gets no derived graph
        store.update(f'INSERT DATA {{ GRAPH <{INFERRED_GRAPH}> {{ {_STAMP} "{DERIVATION}" }} }}')
    return size


def is_current(store) -> bool:
    """The derived graphs are this version's, whole (a killed run or an earlier version leaves no
    stamp, or another: prtkg.derived.ensure derives them again)."""
    return store.ask(f'ASK {{ GRAPH <{INFERRED_GRAPH}> {{ {_STAMP} "{DERIVATION}" }} }}')


def has_input(store) -> bool:
    return store.ask("ASK { GRAPH ?g { ?g prtkg:recordKind ?kind } }")


def nodes(store, graphs: Iterable[str]) -> set[str]:
    """The IRIs a set of record graphs mentions (subjects and objects): whose derived triples a
    change of those graphs can change."""
    graphs = list(graphs)
    if not graphs:
        return set()
    rows = store.select("SELECT DISTINCT ?n WHERE { VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }"
                        " GRAPH ?g { { ?n ?p ?o } UNION { ?s ?p ?n FILTER(isIRI(?n)) } } FILTER(isIRI(?n)) }")
    return {r["n"] for r in rows}


def refresh(store, touched: set[str], tbox: TBox | None = None) -> None:
    """Bring the derived graph up to date after a few records changed, without redoing it whole:
    `touched` are the IRIs the old and the new versions of those records mention (`nodes`, taken
    before and after the write). Every derived triple is about a node of the triple that made it
    (its subject, or for an inverse or a range its object), so dropping the derived triples about
    the touched nodes and deriving them again from every graph gives what a whole run would."""
    if not touched:
        return
    t = tbox or compile_tbox(store)
    only = "VALUES ?s { " + " ".join(f"<{n}>" for n in sorted(touched)) + " }"
    store.update(f"DELETE {{ GRAPH ?d {{ ?s ?p ?o }} }} WHERE {{ {only} VALUES ?d {{ {_D} {_R} }} GRAPH ?d {{ ?s ?p ?o }} }}")
    shared = shared_tier(_shared_graphs(store))
    _close(store, shared, t, shared.inputs, only)
    _, every = _records(store)
    _close(store, records_tier(every), t, every, only)
    _replacements(store)



