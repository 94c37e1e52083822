"""The two pictures of the HTML report, as inline SVG: the overlap heat map and the graph.

Both are plain SVG markup with no script and no external reference. Layouts are computed
here, deterministically, into frozen dataclasses of numbers and raw labels (so the same
Result always draws the same picture); the markup is in ``templates/heatmap.svg.j2`` and
``templates/graph.svg.j2``, rendered with autoescaping on, so every name is escaped by
the template engine and attributes hold only numbers and our own class names.

- :func:`heatmap_svg` — capabilities as rows, platforms as columns. A filled cell means
  the platform offers the capability and shows its active users; the colour is the
  platform's classification (consumer apps red) and its strength grows with users, so
  a row with several strong cells is a capability the organisation pays for twice.
- :func:`graph_svg` — departments on the left, platforms in the middle (coloured by
  classification, consumer apps filled red, unsanctioned ones dashed), external parties
  on the right. Edge widths follow the number of people; edges into consumer apps are
  red. Rows are ordered by the barycentre of their neighbours, which keeps crossings
  few, and long columns are capped with a "+N more" note (the inventory lists all).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
from markupsafe import Markup

from sprawl_audit.report.formats.jinja_env import num_filter, render
from sprawl_audit.report.formats.labels import plural
from sprawl_audit.report.formats.result_graph import view_graph
from sprawl_audit.report.formats.typed_view import ReportView, count

CLASSIFICATION_COLOURS: dict[str, str] = {
    "corporate": "#2166ac",
    "consumer": "#c81e1e",
    "unknown": "#c77700",
}
DEPARTMENT_COLOUR = "#5e6a82"
EXTERNAL_COLOUR = "#7c4da8"
EDGE_COLOUR = "#8d9ab0"
CONSUMER_EDGE_COLOUR = "#d64545"

#: Most nodes drawn per column; the rest are counted in a "+N more" line.
MAX_PLATFORMS, MAX_DEPARTMENTS, MAX_EXTERNALS = 40, 30, 30
#: Most platform columns in the heat map.
MAX_HEATMAP_PLATFORMS = 45


_num = num_filter  # a coordinate: integers without a decimal point, others to one decimal


# --- heat map ---------------------------------------------------------------------------

HM_LABEL_W, HM_CELL_W, HM_CELL_H, HM_HEAD_H, HM_TAIL_W = 150, 38, 28, 172, 190


@dataclass(frozen=True, slots=True)
class HeatColumn:
    x: float
    name: str  # raw tenant text
    consumer: bool


@dataclass(frozen=True, slots=True)
class HeatCell:
    x: float
    platform: str  # raw tenant text (the cell's tooltip)
    value: int | None  # None: the platform does not offer the capability
    colour: str = ""
    strength: float = 0.0

    @property
    def ink(self) -> str:
        return "on-dark" if self.strength > 0.55 else "on-light"

    @property
    def label(self) -> str:
        value = self.value or 0
        return f"{value:,}" if value < 10000 else f"{value // 1000}k"


@dataclass(frozen=True, slots=True)
class HeatRow:
    y: float
    capability: str  # raw capability name
    overlap: bool
    cells: tuple[HeatCell, ...]
    tail: str


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The heat map's geometry and labels; :data:`HEATMAP_TEMPLATE` draws it."""

    width: float
    height: float
    columns: tuple[HeatColumn, ...]
    rows: tuple[HeatRow, ...]
    note: str
    note_y: float


HEATMAP_TEMPLATE = "heatmap.svg.j2"
GRAPH_TEMPLATE = "graph.svg.j2"


