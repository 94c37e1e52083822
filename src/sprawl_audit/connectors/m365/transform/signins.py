"""When each Entra ID account last signed in — and which never did.

Source: ``GET /users?$select=…,signInActivity`` (``AuditLog.Read.All`` plus a user-read
permission; the tenant needs Microsoft Entra ID P1 or P2, and a tenant without it answers
403). ``signInActivity`` is a property of the user object, returned only when selected,
with (Microsoft Graph reference, "signInActivity resource type",
https://learn.microsoft.com/graph/api/resources/signinactivity):

* ``lastSignInDateTime`` — the last *interactive* sign-in attempt, successful or not;
  kept back to April 2020;
* ``lastNonInteractiveSignInDateTime`` — the last attempt a client made on the user's
  behalf; kept back to May 2020;
* ``lastSuccessfulSignInDateTime`` — the last successful sign-in of either kind; only
  recorded since December 2023 and not backfilled.

Decisions, because a null here is easy to over-read:

* ``last_login`` of the account is the latest of the three that is present.
* An account *never signed in* (``attributes.never_signed_in`` true) only when all three
  are null **and** the user was created (``createdDateTime``) after tracking of both kinds
  began (1 May 2020): before that a null means "not since tracking began", not "never".
  An older or undated account with no recorded sign-in stays *unknown*, and the coverage
  says how many, so SA-ACCOUNT-003 is not assessed for them rather than passed.
* A value present but not a timestamp is ignored (unknown), never read as "never".

Coverage ``accounts.sign_in``: ``collected`` with the counts; ``partial`` when records
were malformed. The accounts merge with those of ``accounts.mfa`` (one node per person
per platform in the graph), adding ``last_login`` and the flag.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, mappings, text
from sprawl_audit.connectors.m365.transform.apps import ENTRA
from sprawl_audit.connectors.m365.transform.directory import each_user
from sprawl_audit.core.instants import format_instant, parse_instant
from sprawl_audit.core.model import Account, InventoryBuilder, SourceRef

TOPIC = "accounts.sign_in"
#: The Graph fields of ``signInActivity`` that record a sign-in (attempt).
SIGN_IN_FIELDS = ("lastSuccessfulSignInDateTime", "lastSignInDateTime",
                  "lastNonInteractiveSignInDateTime")
#: From when both interactive (April 2020) and non-interactive (May 2020) sign-ins are kept.
TRACKED_SINCE = datetime(2020, 5, 1, tzinfo=timezone.utc)
#: What the collector selects: enough to place the account, and the activity itself.
SIGN_IN_SELECT = ("id,userPrincipalName,mail,userType,accountEnabled,createdDateTime,"
                  "signInActivity")


def transform_sign_ins(users: Iterable[Item], *, connector: str = "m365") -> InventoryBuilder:
    """Entra ID accounts with ``last_login`` / ``attributes.never_signed_in``; coverage
    ``accounts.sign_in``."""
    source = SourceRef(connector, TOPIC, "signInActivity")
    items, malformed = mappings(users)
    out = InventoryBuilder()
    signed = never = untracked = 0
    for person, user in each_user(items):
        last = _last_sign_in(user.get("signInActivity"))
        attributes: dict[str, Any] = {}
        if last is not None:
            signed += 1
            attributes["never_signed_in"] = False
        elif _created_after_tracking(text(user, "createdDateTime")):
            never += 1
            attributes["never_signed_in"] = True
        else:
            untracked += 1
        out.accounts.append(Account(
            person=person, platform=ENTRA, enabled=user.get("accountEnabled") is not False,
            last_login=format_instant(last) if last is not None else None,
            attributes=attributes, source=source,
        ))
    out.accounts.sort(key=lambda a: a.person)
    detail = f"last sign-in of {len(out.accounts)} accounts: {signed} signed in, {never} never"
    if untracked:
        detail += (f"; {untracked} with no sign-in on record but created before sign-in "
                   "tracking began (May 2020) or undated — whether they ever signed in is "
                   "unknown")
    out.coverage.append(coverage(connector, TOPIC, "collected", detail, len(out.accounts)))
    note_malformed(out, TOPIC, malformed, "user records")
    return out


def _last_sign_in(activity: Any) -> datetime | None:
    if not isinstance(activity, dict):
        return None
    times = [parse_instant(activity.get(f)) for f in SIGN_IN_FIELDS
             if isinstance(activity.get(f), str)]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _created_after_tracking(created: str) -> bool:
    when = parse_instant(created) if created else None
    return when is not None and when >= TRACKED_SINCE
