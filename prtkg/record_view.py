"""A stored record as a reader wants it: title, parties, dates, amounts, documents and its findings,
labels in both languages from the ontology; the raw triples beside it, for those who ask.

Never a server path or a user name: a source is shown by its file name, and who loaded a record
(prov:wasAttributedTo) is left out.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import PurePath

from . import packed, rdf

PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
# Who loaded it, and the packed copy of its own triples (prtkg/packed.py), which the page lists already.
_HIDDEN = {PROV + "wasAttributedTo", packed.PACKED.value}
_AGENT = rdf.ID + "agent/"     # who loaded the record: its agent node (rdf.agent) is not shown either
_SOURCE = rdf.PRTKG + "source"
_ENTITY = rdf.ID + "entity/"
_HAS_IDENTIFIER = rdf.PRTKG + "hasIdentifier"
_PARTY = rdf.PRTKG + "hasParty"
_DATES = {XSD + "date", XSD + "dateTime"}
# An IRI that can be written between <> in a query as it is (the IRIREF production of SPARQL).
_IRIREF = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\x00-\x20]*")

_HEAD = """SELECT ?g ?kind ?main ?title (STR(?at0) AS ?at) ?source WHERE { GRAPH ?g {
  ?g prtkg:recordId %s ; prtkg:recordKind ?kind .
  OPTIONAL { ?g prtkg:mainNode ?main . OPTIONAL { ?main prtkg:title ?title } }
  OPTIONAL { ?g prov:generatedAtTime ?at0 } OPTIONAL { ?g prtkg:source ?source } } } LIMIT 1"""
_TRIPLES = """SELECT ?s ?p (STR(?o) AS ?v) (isIRI(?o) AS ?iri) (DATATYPE(?o) AS ?dt)
WHERE { GRAPH <%s> { ?s ?p ?o } }"""
_LABELS = """SELECT ?x (STR(?l) AS ?text) (LANG(?l) AS ?lang) WHERE { VALUES ?x { %s }
  { GRAPH <urn:prtkg:ontology> { ?x rdfs:label|skos:prefLabel ?l } }
  UNION { GRAPH ?g { ?x prtkg:name|prtkg:title ?l } } }"""
_FINDINGS = """SELECT ?f ?rule ?severity (STR(?m) AS ?text) (LANG(?m) AS ?lang) WHERE { GRAPH <%s> {
  ?f prtkg:record %s ; prtkg:rule ?rule ; prtkg:severity ?severity ; prtkg:message ?m } }"""


def source_names(source: str) -> str:
    """A provenance source ("/path/file.jsonl#3, /path/file.jsonl#9") as file names only."""
    return ", ".join(PurePath(part.strip()).name for part in source.split(",") if part.strip())


def labels(store, iris) -> dict[str, dict[str, str]]:
    """Labels of IRIs by language: ontology terms and code concepts by rdfs:label or skos:prefLabel,
    organisations and projects by their name or title (one text for both languages)."""
    iris = sorted({i for i in iris if isinstance(i, str) and _IRIREF.fullmatch(i)})
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(iris), 500):
        values = " ".join(f"<{i}>" for i in iris[start:start + 500])
        for r in store.select(_LABELS % values):
            entry = out.setdefault(r["x"], {})
            for lang in ([r["lang"]] if r["lang"] else ["zh", "en"]):
                entry.setdefault(lang, r["text"])
    return out


def _local(iri: str, main: str | None) -> str:
    """A node of the record named relative to its main node: award/…-award-1, bid/bid-3."""
    if main and iri.startswith(main):
        return iri[len(main):].strip("/") or "·"
    return iri.rsplit("/", 1)[-1]


def view(store, record_id: str) -> dict | None:
    """The record `record_id` for the record page; None when the store has no such record."""
    lit = json.dumps(record_id, ensure_ascii=False)
    head = store.select(_HEAD % lit)
    if not head:
        return None
    h = head[0]
    graph, main = h["g"], h["main"]
    triples = []
    props: dict[str, dict[str, list[tuple[str, str | None, bool]]]] = defaultdict(lambda: defaultdict(list))
    for r in store.select(_TRIPLES % graph):
        if r["p"] in _HIDDEN or r["s"].startswith(_AGENT):
            continue
        value = source_names(r["v"]) if r["p"] == _SOURCE else r["v"]
        triples.append([r["s"], r["p"], value, bool(r["iri"])])
        props[r["s"]][r["p"]].append((value, r["dt"], bool(r["iri"])))
    parties, dates, amounts, documents = [], [], [], []
    for s, by_p in props.items():
        types = sorted(v for v, _, _ in by_p.get(rdf.RDF + "type", []))
        first = lambda name: (by_p.get(rdf.PRTKG + name) or [(None, None, False)])[0][0]  # noqa: E731
        for p, values in by_p.items():
            for v, datatype, is_iri in values:
                # An organisation's identifier node sits under its IRI too, but is not a party.
                if is_iri and v.startswith(_ENTITY) and p != _HAS_IDENTIFIER:
                    parties.append({"role": p, "entity": v, "code": v[len(_ENTITY):], "of": _local(s, main)})
                elif datatype in _DATES and s != graph:
                    dates.append({"property": p, "value": v, "of": _local(s, main)})
        for v, _, _ in by_p.get(rdf.PRTKG + "amount", []):
            amounts.append({"of": _local(s, main), "type": types[0] if types else None, "amount": v,
                            "currency": first("currency")})
        if rdf.PRTKG + "Document" in types:
            documents.append({"of": _local(s.rsplit("/document/", 1)[0], main), "type": first("documentType"),
                              "published": first("datePublished"), "url": first("url")})
    # An organisation listed among the parties and also named in a role (tenderer, buyer…) is shown by its role.
    roles = {p["entity"] for p in parties if p["of"] != "·"} | {p["entity"] for p in parties if p["role"] != _PARTY}
    parties = [p for p in parties if p["role"] != _PARTY or p["entity"] not in roles]
    names = labels(store, {p["entity"] for p in parties} | {t[1] for t in triples}
                   | {a["type"] for a in amounts if a["type"]} | {t[2] for t in triples if t[3]})
    for p in parties:
        p["name"] = names.get(p["entity"], {}).get("zh")
    return {"id": record_id, "kind": h["kind"], "title": h["title"], "main": main,
            "loadedAt": h["at"], "source": source_names(h["source"] or ""),
            "parties": sorted(parties, key=lambda x: (x["of"], x["role"])),
            "dates": sorted(dates, key=lambda d: d["value"]), "amounts": amounts,
            "documents": sorted(documents, key=lambda d: d["published"] or ""),
            "findings": _findings(store, lit), "labels": names,
            "triples": [t[:3] for t in sorted(triples)]}


def _findings(store, lit: str) -> list[dict]:
    out: dict[str, dict] = {}
    for r in store.select(_FINDINGS % (rdf.FINDINGS_GRAPH, lit)):
        f = out.setdefault(r["f"], {"rule": r["rule"], "severity": r["severity"], "message": {}})
        f["message"][r["lang"] or "zh"] = r["text"]
    order = {"violation": 0, "warning": 1, "info": 2}
    return sorted(out.values(), key=lambda f: (order.get(f["severity"], 3), f["rule"]))
