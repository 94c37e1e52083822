"""Telephone-number exports → PhoneNumber records: the transform step.

The generic column set (any export is mapped onto it, see :mod:`.csvimport`):

==================  ========================================================================
column              meaning
==================  ========================================================================
``number``          required. Any UK written form (``0113 496 0123``, ``+44 (0)113 4960123``,
                    ``0044…``, ``44113…``) is normalised to E.164 (``+441134960123``);
                    international numbers must start with ``+`` or ``00``.
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
==================  ========================================================================

``provider`` becomes ``AppRef("phone_provider", value)`` and ``system`` becomes
``AppRef("name", value)``: exports name systems in words, and the catalogue matches names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.phone.csvimport import PhoneRow, iter_phone_rows
from sprawl_audit.errors import UserError
from sprawl_audit.model import AppRef, InventoryBuilder, PhoneNumber, SourceRef

KINDS: tuple[str, ...] = ("user", "service", "unknown")
_TRUE = frozenset({"yes", "y", "true", "1", "on", "enabled"})
_FALSE = frozenset({"no", "n", "false", "0", "off", "disabled"})
_ALLOWED = re.compile(r"[0-9+\-.()/ \u00a0]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalise_uk_number(raw: str) -> str | None:
    """E.164 form of a UK-written telephone number, or None when it is not one.

    National numbers (leading 0) are UK; ``+``/``00`` numbers are kept in any country;
    a bare ``44…`` of UK length is taken as UK. Letters (extensions such as ``x201``,
    Excel's ``4.41E+11``) make a number unreadable rather than guessed at.
    """
    text = raw.strip().replace("(0)", "")
    if not text or not _ALLOWED.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = "44" + digits[1:]
    elif digits.startswith("44") and len(digits) in (11, 12):
        international = digits
    else:
        return None
    if international.startswith("44"):
        national = international[2:].removeprefix("0")
        if len(national) not in (9, 10) or national[0] == "0":
            return None
        return "+44" + national
    if 8 <= len(international) <= 15 and international[0] != "0":
        return "+" + international
    return None


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


def phone_number_from_row(row: PhoneRow, *, connector: str = "phone") -> PhoneNumber:
    """Convert one row; a value that cannot be read raises a located UserError."""
    v = row.values
    raw = v.get("number", "")
    if not raw.strip():
        raise _fail(row, "number", "the number is empty")
    number = normalise_uk_number(raw)
    if number is None:
        raise _fail(row, "number", f"cannot read {raw!r} as a telephone number")
    attributes: dict[str, Any] = {}
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


def read_phone_numbers(
    source: str | Path | BinaryIO,
    *,
    columns: Mapping[str, str] | None = None,
    delimiter: str = ",",
    name: str | None = None,
    connector: str = "phone",
) -> list[PhoneNumber]:
    """All numbers of one export, or a UserError — never part of a file."""
    rows = iter_phone_rows(source, columns=columns, delimiter=delimiter, name=name)
    return [phone_number_from_row(row, connector=connector) for row in rows]


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
    out.coverage.append(coverage(
        connector, "phone.numbers", "collected" if parts else "not_configured", detail,
        len(out.phone_numbers),
    ))
    return out
