"""One WhatsApp audit run: every listed business account and its numbers, and the one
coverage entry that says how much of that was read. HTTP is in :mod:`.client`; the
mapping to records in :mod:`.transform`.

A source fault never stops the audit: a 403 on one account is coverage ``partial`` (or
``forbidden`` when it was every account), a 401 is ``error`` with what was read before it
kept, and retries exhausted, a repeating page or an answer refused (deadline, size cap)
are ``partial`` / ``error`` with the reason.
"""

from __future__ import annotations

from typing import Any

from sprawl_audit.connectors.interface import PermissionCheck, coverage
from sprawl_audit.connectors.whatsapp.client import (
    AuthFailed,
    Forbidden,
    WhatsAppClient,
    WhatsAppError,
)
from sprawl_audit.connectors.whatsapp.transform import TOPIC, transform_whatsapp
from sprawl_audit.core.model import InventoryBuilder
from sprawl_audit.parsers.phones import DEFAULT_REGION, invalid_note

PERMISSION = "whatsapp_business_management"


def collect_accounts(client: WhatsAppClient, ids: tuple[str, ...], *, connector: str,
                     endpoint: str, region: str = DEFAULT_REGION) -> InventoryBuilder:
    """Read each account and its number pages; records plus one coverage entry."""
    accounts: list[dict[str, Any]] = []
    problems: list[str] = []
    complete = forbidden = 0
    dead: str | None = None
    for index, waba in enumerate(ids):
        numbers: list[Any] = []
        try:
            account = dict(client.business_account(waba))
            for page in client.phone_number_pages(waba):
                numbers.extend(page.get("data") or [])
        except AuthFailed as exc:
            dead = str(exc)
            if numbers:  # pages already read are kept, and said to be incomplete
                accounts.append({"id": waba, "phone_numbers": numbers})
                problems.append(f"account {waba}: only the first {len(numbers)} numbers "
                                "were read")
            not_read = len(ids) - index - 1
            if not_read:
                problems.append(f"{not_read} later accounts not read")
            break
        except Forbidden as exc:
            forbidden += 1
            problems.append(f"account {waba}: {exc}")
            continue
        except WhatsAppError as exc:
            problems.append(f"account {waba}: {exc}")
            continue
        account["id"] = str(account.get("id") or waba)
        account["phone_numbers"] = numbers
        accounts.append(account)
        complete += 1
    out = transform_whatsapp(accounts, connector=connector, endpoint=endpoint, region=region)
    detail = (f"{complete} of {len(ids)} business accounts read, "
              f"{len(out.phone_numbers)} phone numbers" + invalid_note(out.phone_numbers))
    if dead:
        status = "error"
        detail += f"; stopped, the token was rejected: {dead}"
    elif forbidden == len(ids):
        status = "forbidden"
    elif problems:
        status = "partial" if complete else "error"
    else:
        status = "collected"
    if problems:
        detail += "; " + "; ".join(problems)
    if forbidden:
        detail += f" (the token needs {PERMISSION} on every listed account)"
    out.coverage.append(coverage(connector, TOPIC, status, detail, len(out.phone_numbers)))
    return out


def check_accounts(client: WhatsAppClient, ids: tuple[str, ...]) -> list[PermissionCheck]:
    """One read of each account (the same client ``collect`` uses), nothing collected."""
    results: list[PermissionCheck] = []
    for waba in ids:
        try:
            client.business_account(waba)
        except AuthFailed as exc:
            results.append(PermissionCheck(TOPIC, PERMISSION, False, str(exc)))
            break
        except Forbidden as exc:
            results.append(PermissionCheck(TOPIC, PERMISSION, False, str(exc)))
            continue
        except WhatsAppError as exc:
            results.append(PermissionCheck(TOPIC, PERMISSION, None, str(exc)))
            continue
        results.append(PermissionCheck(TOPIC, PERMISSION, True, f"business account {waba}"))
    return results
