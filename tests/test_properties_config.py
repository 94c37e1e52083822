"""Property-based tests: the configuration file is read, or refused with one line naming
the file (and line and key) — never a traceback, a hang or an alias bomb.

Cases start from the real configs (``config.example.yaml``, the demo's ``config.yaml``)
and are mutated as documents, as YAML text and as bytes.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from property_strategies import (
    HEAVY_MUTATIONS,
    LIGHT_MUTATIONS,
    YAML_HAZARDS,
    check_cli_outcome,
    check_one_line_error,
    dump_yaml,
    hostile_text,
    mutate,
    mutate_bytes,
    run_cli,
    tiny_snapshot,
    write_case,
)
from repo_paths import DEMO_DATA

from sprawl_audit.config import Config, load_config
from sprawl_audit.core.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="prop-config-"))


@cache
def base_configs() -> tuple[dict[str, Any], ...]:
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))
    demo = yaml.safe_load((DEMO_DATA / "config.yaml").read_text(encoding="utf-8"))
    rich = {
        "organisation": {"name": "Acme Housing", "domains": ["acme.org"],
                         "identity_provider": "entra-id"},
        "audit": {"activity_days": 30, "fail_on": "high", "suppressions": "accepted.yaml",
                  "history": False},
        "platforms": {"sanctioned": ["teams", "zoom"]},
        "catalog": {"entries": [{"slug": "acme-chat", "name": "Acme Chat",
                                 "capabilities": ["chat"], "classification": "corporate"}]},
        "rules": {"packs": ["baseline"], "paths": [],
                  "parameters": {"SA-OVERLAP-001": {"min_users": 3}},
                  "disabled": {"SA-DNS-002": "handled by the mail team"}},
        "connectors": {"manual": {"files": ["notes.yaml"]},
                       "slack": {"token_env": "SLACK_TOKEN"}},
    }
    return example, demo, rich


def _write(name: str, raw: bytes) -> Path:
    return write_case(_TMP, name, raw)


def _load(path: Path) -> Config | None:
    try:
        return load_config(path)
    except UserError as exc:
        # a problem inside a file the config names (a catalogue file) is located there
        inside_other = exc.path not in (None, str(path)) and Path(str(exc.path)).is_file()
        check_one_line_error(str(exc), str(exc.path) if inside_other else str(path))
        return None


def test_the_base_configs_are_valid() -> None:
    for doc in base_configs():
        _load(_write("c.yaml", dump_yaml(doc).encode()))


@settings(max_examples=300)
@given(st.sampled_from((0, 1, 2)).flatmap(lambda i: mutate(base_configs()[i],
                                                           mutations=LIGHT_MUTATIONS)))
def test_a_mutated_config_is_read_or_refused_with_file_and_line(doc: Any) -> None:
    path = _write("config.yaml", dump_yaml(doc).encode("utf-8"))
    config = _load(path)
    if config is not None:  # what is accepted is what the model promises
        assert config.activity_days >= 1 and not isinstance(config.activity_days, bool)
        assert all(isinstance(d, str) for d in config.domains)
        assert all(isinstance(v, str) and v.strip() for v in config.rules_disabled.values())


@settings(max_examples=15)
@given(st.sampled_from((0, 1, 2)).flatmap(lambda i: mutate(base_configs()[i], max_mutations=1,
                                                           mutations=HEAVY_MUTATIONS)))
def test_a_config_with_oversized_values(doc: Any) -> None:
    _load(_write("config.yaml", dump_yaml(doc).encode("utf-8")))


@settings(max_examples=250)
@given(st.data())
def test_config_bytes_are_read_or_refused_on_one_line(data: st.DataObject) -> None:
    doc = data.draw(st.sampled_from(base_configs()))
    raw = data.draw(mutate_bytes(dump_yaml(doc)))
    _load(_write("config.yaml", raw))


@settings(max_examples=120)
@given(st.sampled_from(YAML_HAZARDS), st.sampled_from(("whole", "under_key", "in_list")))
def test_yaml_hazards_in_a_config(hazard: str, where: str) -> None:
    if where == "under_key":
        text = "organisation:\n  name: " + json.dumps("x") + "\n" + hazard
    elif where == "in_list":
        text = "platforms:\n  sanctioned:\n" + "".join(
            f"    {line}\n" for line in hazard.splitlines())
    else:
        text = hazard
    _load(_write("hazard.yaml", text.encode("utf-8")))


@settings(max_examples=300)
@given(st.sampled_from(("organisation.name", "audit.suppressions", "audit.history",
                        "rules.paths", "catalog.files", "connectors.manual.files",
                        "rules.disabled.SA-X", "platforms.sanctioned", "organisation.domains",
                        "connectors.slack.token", "connectors.slack.client_secret_env")),
       st.one_of(hostile_text(), st.sampled_from(("\x00", "a\x00b", "/", "..", "~", "~root",
                                                  "/dev/null", "/proc/self/mem", "."))))
def test_hostile_strings_in_paths_and_names(key: str, value: str) -> None:
    doc: dict[str, Any] = {}
    node = doc
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    listy = parts[-1] in ("paths", "files", "sanctioned", "domains")
    node[parts[-1]] = [value] if listy else value
    config = _load(_write("config.yaml", dump_yaml(doc).encode("utf-8")))
    if config is not None:
        for p in config.rule_paths:
            assert "\x00" not in p


@settings(max_examples=25)
@given(st.sampled_from((1, 2)).flatmap(lambda i: mutate(base_configs()[i], max_mutations=2,
                                                        mutations=LIGHT_MUTATIONS)))
def test_cli_audit_with_a_mutated_config(doc: Any) -> None:
    """``audit --config cfg.yaml --from snapshot.json``: any config outcome is clean."""
    cfg = write_case(_TMP, "cfg.yaml", dump_yaml(doc))
    folder = cfg.parent
    res = run_cli(["audit", "--config", str(cfg), "--from", str(tiny_snapshot(_TMP)), "-q",
                   "--no-history", "-f", "json", "-o", str(folder / "r.json")])
    check_cli_outcome(res, {0, 1, 2}, str(folder))

