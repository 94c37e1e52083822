"""docs/unattended.md is run by people as written: its commands, units and container
recipe must match the CLI and pyproject.toml (Docker itself cannot run here)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from sprawl_audit.cli import ops as cli_ops
from sprawl_audit.cli.main import main

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the check needs only one version

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "unattended.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def _extra_params(decorator: Any) -> list[click.Parameter]:
    return click.command()(decorator(lambda **_: None)).params


def command(path: list[str]) -> click.Command:
    """The click command for ``path`` (e.g. ["history", "trend"]), with the cli_ops options
    added to audit/demo/report when cli.py does not carry them yet."""
    groups: dict[str, click.Command] = {**main.commands, "diff": cli_ops.diff_command,
                                        "history": cli_ops.history_group}
    cmd: click.Command = groups[path[0]]
    if isinstance(cmd, click.Group):
        cmd = cmd.commands[path[1]]
    names = {p.name for p in cmd.params}
    extra: list[click.Parameter] = []
    if path[0] in ("audit", "demo") and "suppressions" not in names:
        extra = _extra_params(cli_ops.add_audit_options)
    if path[0] == "report" and "redact" not in names:
        extra = _extra_params(cli_ops.add_report_options)
    if extra:
        cmd = click.Command(cmd.name, params=[*cmd.params, *extra], callback=None)
    return cmd


def check_invocation(args: list[str]) -> None:
    """Parse ``sprawl-audit <args>`` without running it: unknown options fail here."""
    depth = 2 if args[0] in ("history", "rules", "connectors") else 1
    cmd = command(args[:depth])
    cmd.make_context("sprawl-audit", list(args[depth:]), resilient_parsing=False)


def invocations() -> list[list[str]]:
    """Every `sprawl-audit …` command line in the doc's sh, cron, ini and Dockerfile blocks."""
    found: list[list[str]] = []
    for block in blocks("sh") + blocks("cron") + blocks("ini"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0] if not line.startswith("ExecStart") else line
            match = re.search(r'sprawl-audit"? ((?:audit|demo|report|diff|history)\b[^|;]*)',
                              line)
            if match:
                found.append(shlex.split(match.group(1)))
    docker = blocks("dockerfile")[0]
    cmd = re.search(r"^CMD (\[.*\])$", docker, flags=re.M)
    assert cmd is not None
    found.append(json.loads(cmd.group(1)))  # exec form is a JSON array
    return found


def test_every_documented_command_line_parses() -> None:
    lines = invocations()
    assert len(lines) >= 8
    for args in lines:
        check_invocation(args)


def test_the_cron_line_has_five_time_fields_and_no_percent_signs() -> None:
    (cron,) = blocks("cron")
    line = cron.strip()
    fields = line.split()
    assert all(re.fullmatch(r"[0-9*/,-]+", f) for f in fields[:5])
    assert "%" not in line  # cron turns % into a newline


def test_dockerfile_matches_pyproject() -> None:
    (docker,) = blocks("dockerfile")
    base = re.search(r"^FROM python:(\d+)\.(\d+)-slim$", docker, flags=re.M)
    assert base is not None
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum is not None
    assert (int(base[1]), int(base[2])) >= (int(minimum[1]), int(minimum[2]))
    # the project itself is installed, from the copied source tree
    assert re.search(r"^COPY \. /src$", docker, flags=re.M)
    assert re.search(r"^RUN pip install --no-cache-dir /src\b", docker, flags=re.M)
    assert (ROOT / "pyproject.toml").is_file()
    entry = re.search(r'^ENTRYPOINT \["([^"]+)"\]$', docker, flags=re.M)
    assert entry is not None and entry[1] in PYPROJECT["project"]["scripts"]
    assert re.search(r"^USER auditor$", docker, flags=re.M)  # not root
    assert "platformdirs" in " ".join(PYPROJECT["project"]["dependencies"])


def test_documented_environment_variables_exist() -> None:
    from sprawl_audit.core.inputs import SNAPSHOT_LIMIT_ENV

    known = {"SPRAWL_AUDIT_REDACT_KEY", SNAPSHOT_LIMIT_ENV}  # read by the code, not click

    def walk(cmd: click.Command) -> None:
        for p in cmd.params:
            if isinstance(p, click.Option) and p.envvar:
                known.update([p.envvar] if isinstance(p.envvar, str) else p.envvar)
        if isinstance(cmd, click.Group):
            for sub in cmd.commands.values():
                walk(sub)

    walk(main)
    walk(cli_ops.diff_command)
    walk(cli_ops.history_group)
    walk(command(["audit"]))
    documented = set(re.findall(r"\bSPRAWL_AUDIT_[A-Z_]+\b", DOC))
    assert documented and documented <= known, documented - known


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_units_verify(tmp_path: Path) -> None:
    service, timer = blocks("ini")
    exe = tmp_path / "sprawl-audit"
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(0o755)
    (tmp_path / "sprawl-audit.service").write_text(
        service.replace("/opt/sprawl-audit/bin/sprawl-audit", str(exe)), encoding="utf-8")
    (tmp_path / "sprawl-audit.timer").write_text(timer, encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", "sprawl-audit.service",
                           "sprawl-audit.timer"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    problems = [line for line in proc.stderr.splitlines()
                if "sprawl-audit" in line and "Failed to" not in line]
    assert proc.returncode == 0 and not problems, proc.stderr


def test_secret_variables_in_the_doc_are_blanked_in_logs() -> None:
    from sprawl_audit.core.logsetup import SECRET_SUFFIXES

    for name in set(re.findall(r"\b(SPRAWL_[A-Z0-9_]+)=", DOC)):
        if name.startswith("SPRAWL_AUDIT_") and not name.endswith("_KEY"):
            continue  # settings, not secrets
        assert name.endswith(SECRET_SUFFIXES), name
    assert sys.version_info >= (3, 10)
