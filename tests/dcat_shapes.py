"""The DCAT-AP 3.0.1 core SHACL shapes (SEMICeu/DCAT-AP, tests/data/README.md names the
source), for the unit and CLI tests of the DCAT-AP-DONL export."""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, Graph, URIRef

SHAPES = Path(__file__).resolve().parent / "data" / "dcat-ap-3.0.1" / "dcat-ap-SHACL.ttl"
SH = "http://www.w3.org/ns/shacl#"


def dcat_ap_shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def shacl_messages(data: Graph, shapes: Graph) -> list[str]:
    """The message of each DCAT-AP 3.0.1 validation result, offline: no imports and no
    inference. Empty exactly when the data conforms."""
    from pyshacl import validate

    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none")
    results = list(report.subjects(RDF.type, URIRef(SH + "ValidationResult")))
    messages = [str(m) for r in results for m in report.objects(r, URIRef(SH + "resultMessage"))]
    assert len(messages) >= len(results)  # every result says what is wrong
    assert conforms == (not results)
    return sorted(messages)
