"""Entra ID directory → Person and Platform records.

Sources:

* ``GET /users?$select=id,userPrincipalName,mail,displayName,department,jobTitle,
  accountEnabled,userType,assignedLicenses,assignedPlans`` — ``assignedLicenses`` is a list
  of ``{"skuId", "disabledPlans"}``; ``assignedPlans`` a list of ``{"service",
  "servicePlanId", "capabilityStatus", "assignedDateTime"}``.
* ``GET /subscribedSkus`` — ``{"skuId", "skuPartNumber", "servicePlans": [{"servicePlanId",
  "servicePlanName"}]}``: turns a user's SKU ids into readable licence names (``SPE_E3``)
  and tells which service plans (Teams, Exchange, Teams Phone) a licence switches on.
* ``GET /domains`` — ``{"id", "isVerified", "isDefault", "isInitial"}``.

Who has Teams or a mailbox is read from the service plans of the assigned SKUs minus
``disabledPlans``: a Microsoft 365 licence with Teams switched off is common (the EU/UK
"no Teams" SKUs, or an admin disabling TEAMS1) and must not count as Teams use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, domain_of, mappings, text
from sprawl_audit.core.model import AppRef, InventoryBuilder, Person, Platform, SourceRef

TEAMS = AppRef("slug", "teams")
EXCHANGE = AppRef("slug", "exchange-online")

#: Service plans that never give a person a mailbox although their names say Exchange.
_NOT_A_MAILBOX = frozenset({"EXCHANGE_S_FOUNDATION", "EXCHANGE_S_FOUNDATION_GOV"})
#: Teams Phone (the PSTN-capable "Phone System" plan and its variants).
_TEAMS_PHONE = frozenset({"MCOEV", "MCOEV_VIRTUALUSER", "MCOEV_GOV", "MCOEV_DOD"})
#: ``assignedPlans`` service names, used only when ``/subscribedSkus`` was not readable.
_SERVICE_TEAMS = "TeamspaceAPI"
_SERVICE_EXCHANGE = "exchange"


@dataclass(frozen=True)
class Sku:
    """A subscribed SKU: its readable part number and the service plans it contains."""

    sku_id: str
    part_number: str
    plans: Mapping[str, str] = field(default_factory=dict)  # servicePlanId -> servicePlanName


def sku_catalogue(subscribed_skus: Iterable[Item]) -> dict[str, Sku]:
    """Index ``/subscribedSkus`` items by ``skuId``."""
    out: dict[str, Sku] = {}
    for sku in mappings(subscribed_skus)[0]:
        sku_id = text(sku, "skuId").lower()
        if not sku_id:
            continue
        plans = {
            text(p, "servicePlanId").lower(): text(p, "servicePlanName")
            for p in as_list(sku.get("servicePlans"))
            if isinstance(p, Mapping)
        }
        out[sku_id] = Sku(sku_id, text(sku, "skuPartNumber") or sku_id, plans)
    return out


def is_guest(user: Item) -> bool:
    """Guests are ``userType == "Guest"``; B2B accounts also carry ``#EXT#`` in the UPN."""
    return text(user, "userType").lower() == "guest" or "#ext#" in text(
        user, "userPrincipalName"
    ).lower()


def each_user(users: Iterable[Item]) -> Iterator[tuple[str, Item]]:
    """``(person id, user)`` once per person: a user without an id, or listed again (a
    page repeated by the service), is skipped."""
    seen: set[str] = set()
    for user in users:
        pid = person_id(user)
        if pid and pid not in seen:
            seen.add(pid)
            yield pid, user


def person_id(user: Item) -> str:
    """The normalised key of a directory user.

    Members are keyed by UPN (what reports and Intune use). A guest's UPN is the mangled
    ``name_example.com#EXT#@tenant.onmicrosoft.com``, so guests are keyed by their real
    ``mail`` address, which is also what Teams membership lists and other sources show.
    """
    upn = text(user, "userPrincipalName").strip().lower()
    mail = text(user, "mail").strip().lower()
    if is_guest(user) and mail:
        return mail
    return upn or mail or text(user, "id").lower()


def user_id_map(users: Iterable[Item]) -> dict[str, str]:
    """Directory object id → person id, to name the principals of grants and assignments."""
    return {text(u, "id").lower(): person_id(u) for u in mappings(users)[0] if text(u, "id")}


