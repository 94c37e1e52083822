"""The two pictures of the HTML report, as inline SVG: the overlap heat map and the graph.

Both are plain SVG markup with no script, no external reference and no tenant text
outside element content: every name goes through :func:`_h` (sanitised, then
HTML-escaped), and attributes hold only numbers and our own class names. Layouts are
computed here, deterministically, so the same Result always draws the same picture.

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

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from sprawl_audit.report.formats.labels import capability_label, plural
from sprawl_audit.report.formats.markup import html_text
from sprawl_audit.report.formats.result_graph import build_graph
from sprawl_audit.report.formats.view import count, items, platform_names

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
LABEL_LIMIT = 34


def _h(value: Any, limit: int = LABEL_LIMIT) -> str:
    """Tenant text for SVG element content: one safe line, escaped, length-capped."""
    return html_text(value, limit)


def _num(value: float) -> str:
    """A coordinate: integers without a decimal point, others to one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _svg_open(width: float, height: float, label: str, css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" role="img" '
            f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
            f'height="{_num(height)}" preserveAspectRatio="xMinYMin meet" '
            f'aria-label="{html.escape(label, quote=True)}">')


# --- heat map ---------------------------------------------------------------------------

HM_LABEL_W, HM_CELL_W, HM_CELL_H, HM_HEAD_H, HM_TAIL_W = 150, 38, 28, 172, 190


def heatmap_svg(result: Mapping[str, Any]) -> str | None:
    """Capability × platform heat map; ``None`` when no capability has a platform."""
    caps = [c for c in items(result, "capabilities") if items(c, "platforms")]
    if not caps:
        return None
    offered: dict[str, set[str]] = {}
    for cap in caps:
        for p in items(cap, "platforms"):
            offered.setdefault(str(p.get("id")), set()).add(str(cap.get("name")))
    platforms = [p for p in items(result, "platforms") if str(p.get("id")) in offered]
    known = {str(p.get("id")) for p in platforms}
    names = platform_names(result)
    for pid in offered:  # a capability naming a platform the inventory lacks
        if pid not in known:
            platforms.append({"id": pid, "name": names.get(pid, pid), "classification": "unknown",
                              "active_users": 0})
    hidden = max(0, len(platforms) - MAX_HEATMAP_PLATFORMS)
    platforms = platforms[:MAX_HEATMAP_PLATFORMS]
    peak = max((count(p.get("active_users")) for p in platforms), default=0)

    width = HM_LABEL_W + HM_CELL_W * len(platforms) + HM_TAIL_W
    height = HM_HEAD_H + HM_CELL_H * len(caps) + 34
    out = [_svg_open(width, height, "Capability by platform heat map", "heatmap-svg")]
    # column headers, rotated
    for i, p in enumerate(platforms):
        x = HM_LABEL_W + HM_CELL_W * i + HM_CELL_W / 2
        consumer = p.get("classification") == "consumer"
        cls = "col-head consumer" if consumer else "col-head"
        mark = " ●" if consumer else ""
        out.append(f'<text class="{cls}" x="{_num(x)}" y="{HM_HEAD_H - 8}" '
                   f'transform="rotate(-55 {_num(x)} {HM_HEAD_H - 8})">'
                   f'{_h(p.get("name") or p.get("id"), 22)}{mark}</text>')
    out.append(f'<text class="col-head tail" x="{_num(width - HM_TAIL_W + 10)}" '
               f'y="{HM_HEAD_H - 8}">People on 2+</text>')
    for r, cap in enumerate(caps):
        y = HM_HEAD_H + HM_CELL_H * r
        users = {str(p.get("id")): count(p.get("active_users")) for p in items(cap, "platforms")}
        in_use = sum(1 for u in users.values() if u)
        overlap = in_use >= 2
        out.append(f'<g class="hm-row{" overlap" if overlap else ""}">')
        out.append(f'<text class="row-head" x="{HM_LABEL_W - 10}" y="{_num(y + HM_CELL_H / 2 + 4)}"'
                   f' text-anchor="end">{_h(capability_label(str(cap.get("name", ""))), 30)}'
                   f'</text>')
        for i, p in enumerate(platforms):
            x = HM_LABEL_W + HM_CELL_W * i
            pid = str(p.get("id"))
            if pid not in users:
                out.append(f'<rect class="hm-cell empty" x="{_num(x + 1)}" y="{_num(y + 1)}" '
                           f'width="{HM_CELL_W - 2}" height="{HM_CELL_H - 2}" fill="#f1f3f6"/>')
                continue
            value = users[pid]
            strength = 0.12 + 0.88 * (math.log1p(value) / math.log1p(peak) if peak else 0)
            colour = CLASSIFICATION_COLOURS.get(str(p.get("classification")),
                                                CLASSIFICATION_COLOURS["unknown"])
            ink = "on-dark" if strength > 0.55 else "on-light"
            label = f"{value:,}" if value < 10000 else f"{value // 1000}k"
            out.append(
                f'<g class="hm-cell filled"><title>{_h(p.get("name") or pid, 80)} — '
                f'{_h(capability_label(str(cap.get("name", ""))), 30)}: {value:,} active'
                f'</title><rect x="{_num(x + 1)}" y="{_num(y + 1)}" width="{HM_CELL_W - 2}" '
                f'height="{HM_CELL_H - 2}" rx="3" fill="{colour}" '
                f'fill-opacity="{strength:.2f}"/><text x="{_num(x + HM_CELL_W / 2)}" '
                f'y="{_num(y + HM_CELL_H / 2 + 4)}" text-anchor="middle" '
                f'class="hm-value {ink}">{label}</text></g>')
        tail_x = HM_LABEL_W + HM_CELL_W * len(platforms) + 10
        overlap_text = (f"{count(cap.get('overlapping_users')):,} people · {in_use} platforms"
                        if overlap else "—")
        out.append(f'<text class="hm-tail{" warn" if overlap else ""}" x="{_num(tail_x)}" '
                   f'y="{_num(y + HM_CELL_H / 2 + 4)}">{overlap_text}</text>')
        out.append("</g>")
    note_y = HM_HEAD_H + HM_CELL_H * len(caps) + 22
    note = "Cell: active users of the platform · colour: corporate blue, consumer red, " \
           "unknown amber · stronger = more users"
    if hidden:
        note += f" · {hidden} smaller platforms not shown (see the inventory)"
    out.append(f'<text class="hm-note" x="0" y="{note_y}">{html.escape(note)}</text>')
    out.append("</svg>")
    return "".join(out)


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


