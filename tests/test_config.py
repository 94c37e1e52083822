"""Config validation: located errors, secrets only by reference."""

from pathlib import Path

import pytest

from sprawl_audit.config import SECRET_REFERENCES, load_config, parse_config
from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError


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
        ("audit:\n  redact_key: k\n",
         "c.yaml:2: redact_key: the redaction key is never read from the config file; "
         "export it as SPRAWL_AUDIT_REDACT_KEY (or name another variable with "
         "--redact-key-env)"),
        ("audit:\n  redact_key_env: K\n", "c.yaml:2: redact_key_env: the redaction key"),
        ("audit:\n  redact: true\n", "c.yaml:2: redact: redaction is asked for on the "
         "command line: --redact"),
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
    from sprawl_audit.connectors.registry import REGISTRY

    example = Path(__file__).resolve().parents[1] / "config.example.yaml"
    cfg = load_config(example)
    assert cfg.sanctioned and cfg.name
    assert set(cfg.connectors) <= set(REGISTRY)


#: (section, inline key) -> the reference keys the refusal must name, exactly.
_REFUSALS = [
    ("m365", "client_secret", {"client_secret_env"}),
    ("m365", "certificate_password", {"certificate_password_env"}),
    ("m365", "private_key", {"certificate_path", "certificate_password_env"}),
    ("m365", "api_token", {"client_secret_env", "certificate_path"}),
    ("slack", "token", {"token_env"}),
    ("slack", "bot_token", {"token_env"}),
    ("slack", "client_secret", {"token_env"}),
    ("whatsapp", "token", {"token_env"}),
    ("whatsapp", "access_token", {"token_env"}),
    ("whatsapp", "app_secret", {"token_env"}),
    ("google", "private_key", {"service_account_file"}),
    ("google", "client_secret", {"oauth_client_file"}),
    ("google", "refresh_token", {"service_account_file", "oauth_client_file"}),
]


def _suggested(message: str) -> set[str]:
    import re

    return set(re.findall(r"'([a-z_]+): ", message))


@pytest.mark.parametrize(("section", "key", "expected"), _REFUSALS)
def test_an_inline_secret_is_refused_with_the_key_its_connector_takes(
        section: str, key: str, expected: set[str]) -> None:
    with pytest.raises(UserError) as err:
        parse(f"connectors:\n  {section}:\n    {key}: CANARY-value\n")
    message = str(err.value)
    assert message.startswith(f"c.yaml:3: connectors.{section}.{key}: secrets are not "
                              "accepted inline; use ")
    assert _suggested(message) == expected
    assert "CANARY" not in message and "\n" not in message


def test_a_nested_inline_secret_names_its_connector() -> None:
    with pytest.raises(UserError) as err:
        parse("connectors:\n  google:\n    gmail_forwarding:\n      client_secret: CANARY\n")
    message = str(err.value)
    assert message.startswith("c.yaml:4: connectors.google.gmail_forwarding.client_secret: ")
    assert "'oauth_client_file: path'" in message and "in connectors.google" in message
    assert "CANARY" not in message


@pytest.mark.parametrize(("text", "expected"), [
    ("connectors:\n  email:\n    api_key: CANARY\n",
     "c.yaml:3: connectors.email.api_key: secrets are not accepted in the config file, "
     "and connectors.email takes no credentials"),
    ("organisation:\n  password: CANARY\n",
     "c.yaml:2: organisation.password: secrets are not accepted in the config file"),
])
def test_an_inline_secret_where_no_credential_belongs(text: str, expected: str) -> None:
    with pytest.raises(UserError) as err:
        parse(text)
    assert str(err.value).startswith(expected)
    assert "CANARY" not in str(err.value) and not _suggested(str(err.value))


@pytest.mark.parametrize("connector", sorted(SECRET_REFERENCES))
def test_every_suggested_key_is_one_the_connector_accepts(connector: str) -> None:
    """The table of suggestions and the connectors' own ``KEYS`` cannot drift apart."""
    from connector_keys import connector_keys

    keys = connector_keys(connector)
    suggested = {ref for refs in SECRET_REFERENCES[connector].values() for ref in refs}
    assert "*" in SECRET_REFERENCES[connector]
    assert suggested <= keys, sorted(suggested - keys)


def test_every_connector_with_credential_keys_has_suggestions() -> None:
    """A connector that takes a ``*_env``/``*_file`` credential key is in the table, so
    its inline secrets get a real pointer, not "takes no credentials"."""
    from connector_keys import connector_keys

    from sprawl_audit.connectors.registry import REGISTRY

    for name in REGISTRY:
        keys = connector_keys(name)
        credential = {k for k in keys if k.startswith(("token", "client_secret",
                                                       "service_account", "oauth_client",
                                                       "certificate"))}
        assert bool(credential) == (name in SECRET_REFERENCES), (name, sorted(credential))


@pytest.mark.parametrize(("value", "expected"), [
    ("a\x00b", "must be a file path (not empty, no NUL character)"),
    ("", "must be a file path"),
    ("x" * 5000, "not a usable file path ("),  # ENAMETOOLONG
    ("/".join(["d" * 250] * 30), "not a usable file path"),
    ("missing.pem", "no such file: "),
])
def test_a_connector_file_setting_that_is_no_usable_path_is_one_located_line(
        tmp_path: Path, value: str, expected: str) -> None:
    """``ca_bundle`` and friends: a NUL or an over-long name is refused on one located
    line, not a ValueError/OSError traceback from ``Path.is_file``."""
    import json

    from sprawl_audit.connectors.common.settings import optional_file

    settings = yamlio.load_text(f"x: 1\nca_bundle: {json.dumps(value)}\n", "c.yaml")
    with pytest.raises(UserError) as err:
        optional_file(settings, "ca_bundle", str(tmp_path), "connectors.slack")
    message = str(err.value)
    assert message.startswith("c.yaml:2: connectors.slack.ca_bundle: "), message[:200]
    assert expected in message and "\n" not in message and len(message) < 1000


def test_a_connector_file_setting_that_exists_is_resolved(tmp_path: Path) -> None:
    from sprawl_audit.connectors.common.settings import optional_file

    (tmp_path / "ca.pem").write_text("x")
    assert optional_file({"ca_bundle": "ca.pem"}, "ca_bundle", str(tmp_path),
                         "connectors.slack") == str(tmp_path / "ca.pem")
    assert optional_file({}, "ca_bundle", str(tmp_path), "connectors.slack") is None


def test_a_catalogue_entry_that_is_not_a_mapping_is_located(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("catalog:\n  entries: [null]\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_config(path)
    assert info.value.path == str(path) and info.value.line == 2
    assert info.value.key == "catalog.entries[0]"


def test_a_home_of_a_user_that_does_not_exist_stays_as_written(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("audit:\n  suppressions: ~0/s.yaml\n", encoding="utf-8")
    config = load_config(path)  # no RuntimeError from expanduser
    assert config.relative("~0/s.yaml") == tmp_path / "~0" / "s.yaml"
