"""--redact: no e-mail address or phone number of the demo survives in any output;
pseudonyms are stable for one key and differ for another."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from board_fixtures import pdf_text
from ops_helpers import demo_result, validate_extended

from sprawl_audit import pipeline
from sprawl_audit.connectors.demo import demo_config, load_demo_inventory
from sprawl_audit.core.errors import UserError
from sprawl_audit.engine import fingerprint
from sprawl_audit.inventory.snapshot import inventory_from_dict, inventory_to_dict
from sprawl_audit.report.formats import FORMATS, get_format
from sprawl_audit.report.formats.interface import RenderOptions
from sprawl_audit.store.redact import Redactor

KEY = "correct horse battery staple 42"
OTHER_KEY = "a different key for another client"
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PSEUDO = re.compile(r"^(person|name)-[0-9a-f]{12}(@|$)")


def personal_strings(result: dict[str, Any]) -> set[str]:
    """Every e-mail address and phone number in the demo Result, and the numbers'
    national digits (a format could print +44 113 496 0155 as 01134960155)."""
    text = json.dumps(result)
    found = {m for m in _EMAIL.findall(text) if not _PSEUDO.match(m)}
    for number in result["phone_numbers"]:
        if number["owner"]:
            found.add(number["owner"])
        if number["service_line"]:  # the organisation's own lines are kept (see below)
            continue
        found.add(number["number"])
        found.add(number["number"][3:])  # 1134960155
    found.update(p["id"] for p in result["people"])
    return found


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return demo_result()


@pytest.fixture(scope="module")
def redacted(original: dict[str, Any]) -> dict[str, Any]:
    return Redactor(KEY).redact_result(original)


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if data.startswith(b"%PDF"):  # compressed streams: read the text a reader would see
        return pdf_text(data)
    if zipfile.is_zipfile(io.BytesIO(data)):  # xlsx and the like: look inside
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace")
                             for n in archive.namelist())
    return data.decode("utf-8", "replace")


def rendered(result: dict[str, Any], name: str, directory: Path | None = None) -> str:
    """Everything format ``name`` writes for ``result``, as text."""
    fmt = get_format(name)
    options = RenderOptions(width=200, color=False, verbose=True)
    if getattr(fmt, "multi_file", False):  # one file per table: needs a directory
        assert directory is not None
        return "\n".join(_text(p.read_bytes())
                         for p in fmt.render_files(result, directory, options))  # type: ignore[attr-defined]
    buf: Any = io.BytesIO() if fmt.binary else io.StringIO()
    fmt.render(result, buf, options)
    return _text(buf.getvalue())


def test_the_redacted_result_is_valid_and_marked(redacted: dict[str, Any]) -> None:
    validate_extended(redacted)
    assert redacted["redaction"] == {"method": "hmac-sha256", "key_id": Redactor(KEY).key_id}
    assert redacted["summary"] == demo_result()["summary"]


@pytest.mark.parametrize("name", ["json", "rich"])
def test_no_email_or_phone_of_the_demo_in_json_or_terminal_output(
        original: dict[str, Any], redacted: dict[str, Any], name: str) -> None:
    secrets = personal_strings(original)
    assert len(secrets) > 900  # 782 people, 201 numbers, owners, addresses in messages
    before = rendered(original, name)
    assert any(s in before for s in secrets)  # the check can see them when present
    after = rendered(redacted, name)
    leaked = sorted(s for s in secrets if s in after)
    assert leaked == []


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_registered_format_of_a_redacted_result(original: dict[str, Any],
                                                      redacted: dict[str, Any],
                                                      name: str, tmp_path: Path) -> None:
    secrets = personal_strings(original)
    text = rendered(redacted, name, tmp_path)
    assert text.strip()
    assert sorted(s for s in secrets if s in text) == []


def test_pseudonyms_are_stable_per_key_and_differ_between_keys(original: dict[str, Any],
                                                               redacted: dict[str, Any]
                                                               ) -> None:
    again = Redactor(KEY).redact_result(demo_result())
    assert again["people"] == redacted["people"]
    assert again["phone_numbers"] == redacted["phone_numbers"]
    assert [f["fingerprint"] for f in again["findings"]] == [
        f["fingerprint"] for f in redacted["findings"]]
    other = Redactor(OTHER_KEY).redact_result(original)
    assert {p["id"] for p in other["people"]}.isdisjoint({p["id"] for p in redacted["people"]})
    assert other["redaction"]["key_id"] != redacted["redaction"]["key_id"]
    # one person, one pseudonym, wherever they appear
    owner = next(n["owner"] for n in redacted["phone_numbers"]
                 if n["owner"] and n["owner"].startswith("person-"))
    assert owner.endswith("@riversidehomes.org.uk")
    assert re.fullmatch(r"person-[0-9a-f]{12}@riversidehomes\.org\.uk", owner)
    phone = redacted["phone_numbers"][0]["number"]
    assert re.fullmatch(r"\+44-phone-[0-9a-f]{12}", phone)


def test_fingerprints_of_personal_subjects_are_recomputed(original: dict[str, Any],
                                                          redacted: dict[str, Any]) -> None:
    by_rule = Counter(f["rule_id"] for f in original["findings"])
    assert Counter(f["rule_id"] for f in redacted["findings"]) == by_rule
    old = {f["fingerprint"] for f in original["findings"]}
    # service lines (published numbers: out-of-hours, lift, arrears text lines) keep their
    # numbers, so findings on them (the housing pack's) keep their fingerprints
    kept = {f"phone:{n['number']}" for n in redacted["phone_numbers"] if n["service_line"]}
    assert any(f["subject"]["id"] in kept for f in redacted["findings"])
    for f in redacted["findings"]:
        if f["subject"]["kind"] == "phone" and f["subject"]["id"] not in kept:
            assert f["fingerprint"] not in old
            assert f["fingerprint"] == fingerprint(f["rule_id"], f["subject"]["id"])
            assert f["subject"]["id"].startswith("phone:+44-phone-")
        else:
            assert f["fingerprint"] in old
    # order is by the pseudonym, not by the (hidden) original
    assert [p["id"] for p in redacted["people"]] == sorted(p["id"] for p in redacted["people"])


def test_redacting_twice_changes_nothing(redacted: dict[str, Any]) -> None:
    assert Redactor(KEY).redact_result(redacted) == redacted


def test_the_key_is_required_and_checked() -> None:
    with pytest.raises(UserError) as err:
        Redactor.from_env(environ={})
    assert "SPRAWL_AUDIT_REDACT_KEY" in err.value.oneline()
    assert "openssl rand -hex 32" in err.value.oneline()
    with pytest.raises(UserError, match="too short"):
        Redactor.from_env(environ={"SPRAWL_AUDIT_REDACT_KEY": "short"})
    custom = Redactor.from_env("CLIENT_A_KEY", environ={"CLIENT_A_KEY": KEY})
    assert custom.key_id == Redactor(KEY).key_id
    with pytest.raises(UserError, match="not an environment variable name"):
        Redactor.from_env("not a name", environ={})


def test_free_text_and_keys_are_scrubbed_too() -> None:
    result = demo_result()
    result["coverage"][0]["detail"] = ("owner jo.bloggs@riversidehomes.org.uk called "
                                       "+447700900123 and 07700 900123")
    result["platforms"][0]["attributes"] = {"admin@riversidehomes.org.uk": 1}
    out = Redactor(KEY).redact_result(result)
    detail = out["coverage"][0]["detail"]
    assert "jo.bloggs" not in detail and "+447700900123" not in detail
    assert "07700 900123" not in detail
    assert "@riversidehomes.org.uk called +44-phone-" in detail
    first, second = re.findall(r"\+44-phone-[0-9a-f]{12}", detail)
    assert first == second  # +447700900123 and 07700 900123 are one number
    assert next(iter(out["platforms"][0]["attributes"])).startswith("person-")
    # identifiers that merely contain digits are left alone
    assert out["integrations"] == result["integrations"]
    assert out["run"] == result["run"]


def test_a_redacted_snapshot_analyses_like_the_original() -> None:
    inventory = load_demo_inventory()
    redactor = Redactor(KEY)
    doc = redactor.redact_snapshot(inventory_to_dict(inventory))
    text = json.dumps(doc)
    names = [p.display_name for p in inventory.people if len(p.display_name.split()) >= 2]
    assert not [n for n in names if n in text]
    assert not [p.id for p in inventory.people if p.id in text]
    people_lines = [n for n in inventory.phone_numbers if n.kind != "service"
                    and "Reception" not in str(n.attributes.get("label", ""))]
    assert people_lines
    assert not [n.number for n in people_lines if n.number in text]
    assert not [p.attributes.get("entra_id") for p in inventory.people
                if p.attributes.get("entra_id") and p.attributes["entra_id"] in text]

    config = demo_config()
    selection = pipeline.RuleSelection.from_config(config)
    from_redacted = pipeline.run_audit(inventory_from_dict(doc), config, selection,
                                       mode="snapshot", connectors=[], fail_on=None)
    direct = redactor.redact_result(demo_result())
    assert from_redacted["summary"] == direct["summary"]
    assert [(f["fingerprint"], f["message"]) for f in from_redacted["findings"]] == [
        (f["fingerprint"], f["message"]) for f in direct["findings"]]


def test_service_lines_keep_their_numbers_and_labels_and_people_do_not(
        original: dict[str, Any], redacted: dict[str, Any]) -> None:
    """Reception, fax and emergency lines are the organisation's, published; a person's
    line is pseudonymised, its label with it."""
    services = {n["number"]: n for n in original["phone_numbers"] if n["service_line"]}
    labels = {n["label"] for n in services.values()}
    assert {"Reception", "Fax", "Lift emergency line - Kirkgate"} <= labels
    kept = {n["number"]: n for n in redacted["phone_numbers"] if n["number"] in services}
    assert kept.keys() == services.keys()
    assert all(kept[k]["label"] == services[k]["label"] for k in kept)
    people = [n for n in redacted["phone_numbers"] if not n["service_line"]]
    assert people and all(n["number"].startswith("+44-phone-") for n in people)
    html = rendered(redacted, "html")
    reception = next(k for k, n in services.items() if n["label"] == "Reception")
    assert reception in html and "Reception" in html


def test_a_persons_line_label_is_pseudonymised() -> None:
    result = {"people": [], "findings": [], "phone_numbers": [
        {"number": "+441632960001", "owner": "jo@example.org", "label": "Jo Bloggs DDI",
         "service_line": False, "kind": "user"},
        {"number": "+441632960002", "owner": None, "label": "Switchboard",
         "service_line": True, "kind": "service"}],
        "notes": "ring +441632960002 or +441632960001"}
    out = Redactor(KEY).redact_result(result)
    person, service = sorted(out["phone_numbers"], key=lambda n: n["service_line"])
    assert person["label"].startswith("name-") and person["number"].startswith("+44-phone-")
    assert service == result["phone_numbers"][1]
    assert "+441632960002" in out["notes"] and "+441632960001" not in out["notes"]
