"""Connector state between scheduled runs (delta links), kept in one owner-only file.

A scheduled audit that passes ``--state FILE`` asks Microsoft Graph only for what changed
since the last run. The file holds the fields delta queries return about users, apps and
grants — personal data — so it is created 0600 and replaced atomically: a run killed
half-way leaves the previous state, never a truncated one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sprawl_audit.core.atomic import atomic_write_text
from sprawl_audit.core.errors import UserError


def read_state(path: str | Path) -> dict[str, Any]:
    """The state a previous run left; a damaged file is a located UserError (strict JSON,
    :func:`sprawl_audit.core.jsontext.strict_document`), never a traceback."""
    from sprawl_audit.core.inputs import read_document
    from sprawl_audit.core.jsontext import JsonTextError, strict_document

    p = Path(path)
    if not p.exists():
        return {}
    try:
        data = strict_document(read_document(p, what="state file"))
    except JsonTextError as exc:
        what = "is not JSON" if exc.kind == "syntax" else "cannot be read"
        raise UserError(f"state file {what}: {exc.reason}", path=str(p), line=exc.line,
                        key=exc.where) from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(
            data.get("connectors"), dict):
        raise UserError("not a sprawl-audit state file (expected version 1)", path=str(p))
    return dict(data["connectors"])


def write_state(path: str | Path, connectors: dict[str, Any]) -> None:
    from sprawl_audit.core.logsetup import scrub_data

    atomic_write_text(Path(path), json.dumps({"version": 1,
                                              "connectors": scrub_data(connectors)}),
                      privacy="owner")
