"""``--redaction-map``: the client's key from pseudonyms back to people, owner-only and
apart from every report (issue 18, item 3)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.main import main
from sprawl_audit.store.redact import Redactor

KEY = "correct horse battery staple 42"


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"SPRAWL_AUDIT_REDACT_KEY": KEY},
                              catch_exceptions=False)


def test_the_map_turns_every_pseudonym_in_the_report_back_and_holds_nothing_else(
        tmp_path: Path) -> None:
    original = demo_result()
    redactor = Redactor(KEY)
    redacted = redactor.redact_result(original)
    path = tmp_path / "client-key.json"
    count = redactor.write_map(path, redacted)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # personal data: owner-only
    doc = json.loads(path.read_text("utf-8"))
    assert doc["key_id"] == redactor.key_id and len(doc["pseudonyms"]) == count > 100
    text, plain = json.dumps(redacted), json.dumps(original)
    for pseudonym, person in doc["pseudonyms"].items():
        assert pseudonym in text  # only pseudonyms the report carries
        assert person.lower() in plain.lower() or person.lstrip("+") in plain  # the real one
    # the report itself never carries the originals the map holds
    assert "kieran.walsh.it@outlook.com" in doc["pseudonyms"].values()
    assert "kieran.walsh.it@outlook.com" not in text


def test_audit_and_report_write_it_only_with_redact(tmp_path: Path) -> None:
    result, key = tmp_path / "r.json", tmp_path / "key.json"
    res = run("demo", "--redact", "--redaction-map", str(key), "-f", "json", "-o", str(result))
    assert res.exit_code == 0, res.output
    assert key.exists() and "redaction map" not in result.read_text("utf-8")
    mapping = json.loads(key.read_text("utf-8"))["pseudonyms"]
    assert any(p in result.read_text("utf-8") for p in mapping)

    refused = run("demo", "--redaction-map", str(tmp_path / "x.json"), "-f", "json",
                  "-o", str(tmp_path / "x-result.json"))
    assert refused.exit_code == 2 and "needs --redact" in refused.output
    assert not (tmp_path / "x.json").exists()

    plain = tmp_path / "plain.json"
    assert run("demo", "-f", "json", "-o", str(plain)).exit_code == 0
    again = tmp_path / "key2.json"
    res = run("report", str(plain), "--redact", "--redaction-map", str(again), "-f", "json",
              "-o", str(tmp_path / "r2.json"))
    assert res.exit_code == 0, res.output
    assert json.loads(again.read_text("utf-8"))["pseudonyms"] == mapping  # same key, same map