def heatmap_layout(view: ReportView) -> Heatmap | None:
    """Capability × platform heat map; ``None`` when no capability has a platform."""
    caps = [c for c in view.capabilities if c.platforms]
    if not caps:
        return None
    offered = {p.platform for cap in caps for p in cap.platforms}
    columns_of: list[tuple[str, str, str, int]] = [  # id, name, classification, active users
        (p.id, p.name, p.classification, p.active_users)
        for p in view.platforms if p.id in offered]
    known = {pid for pid, *_rest in columns_of}
    for pid in dict.fromkeys(p.platform for cap in caps for p in cap.platforms):
        if pid not in known:  # a capability naming a platform the inventory lacks
            columns_of.append((pid, view.name_of(pid), "unknown", 0))
            known.add(pid)
    hidden = max(0, len(columns_of) - MAX_HEATMAP_PLATFORMS)
    columns_of = columns_of[:MAX_HEATMAP_PLATFORMS]
    peak = max((users for *_rest, users in columns_of), default=0)

    width = HM_LABEL_W + HM_CELL_W * len(columns_of) + HM_TAIL_W
    height = HM_HEAD_H + HM_CELL_H * len(caps) + 34
    columns = tuple(HeatColumn(HM_LABEL_W + HM_CELL_W * i + HM_CELL_W / 2, name,
                               classification == "consumer")
                    for i, (_pid, name, classification, _users) in enumerate(columns_of))
    rows = []
    for r, cap in enumerate(caps):
        users = {p.platform: p.active_users for p in cap.platforms}
        in_use = sum(1 for u in users.values() if u)
        overlap = in_use >= 2
        cells = []
        for i, (pid, name, classification, _users) in enumerate(columns_of):
            x = HM_LABEL_W + HM_CELL_W * i
            if pid not in users:
                cells.append(HeatCell(x, pid, None))
                continue
            value = users[pid]
            # a negative count (a hand-edited Result) shades like none, never raises
            strength = 0.12 + 0.88 * (math.log1p(max(0, value)) / math.log1p(peak)
                                      if peak > 0 else 0)
            colour = CLASSIFICATION_COLOURS.get(classification, CLASSIFICATION_COLOURS["unknown"])
            cells.append(HeatCell(x, name, value, colour, strength))
        rows.append(HeatRow(
            HM_HEAD_H + HM_CELL_H * r, cap.name, overlap, tuple(cells),
            f"{cap.overlapping_users:,} people · {in_use} platforms" if overlap else "—"))
    note = ("Cell: active users of the platform · colour: corporate blue, consumer red, "
            "unknown amber · stronger = more users")
    if hidden:
        note += f" · {hidden} smaller platforms not shown (see the inventory)"
    return Heatmap(width, height, columns, tuple(rows), note,
                   HM_HEAD_H + HM_CELL_H * len(caps) + 22)


def heatmap_svg(view: ReportView) -> Markup | None:
    """The heat map as inline SVG markup; ``None`` when no capability has a platform."""
    heatmap = heatmap_layout(view)
    if heatmap is None:
        return None
    return render(HEATMAP_TEMPLATE, heatmap=heatmap, label_w=HM_LABEL_W, cell_w=HM_CELL_W,
                  cell_h=HM_CELL_H, head_h=HM_HEAD_H, tail_w=HM_TAIL_W)


# --- graph ------------------------------------------------------------------------------

G_WIDTH = 1120
G_DEPT_X, G_PLATFORM_X, G_PLATFORM_W, G_EXT_X = 250, 450, 250, 880
G_PITCH, G_TOP, G_MIN_HEIGHT = 26, 84, 240


@dataclass(frozen=True)
class GraphLayout:
    """Which nodes are drawn, in which order, and how many were left out per column."""

    departments: list[str]
    platforms: list[str]
    externals: list[str]
    hidden: dict[str, int]


def _weight(data: Mapping[str, Any]) -> int:
    return count(data.get("people")) or count(data.get("weight"))


def _barycentre_order(nodes: Sequence[str], positions: Mapping[str, float],
                      neighbours: Mapping[str, Mapping[str, int]],
                      tie: Mapping[str, tuple[Any, ...]]) -> list[str]:
    """``nodes`` ordered by the weighted mean position of their placed neighbours.

    Nodes with no placed neighbour go last; ``tie`` breaks equal positions.
    """
    def key(node: str) -> tuple[Any, ...]:
        linked = [(positions[n], max(1, w)) for n, w in neighbours.get(node, {}).items()
                  if n in positions]
        if not linked:
            return (1, 0.0, *tie[node])
        total = sum(w for _p, w in linked)
        return (0, sum(p * w for p, w in linked) / total, *tie[node])

    return sorted(nodes, key=key)


