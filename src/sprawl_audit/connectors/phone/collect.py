"""Get: every configured export read completely, or a UserError naming file, line and
column — never part of a file (a half-loaded number list would make "numbers with no
owner" wrong in ways nobody would notice)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO

from sprawl_audit.connectors.phone.csvimport import iter_phone_rows
from sprawl_audit.connectors.phone.settings import PhoneSettings
from sprawl_audit.connectors.phone.transform import phone_number_from_row
from sprawl_audit.core.model import PhoneNumber
from sprawl_audit.parsers.phones import DEFAULT_REGION


def read_phone_numbers(
    source: str | Path | IO[bytes],
    *,
    columns: Mapping[str, object] | None = None,
    delimiter: str = ",",
    name: str | None = None,
    connector: str = "phone",
    region: str = DEFAULT_REGION,
) -> list[PhoneNumber]:
    """All numbers of one export, or a UserError — never part of a file."""
    rows = iter_phone_rows(source, columns=columns, delimiter=delimiter, name=name)
    return [phone_number_from_row(row, connector=connector, region=region) for row in rows]


def collect_imports(settings: PhoneSettings, *, connector: str = "phone",
                    region: str = DEFAULT_REGION) -> list[tuple[str, list[PhoneNumber]]]:
    """(file, its numbers) for every import, in the configured order."""
    return [(str(spec.path), read_phone_numbers(spec.path, columns=spec.mapping,
                                                delimiter=spec.delimiter, name=str(spec.path),
                                                connector=connector, region=region))
            for spec in settings.imports]
