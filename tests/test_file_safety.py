"""Files the tool writes: checked before collecting, private when they hold people, and
no temporary file left behind by a killed run (issue 13, items 3, 4 and 9).

- Every output path (``-o``, ``--output-dir``, ``--save-snapshot``, ``--state``) is
  checked before the first request; if writing still fails at the end, the collected
  inventory is kept in an owner-only temporary folder, the run says where and exits 2.
- New files follow the umask, existing files keep their mode, and files with personal
  data (snapshot, Result JSON, people and phone-number tables, XLSX, state, history) are
  0600 unless ``--file-mode umask``.
- A ``kill -9`` while writing leaves ``.<name>.<hex>.sprawl-audit.tmp``; the next run
  that writes into that folder removes ours (old enough, owned by us), nothing else.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sprawl_audit import pipeline
from sprawl_audit.cli.main import main
from sprawl_audit.core import atomic

EXE = str(Path(sys.executable).with_name("sprawl-audit"))
ALL_FORMATS = "json,html,markdown,csv,xlsx,sarif,graphml,gexf"
PERSONAL = {"sprawl-audit.json", "sprawl-audit.xlsx", "sprawl-audit-people-platforms.csv",
            "sprawl-audit-phone-numbers.csv"}


def run(*args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(main, list(args), env=env)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def live_config(tmp_path: Path) -> Path:
    """A live audit without a network: the manual connector reading one interview file."""
    (tmp_path / "notes.yaml").write_text(
        "version: 1\nsource: Site visit\nentries: [{platform: Signal, department: Housing}]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("organisation: {name: Acme Housing}\nconnectors:\n  manual:\n"
                   "    files: [notes.yaml]\n")
    return cfg


@pytest.fixture()
def no_collection(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Fails the test if the audit starts collecting."""
    calls: list[int] = []

    def collect(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise AssertionError("collection started before the output paths were checked")

    monkeypatch.setattr(pipeline, "collect_live", collect)
    yield calls


# -- item 3: output paths checked before collecting ---------------------------------------


@pytest.mark.parametrize("option", ["-o", "--save-snapshot", "--state", "--output-dir"])
def test_an_unwritable_output_path_fails_before_the_first_request(
        tmp_path: Path, no_collection: list[int], option: str) -> None:
    cfg = live_config(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    target = str(blocker / "x" if option == "--output-dir" else blocker / "x" / "y.json")
    args = ["audit", "-c", str(cfg), option, target]
    if option == "-o":
        args += ["-f", "json"]
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert no_collection == []
    line = res.output.strip()
    assert line.count("\n") == 0 and "Traceback" not in res.output
    assert line.startswith("sprawl-audit: error: ") and option in line


def test_a_folder_given_as_a_file_fails_before_collecting(tmp_path: Path,
                                                          no_collection: list[int]) -> None:
    cfg = live_config(tmp_path)
    (tmp_path / "snap").mkdir()
    res = run("audit", "-c", str(cfg), "--save-snapshot", str(tmp_path / "snap"))
    assert res.exit_code == 2 and no_collection == []
    assert "Traceback" not in res.output


def test_missing_output_folders_are_created(tmp_path: Path) -> None:
    out = tmp_path / "nodir" / "x" / "y.json"
    snap = tmp_path / "other" / "s.json"
    res = run("demo", "-q", "-f", "json", "-o", str(out), "--save-snapshot", str(snap))
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["schema_version"]
    assert json.loads(snap.read_text())["snapshot_version"] == 1


def test_a_write_failing_at_the_end_keeps_the_collection_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk full at the end of a live audit: the other outputs are still written, the
    inventory is saved owner-only in a temporary folder, the run says where, exit 2."""
    from sprawl_audit.connectors.demo import load_demo_inventory
    from sprawl_audit.inventory.snapshot import read_snapshot

    inventory = load_demo_inventory()
    monkeypatch.setattr(pipeline, "collect_live", lambda config, state: (inventory, ["demo"]))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    real = atomic.atomic_write_bytes

    def disk_full(path: Path, data: bytes, **kwargs: object) -> None:
        if Path(path).suffix == ".html":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "atomic_write_bytes", disk_full)
    out = tmp_path / "out"
    res = run("audit", "-c", str(live_config(tmp_path)), "-f", "json,html",
              "--output-dir", str(out), "--no-history")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert f"could not write {out / 'sprawl-audit.html'}: no space left on device" in res.output
    assert (out / "sprawl-audit.json").is_file()  # the other output still written
    rescued = list((tmp_path / "tmp").glob("sprawl-audit-rescue-*/snapshot.json"))
    assert len(rescued) == 1 and str(rescued[0]) in res.output
    assert mode_of(rescued[0]) == 0o600 and mode_of(rescued[0].parent) == 0o700
    assert read_snapshot(rescued[0]).organisation.name == inventory.organisation.name


def test_no_rescue_when_the_snapshot_was_saved_or_nothing_was_collected(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)

    def fail(path: Path, data: bytes, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(atomic, "atomic_write_bytes", fail)
    res = run("demo", "-q", "-f", "json", "-o", str(tmp_path / "r.json"))
    assert res.exit_code == 2 and "could not write" in res.output
    assert not list(tmp_path.glob("sprawl-audit-rescue-*"))  # demo data is not lost


# -- item 4: permissions -------------------------------------------------------------------


def _umask_run(args: list[str], umask: int, cwd: Path,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                          preexec_fn=lambda: os.umask(umask))


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): mode_of(p) for p in root.rglob("*") if p.is_file()}


def test_under_umask_077_every_file_the_tool_writes_is_0600(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    cfg = live_config(work)
    before = set(_files(work))
    live = _umask_run(["audit", "-c", str(cfg), "-f", ALL_FORMATS, "--output-dir", "out",
                       "--save-snapshot", "snap/s.json", "--state", "state/state.json",
                       "--history", "hist/h.sqlite", "-q"], 0o077, work)
    assert live.returncode in (0, 1), live.stderr
    report = _umask_run(["report", "out/sprawl-audit.json", "-f", "markdown", "-o",
                         "again/r.md"], 0o077, work)
    drift = _umask_run(["diff", "out/sprawl-audit.json", "out/sprawl-audit.json", "-o",
                        "again/drift.txt"], 0o077, work)
    assert report.returncode == 0 and drift.returncode == 0, report.stderr + drift.stderr
    written = {name: mode for name, mode in _files(work).items() if name not in before}
    assert len(written) >= 20  # every format, the CSV tables, snapshot, state, history...
    assert {name: oct(mode) for name, mode in written.items() if mode != 0o600} == {}
    for name in ("out/sprawl-audit.html", "snap/s.json", "state/state.json", "hist/h.sqlite",
                 "again/r.md", "again/drift.txt"):
        assert name in written


def test_personal_files_are_owner_only_others_follow_the_umask(tmp_path: Path) -> None:
    res = _umask_run(["demo", "-q", "-f", ALL_FORMATS, "--output-dir", "out",
                      "--save-snapshot", "s.json"], 0o022, tmp_path)
    assert res.returncode == 0, res.stderr
    modes = _files(tmp_path / "out")
    assert {n for n, m in modes.items() if m == 0o600} == PERSONAL
    assert {m for n, m in modes.items() if n not in PERSONAL} == {0o644}
    assert mode_of(tmp_path / "s.json") == 0o600


def test_file_mode_umask_switches_owner_only_off(tmp_path: Path) -> None:
    res = _umask_run(["demo", "-q", "-f", "json,xlsx", "--output-dir", "out",
                      "--save-snapshot", "s.json", "--file-mode", "umask"], 0o022, tmp_path)
    assert res.returncode == 0, res.stderr
    assert set(_files(tmp_path / "out").values()) == {0o644}
    assert mode_of(tmp_path / "s.json") == 0o644
    res = _umask_run(["demo", "-q", "-f", "csv", "--output-dir", "csv"], 0o022, tmp_path,
                     env={"SPRAWL_AUDIT_FILE_MODE": "umask"})
    assert res.returncode == 0 and set(_files(tmp_path / "csv").values()) == {0o644}


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    board = tmp_path / "board.html"
    result.write_text("old")
    board.write_text("old")
    result.chmod(0o600)
    board.chmod(0o640)
    for args in (["-f", "json", "-o", str(result), "--file-mode", "umask"],
                 ["-f", "html", "-o", str(board)]):
        assert _umask_run(["demo", "-q", *args], 0o022, tmp_path).returncode == 0
    assert mode_of(result) == 0o600 and result.read_text() != "old"
    assert mode_of(board) == 0o640 and board.read_text() != "old"


def test_a_personal_file_written_wider_before_is_made_owner_only(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    snap.write_text("{}")
    snap.chmod(0o644)
    atomic.set_file_mode(None)
    atomic.atomic_write_text(snap, "{}\n", privacy="personal")
    assert mode_of(snap) == 0o600


def test_unknown_file_mode_is_a_usage_error() -> None:
    res = run("demo", "-q", "--file-mode", "open")
    assert res.exit_code == 2 and "--file-mode" in res.output


# -- item 9: temporary files of killed runs ------------------------------------------------

_KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from sprawl_audit.core import atomic
def stall(fd):
    print("writing", flush=True)
    time.sleep(60)

os.fsync = stall
atomic.atomic_write_bytes(Path(sys.argv[1]), b"x" * 100000)
"""


def _leave_a_temp_file(target: Path) -> Path:
    """A real leftover: a writer killed with SIGKILL between creating its temporary file
    and renaming it."""
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = [p for p in target.parent.iterdir()
            if p.name.endswith(atomic.TEMP_SUFFIX) and p.name.startswith(f".{target.name}.")]
    assert len(left) == 1
    return left[0]


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_next_run_removes_temp_files_a_killed_run_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = _leave_a_temp_file(out / "sprawl-audit.json")
    _age(stale, atomic.STALE_AFTER_S + 60)
    fresh = _leave_a_temp_file(out / "sprawl-audit.html")  # another run, writing right now
    legacy = out / ".sprawl-audit.sarif.k3j_h5g6.tmp"  # tempfile.mkstemp, earlier versions
    legacy.write_text("x")
    _age(legacy, atomic.STALE_AFTER_S + 60)
    foreign = [out / ".notes.txt.abcdefgh.tmp", out / "draft.sprawl-audit.tmp.bak",
               out / ".other.k3j_h5g6.tmp"]
    for path in foreign:
        path.write_text("not ours")
        _age(path, 86400)
    theirs = out / ".sprawl-audit.xlsx.0123abcd.sprawl-audit.tmp"  # another user's
    theirs.write_text("x")
    if os.getuid() == 0:
        os.chown(theirs, 65534, 65534)
    _age(theirs, 86400)

    res = run("demo", "-q", "-f", "json", "--output-dir", str(out))
    assert res.exit_code == 0, res.output
    assert not stale.exists() and not legacy.exists()
    assert fresh.exists() and all(p.exists() for p in foreign)
    assert theirs.exists() == (os.getuid() == 0)
    assert json.loads((out / "sprawl-audit.json").read_text())["schema_version"]


def test_cleanup_runs_for_every_output_folder(tmp_path: Path) -> None:
    for folder in ("o", "snap"):
        (tmp_path / folder).mkdir()
    stale = [_leave_a_temp_file(tmp_path / "o" / "r.json"),
             _leave_a_temp_file(tmp_path / "snap" / "s.json")]
    for path in stale:
        _age(path, atomic.STALE_AFTER_S + 1)
    res = run("demo", "-q", "-f", "json", "-o", str(tmp_path / "o" / "r.json"),
              "--save-snapshot", str(tmp_path / "snap" / "s.json"))
    assert res.exit_code == 0 and not any(p.exists() for p in stale)
