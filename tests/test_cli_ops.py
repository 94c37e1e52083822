"""resolve_ops and post_process: precedence, fail-fast checks and the order
suppress -> baseline match -> redact -> history -> baseline filter."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from ops_helpers import demo_result, run_demo, validate_extended

from sprawl_audit.cli.ops import OpsOptions, post_process, resolve_ops
from sprawl_audit.config import Config, parse_config
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import load_text
from sprawl_audit.report.formats.json_format import dumps
from sprawl_audit.store import history
from sprawl_audit.store.redact import Redactor
from sprawl_audit.store.sqlite_store import SqliteStore
from sprawl_audit.store.suppress import parse_suppressions

KEY = "0123456789abcdef-test-key"
OPS = dict.fromkeys(("suppressions", "baseline", "history", "redact", "log_format"))


def ops(**given: object) -> dict[str, object]:
    return {**OPS, "no_history": False, "redact_key_env": "SPRAWL_AUDIT_REDACT_KEY", **given}


def test_config_keys_resolve_relative_to_the_config(tmp_path: Path) -> None:
    source = str(tmp_path / "config.yaml")
    cfg = parse_config(load_text("audit:\n  suppressions: s.yaml\n  history: h.sqlite\n",
                                 source), source)
    assert cfg.suppressions == str(tmp_path / "s.yaml")
    assert cfg.history == str(tmp_path / "h.sqlite") and not cfg.history_disabled
    off = parse_config(load_text("audit:\n  history: false\n", source), source)
    assert off.history is None and off.history_disabled
    with pytest.raises(UserError, match=r"config.yaml:2: history: must be a path, or false"):
        parse_config(load_text("audit:\n  history: 3\n", source), source)
    with pytest.raises(UserError, match="suppressions: must be a string"):
        parse_config(load_text("audit:\n  suppressions: [a]\n", source), source)


def test_history_defaults_and_precedence(tmp_path: Path) -> None:
    cfg_path = tmp_path / "c.yaml"
    cfg = parse_config(load_text("audit:\n  history: from-config.sqlite\n", str(cfg_path)),
                       str(cfg_path))
    assert resolve_ops(ops(), Config()).history.path == history.default_path()
    assert resolve_ops(ops(), Config(), demo=True).history is None  # demo: only if named
    assert resolve_ops(ops(), cfg, demo=True).history.path == tmp_path / "from-config.sqlite"
    flag = resolve_ops(ops(history=str(tmp_path / "flag.sqlite")), cfg)
    assert flag.history.path == tmp_path / "flag.sqlite"
    url = resolve_ops(ops(history=f"sqlite:///{tmp_path}/url.sqlite"), cfg)
    assert url.history.path == tmp_path / "url.sqlite"
    assert resolve_ops(ops(no_history=True, history="x.sqlite"), cfg).history is None
    off = parse_config(load_text("audit:\n  history: false\n", str(cfg_path)), str(cfg_path))
    assert resolve_ops(ops(), off).history is None


def test_problems_are_found_before_collection(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("- rule: X\n", encoding="utf-8")
    with pytest.raises(UserError, match="needs a rationale"):
        resolve_ops(ops(suppressions=str(bad)), Config())
    cfg = Config(suppressions=str(bad))
    with pytest.raises(UserError, match="needs a rationale"):
        resolve_ops(ops(), cfg)
    with pytest.raises(UserError, match="cannot read Result file"):
        resolve_ops(ops(baseline=str(tmp_path / "missing.json")), Config())
    with pytest.raises(UserError, match="SPRAWL_AUDIT_REDACT_KEY"):
        resolve_ops(ops(redact=True), Config())
    monkeypatch.setenv("OTHER_KEY", KEY)
    assert resolve_ops(ops(redact=True, redact_key_env="OTHER_KEY"), Config()).redactor
    with pytest.raises(UserError, match="unknown log format"):
        resolve_ops(ops(log_format="xml"), Config())
    blocked = tmp_path / "a-file"  # a history "directory" that cannot be created, even by root
    blocked.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="cannot open history database"):
        resolve_ops(ops(history=str(blocked / "sub" / "h.sqlite")), Config())


def test_a_baseline_of_another_organisation_is_warned_about(
        caplog: pytest.LogCaptureFixture) -> None:
    other = demo_result()
    other["run"]["organisation"]["name"] = "Other Council"
    post_process(demo_result(), OpsOptions(baseline=other, baseline_path="other.json"))
    assert any("an audit of 'Other Council'" in r.getMessage() for r in caplog.records)


def test_post_process_order(tmp_path: Path) -> None:
    """A suppression written against the real number still applies under --redact; the
    history keeps the full redacted Result; the report keeps only what is new."""
    redactor = Redactor(KEY)
    # last week's report, redacted, without the SPF finding (its rule was off)
    baseline = post_process(run_demo(rules_disabled={"SA-DNS-002": "off"}),
                            OpsOptions(redactor=redactor))
    baseline_file = tmp_path / "baseline.json"
    baseline_file.write_text(dumps(baseline), encoding="utf-8")
    sups = parse_suppressions(load_text(
        "- subject: 'phone:+441134960155'\n  rationale: porting\n", "s.yaml"), "s.yaml")
    db = tmp_path / "h.sqlite"
    options = OpsOptions(suppressions=sups, baseline=json.loads(baseline_file.read_text()),
                         baseline_path=str(baseline_file), history=SqliteStore(db),
                         redactor=redactor,
                         today=date(2026, 11, 23))
    source = demo_result()
    untouched = copy.deepcopy(source)
    out = post_process(source, options)
    validate_extended(out)

    # report: only the new finding, redacted, with the baseline block
    assert [f["rule_id"] for f in out["findings"]] == ["SA-DNS-002"]
    assert out["baseline"]["known"] == len(source["findings"]) - 1
    assert out["redaction"]["key_id"] == redactor.key_id
    assert "+441134960155" not in json.dumps(out)

    # history: every finding, redacted, the suppression applied to the pseudonymous one
    stored = history.load_run(db, "latest")
    validate_extended(stored)
    assert len(stored["findings"]) == len(source["findings"])
    assert "baseline" not in stored
    assert "+441134960155" not in json.dumps(stored)
    (suppressed,) = [f for f in stored["findings"] if f["suppressed"]]
    assert suppressed["subject"]["id"].startswith("phone:+44-phone-")
    assert stored["suppressions"]["suppressed"] == 1
    assert history.list_runs(db)[0].redacted

    assert source == untouched  # the input is not modified


def test_post_process_without_options_is_identity() -> None:
    source = demo_result()
    assert post_process(source, OpsOptions()) == source


def test_unredacted_baseline_matches_a_redacted_run() -> None:
    redactor = Redactor(KEY)
    plain = demo_result()
    out = post_process(demo_result(), OpsOptions(baseline=plain, redactor=redactor))
    assert out["findings"] == []
    assert out["baseline"]["known"] == len(plain["findings"]) and out["baseline"]["gone"] == 0
