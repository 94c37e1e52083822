"""Telephone-number exports → PhoneNumber records: the transform step (pure: rows in,
records out; :mod:`.collect` reads the files).

The generic column set (any export is mapped onto it, see :mod:`.csvimport`):

==================  ========================================================================
column              meaning
==================  ========================================================================
``number``          required. Any written form (``0113 496 0123``, ``+44 (0)113 4960123``,
                    ``0044…``, ``44113…``, ``… x201``) is normalised to E.164
                    (``+441134960123``, an extension as ``;ext=201``) by
                    :mod:`sprawl_audit.parsers.phones`; a national number is read in the
                    ``organisation.default_region`` (GB unless set). A value that is not
                    a telephone number is kept as written, marked ``number_valid: false``
                    and counted in the coverage detail — listed, never guessed at.
``owner``           the person's email/UPN; any other text (``Reception``) is kept as a
                    label and the number has no owner.
``provider``        the carrier or service provider (``8x8``, ``BT``, ``Twilio``).
``system``          the system that hosts it (``Mitel MiVoice Business``, ``8x8 Contact Centre``).
``kind``            ``user`` | ``service`` | ``unknown``. Empty: ``user`` when the owner is a
                    person, ``service`` when the owner is a label, else ``unknown``.
``site``            free text (office, building).
``call_recording``  yes/no, true/false, 1/0, on/off, or empty (not known).
``retention_days``  whole days recordings are kept, or empty.
``label``           free text describing the line (``Income arrears SMS``).
``takes_payments``  yes/no: callers give card details on this line (a rent or payments
                    line, a contact centre taking card payments), or empty (not known).
                    With ``call_recording`` it tells whether card numbers may sit in
                    recordings (PCI DSS; the housing pack's ``HSG-PCI-001``).
==================  ========================================================================

``provider`` becomes ``AppRef("phone_provider", value)`` and ``system`` becomes
``AppRef("name", value)``: exports name systems in words, and the catalogue matches names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.phone.csvimport import PhoneRow
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef, InventoryBuilder, PhoneNumber, SourceRef
from sprawl_audit.parsers.phones import DEFAULT_REGION, invalid_note, normalise

KINDS: tuple[str, ...] = ("user", "service", "unknown")
_TRUE = frozenset({"yes", "y", "true", "1", "on", "enabled"})
_FALSE = frozenset({"no", "n", "false", "0", "off", "disabled"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _fail(row: PhoneRow, column: str, message: str) -> UserError:
    return UserError(message, path=row.path, line=row.line, key=row.origin.get(column, column))


def _bool(row: PhoneRow, column: str) -> bool | None:
    value = row.values.get(column, "").strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _fail(row, column, f"{value!r} is not yes/no for {column}")


def phone_number_from_row(row: PhoneRow, *, connector: str = "phone",
                          region: str = DEFAULT_REGION) -> PhoneNumber:
    """Convert one row; a value that cannot be read raises a located UserError.

    The number itself is the exception: one that is not a telephone number is kept as
    written and marked, because a PBX export's odd line (an internal extension, Excel's
    ``4.41E+11``) is still a line someone should look at, and stopping the whole import
    over it would hide every other number.
    """
    v = row.values
    raw = v.get("number", "")
    if not raw.strip():
        raise _fail(row, "number", "the number is empty")
    read = normalise(raw, region)
    number = read.number
    attributes: dict[str, Any] = dict(read.attributes)
    owner_text = v.get("owner", "").strip()
    owner: str | None = None
    if _EMAIL.fullmatch(owner_text):
        owner = owner_text.lower()
    elif owner_text:
        attributes["owner_label"] = owner_text
    kind = v.get("kind", "").strip().lower()
    if not kind:
        kind = "user" if owner else "service" if owner_text else "unknown"
    elif kind not in KINDS:
        raise _fail(row, "kind", f"kind {kind!r} is not one of {', '.join(KINDS)}")
    for column in ("site", "label"):
        if v.get(column, "").strip():
            attributes[column] = v[column].strip()
    recording = _bool(row, "call_recording")
    if recording is not None:
        attributes["call_recording"] = recording
    payments = _bool(row, "takes_payments")
    if payments is not None:
        attributes["takes_payments"] = payments
    retention = v.get("retention_days", "").strip()
    if retention:
        if not retention.isdigit():
            raise _fail(row, "retention_days", f"{retention!r} is not a whole number of days")
        attributes["retention_days"] = int(retention)
    provider = v.get("provider", "").strip()
    system = v.get("system", "").strip()
    return PhoneNumber(
        number=number,
        owner=owner,
        provider=AppRef("phone_provider", provider) if provider else None,
        system=AppRef("name", system) if system else None,
        kind=kind,
        attributes=attributes,
        source=SourceRef(connector, "phone.numbers", f"{Path(row.path).name}:{row.line}"),
    )


def transform_phone_imports(
    imports: Iterable[tuple[str, list[PhoneNumber]]], *, connector: str = "phone"
) -> InventoryBuilder:
    """Gather the numbers of several exports; one ``phone.numbers`` coverage entry."""
    out = InventoryBuilder()
    parts: list[str] = []
    for name, numbers in imports:
        out.phone_numbers.extend(numbers)
        parts.append(f"{Path(name).name}: {len(numbers)}")
    detail = "numbers imported from " + ", ".join(parts) if parts else "no files imported"
    detail += invalid_note(out.phone_numbers)
    out.coverage.append(coverage(
        connector, "phone.numbers", "collected" if parts else "not_configured", detail,
        len(out.phone_numbers),
    ))
    return out
