"""Reading a telephone-number export: the phone importer's column set over
:mod:`sprawl_audit.connectors.common.csvmap` (encoding, delimiter, header and column mapping).

Phone systems export numbers in whatever shape they like (8x8's user export, a Mitel
extension list, a carrier invoice). Rather than one parser per vendor, an import names,
for each generic column, the export's header title — or a constant, written with a
leading ``=``::

    columns: {number: "DID", owner: "Email", provider: "=8x8", kind: "=user"}

A generic column the mapping does not name is taken from a header of the same name, so a
file written in the generic format needs no mapping at all.

Everything that can be wrong with the file is reported as one :class:`UserError` naming
the file, the line and the column, and rows are streamed rather than loaded whole. The
caller converts all rows before it returns anything, so a bad row means nothing is
loaded rather than half a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, TypeAlias

from sprawl_audit.connectors.common.csvmap import ColumnSet, MappedRow, iter_mapped_rows

#: The generic column set (documented in sprawl_audit/connectors/phone/transform.py).
GENERIC_COLUMNS: tuple[str, ...] = (
    "number", "owner", "provider", "system", "kind", "site", "call_recording",
    "retention_days", "label", "takes_payments",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("number",)
PHONE_COLUMNS = ColumnSet(GENERIC_COLUMNS, REQUIRED_COLUMNS, label="phone import")

#: One data row: generic column → raw text, with where each value came from.
PhoneRow: TypeAlias = MappedRow


def iter_phone_rows(
    source: str | Path | IO[bytes],
    *,
    columns: Mapping[str, object] | None = None,
    delimiter: str = ",",
    name: str | None = None,
) -> Iterator[PhoneRow]:
    """Stream the rows of an export as generic-column rows (see the module notes).

    ``source`` is a path or a binary stream (then ``name`` names it in errors).
    """
    return iter_mapped_rows(source, PHONE_COLUMNS, mapping=columns, delimiter=delimiter,
                            name=name)
