"""Access classes of granted scopes (graph/analyses/scopes.py)."""

from __future__ import annotations

import pytest

from sprawl_audit.graph.analyses.scopes import classify


@pytest.mark.parametrize(("scopes", "high", "offline_bulk"), [
    (["User.Read", "Mail.Read", "offline_access"], True, True),
    (["Files.Read.All", "OFFLINE_ACCESS"], True, True),
    (["Notes.Read.All", "offline_access", "openid"], True, True),
    (["Mail.Read"], False, False),  # a read while signed in: not the phishing set
    # the user's own files and calendar, as note-takers and design tools ask
    (["Files.Read", "Calendars.Read", "offline_access"], False, False),
    (["User.Read", "offline_access"], False, False),  # a refresh token for a profile
    (["Mail.ReadWrite"], True, False),  # already high on its own
    # writes to shared calendars: neither a *.ReadWrite.All nor a bulk read
    (["Calendars.ReadWrite.Shared", "offline_access"], False, False),
])
def test_bulk_read_with_a_refresh_token_is_high_privilege(
        scopes: list[str], high: bool, offline_bulk: bool) -> None:
    got = classify(scopes)
    assert got["offline_bulk_read"] is offline_bulk
    assert got["high_privilege"] is high


def test_hostile_scope_values_are_ignored() -> None:
    got = classify(["offline_access", None, 3, "Mail.Read\x00"])  # type: ignore[list-item]
    assert got["offline_bulk_read"] is False