def layout_graph(graph: nx.DiGraph[str]) -> GraphLayout:
    """Choose and order the nodes of the three columns (deterministic)."""
    kinds: dict[str, list[str]] = {"department": [], "platform": [], "external": []}
    for node, data in graph.nodes(data=True):
        if data.get("kind") in kinds:
            kinds[str(data["kind"])].append(node)
    tie: dict[str, tuple[Any, ...]] = {}
    for node in graph.nodes:
        data = graph.nodes[node]
        size = count(data.get("active_users")) or count(data.get("people"))
        tie[node] = (-size, str(data.get("label", "")), node)

    links: dict[str, dict[str, int]] = {}
    for source, target, data in graph.edges(data=True):
        if data.get("kind") in ("uses", "reaches"):
            w = _weight(data)
            links.setdefault(source, {})[target] = w
            links.setdefault(target, {})[source] = w

    def people_of(node: str) -> int:
        return count(graph.nodes[node].get("people")) or sum(links.get(node, {}).values())

    # A platform nobody is active on and that reaches no one is noise in a picture of
    # who uses what; the inventory still lists it.
    used = [n for n in kinds["platform"]
            if count(graph.nodes[n].get("active_users")) or links.get(n)]
    platforms = sorted(used, key=lambda n: tie[n])
    departments = sorted(kinds["department"], key=lambda n: (-people_of(n), tie[n]))
    externals = sorted(kinds["external"], key=lambda n: tie[n])
    hidden = {"unused": len(kinds["platform"]) - len(used),
              "platform": max(0, len(platforms) - MAX_PLATFORMS),
              "department": max(0, len(departments) - MAX_DEPARTMENTS),
              "external": max(0, len(externals) - MAX_EXTERNALS)}
    platforms = platforms[:MAX_PLATFORMS]
    departments = departments[:MAX_DEPARTMENTS]
    externals = externals[:MAX_EXTERNALS]

    def index(nodes: Sequence[str]) -> dict[str, float]:
        return {n: float(i) / max(1, len(nodes) - 1) for i, n in enumerate(nodes)}

    # Two sweeps of barycentre ordering: platforms by departments, departments by
    # platforms, platforms again; external parties by the platforms that reach them.
    platforms = _barycentre_order(platforms, index(departments), links, tie)
    departments = _barycentre_order(departments, index(platforms), links, tie)
    platforms = _barycentre_order(platforms, index(departments), links, tie)
    externals = _barycentre_order(externals, index(platforms), links, tie)
    return GraphLayout(departments, platforms, externals, hidden)


def _column_positions(nodes: Sequence[str], top: float, height: float) -> dict[str, float]:
    if not nodes:
        return {}
    pitch = min(2.2 * G_PITCH, height / len(nodes))
    start = top + (height - pitch * len(nodes)) / 2 + pitch / 2
    return {n: start + i * pitch for i, n in enumerate(nodes)}


def _edge_width(value: int, peak: int) -> float:
    if peak <= 0 or value <= 0:
        return 1.0
    return round(1.0 + 11.0 * math.sqrt(value / peak), 1)


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    mid = (x2 - x1) / 2
    return (f"M{_num(x1)} {_num(y1)} C{_num(x1 + mid)} {_num(y1)} "
            f"{_num(x2 - mid)} {_num(y2)} {_num(x2)} {_num(y2)}")


@dataclass(frozen=True, slots=True)
class Edge:
    path: str  # SVG path data: numbers only
    css: str
    colour: str
    width: float
    opacity: str
    title: tuple[Any, Any, int] | None  # (from, to, people) for a "uses" edge; raw labels


@dataclass(frozen=True, slots=True)
class DepartmentNode:
    y: float
    label: Any  # raw tenant text, as the graph carries it
    people: int
    consumer_app_users: int
    radius: float
    exposed: bool


@dataclass(frozen=True, slots=True)
class PlatformNode:
    y: float
    label: Any  # raw tenant text, as the graph carries it
    classification: str  # raw: shown in the tooltip only
    css: str  # our own class names
    colour: str
    consumer: bool
    unsanctioned: bool
    status: str
    active_users: int


@dataclass(frozen=True, slots=True)
class ExternalNode:
    y: float
    label: Any  # raw tenant text, as the graph carries it
    link_kinds: Any  # raw, as the graph carries it (shown in the tooltip)
    people: int
    colour: str
    consumer: bool


@dataclass(frozen=True, slots=True)
class GraphPicture:
    """The graph's geometry and labels; :data:`GRAPH_TEMPLATE` draws it."""

    height: float
    edges: tuple[Edge, ...]
    departments: tuple[DepartmentNode, ...]
    platforms: tuple[PlatformNode, ...]
    externals: tuple[ExternalNode, ...]
    more: tuple[tuple[float, str, str], ...]  # (x, text-anchor, text) under each column
    more_y: float
    legend: tuple[tuple[float, str], ...]  # (x, label) per legend entry


LEGEND_LABELS = ("corporate platform", "consumer app", "unknown", "unsanctioned (dashed)",
                 "department", "external party", "personal mail service")


def _legend() -> tuple[tuple[float, str], ...]:
    out, x = [], 0.0
    for label in LEGEND_LABELS:
        out.append((x, label))
        x += 52 + 7.5 * len(label)
    return tuple(out)


