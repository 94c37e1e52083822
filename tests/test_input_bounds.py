"""Files the user names are bounded (issue 13, item 5).

``-c /dev/zero`` used to be read until the process was killed, and a FIFO as ``-c`` or
``--suppressions`` waited forever for a writer. Anything that is not a regular file is
refused at once, and sizes are capped (config, suppressions and rules: 8 MiB; snapshots,
Results and state: 1 GiB, ``SPRAWL_AUDIT_MAX_SNAPSHOT_BYTES``), with a one-line exit 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from ops_helpers import demo_result

from sprawl_audit.cli.main import main
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import MAX_TEXT_BYTES, SNAPSHOT_LIMIT_ENV, read_bounded
from sprawl_audit.report.formats.json_format import dumps

EXE = str(Path(sys.executable).with_name("sprawl-audit"))

#: Longer than any answer takes on a loaded machine, far shorter than a hang.
HANG_SECONDS = 20.0


@pytest.fixture()
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _saved_result(tmp_path: Path) -> Path:
    path = tmp_path / "result.json"
    path.write_text(dumps(demo_result()), encoding="utf-8")
    return path


COMMANDS: dict[str, Callable[[str, Path], list[str]]] = {
    "-c": lambda bad, ok: ["audit", "-c", bad],
    "--suppressions": lambda bad, ok: ["demo", "--suppressions", bad],
    "--baseline": lambda bad, ok: ["demo", "--baseline", bad],
    "--from": lambda bad, ok: ["audit", "--from", bad],
    "report": lambda bad, ok: ["report", bad],
    "diff": lambda bad, ok: ["diff", str(ok), bad],
    "--rules": lambda bad, ok: ["demo", "--rules", bad],
}


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
@pytest.mark.parametrize("option", list(COMMANDS))
def test_a_device_or_fifo_is_refused_at_once(tmp_path: Path, fifo: Path, option: str,
                                             kind: str) -> None:
    bad = "/dev/zero" if kind == "/dev/zero" else str(fifo)
    args = [*COMMANDS[option](bad, _saved_result(tmp_path)), "-q"]
    started = time.monotonic()
    res = CliRunner().invoke(main, args)
    elapsed = time.monotonic() - started
    assert res.exit_code == 2, res.output
    # A blocked FIFO open or an endless /dev/zero read never returns: the bound only tells
    # a hang from an answer (generous, so a loaded CI machine does not fail it).
    assert elapsed < HANG_SECONDS, f"{option} {kind} took {elapsed:.2f} s"
    assert "Traceback" not in res.output and res.output.strip().count("\n") == 0
    if option != "--rules":  # the rule loader words its own one-line errors
        assert "not a regular file" in res.output


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_config_on_dev_zero_or_a_fifo_exits_2_within_a_second(fifo: Path, target: str) -> None:
    """The installed command, as a user runs it: a real process, a real FIFO."""
    path = "/dev/zero" if target == "/dev/zero" else str(fifo)
    started = time.monotonic()
    proc = subprocess.run([EXE, "audit", "-c", path], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a regular file" in proc.stderr
    # Interpreter start-up included; as above, this tells a hang from an answer.
    assert elapsed < HANG_SECONDS, f"took {elapsed:.2f} s"


def test_dev_null_still_means_an_empty_config() -> None:
    res = CliRunner().invoke(main, ["demo", "-q", "-c", os.devnull])
    assert res.exit_code == 0, res.output


def test_hand_written_files_are_capped(tmp_path: Path) -> None:
    big = tmp_path / "config.yaml"
    big.write_bytes(b"# " + b"x" * MAX_TEXT_BYTES + b"\n")
    res = CliRunner().invoke(main, ["audit", "-c", str(big)])
    assert res.exit_code == 2
    assert "larger than 8 MiB" in res.output and res.output.strip().count("\n") == 0


def test_snapshot_and_result_caps_are_overridable(tmp_path: Path) -> None:
    result = _saved_result(tmp_path)
    size = result.stat().st_size
    small = {SNAPSHOT_LIMIT_ENV: str(size - 1)}
    res = CliRunner().invoke(main, ["report", str(result), "-f", "json"], env=small)
    assert res.exit_code == 2 and SNAPSHOT_LIMIT_ENV in res.output
    res = CliRunner().invoke(main, ["report", str(result), "-f", "json"],
                             env={SNAPSHOT_LIMIT_ENV: str(size)})
    assert res.exit_code == 0, res.output
    snap = tmp_path / "s.json"
    assert CliRunner().invoke(main, ["demo", "-q", "--save-snapshot", str(snap)]).exit_code == 0
    res = CliRunner().invoke(main, ["audit", "--from", str(snap), "-q"],
                             env={SNAPSHOT_LIMIT_ENV: "1000"})
    assert res.exit_code == 2 and "snapshot is larger than 1,000 bytes" in res.output
    res = CliRunner().invoke(main, ["audit", "--from", str(snap), "-q"],
                             env={SNAPSHOT_LIMIT_ENV: "lots"})
    assert res.exit_code == 2 and "whole number of bytes" in res.output


def test_a_file_growing_while_read_is_still_capped(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    with pytest.raises(UserError, match="larger than 99 bytes"):
        read_bounded(path, what="file", limit=99)
    assert read_bounded(path, what="file", limit=100) == b"x" * 100
