"""Reading a telephone-number export: encoding, delimiter, header and column mapping.

Phone systems export numbers in whatever shape they like (8x8's user export, a Mitel
extension list, a carrier invoice). Rather than one parser per vendor, an import names,
for each generic column, the export's header title — or a constant, written with a
leading ``=``::

    columns: {number: "DID", owner: "Email", provider: "=8x8", kind: "=user"}

A generic column the mapping does not name is taken from a header of the same name, so a
file written in the generic format needs no mapping at all.

Everything that can be wrong with the file is reported as one :class:`UserError` naming
the file, the line and the column, and rows are streamed with the ``csv`` module rather
than loaded whole. The caller converts all rows before it returns anything, so a bad row
means nothing is loaded rather than half a file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sprawl_audit.errors import UserError

#: The generic column set (documented in connectors/phone/transform.py).
GENERIC_COLUMNS: tuple[str, ...] = (
    "number", "owner", "provider", "system", "kind", "site", "call_recording",
    "retention_days", "label",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("number",)
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", ",": "','", "|": "'|'"}


@dataclass(frozen=True)
class PhoneRow:
    """One data row: generic column → raw text, with where each value came from."""

    path: str
    line: int
    values: Mapping[str, str]
    origin: Mapping[str, str]  # generic column -> the export's header title, or "=constant"


def _key(title: str) -> str:
    return " ".join(title.strip().casefold().split())


def _decoded_lines(
    stream: BinaryIO, path: str, delimiter: str, counter: list[int]
) -> Iterator[str]:
    """Decode physical lines one by one, so a bad byte is reported with its line."""
    header: list[str] | None = None
    for raw in stream:
        counter[0] += 1
        if counter[0] == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = _column_of_bad_byte(raw, exc.start, header, delimiter)
            raise UserError(
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); export the file as UTF-8",
                path=path, line=counter[0], key=column,
            ) from None
        if header is None:
            header = next(csv.reader([line], delimiter=delimiter), [])
        yield line


def _column_of_bad_byte(
    raw: bytes, start: int, header: list[str] | None, delimiter: str
) -> str:
    """The header title of the field holding the bad byte (or "column N")."""
    before = raw[:start].decode("utf-8", errors="replace")
    fields = next(csv.reader([before], delimiter=delimiter), []) if before else []
    index = max(len(fields) - 1, 0)
    if header and 0 <= index < len(header):
        return header[index].strip() or f"column {index + 1}"
    return f"column {index + 1}"


def iter_phone_rows(
    source: str | Path | BinaryIO,
    *,
    columns: Mapping[str, str] | None = None,
    delimiter: str = ",",
    name: str | None = None,
) -> Iterator[PhoneRow]:
    """Stream the rows of an export as generic-column rows (see the module notes).

    ``source`` is a path or a binary stream (then ``name`` names it in errors).
    """
    mapping = dict(columns or {})
    path = name or (str(source) if isinstance(source, (str, Path)) else "<phone import>")
    for column in mapping:
        if column not in GENERIC_COLUMNS:
            raise UserError(
                f"unknown column mapping {column!r}; known: {', '.join(GENERIC_COLUMNS)}",
                path=path, key=f"columns.{column}",
            )
    with ExitStack() as stack:
        if isinstance(source, (str, Path)):
            try:
                stream: BinaryIO = stack.enter_context(Path(source).open("rb"))
            except OSError as exc:
                raise UserError(f"cannot read file: {exc.strerror or exc}", path=path) from None
        else:
            stream = source
        counter = [0]
        reader = csv.reader(
            _decoded_lines(stream, path, delimiter, counter), delimiter=delimiter
        )
        header = next(reader, None)
        if header is None:
            raise UserError("file is empty; expected a header row", path=path, line=1)
        _check_delimiter(header, delimiter, path)
        index = {_key(title): i for i, title in reversed(list(enumerate(header)))}
        origin, where = _resolve_columns(mapping, index, header, path)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
                raise UserError(
                    f"row has {len(row)} fields but the header has {len(header)}",
                    path=path, line=line, key=f"column {len(header) + 1}",
                )
            values: dict[str, str] = {}
            for column, source_title in origin.items():
                if source_title.startswith("="):
                    values[column] = source_title[1:]
                else:
                    i = where[column]
                    values[column] = row[i].strip() if i < len(row) else ""
            yield PhoneRow(path, line, values, origin)


def _check_delimiter(header: list[str], delimiter: str, path: str) -> None:
    """A one-column header that contains another delimiter means the wrong delimiter."""
    if len(header) != 1:
        return
    for other, label in _OTHER_DELIMITERS.items():
        if other != delimiter and other in header[0]:
            raise UserError(
                f"the header has one column but contains {label}: the file looks "
                f"{label}-separated; set the import's delimiter to {label}",
                path=path, line=1, key=header[0].strip()[:60],
            )


def _resolve_columns(
    mapping: Mapping[str, str], index: Mapping[str, int], header: list[str], path: str
) -> tuple[dict[str, str], dict[str, int]]:
    """Generic column → source title (or constant), and → field index."""
    origin: dict[str, str] = {}
    where: dict[str, int] = {}
    for column in GENERIC_COLUMNS:
        title = mapping.get(column)
        if title is not None and str(title).startswith("="):
            origin[column] = str(title)
            continue
        wanted = str(title) if title is not None else column
        i = index.get(_key(wanted))
        if i is None:
            if title is not None or column in REQUIRED_COLUMNS:
                raise UserError(
                    f"column {wanted!r} (for {column}) is not in the header; "
                    f"the header has: {', '.join(h.strip() for h in header)}",
                    path=path, line=1, key=wanted,
                )
            continue
        origin[column] = header[i].strip()
        where[column] = i
    return origin, where
