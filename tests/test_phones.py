"""One telephone-number normaliser: the same line from every source is one graph node."""

from __future__ import annotations

from pathlib import Path

import pytest

from sprawl_audit.config import parse_config
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments
from sprawl_audit.connectors.phone.connector import PhoneConnector
from sprawl_audit.connectors.whatsapp.transform import transform_whatsapp
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import Organisation, merge
from sprawl_audit.parsers.phones import e164, is_e164, normalise, region_code
from sprawl_audit.pipeline import analyse

ORG = Organisation(name="Fixture Homes", domains=("fixture.org.uk",),
                   as_of="2026-11-01T09:00:00Z")


def test_the_same_uk_line_written_three_ways_is_one_phone_node(tmp_path: Path) -> None:
    """Teams, WhatsApp and a PBX export each write it differently; the graph has one line."""
    m365 = transform_number_assignments([{
        "telephoneNumber": "+44 (0)113 496 0123", "numberType": "directRouting",
        "assignmentStatus": "unassigned", "isoCountryCode": "GB"}])
    whatsapp = transform_whatsapp([{"id": "1029384756", "name": "Fixture Homes",
                                    "phone_numbers": [{"id": "11",
                                                       "display_phone_number": "441134960123",
                                                       "verified_name": "Fixture Repairs"}]}])
    (tmp_path / "mitel.csv").write_text("number,owner,provider,system\n"
                                        "0113 496 0123,,BT,MiVoice Business\n")
    pbx = PhoneConnector().run({"imports": [{"path": "mitel.csv"}]},
                                   ConnectorContext(config_dir=str(tmp_path)))
    numbers = [n.number for part in (m365, whatsapp, pbx) for n in part.phone_numbers]
    assert numbers == ["+441134960123"] * 3
    ag = analyse(merge(ORG, [m365, whatsapp, pbx]))
    phones = list(ag.nodes_of("phone"))
    assert phones == ["phone:+441134960123"]
    assert ag.graph.nodes[phones[0]]["number_valid"] is True


@pytest.mark.parametrize(("raw", "expected"), [
    ("+44 (0)113 496 0123", "+441134960123"),   # the trunk 0 after the country code
    ("0113 496 0123", "+441134960123"),
    ("00441134960123", "+441134960123"),
    ("441134960123", "+441134960123"),
    ("15551234567", "+15551234567"),            # international without its '+'
    ("0113 496 0123 ext. 201", "+441134960123;ext=201"),
    ("+441134960123;ext=201", "+441134960123;ext=201"),
])
def test_written_forms(raw: str, expected: str) -> None:
    assert e164(raw) == expected
    assert normalise(expected).number == expected  # idempotent: ids normalise to themselves


@pytest.mark.parametrize("raw", ["x201", "4021", "4.41E+11", "Reception", "+44 12", "n/a"])
def test_a_non_number_is_kept_as_written_with_the_reason(raw: str) -> None:
    read = normalise(f"  {raw} ")
    assert (read.number, read.valid) == (raw, False)
    assert read.attributes == {"number_valid": False, "number_problem": read.problem}
    assert read.problem and not is_e164(read.number)


def test_the_default_region_reads_national_numbers(tmp_path: Path) -> None:
    assert e164("01 234 5678", "IE") == "+35312345678"
    assert e164("(202) 555-0143", "US") == "+12025550143"
    assert e164("+44 113 496 0123", "IE") == "+441134960123"  # a country code wins
    (tmp_path / "dublin.csv").write_text("number\n01 234 5678\n")
    out = PhoneConnector().run({"imports": [{"path": "dublin.csv"}]},
                                   ConnectorContext(config_dir=str(tmp_path),
                                                    default_region="IE"))
    assert [n.number for n in out.phone_numbers] == ["+35312345678"]


def test_default_region_config_key() -> None:
    assert parse_config({}).default_region == "GB"
    assert parse_config({"organisation": {"default_region": "ie"}}).default_region == "IE"
    with pytest.raises(UserError) as exc:
        parse_config({"organisation": {"default_region": "UK"}}, "config.yaml")
    assert exc.value.key == "organisation.default_region"
    assert "GB" in exc.value.message
    with pytest.raises(UserError):
        parse_config({"organisation": {"default_region": 44}}, "config.yaml")
    assert region_code("gb") == "GB" and region_code("ZZ") is None


def test_an_unreadable_number_is_a_fact_and_in_the_coverage(tmp_path: Path) -> None:
    (tmp_path / "pbx.csv").write_text("number,owner\n0113 496 0123,\nx201,\n")
    out = PhoneConnector().run({"imports": [{"path": "pbx.csv"}]},
                                   ConnectorContext(config_dir=str(tmp_path)))
    assert "1 number kept as written" in out.coverage[0].detail
    assert "'x201'" in out.coverage[0].detail
    ag = analyse(merge(ORG, [out]))
    facts = {ag.graph.nodes[n]["number"]: ag.graph.nodes[n]["number_valid"]
             for n in ag.nodes_of("phone")}
    assert facts == {"+441134960123": True, "x201": False}


@pytest.mark.parametrize(("digits", "code"), [
    ("441134960155", "44"), ("15551234567", "1"), ("79161234567", "7"),
    ("2125551234", "212"), ("8001234567", "800"), ("2801234", "280"), ("0441134", "044"),
])
def test_country_code_examples(digits: str, code: str) -> None:
    from sprawl_audit.parsers.phones import country_code

    assert country_code(digits) == code


def test_country_code_is_an_assigned_prefix_or_the_first_three_digits() -> None:
    import phonenumbers
    from hypothesis import given
    from hypothesis import strategies as st

    from sprawl_audit.parsers.phones import country_code

    @given(st.text(alphabet="0123456789", max_size=16))
    def check(digits: str) -> None:
        code = country_code(digits)
        assert digits.startswith(code)
        assigned = bool(code) and not code.startswith("0") \
            and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        assert assigned or code == digits[:3]
        # the shortest assigned prefix wins (E.164 codes are prefix-free)
        assert not any(int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
                       for n in range(1, len(code)) if not digits.startswith("0"))

    check()
