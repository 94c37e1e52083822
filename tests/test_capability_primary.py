"""Primary capabilities: products are compared on what they are for, not on all they can do.

WhatsApp can hold a video call, but listing it under video meetings beside Teams and Zoom
hid the overlap that costs money (Teams, Zoom and the contact-centre suite). These tests
hold the catalogue to its ``primary`` key, the loader to refusing an entry that leaves it
ambiguous, and the demo's overlap list to leaving consumer messengers out of voice and
video meetings unless ``--overlap all`` (or ``audit.overlap: all``) asks for them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_fixtures import demo_result

from sprawl_audit.catalog import CatalogEntry, load_catalog
from sprawl_audit.catalog.loader import DATA_DIR
from sprawl_audit.cli.main import main
from sprawl_audit.config import parse_config
from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.schema import load_result

CATALOG = load_catalog()
MESSENGERS = {e.slug for e in CATALOG.entries
              if e.classification == "consumer" and e.primary == ("chat",)}


# -- the shipped catalogue -------------------------------------------------------------


def test_every_entry_with_capabilities_has_a_primary_among_them() -> None:
    for entry in CATALOG.entries:
        if not entry.capabilities:  # identity providers do no communication job
            assert "identity_provider" in entry.tags, entry.slug
            assert entry.primary == (), entry.slug
            continue
        assert entry.primary, entry.slug
        assert set(entry.primary) <= set(entry.capabilities), entry.slug
        assert entry.secondary == tuple(c for c in entry.capabilities
                                        if c not in entry.primary), entry.slug


def test_every_shipped_entry_names_its_primary_explicitly() -> None:
    """Not left to the one-capability rule: a reader of the YAML sees what each is for."""
    for path in sorted(DATA_DIR.glob("*.yaml")):
        for raw in yamlio.load_file(path) or []:
            if raw.get("capabilities"):
                assert "primary" in raw, f"{path.name}: {raw['slug']}"


@pytest.mark.parametrize(("slug", "primary"), [
    ("whatsapp", ("chat",)), ("telegram", ("chat",)), ("signal", ("chat",)),
    ("slack", ("chat",)), ("teams", ("chat", "voice", "video_meetings")),
    ("zoom", ("chat", "voice", "video_meetings")), ("mitel", ("voice",)),
    ("8x8", ("chat", "voice", "video_meetings", "contact_centre")),
    ("genesys-cloud", ("contact_centre", "voice")), ("personal-mobile", ("voice", "sms")),
])
def test_named_products_are_for_what_people_buy_them_for(
        slug: str, primary: tuple[str, ...]) -> None:
    entry = CATALOG.get(slug)
    assert entry is not None and entry.primary == primary


def test_consumer_messengers_have_voice_and_video_only_as_secondary() -> None:
    assert {"whatsapp", "telegram", "signal", "facebook-messenger"} <= MESSENGERS
    for slug in MESSENGERS:
        entry = CATALOG.get(slug)
        assert entry is not None
        assert not {"voice", "video_meetings"} & set(entry.primary), slug


# -- validation ---------------------------------------------------------------------


def _extra(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return yamlio.load_file(path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as err:
        load_catalog(_extra(tmp_path, text))
    return str(err.value)


def test_one_capability_is_its_own_primary(tmp_path: Path) -> None:
    cat = load_catalog(_extra(tmp_path, """\
        - slug: acme-radio
          name: Acme Radio
          capabilities: [voice]
        """))
    assert cat.get("acme-radio").primary == ("voice",)  # type: ignore[union-attr]


def test_primary_may_be_one_word_or_a_list(tmp_path: Path) -> None:
    cat = load_catalog(_extra(tmp_path, """\
        - slug: acme-chat
          name: Acme Chat
          capabilities: [chat, voice, video_meetings]
          primary: chat
        - slug: acme-suite
          name: Acme Suite
          capabilities: [chat, voice, video_meetings, sms]
          primary: [voice, video_meetings]
        """))
    assert cat.get("acme-chat").primary == ("chat",)  # type: ignore[union-attr]
    suite = cat.get("acme-suite")
    assert suite is not None and suite.primary == ("voice", "video_meetings")
    assert suite.secondary == ("chat", "sms")


def test_several_capabilities_and_no_primary_is_a_located_error(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-radio
          name: Acme Radio
        - slug: acme-chat
          name: Acme Chat
          capabilities: [chat, voice]
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:5: primary: "), message
    assert "'acme-chat' has several capabilities (chat, voice)" in message
    assert "primary: chat" in message  # says what to write


def test_primary_outside_the_capabilities_is_a_located_error(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-chat
          name: Acme Chat
          capabilities: [chat, voice]
          primary: video_meetings
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:4: primary: "), message
    assert "not one of the entry's capabilities (chat, voice)" in message


def test_unknown_primary_is_refused_like_an_unknown_capability(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-chat
          name: Acme Chat
          capabilities: [chat]
          primary: telepathy
        """)
    assert "primary: unknown capability 'telepathy'" in message


