"""Config validation: located errors, secrets only by reference."""

import pytest

from sprawl_audit import yamlio
from sprawl_audit.config import load_config, parse_config
from sprawl_audit.errors import UserError


def parse(text: str):
    return parse_config(yamlio.load_text(text, "c.yaml"), "c.yaml")


def test_defaults_when_no_file() -> None:
    cfg = load_config(None)
    assert cfg.activity_days == 90
    assert cfg.rule_packs == ("baseline",)
    assert cfg.sanctioned is None


def test_full_config_parses() -> None:
    cfg = parse(
        "organisation: {name: Acme, domains: [Acme.org]}\n"
        "audit: {activity_days: 30, fail_on: high}\n"
        "platforms: {sanctioned: [teams, slack]}\n"
        "rules:\n  parameters: {SA-X: {min_users: 3}}\n  disabled: {SA-Y: not relevant}\n"
        "connectors:\n  slack: {token_env: SLACK_TOKEN}\n"
    )
    assert cfg.domains == ("acme.org",)
    assert cfg.fail_on == "high"
    assert cfg.sanctioned == ("teams", "slack")
    assert cfg.rule_parameters == {"SA-X": {"min_users": 3}}
    assert cfg.rules_disabled == {"SA-Y": "not relevant"}
    assert cfg.connectors["slack"]["token_env"] == "SLACK_TOKEN"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus: 1\n", "c.yaml:1: bogus: unknown key"),
        ("audit:\n  fail_on: hgh\n", "c.yaml:2: fail_on: must be one of"),
        ("audit:\n  activity_days: -1\n", "c.yaml:2: activity_days:"),
        ("rules:\n  disabled:\n    SA-1: ''\n", "c.yaml:3: SA-1: a disabled rule needs a reason"),
        ("connectors:\n  m365:\n    client_secret: abc\n",
         "c.yaml:3: connectors.m365.client_secret: secrets are not accepted inline"),
        ("connectors:\n  slack:\n    token: xoxb-1\n", "use 'token_env: VAR_NAME'"),
    ],
)
def test_bad_config_is_one_located_line(text: str, expected: str) -> None:
    with pytest.raises(UserError) as err:
        parse(text)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_inline_secret_value_never_echoed() -> None:
    with pytest.raises(UserError) as err:
        parse("connectors:\n  m365:\n    client_secret: CANARY-s3cr3t\n")
    assert "CANARY" not in str(err.value)


def test_secret_references_are_accepted() -> None:
    cfg = parse("connectors:\n  m365:\n    client_secret_env: X\n    certificate_password_env: Y\n")
    assert cfg.connectors["m365"]["client_secret_env"] == "X"


def test_shipped_example_config_is_valid() -> None:
    from pathlib import Path

    from sprawl_audit.connectors.registry import REGISTRY

    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    cfg = load_config(example)
    assert cfg.sanctioned and cfg.name
    assert set(cfg.connectors) <= set(REGISTRY)
