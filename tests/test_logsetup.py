"""Logging for schedulers: JSON lines, secrets blanked, quiet, progress only on a TTY,
no prompt without a terminal."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from sprawl_audit.core import logsetup
from sprawl_audit.core.errors import UserError

SECRET = "xoxb-123456789012-abcdefSECRET"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logsetup.setup_logging(0, False, "text")
    for handler in list(root.handlers):
        if getattr(handler, "_sprawl_audit", False):
            root.removeHandler(handler)


def capture(monkeypatch: pytest.MonkeyPatch, *args: object, **kwargs: object) -> io.StringIO:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    logsetup.setup_logging(*args, **kwargs)  # type: ignore[arg-type]
    return err


def test_json_lines_parse_and_carry_extra_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    err = capture(monkeypatch, 1, False, "json")
    log = logging.getLogger("sprawl_audit.connectors.slack")
    log.info("read %d channels", 12, extra={"connector": "slack", "topic": "collab"})
    log.warning("quote \" and newline\nin a message")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = err.getvalue().splitlines()
    docs = [json.loads(line) for line in lines]
    assert len(docs) == 3
    first = docs[0]
    assert set(first) >= {"ts", "level", "logger", "message"}
    assert first["level"] == "info" and first["logger"] == "sprawl_audit.connectors.slack"
    assert first["message"] == "read 12 channels"
    assert first["connector"] == "slack" and first["topic"] == "collab"
    assert first["ts"].endswith("Z") and "T" in first["ts"]
    assert docs[1]["message"] == "quote \" and newline\nin a message"
    assert docs[2]["level"] == "error" and "ValueError: boom" in docs[2]["exc"]


def test_secret_looking_env_values_are_blanked_everywhere(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", SECRET)
    monkeypatch.setenv("M365_CLIENT_SECRET", "s3cr3t-value-m365")
    monkeypatch.setenv("SPRAWL_AUDIT_REDACT_KEY", "redaction-key-0123456789")
    monkeypatch.setenv("SHORT_KEY", "abc")  # too short to blank safely
    for fmt in ("json", "text"):
        err = capture(monkeypatch, 0, False, fmt)
        log = logging.getLogger("sprawl_audit.test")
        log.warning("token %s rejected; secret s3cr3t-value-m365", SECRET,
                    extra={"header": f"Bearer {SECRET}"})
        try:
            raise RuntimeError(f"auth failed with redaction-key-0123456789 and {SECRET}")
        except RuntimeError:
            log.exception("abc stays")
        out = err.getvalue()
        assert SECRET not in out and "s3cr3t-value-m365" not in out
        assert "redaction-key-0123456789" not in out
        assert "***" in out and "abc stays" in out
        if fmt == "json":
            first = json.loads(out.splitlines()[0])
            assert first["header"] == "Bearer ***"


def test_registered_secrets_are_blanked(monkeypatch: pytest.MonkeyPatch) -> None:
    err = capture(monkeypatch, 0, False, "text")
    logsetup.register_secret("from-a-file-secret-99")
    logging.getLogger("sprawl_audit").warning("read from-a-file-secret-99")
    assert "from-a-file-secret-99" not in err.getvalue()


def test_quiet_prints_errors_only(monkeypatch: pytest.MonkeyPatch) -> None:
    err = capture(monkeypatch, 2, True, "text")
    log = logging.getLogger("sprawl_audit")
    log.warning("a warning")
    log.info("some info")
    log.error("an error")
    assert err.getvalue() == "sprawl-audit: ERROR: an error\n"


def test_text_format_and_env_default(monkeypatch: pytest.MonkeyPatch) -> None:
    err = capture(monkeypatch, 0, False, None)
    logging.getLogger("sprawl_audit").warning("plain")
    assert err.getvalue() == "sprawl-audit: WARNING: plain\n"
    monkeypatch.setenv("SPRAWL_AUDIT_LOG_FORMAT", "json")
    err = capture(monkeypatch, 0, False, None)
    logging.getLogger("sprawl_audit").warning("as json")
    assert json.loads(err.getvalue())["message"] == "as json"
    monkeypatch.setenv("SPRAWL_AUDIT_LOG_FORMAT", "xml")
    with pytest.raises(UserError, match="unknown log format 'xml'"):
        logsetup.setup_logging(0, False, None)


def test_setting_up_twice_keeps_one_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    capture(monkeypatch, 0, False, "text")
    err = capture(monkeypatch, 0, False, "json")
    logging.getLogger("sprawl_audit").warning("once")
    assert len(err.getvalue().splitlines()) == 1


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = capture(monkeypatch, 0, False, "text")
    with logsetup.progress("Reading", total=3) as bar:
        assert not bar.shown
        bar.advance()
        bar.update(completed=3, label="done")
    assert err.getvalue() == ""

    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    logsetup.setup_logging(0, False, "text")
    with logsetup.progress("Reading \x1b[31mmailboxes", total=3) as bar:
        assert bar.shown
        with logsetup.progress("nested step") as inner:  # shares one display
            assert inner.shown
        bar.advance(3)
    assert "\x1b[31m" not in tty.getvalue()

    for quiet, fmt in ((True, "text"), (False, "json")):
        monkeypatch.setattr(sys, "stderr", _Tty())
        logsetup.setup_logging(0, quiet, fmt)
        with logsetup.progress("x", total=1) as bar:
            assert not bar.shown


def test_require_tty_refuses_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(UserError) as err:
        logsetup.require_tty("Device-code sign-in", "use client credentials for scheduled runs")
    assert err.value.oneline() == (
        "Device-code sign-in needs a person at a terminal, but stdin is not one (scheduled "
        "run?); use client credentials for scheduled runs")
    monkeypatch.setattr(sys, "stdin", _Tty())
    logsetup.require_tty("Device-code sign-in")  # a person is there: no error


def test_a_real_process_with_stdin_closed_gets_the_error() -> None:
    code = textwrap.dedent("""
        from sprawl_audit.core.logsetup import require_tty
        from sprawl_audit.core.errors import UserError
        try:
            require_tty("Sign-in")
        except UserError as exc:
            print(exc.oneline())
    """)
    out = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.startswith("Sign-in needs a person at a terminal")