def _plan_names(user: Item, skus: Mapping[str, Sku]) -> tuple[list[str], set[str]]:
    """The user's licence part numbers and the enabled service-plan names they give."""
    licences: list[str] = []
    plans: set[str] = set()
    for lic in as_list(user.get("assignedLicenses")):
        if not isinstance(lic, Mapping):
            continue
        sku_id = text(lic, "skuId").lower()
        sku = skus.get(sku_id)
        if sku is None:
            licences.append(sku_id)
            continue
        licences.append(sku.part_number)
        disabled = {p.lower() for p in as_list(lic.get("disabledPlans")) if isinstance(p, str)}
        plans.update(name for pid, name in sku.plans.items() if pid not in disabled)
    return sorted(set(licences)), plans


def _services_from_assigned_plans(user: Item) -> set[str]:
    return {
        text(p, "service")
        for p in as_list(user.get("assignedPlans"))
        if isinstance(p, Mapping) and text(p, "capabilityStatus") == "Enabled"
    }


def _has_teams(plans: set[str]) -> bool:
    return any(p.upper().startswith("TEAMS") for p in plans)


def _has_mailbox(plans: set[str]) -> bool:
    return any(
        p.upper().startswith("EXCHANGE_S_") and p.upper() not in _NOT_A_MAILBOX for p in plans
    )


def transform_users(
    users: Iterable[Item], subscribed_skus: Iterable[Item], *, connector: str = "m365"
) -> InventoryBuilder:
    """Map directory users to Persons, and Teams / Exchange Online to Platforms.

    Licences are SKU part numbers. When ``/subscribedSkus`` is empty (permission missing)
    licences stay as SKU ids and Teams/Exchange come from ``assignedPlans`` services.
    Coverage: ``directory.users`` (members) and ``directory.guests``.
    """
    skus = sku_catalogue(subscribed_skus)
    users, malformed = mappings(users)
    src_users = SourceRef(connector, "directory.users")
    src_guests = SourceRef(connector, "directory.guests")
    out = InventoryBuilder()
    members = disabled = guests = 0
    teams_users = exchange_users = phone_users = 0
    for pid, user in each_user(users):
        guest = is_guest(user)
        enabled = user.get("accountEnabled") is not False
        licences, plans = _plan_names(user, skus)
        if not skus:
            services = _services_from_assigned_plans(user)
            teams = _SERVICE_TEAMS in services
            mailbox = _SERVICE_EXCHANGE in services
        else:
            teams, mailbox = _has_teams(plans), _has_mailbox(plans)
        attributes: dict[str, Any] = {"entra_id": text(user, "id")}
        if guest:
            guests += 1
            attributes["upn"] = text(user, "userPrincipalName")
            attributes["home_domain"] = domain_of(pid)
        else:
            members += 1
            disabled += not enabled
        if enabled and not guest:
            teams_users += teams
            exchange_users += mailbox
            phone_users += bool(plans & _TEAMS_PHONE)
        out.people.append(
            Person(
                id=pid,
                display_name=text(user, "displayName"),
                email=text(user, "mail").lower(),
                department=text(user, "department"),
                job_title=text(user, "jobTitle"),
                enabled=enabled,
                guest=guest,
                licences=tuple(licences),
                attributes=attributes,
                sources=(src_guests if guest else src_users,),
            )
        )
    out.people.sort(key=lambda p: p.id)
    if teams_users:
        out.platforms.append(
            Platform(
                id="teams", ref=TEAMS, name="Microsoft Teams",
                attributes={"licensed_users": teams_users, "teams_phone_users": phone_users},
                sources=(src_users,),
            )
        )
    if exchange_users:
        out.platforms.append(
            Platform(
                id="exchange-online", ref=EXCHANGE, name="Exchange Online",
                attributes={"licensed_users": exchange_users}, sources=(src_users,),
            )
        )
    licence_note = "" if skus else "; /subscribedSkus unreadable, licences shown as SKU ids"
    out.coverage.append(
        coverage(
            connector, "directory.users", "collected",
            f"{members} member accounts ({disabled} disabled){licence_note}", members,
        )
    )
    out.coverage.append(
        coverage(connector, "directory.guests", "collected", f"{guests} guest accounts", guests)
    )
    note_malformed(out, "directory.users", malformed, "directory entries")
    return out


def verified_domains(domains: Iterable[Item], *, mail_only: bool = False) -> tuple[str, ...]:
    """Verified domain names from ``/domains``, the default domain first.

    ``mail_only`` drops ``*.onmicrosoft.com`` routing domains, whose DNS Microsoft runs,
    leaving the domains whose mail posture the organisation controls.
    """
    rows = [d for d in mappings(domains)[0] if d.get("isVerified") is True and text(d, "id")]
    rows.sort(key=lambda d: (d.get("isDefault") is not True, text(d, "id").lower()))
    names = [text(d, "id").lower() for d in rows]
    if mail_only:
        names = [n for n in names if not n.endswith(".onmicrosoft.com")]
    return tuple(dict.fromkeys(names))