def graph_picture(view: ReportView) -> GraphPicture | None:
    """Departments → platforms → external parties; ``None`` when there are no platforms."""
    graph = view_graph(view)
    layout = layout_graph(graph)
    if not layout.platforms and not layout.hidden["unused"]:
        return None
    rows = max(len(layout.platforms), len(layout.departments), len(layout.externals), 1)
    body_h = max(G_MIN_HEIGHT, rows * G_PITCH)
    dept_y = _column_positions(layout.departments, G_TOP, body_h)
    plat_y = _column_positions(layout.platforms, G_TOP, body_h)
    ext_y = _column_positions(layout.externals, G_TOP, body_h)
    nodes = graph.nodes

    uses = [(s, t, d) for s, t, d in graph.edges(data=True)
            if d.get("kind") == "uses" and s in dept_y and t in plat_y]
    reaches = [(s, t, d) for s, t, d in graph.edges(data=True)
               if d.get("kind") == "reaches" and s in plat_y and t in ext_y]
    peak = max([_weight(d) for _s, _t, d in uses + reaches] or [0])
    edges: list[Edge] = []
    # thick edges first, so thin ones stay visible on top
    for s, t, d in sorted(uses, key=lambda e: -_weight(e[2])):
        consumer = bool(nodes[t].get("consumer"))
        edges.append(Edge(
            _curve(G_DEPT_X + 8, dept_y[s], G_PLATFORM_X, plat_y[t]),
            "edge uses consumer" if consumer else "edge uses",
            CONSUMER_EDGE_COLOUR if consumer else EDGE_COLOUR,
            _edge_width(_weight(d), peak), "0.55" if consumer else "0.4",
            (nodes[s].get("label"), nodes[t].get("label"), count(d.get("people")))))
    for s, t, d in sorted(reaches, key=lambda e: -_weight(e[2])):
        consumer = bool(nodes[t].get("consumer_domain"))
        edges.append(Edge(
            _curve(G_PLATFORM_X + G_PLATFORM_W, plat_y[s], G_EXT_X - 8, ext_y[t]),
            "edge reaches consumer" if consumer else "edge reaches",
            CONSUMER_EDGE_COLOUR if consumer else EXTERNAL_COLOUR,
            _edge_width(_weight(d), peak), "0.45", None))

    peak_people = max([count(nodes[n].get("people")) for n in layout.departments] or [0])
    departments = []
    for node in layout.departments:
        data = nodes[node]
        people = count(data.get("people"))
        departments.append(DepartmentNode(
            dept_y[node], data.get("label"), people, count(data.get("consumer_app_users")),
            4 + (8 * math.sqrt(people / peak_people) if peak_people else 0),
            float(data.get("consumer_exposure") or 0) >= 0.1))

    platforms = []
    for node in layout.platforms:
        data = nodes[node]
        classification = str(data.get("classification"))
        unsanctioned = data.get("sanctioned") is False
        classes = ["node", "platform", classification if classification in
                   CLASSIFICATION_COLOURS else "unknown"]
        if unsanctioned:
            classes.append("unsanctioned")
        platforms.append(PlatformNode(
            plat_y[node], data.get("label"), classification, " ".join(classes),
            CLASSIFICATION_COLOURS.get(classification, CLASSIFICATION_COLOURS["unknown"]),
            classification == "consumer", unsanctioned,
            "sanctioned" if data.get("sanctioned") is True else (
                "unsanctioned" if unsanctioned else "sanction not recorded"),
            count(data.get("active_users"))))

    externals = []
    for node in layout.externals:
        data = nodes[node]
        consumer = bool(data.get("consumer_domain"))
        externals.append(ExternalNode(
            ext_y[node], data.get("label"), data.get("link_kinds"), count(data.get("people")),
            CLASSIFICATION_COLOURS["consumer"] if consumer else EXTERNAL_COLOUR, consumer))

    hidden = layout.hidden
    more = [(float(G_DEPT_X), "end",
             f"+{hidden['department']} more departments" if hidden["department"] else ""),
            (G_PLATFORM_X + G_PLATFORM_W / 2, "middle", "; ".join(filter(None, [
                f"+{hidden['platform']} smaller platforms" if hidden["platform"] else "",
                f"{plural(hidden['unused'], 'platform')} with no active users"
                if hidden["unused"] else ""]))),
            (float(G_EXT_X), "start",
             f"+{hidden['external']} more external parties" if hidden["external"] else "")]
    return GraphPicture(
        G_TOP + body_h + 44, tuple(edges), tuple(departments), tuple(platforms),
        tuple(externals), tuple(m for m in more if m[2]), G_TOP + body_h + 24, _legend())


def graph_svg(view: ReportView) -> Markup | None:
    """The graph as inline SVG markup; ``None`` when there are no platforms."""
    picture = graph_picture(view)
    if picture is None:
        return None
    return render(GRAPH_TEMPLATE, g=picture, width=G_WIDTH, dept_x=G_DEPT_X,
                  platform_x=G_PLATFORM_X, platform_w=G_PLATFORM_W, ext_x=G_EXT_X, top=G_TOP,
                  department_colour=DEPARTMENT_COLOUR, external_colour=EXTERNAL_COLOUR)