def test_an_override_keeps_the_shipped_primary_while_it_still_fits(tmp_path: Path) -> None:
    cat = load_catalog(_extra(tmp_path, """\
        - slug: whatsapp
          capabilities: [chat, voice]
        - slug: mitel
          classification: unknown
        """))
    assert cat.get("whatsapp").primary == ("chat",)  # type: ignore[union-attr]
    assert cat.get("mitel").primary == ("voice",)  # type: ignore[union-attr]


def test_an_override_that_drops_the_primary_must_name_a_new_one(tmp_path: Path) -> None:
    cat = load_catalog(_extra(tmp_path, """\
        - slug: whatsapp
          capabilities: [voice]
        """))
    assert cat.get("whatsapp").primary == ("voice",)  # type: ignore[union-attr]
    message = _error(tmp_path, """\
        - slug: whatsapp
          capabilities: [voice, video_meetings]
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:2: primary: "), message
    cat = load_catalog(_extra(tmp_path, """\
        - slug: whatsapp
          capabilities: [voice, video_meetings]
          primary: video_meetings
        """))
    assert cat.get("whatsapp").primary == ("video_meetings",)  # type: ignore[union-attr]


def test_hand_built_entries_keep_the_same_rules() -> None:
    assert CatalogEntry("x", "X", capabilities=("chat",)).primary == ("chat",)
    with pytest.raises(ValueError, match="no primary"):
        CatalogEntry("x", "X", capabilities=("chat", "voice"))
    with pytest.raises(ValueError, match="not among"):
        CatalogEntry("x", "X", capabilities=("chat", "voice"), primary=("sms",))


# -- the overlap on the demo ----------------------------------------------------------


def _caps(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["capabilities"]}


def _compared(cap: dict[str, Any]) -> set[str]:
    ids = {p["id"] for p in cap["platforms"]}
    return ids | {p["a"] for p in cap["pairs"]} | {p["b"] for p in cap["pairs"]}


def test_demo_voice_and_video_overlap_has_no_consumer_messenger_by_default() -> None:
    result = demo_result()
    assert result["run"]["overlap_view"] == "primary"
    caps = _caps(result)
    for name in ("voice", "video_meetings"):
        compared = _compared(caps[name])
        assert not compared & MESSENGERS, (name, compared & MESSENGERS)
        assert {"teams", "zoom", "8x8"} <= compared, name
        # ... and they are not hidden: named as able, not compared
        secondary = {p["id"] for p in caps[name]["secondary_platforms"]}
        assert "whatsapp" in secondary, name
    assert "whatsapp" in _compared(caps["chat"])  # still a messaging app
    pairs = {(p["a"], p["b"]) for p in caps["video_meetings"]["pairs"]}
    assert ("teams", "zoom") in pairs and ("8x8", "teams") in pairs
    platforms = {p["id"]: p for p in result["platforms"]}
    assert platforms["whatsapp"]["primary_capabilities"] == ["chat"]


def _run(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "r.json"
    outcome = CliRunner().invoke(main, ["demo", "-f", "json", "-o", str(out), *args])
    assert outcome.exit_code in (0, 1), outcome.output
    doc: dict[str, Any] = json.loads(out.read_text("utf-8"))
    load_result(str(out))  # schema-valid
    return doc


def test_overlap_all_compares_on_every_capability(tmp_path: Path) -> None:
    result = _run(tmp_path, "--overlap", "all")
    assert result["run"]["overlap_view"] == "all"
    caps = _caps(result)
    assert "whatsapp" in _compared(caps["video_meetings"])
    assert caps["video_meetings"]["secondary_platforms"] == []
    assert caps["voice"]["overlapping_users"] > _caps(demo_result())["voice"]["overlapping_users"]


def test_config_key_sets_the_view_and_the_flag_wins(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("audit:\n  overlap: all\n", encoding="utf-8")
    assert _run(tmp_path, "-c", str(config))["run"]["overlap_view"] == "all"
    assert _run(tmp_path, "-c", str(config), "--overlap", "primary")["run"][
        "overlap_view"] == "primary"


def test_config_overlap_value_is_checked() -> None:
    assert parse_config(yamlio.load_text("audit:\n  overlap: all\n", "c.yaml"),
                        "c.yaml").overlap_view == "all"
    assert parse_config(None).overlap_view == "primary"
    with pytest.raises(UserError) as err:
        parse_config(yamlio.load_text("audit:\n  overlap: secondary\n", "c.yaml"), "c.yaml")
    assert str(err.value).startswith("c.yaml:2: overlap: must be one of primary, all")


def test_unknown_overlap_flag_value_is_a_usage_error() -> None:
    outcome = CliRunner().invoke(main, ["demo", "--overlap", "everything"])
    assert outcome.exit_code == 2
    assert "everything" in outcome.output
