"""Interview notes YAML → Observation and ExternalLink records (sprawl_audit/connectors/manual)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sprawl_audit.connectors.manual.collect import load_manual_inventory
from sprawl_audit.connectors.manual.transform import load_manual_text
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef

GOOD = """\
version: 1
source: "Interviews, Oct 2026"
entries:
  - platform: WhatsApp
    department: Repairs
    team: Operatives
    head_count: 40
    people: [A.Boss@example.org.uk, b.lead@example.org.uk]
    data_categories: [tenant addresses, photos]
    external_parties: [Hartwell Building Services Ltd, PMS Repairs]
    note: Area groups with contractors.
    last_seen: 2026-10-21
  - slug: zoom
    department: Communications
    head_count: 12
    last_seen: "2026-10-29T10:00:00Z"
"""


def test_entries_become_observations_and_links() -> None:
    out = load_manual_text(GOOD, "interviews.yaml")
    group, boss, lead, zoom = out.observations
    assert group.platform == AppRef("name", "WhatsApp")
    assert (group.person, group.department, group.head_count) == (None, "Repairs", 40)
    assert group.data_categories == ("tenant addresses", "photos")
    assert group.note == "[Operatives] Area groups with contractors."
    assert group.last_seen == "2026-10-21"
    assert group.source.connector == "manual" and group.source.topic == "manual.inventory"
    assert group.source.detail == "Interviews, Oct 2026, entry 1"
    assert (boss.person, boss.head_count) == ("a.boss@example.org.uk", None)
    assert lead.person == "b.lead@example.org.uk"
    assert zoom.platform == AppRef("slug", "zoom") and zoom.last_seen == "2026-10-29"
    links = out.external_links
    assert [(link.kind, link.target) for link in links] == [
        ("external_party", "Hartwell Building Services Ltd"), ("external_party", "PMS Repairs")]
    assert links[0].people == ("a.boss@example.org.uk", "b.lead@example.org.uk")
    assert links[0].detail == "Repairs / Operatives"
    cov = out.coverage[0]
    assert (cov.topic, cov.status, cov.items) == ("manual.inventory", "collected", 2)


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert len(load_manual_inventory(path).observations) == 4


@pytest.mark.parametrize(("text", "where"), [
    ("version: 2\nentries: []\n", ":1: version: "),
    ("version: 1\nentry: []\n", ":2: entry: unknown key"),
    ("version: 1\nentries: {}\n", ":2: entries: "),
    ("version: 1\nentries:\n  - just text\n", ":3: entries[0]: "),
    ("version: 1\nentries:\n  - platform: X\n    head_cuont: 3\n",
     ":4: entries[0].head_cuont: unknown key"),
    ("version: 1\nentries:\n  - department: Repairs\n", ":3: entries[0].platform: "),
    ("version: 1\nentries:\n  - platform: X\n    slug: x\n", ":3: entries[0].platform: "),
    ("version: 1\nentries:\n  - slug: Not A Slug\n", ":3: entries[0].slug: "),
    ("version: 1\nentries:\n  - platform: X\n    head_count: -1\n",
     ":4: entries[0].head_count: "),
    ("version: 1\nentries:\n  - platform: X\n    head_count: many\n",
     ":4: entries[0].head_count: "),
    ("version: 1\nentries:\n  - platform: X\n    people: [a@b.example, someone]\n",
     ":4: entries[0].people[1]: 'someone' is not an email"),
    ("version: 1\nentries:\n  - platform: X\n    data_categories: photos\n",
     ":4: entries[0].data_categories: "),
    ("version: 1\nentries:\n  - platform: X\n    last_seen: last week\n",
     ":4: entries[0].last_seen: "),
    ("version: 1\nentries:\n  - platform: X\n    platform: Y\n", ":4: platform: duplicate key"),
    ("version: 1\nentries: [\n", ":3: invalid YAML"),
])
def test_mistakes_are_located(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as exc:
        load_manual_inventory(path)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{path}{where}"), message


def test_non_utf8_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_bytes(b"version: 1\nentries:\n  - platform: Caf\xe9\n")
    with pytest.raises(UserError) as exc:
        load_manual_inventory(path)
    assert str(exc.value).startswith(f"{path}:3: ")
