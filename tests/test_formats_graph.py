"""GraphML and GEXF: the Result's graph, well-formed whatever the tenant named things."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from report_fixtures import FORBIDDEN_CHARS, demo_result, hostile_result, sample

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats import RenderOptions, get_format
from sprawl_audit.report.formats.result_graph import build_graph

FORMATS = ("graphml", "gexf")


def render(doc: Any, name: str) -> str:
    out = io.StringIO()
    get_format(name).render(doc, out, RenderOptions())
    return out.getvalue()


def read_back(text: str, name: str) -> nx.Graph:
    reader = nx.read_graphml if name == "graphml" else nx.read_gexf
    return reader(io.BytesIO(text.encode("utf-8")))


@pytest.mark.parametrize("name", FORMATS)
def test_format_metadata(name: str) -> None:
    fmt = get_format(name)
    assert (fmt.name, fmt.extension, fmt.binary) == (name, name, False)


def test_graph_from_the_demo() -> None:
    doc = demo_result()
    graph = build_graph(doc)
    kinds = Counter(data["kind"] for _n, data in graph.nodes(data=True))
    assert kinds["platform"] == len(doc["platforms"])
    assert kinds["department"] >= len(doc["departments"])
    assert kinds["external"] == len(doc["external_parties"])
    assert kinds["integration"] == len(doc["integrations"])
    assert kinds["capability"] == len(doc["capabilities"])
    # department -> platform edges carry the number of people (from people[])
    pairs: Counter[tuple[str, str]] = Counter()
    for person in doc["people"]:
        for platform in person["platforms"]:
            pairs[(person["department"], platform)] += 1
    uses = {(graph.nodes[s]["label"], graph.nodes[t]["platform_id"]): d["people"]
            for s, t, d in graph.edges(data=True) if d["kind"] == "uses"}
    assert uses == dict(pairs)
    # every attribute is a scalar, as GraphML and GEXF require
    for _n, data in graph.nodes(data=True):
        assert all(isinstance(v, str | int | float | bool) for v in data.values()), data
    for _s, _t, data in graph.edges(data=True):
        assert all(isinstance(v, str | int | float | bool) for v in data.values()), data
        assert data["weight"] >= 1
    whatsapp = graph.nodes["platform:whatsapp"]
    assert whatsapp["consumer"] is True and whatsapp["classification"] == "consumer"
    reaches = [(s, t) for s, t, d in graph.edges(data=True) if d["kind"] == "reaches"]
    assert len(reaches) == sum(len(e["platforms"]) for e in doc["external_parties"])


def test_without_people_departments_come_from_platforms() -> None:
    doc = sample()
    assert "people" not in doc
    graph = build_graph(doc)
    uses = [(s, t, d) for s, t, d in graph.edges(data=True) if d["kind"] == "uses"]
    assert len(uses) == sum(len(p["departments"]) for p in doc["platforms"])
    assert all("people" not in d and d["weight"] == 1 for _s, _t, d in uses)


@pytest.mark.parametrize("name", FORMATS)
def test_demo_round_trips(name: str) -> None:
    doc = demo_result()
    text = render(doc, name)
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n")
    ET.fromstring(text.encode("utf-8"))
    graph = read_back(text, name)
    original = build_graph(doc)
    assert graph.number_of_nodes() == original.number_of_nodes()
    assert graph.number_of_edges() == original.number_of_edges()
    assert graph.nodes["platform:whatsapp"]["label"] == "WhatsApp"
    assert int(graph.nodes["platform:teams"]["active_users"]) == \
        original.nodes["platform:teams"]["active_users"]


def test_gexf_colours_consumer_apps_red() -> None:
    text = render(demo_result(), "gexf")
    root = ET.fromstring(text.encode("utf-8"))
    ns = {"g": "http://www.gexf.net/1.2draft", "viz": "http://www.gexf.net/1.2draft/viz"}
    node = root.find(".//g:node[@id='platform:whatsapp']", ns)
    assert node is not None
    colour = node.find("viz:color", ns)
    assert colour is not None and (colour.get("r"), colour.get("g"), colour.get("b")) == (
        "200", "30", "30")


@pytest.mark.parametrize("name", FORMATS)
def test_hostile_input_stays_well_formed(name: str) -> None:
    doc = hostile_result()
    text = render(doc, name)
    for char in FORBIDDEN_CHARS:
        assert char not in text, repr(char)
    root = ET.fromstring(text.encode("utf-8"))  # well-formed XML
    assert root.tag.endswith("graphml" if name == "graphml" else "gexf")
    graph = read_back(text, name)
    labels = {str(data.get("label")) for _n, data in graph.nodes(data=True)}
    # escaped by the writer, read back; controls and XML-illegal characters gone, the lone
    # surrogate replaced
    assert "<script>alert('x')</script>bad\ufffd chars" in labels
    assert any(label.startswith("-2+3+cmd") for label in labels)
    assert len(set(graph.nodes)) == graph.number_of_nodes()


def test_clashing_names_get_distinct_ids() -> None:
    doc = sample()
    doc["departments"].append(dict(doc["departments"][-1], name="IT\u200b"))  # cleans to "IT"
    graph = build_graph(doc)
    it = [n for n in graph.nodes if n.startswith("department:IT")]
    assert sorted(it) == ["department:IT", "department:IT#2"]


@pytest.mark.parametrize("name", FORMATS)
def test_demo_re_renders_via_report(tmp_path: Path, name: str) -> None:
    runner = CliRunner()
    result_path, out = tmp_path / "r.json", tmp_path / f"r.{name}"
    assert runner.invoke(main, ["demo", "-f", "json", "-o", str(result_path)]).exit_code == 0
    outcome = runner.invoke(main, ["report", str(result_path), "-f", name, "-o", str(out)])
    assert outcome.exit_code == 0, outcome.output
    graph = read_back(out.read_text("utf-8"), name)
    assert graph.number_of_nodes() > 50
