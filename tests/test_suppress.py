"""Suppressions: located errors, matching by fingerprint/rule/subject, expiry, reporting."""

from __future__ import annotations

import logging
import textwrap
from datetime import date
from pathlib import Path

import pytest
from ops_helpers import demo_result, validate_extended

from sprawl_audit.core.errors import UserError
from sprawl_audit.store.suppress import apply, apply_to_result, load_suppressions

TODAY = date(2026, 11, 23)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suppressions.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def fp_of(result: dict, rule: str, subject: str) -> str:
    return next(f["fingerprint"] for f in result["findings"]
                if f["rule_id"] == rule and f["subject"]["id"] == subject)


def test_fingerprint_rule_and_subject_suppress_and_stay_in_the_result(tmp_path: Path) -> None:
    result = demo_result()
    whatsapp = fp_of(result, "SA-CONSUMER-001", "platform:whatsapp")
    path = write(tmp_path, f"""\
        suppressions:
          - fingerprint: {whatsapp}
            rationale: Repairs WhatsApp groups move to Teams in Q1 (CHG-2291)
            expires: 2027-03-31
            owner: it-security@riversidehomes.org.uk
          - rule: SA-OVERLAP-*
            rationale: Overlap is reported to the board separately
          - rule: SA-PHONE-002
            subject: "phone:+44113496015*"
            rationale: Numbers held for the porting project
        """)
    before = sum(result["summary"]["findings_by_severity"].values())
    out = apply_to_result(result, load_suppressions(path), TODAY)
    validate_extended(out)

    suppressed = [f for f in out["findings"] if f["suppressed"]]
    assert len(out["findings"]) == len(result["findings"])  # nothing disappears
    by_rule = {f["rule_id"] for f in suppressed}
    assert by_rule == {"SA-CONSUMER-001", "SA-OVERLAP-001", "SA-PHONE-002"}
    phones = sorted(f["subject"]["id"] for f in suppressed if f["rule_id"] == "SA-PHONE-002")
    assert phones == [f"phone:+44113496015{d}" for d in "56789"]
    first = next(f for f in suppressed if f["fingerprint"] == whatsapp)
    assert first["suppression"] == {
        "rationale": "Repairs WhatsApp groups move to Teams in Q1 (CHG-2291)",
        "expires": "2027-03-31", "owner": "it-security@riversidehomes.org.uk",
        "source": f"{path}:2"}
    assert out["suppressions"] == {"file": str(path), "active": 3,
                                   "suppressed": len(suppressed), "expired": [], "unused": []}
    after = sum(out["summary"]["findings_by_severity"].values())
    assert after == before - len(suppressed)
    # the input Result is untouched
    assert not any(f["suppressed"] for f in result["findings"])


def test_subject_glob_matches_the_name_too_and_ignores_case(tmp_path: Path) -> None:
    result = demo_result()
    path = write(tmp_path, """\
        - subject: "whatsapp*"
          rule: sa-sanction-001
          rationale: Known
        """)
    out, report = apply(result["findings"], load_suppressions(path), TODAY)
    hits = {f["subject"]["id"] for f in out if f["suppressed"]}
    assert hits == {"platform:whatsapp", "platform:whatsapp-business"}
    assert report.suppressed == 2


def test_expired_entries_do_not_suppress_and_are_reported(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    result = demo_result()
    path = write(tmp_path, """\
        suppressions:
          - rule: SA-DEVICE-001
            rationale: Old exception
            expires: 2026-11-22
          - rule: SA-GUEST-001
            rationale: Valid through today
            expires: 2026-11-23
          - rule: SA-NOPE-999
            rationale: Matches nothing
        """)
    with caplog.at_level(logging.INFO, logger="sprawl_audit"):
        out = apply_to_result(result, load_suppressions(path), TODAY)
    validate_extended(out)
    assert not any(f["suppressed"] for f in out["findings"] if f["rule_id"] == "SA-DEVICE-001")
    assert all(f["suppressed"] for f in out["findings"] if f["rule_id"] == "SA-GUEST-001")
    report = out["suppressions"]
    assert report["active"] == 2
    assert [e["source"] for e in report["expired"]] == [f"{path}:2"]
    assert report["expired"][0]["matches"] == 4
    assert report["expired"][0]["expires"] == "2026-11-22"
    assert [e["rule"] for e in report["unused"]] == ["SA-NOPE-999"]
    assert any("expired on 2026-11-22" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_alias_lets_a_redacted_fingerprint_suppress(tmp_path: Path) -> None:
    result = demo_result()
    finding = next(f for f in result["findings"] if f["rule_id"] == "SA-PHONE-002")
    path = write(tmp_path, """\
        - fingerprint: "0123456789abcdef"
          rationale: The fingerprint as the redacted report shows it
        """)
    out, _ = apply([finding], load_suppressions(path), TODAY,
                   alias=lambda f: "0123456789abcdef")
    assert out[0]["suppressed"]


@pytest.mark.parametrize(("text", "expected"), [
    ("- rule: SA-X\n  rationale: ok\n  colour: red\n",
     "suppressions.yaml:3: colour: unknown key (expected one of: fingerprint, rule, subject"),
    ("- rule: SA-X\n  owner: me\n",
     "suppressions.yaml:1: rationale: a suppression needs a rationale"),
    ("- rule: SA-X\n  rationale: '  '\n",
     "suppressions.yaml:2: rationale: rationale must be a non-empty string"),
    ("- rule: SA-X\n  rationale: ok\n  expires: 31/03/2027\n",
     "suppressions.yaml:3: expires: expires must be a date written YYYY-MM-DD"),
    ("- rule: SA-X\n  rationale: ok\n  expires: 2027-02-30\n",
     "suppressions.yaml:3: not a valid date: day is out of range for month"),
    ("- rule: SA-X\n  rationale: ok\n  expires: 2027-03-01T10:00:00\n",
     "suppressions.yaml:3: expires: expires must be a date"),
    ("- subject: '*'\n  rationale: ok\n",
     "suppressions.yaml:1: subject: a pattern of wildcards alone"),
    ("- subject: 'platform:[abc'\n  rationale: ok\n",
     "suppressions.yaml:1: subject: the pattern has an unclosed '['"),
    ("- fingerprint: 12345\n  rationale: ok\n",
     "suppressions.yaml:1: fingerprint: must be a non-empty string"),
    ("- fingerprint: 'xyz'\n  rationale: ok\n",
     "suppressions.yaml:1: fingerprint: a fingerprint is 16 hexadecimal digits"),
    ("- rationale: only a reason\n",
     "suppressions.yaml:1: a suppression must name a fingerprint, a rule or a subject"),
    ("suppressions:\n  - rule: SA-X\n    rationale: ok\nextra: 1\n",
     "suppressions.yaml:4: extra: unknown key (expected: suppressions)"),
    ("suppressions: {rule: x}\n", "suppressions.yaml:1: suppressions: suppressions must be a list"),
    ("- just a string\n", "suppressions.yaml:1: each suppression must be a mapping"),
    ("- rule: [unclosed\n", "suppressions.yaml:2: invalid YAML"),
])
def test_bad_files_give_one_located_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "suppressions.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_suppressions(path)
    message = err.value.oneline()
    assert expected in message.replace(str(tmp_path) + "/", "")
    assert "\n" not in message


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    empty = write(tmp_path, "# nothing accepted yet\n")
    assert load_suppressions(empty).entries == ()
    with pytest.raises(UserError, match="cannot read file"):
        load_suppressions(tmp_path / "absent.yaml")