def graph_svg(result: Mapping[str, Any]) -> str | None:
    """Departments → platforms → external parties; ``None`` when there are no platforms."""
    graph = build_graph(result)
    layout = layout_graph(graph)
    if not layout.platforms and not layout.hidden["unused"]:
        return None
    rows = max(len(layout.platforms), len(layout.departments), len(layout.externals), 1)
    body_h = max(G_MIN_HEIGHT, rows * G_PITCH)
    height = G_TOP + body_h + 44
    dept_y = _column_positions(layout.departments, G_TOP, body_h)
    plat_y = _column_positions(layout.platforms, G_TOP, body_h)
    ext_y = _column_positions(layout.externals, G_TOP, body_h)
    nodes = graph.nodes

    out = [_svg_open(G_WIDTH, height, "Graph of departments, platforms and external parties",
                     "graph-svg")]
    out.append(_legend())
    out += [
        f'<text class="col-title" x="{G_DEPT_X}" y="{G_TOP - 14}" text-anchor="end">'
        'Departments (people)</text>',
        f'<text class="col-title" x="{_num(G_PLATFORM_X + G_PLATFORM_W / 2)}" '
        f'y="{G_TOP - 14}" text-anchor="middle">Platforms (active users)</text>',
        f'<text class="col-title" x="{G_EXT_X}" y="{G_TOP - 14}">External parties (people)'
        '</text>',
    ]

    uses = [(s, t, d) for s, t, d in graph.edges(data=True)
            if d.get("kind") == "uses" and s in dept_y and t in plat_y]
    reaches = [(s, t, d) for s, t, d in graph.edges(data=True)
               if d.get("kind") == "reaches" and s in plat_y and t in ext_y]
    peak = max([_weight(d) for _s, _t, d in uses + reaches] or [0])
    out.append('<g class="edges">')
    # thick edges first, so thin ones stay visible on top
    for s, t, d in sorted(uses, key=lambda e: -_weight(e[2])):
        consumer = bool(nodes[t].get("consumer"))
        colour = CONSUMER_EDGE_COLOUR if consumer else EDGE_COLOUR
        cls = "edge uses consumer" if consumer else "edge uses"
        path = _curve(G_DEPT_X + 8, dept_y[s], G_PLATFORM_X, plat_y[t])
        width = _edge_width(_weight(d), peak)
        out.append(f'<path class="{cls}" d="{path}" stroke="{colour}" stroke-width="{width}" '
                   f'stroke-opacity="{0.55 if consumer else 0.4}" fill="none">'
                   f'<title>{_h(nodes[s].get("label"), 60)} → {_h(nodes[t].get("label"), 60)}: '
                   f'{count(d.get("people")):,} people</title></path>')
    for s, t, d in sorted(reaches, key=lambda e: -_weight(e[2])):
        consumer = bool(nodes[t].get("consumer_domain"))
        colour = CONSUMER_EDGE_COLOUR if consumer else EXTERNAL_COLOUR
        out.append(f'<path class="edge reaches{" consumer" if consumer else ""}" '
                   f'd="{_curve(G_PLATFORM_X + G_PLATFORM_W, plat_y[s], G_EXT_X - 8, ext_y[t])}" '
                   f'stroke="{colour}" stroke-width="{_edge_width(_weight(d), peak)}" '
                   f'stroke-opacity="0.45" fill="none"/>')
    out.append("</g>")

    peak_people = max([count(nodes[n].get("people")) for n in layout.departments] or [0])
    for node in layout.departments:
        data, y = nodes[node], dept_y[node]
        people = count(data.get("people"))
        r = 4 + (8 * math.sqrt(people / peak_people) if peak_people else 0)
        exposure = float(data.get("consumer_exposure") or 0)
        cls = "node department exposed" if exposure >= 0.1 else "node department"
        out.append(
            f'<g class="{cls}"><title>{_h(data.get("label"), 80)}: {people:,} people, '
            f'{count(data.get("consumer_app_users")):,} on consumer apps</title>'
            f'<circle cx="{G_DEPT_X}" cy="{_num(y)}" r="{r:.1f}" fill="{DEPARTMENT_COLOUR}"/>'
            f'<text x="{G_DEPT_X - 16}" y="{_num(y + 4)}" text-anchor="end">'
            f'{_h(data.get("label"), 26)} <tspan class="muted">({people:,})</tspan></text></g>')

    for node in layout.platforms:
        data, y = nodes[node], plat_y[node]
        classification = str(data.get("classification"))
        colour = CLASSIFICATION_COLOURS.get(classification, CLASSIFICATION_COLOURS["unknown"])
        consumer = classification == "consumer"
        unsanctioned = data.get("sanctioned") is False
        classes = ["node", "platform", classification if classification in
                   CLASSIFICATION_COLOURS else "unknown"]
        if unsanctioned:
            classes.append("unsanctioned")
        fill, ink = (colour, "on-dark") if consumer else ("#ffffff", "on-light")
        dash = ' stroke-dasharray="5 3"' if unsanctioned else ""
        status = "sanctioned" if data.get("sanctioned") is True else (
            "unsanctioned" if unsanctioned else "sanction not recorded")
        out.append(
            f'<g class="{" ".join(classes)}"><title>{_h(data.get("label"), 80)} — '
            f'{_h(classification, 20)}, {status}, {count(data.get("active_users")):,} active '
            f'users</title><rect x="{G_PLATFORM_X}" y="{_num(y - 11)}" width="{G_PLATFORM_W}" '
            f'height="22" rx="11" fill="{fill}" stroke="{colour}" '
            f'stroke-width="{3 if consumer else 2}"{dash}/>'
            f'<text x="{G_PLATFORM_X + 12}" y="{_num(y + 4)}" class="{ink}">'
            f'{"⚠ " if consumer else ""}{_h(data.get("label"), 27)}</text>'
            f'<text x="{G_PLATFORM_X + G_PLATFORM_W - 10}" y="{_num(y + 4)}" '
            f'text-anchor="end" class="count {ink}">{count(data.get("active_users")):,}</text>'
            "</g>")

    for node in layout.externals:
        data, y = nodes[node], ext_y[node]
        consumer = bool(data.get("consumer_domain"))
        colour = CLASSIFICATION_COLOURS["consumer"] if consumer else EXTERNAL_COLOUR
        out.append(
            f'<g class="node external{" consumer" if consumer else ""}">'
            f'<title>{_h(data.get("label"), 80)}: {_h(data.get("link_kinds"), 80)}</title>'
            f'<rect x="{G_EXT_X - 7}" y="{_num(y - 7)}" width="14" height="14" '
            f'transform="rotate(45 {G_EXT_X} {_num(y)})" fill="{colour}"/>'
            f'<text x="{G_EXT_X + 16}" y="{_num(y + 4)}">{_h(data.get("label"), 30)} '
            f'<tspan class="muted">({count(data.get("people")):,})</tspan></text></g>')

    more = [(G_DEPT_X, "end", f"+{layout.hidden['department']} more departments"
             if layout.hidden["department"] else ""),
            (G_PLATFORM_X + G_PLATFORM_W / 2, "middle", "; ".join(filter(None, [
                f"+{layout.hidden['platform']} smaller platforms" if layout.hidden["platform"]
                else "",
                f"{plural(layout.hidden['unused'], 'platform')} with no active users"
                if layout.hidden["unused"] else ""]))),
            (G_EXT_X, "start", f"+{layout.hidden['external']} more external parties"
             if layout.hidden["external"] else "")]
    for x, anchor, text in more:
        if text:
            out.append(f'<text class="more" x="{_num(x)}" y="{_num(G_TOP + body_h + 24)}" '
                       f'text-anchor="{anchor}">{html.escape(text)} (see the inventory)</text>')
    if not layout.externals:
        out.append(f'<text class="muted" x="{G_EXT_X}" y="{_num(G_TOP + 20)}">'
                   'none recorded</text>')
    out.append("</svg>")
    return "".join(out)


