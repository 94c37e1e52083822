"""Teams Phone number assignments → PhoneNumber records.

Source: ``GET /admin/teams/telephoneNumberManagement/numberAssignments``
(``microsoft.graph.teamsAdministration.numberAssignment``): ``telephoneNumber`` (always
with a leading ``+``), ``numberType`` (``callingPlan`` | ``operatorConnect`` |
``directRouting``), ``assignmentStatus`` (``unassigned`` | ``userAssigned`` |
``conferenceAssigned`` | ``voiceApplicationAssigned`` | ``thirdPartyAppAssigned`` |
``policyAssigned``), ``assignmentTargetId`` (the user's or resource account's object id),
``assignmentCategory``, ``activationState``, ``operatorId``, ``isoCountryCode``, ``city``,
``numberSource`` (``online`` | ``onPremises``), ``capabilities``, ``portInStatus``.

Every number is hosted on Teams (``system``). The carrier is known only for Calling Plan
numbers (Microsoft is the carrier); Operator Connect and Direct Routing carriers are not
named by Graph, so ``provider`` stays empty with the number type in the attributes. A
user-assigned number's owner is the user's UPN; numbers on auto attendants, call queues
and conference bridges are ``service`` numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sprawl_audit.connectors.interface import coverage, note_malformed
from sprawl_audit.connectors.m365.odata import Item, as_list, mappings, text
from sprawl_audit.connectors.m365.transform.directory import TEAMS, user_id_map
from sprawl_audit.core.model import AppRef, InventoryBuilder, PhoneNumber, SourceRef
from sprawl_audit.parsers.phones import DEFAULT_REGION, invalid_note, normalise, region_code

CALLING_PLAN = AppRef("phone_provider", "Microsoft Calling Plan")
_SERVICE = frozenset({"conferenceassigned", "voiceapplicationassigned",
                      "thirdpartyappassigned", "policyassigned"})


def transform_number_assignments(
    assignments: Iterable[Item], users: Iterable[Item] = (), *, connector: str = "m365",
    region: str = DEFAULT_REGION,
) -> InventoryBuilder:
    """One PhoneNumber per assigned or unassigned Teams number; coverage ``phone.numbers``.

    Numbers go through :func:`sprawl_audit.parsers.phones.normalise` like every other source's,
    so a Teams number matches the same line in a PBX export however either writes it; a
    number Graph states without its country code is read in the number's own
    ``isoCountryCode``, else the configured default region.
    """
    people = user_id_map(users)
    source = SourceRef(connector, "phone.numbers", "Teams Phone number assignments")
    out = InventoryBuilder()
    statuses: Counter[str] = Counter()
    types: Counter[str] = Counter()
    seen: set[str] = set()
    items, malformed = mappings(assignments)
    for a in items:
        read = normalise(text(a, "telephoneNumber"), region_code(text(a, "isoCountryCode"))
                         or region)
        number = read.number
        if not number or number in seen:
            continue
        seen.add(number)
        status = text(a, "assignmentStatus")
        number_type = text(a, "numberType")
        statuses[status or "unknown"] += 1
        types[number_type or "unknown"] += 1
        target = text(a, "assignmentTargetId").lower()
        owner: str | None = None
        kind = "unknown"
        if status.lower() == "userassigned":
            owner = people.get(target) or None
            kind = "user"
        elif status.lower() in _SERVICE:
            kind = "service"
        attrs: dict[str, Any] = {
            "number_type": number_type or None,
            "assignment_status": status or None,
            "activation_state": text(a, "activationState") or None,
            "country": text(a, "isoCountryCode") or None,
            "city": text(a, "city") or None,
            "number_source": text(a, "numberSource") or None,
        }
        if target and owner is None and status.lower() != "unassigned":
            attrs["assignment_target_id"] = target
        if text(a, "operatorId"):
            attrs["operator_id"] = text(a, "operatorId")
        caps = [c for c in as_list(a.get("capabilities")) if isinstance(c, str)]
        if caps:
            attrs["capabilities"] = caps
        attrs.update(read.attributes)
        out.phone_numbers.append(PhoneNumber(
            number=number, owner=owner,
            provider=CALLING_PLAN if number_type.lower() == "callingplan" else None,
            system=TEAMS, kind=kind,
            attributes={k: v for k, v in attrs.items() if v is not None}, source=source,
        ))
    out.phone_numbers.sort(key=lambda n: n.number)
    by_type = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
    out.coverage.append(coverage(
        connector, "phone.numbers", "collected",
        f"{len(out.phone_numbers)} Teams Phone numbers ({by_type or 'none'}); "
        f"{statuses.get('userAssigned', 0)} assigned to users, "
        f"{statuses.get('unassigned', 0)} unassigned" + invalid_note(out.phone_numbers),
        len(out.phone_numbers),
    ))
    note_malformed(out, "phone.numbers", malformed, "number assignments")
    return out
