"""Issue 12 point 9 end to end: the demo's admin consents for everyone read "all users"."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sprawl_audit.cli.main import main


def test_demo_all_users_consent_in_json_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    for fmt, path in (("json", out), ("markdown", md)):
        result = CliRunner().invoke(main, ["audit", "--demo", "--no-history", "-f", fmt,
                                           "-o", str(path)], env={}, catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    enabled = sum(1 for i in doc["integrations"] if i.get("all_users"))
    keystone = next(i for i in doc["integrations"]
                    if i["name"] == "Keystone Housing Online" and i["kind"] == "oauth")
    assert keystone["all_users"] is True and keystone["user_count"] > 700
    assert keystone["users_label"] == f"all users ({keystone['user_count']} enabled)"
    assert enabled >= 2
    assert f"| Keystone Housing Online | entra-id | admin | all users \\({keystone['user_count']}" \
        in md.read_text(encoding="utf-8")