def _legend() -> str:
    entries = [
        ('<rect x="0" y="-9" width="26" height="14" rx="7" fill="#fff" stroke="#2166ac" '
         'stroke-width="2"/>', "corporate platform"),
        ('<rect x="0" y="-9" width="26" height="14" rx="7" fill="#c81e1e" stroke="#c81e1e" '
         'stroke-width="2"/>', "consumer app"),
        ('<rect x="0" y="-9" width="26" height="14" rx="7" fill="#fff" stroke="#c77700" '
         'stroke-width="2"/>', "unknown"),
        ('<rect x="0" y="-9" width="26" height="14" rx="7" fill="#fff" stroke="#5e6a82" '
         'stroke-width="2" stroke-dasharray="5 3"/>', "unsanctioned (dashed)"),
        (f'<circle cx="8" cy="-2" r="7" fill="{DEPARTMENT_COLOUR}"/>', "department"),
        (f'<rect x="2" y="-9" width="12" height="12" transform="rotate(45 8 -3)" '
         f'fill="{EXTERNAL_COLOUR}"/>', "external party"),
        ('<rect x="2" y="-9" width="12" height="12" transform="rotate(45 8 -3)" '
         'fill="#c81e1e"/>', "personal mail service"),
    ]
    out = ['<g class="legend" transform="translate(0 22)">']
    x = 0.0
    for shape, label in entries:
        out.append(f'<g transform="translate({_num(x)} 0)">{shape}'
                   f'<text x="34" y="2">{label}</text></g>')
        x += 52 + 7.5 * len(label)
    out.append('<text x="0" y="26" class="muted">Line width: people. Red lines lead to '
               'consumer apps or personal mail services.</text>')
    out.append("</g>")
    return "".join(out)
