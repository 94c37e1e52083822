"""The one secret registry: every credential a connector reads or receives goes here.

Output scrubbing (:func:`sprawl_audit.core.logsetup.scrub` / ``scrub_data``, used for log
lines, coverage details, findings and stored rows) reads the same registry, so a secret
registered here can appear in nothing the tool writes. Google access tokens used to be
kept only in a registry of Google's own, which log filtering read but output scrubbing
did not: a token echoed into a finding's text was written out as is.
"""

from __future__ import annotations

from sprawl_audit.core.logsetup import MASK, register_secret, scrub

__all__ = ["MASK", "redact", "register"]


def register(*values: str | None) -> None:
    """Register each value (and, for a multi-line value such as a PEM key, each long body
    line: an error that quotes a key quotes it line by line)."""
    for value in values:
        if not isinstance(value, str) or not value:
            continue
        register_secret(value)
        if "\n" in value or "\\n" in value:
            for line in value.replace("\\n", "\n").splitlines():
                line = line.strip()
                if len(line) >= 16 and not line.startswith("-----"):
                    register_secret(line)


def redact(text: str) -> str:
    """``text`` with every registered (or secret-named environment) value masked."""
    return scrub(text)
