"""Slack is called Slack: an instance of a product is named product first, instance second.

A Slack workspace used to appear as "Riverside ICT" — a team name that could be anything —
in the inventory, the overlap list and every finding. Resolution now names every instance
of a catalogue product with :func:`~sprawl_audit.catalog.instance_display_name`, so the
same "Slack (Riverside ICT)" reaches the terminal, HTML, Markdown, CSV and JSON alike.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import demo_result

from sprawl_audit.catalog import instance_display_name, load_catalog
from sprawl_audit.core.model import AppRef, Inventory, Organisation, Platform, SourceRef
from sprawl_audit.inventory.resolve import resolve
from sprawl_audit.report.formats import RenderOptions, get_format

WORKSPACE = "Slack (Riverside ICT)"


@pytest.mark.parametrize(("product", "instance", "expected"), [
    ("Slack", "Riverside ICT", "Slack (Riverside ICT)"),
    ("Microsoft 365", "Contoso", "Microsoft 365 (Contoso)"),
    ("Google Workspace", "Riverside Homes", "Google Workspace (Riverside Homes)"),
    ("Slack", "", "Slack"),  # no name of its own: the product
    ("Slack", "  slack ", "Slack"),  # named like the product
    ("Slack", "Slack (Riverside ICT)", "Slack (Riverside ICT)"),  # twice changes nothing
    ("Slack", " Riverside ICT ", "Slack (Riverside ICT)"),
    ("", "Riverside ICT", "Riverside ICT"),
])
def test_instance_display_name(product: str, instance: str, expected: str) -> None:
    assert instance_display_name(product, instance) == expected


def _resolved(*platforms: Platform) -> dict[str, Platform]:
    inventory = Inventory(Organisation("Riverside"), platforms=platforms)
    return resolve(inventory, load_catalog()).platforms


def test_resolution_names_instances_product_first() -> None:
    source = SourceRef("slack", "directory.users")
    platforms = _resolved(
        Platform(id="slack:T1", ref=AppRef("slug", "slack"), name="Riverside ICT",
                 sources=(source,)),
        Platform(id="slack:T2", ref=AppRef("slug", "slack"), name="<b>Hostile</b>",
                 sources=(source,)),
        Platform(id="teams", ref=AppRef("slug", "teams"), name="Microsoft Teams"),
        Platform(id="slack:T3", ref=AppRef("slug", "slack"), sources=(source,)),
    )
    assert platforms["slack:T1"].name == WORKSPACE
    assert platforms["slack:T2"].name == "Slack (<b>Hostile</b>)"  # escaped by each format
    assert platforms["teams"].name == "Microsoft Teams"  # the product itself: unchanged
    assert platforms["slack:T3"].name == "Slack"  # no workspace name given


def test_a_user_catalogue_entry_names_tenants_the_same_way() -> None:
    catalog = load_catalog([{"slug": "microsoft-365", "name": "Microsoft 365",
                             "capabilities": ["email"]}])
    inventory = Inventory(Organisation("Contoso"), platforms=(
        Platform(id="m365:contoso", ref=AppRef("slug", "microsoft-365"), name="Contoso"),))
    assert resolve(inventory, catalog).platforms["m365:contoso"].name == \
        "Microsoft 365 (Contoso)"


# -- every format --------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return demo_result()


def test_json_names_the_workspace_product_first(demo: dict[str, Any]) -> None:
    slack = next(p for p in demo["platforms"] if p["id"].startswith("slack:"))
    assert slack["name"] == WORKSPACE
    chat = next(c for c in demo["capabilities"] if c["name"] == "chat")
    assert WORKSPACE in {p["name"] for p in chat["platforms"]}
    names = {p["name"] for p in demo["platforms"]}
    assert "Riverside ICT" not in names


def _render(name: str, doc: dict[str, Any]) -> str:
    out = io.StringIO()
    get_format(name).render(doc, out, RenderOptions(width=160))
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["rich", "html", "markdown", "json"])
def test_text_formats_show_slack_first(fmt: str, demo: dict[str, Any]) -> None:
    text = _render(fmt, demo)
    if fmt == "markdown":  # brackets are escaped there: "Slack \\(Riverside ICT\\)"
        text = text.replace("\\(", "(").replace("\\)", ")")
    assert WORKSPACE in text, fmt
    bare = text.replace(WORKSPACE, "")
    # the workspace name appears only inside the product's name (never on its own)
    assert "Riverside ICT" not in bare, fmt


def test_csv_inventory_names_slack_first(demo: dict[str, Any], tmp_path: Path) -> None:
    files = get_format("csv").render_files(demo, tmp_path, RenderOptions(), stem="s")
    inventory = next(f for f in files if f.name == "s-inventory.csv")
    with inventory.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = {cell for row in rows for cell in row}
    assert WORKSPACE in cells
    assert "Riverside ICT" not in cells
