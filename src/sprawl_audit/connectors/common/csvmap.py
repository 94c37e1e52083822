"""Reading a delimited export with a column mapping: encoding, delimiter, header, mapping.

Shared by every file import (telephone exports, network logs). Systems export in whatever
shape they like, so rather than one parser per vendor an import names, for each *generic*
column of the importer, the export's header title — or a constant, written with a leading
``=``::

    columns: {number: "DID", owner: "Email", provider: "=8x8", kind: "=user"}

A generic column the mapping does not name is taken from a header of the same name, so a
file written in an importer's generic format needs no mapping at all.

Three layouts:

``header``  the first line is the header row (the usual CSV export);
``none``    no header row: the mapping gives 1-based field numbers (``{user: 8}``), as
            for Squid's native ``access.log``;
``w3c``     W3C extended log format: ``#`` directive lines are skipped and the header is
            the ``#Fields:`` directive (Blue Coat/Symantec ProxySG, IIS and others).

Everything that can be wrong with the file is reported as one :class:`UserError` naming
the file, the line and the column. Rows are streamed (one physical line decoded at a
time) rather than loaded whole; a caller that must not half-load a file converts every
row before it returns anything, so a bad row means nothing is loaded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sprawl_audit.core.errors import UserError

LAYOUTS: tuple[str, ...] = ("header", "none", "w3c")
OTHER_DELIMITERS = {";": "';'", "\t": "tab", ",": "','", "|": "'|'"}
_W3C_FIELDS = "#fields:"


@dataclass(frozen=True)
class ColumnSet:
    """The generic columns an importer understands, and which of them it needs.

    ``alternatives`` names, for a required column, another column that can stand in for
    it (a network log may give a URL instead of a host).
    """

    known: tuple[str, ...]
    required: tuple[str, ...] = ()
    label: str = "import"
    alternatives: Mapping[str, str] | None = None


@dataclass(frozen=True)
class MappedRow:
    """One data row: generic column → raw text, with where each value came from."""

    path: str
    line: int
    values: Mapping[str, str]
    origin: Mapping[str, str]  # generic column -> the export's header title, or "=constant"


def header_key(title: str) -> str:
    """How header titles are compared: case, surrounding and repeated spaces ignored."""
    return " ".join(title.strip().casefold().split())


def _column_of_bad_byte(
    raw: bytes, start: int, header: list[str] | None, delimiter: str
) -> str:
    """The header title of the field holding the bad byte (or "column N")."""
    before = raw[:start].decode("utf-8", errors="replace")
    try:
        fields = next(csv.reader([before], delimiter=delimiter), []) if before else []
    except csv.Error:  # a stray CR before the bad byte: count delimiters instead
        fields = before.split(delimiter)
    index = max(len(fields) - 1, 0)
    if header and 0 <= index < len(header):
        return header[index].strip() or f"column {index + 1}"
    return f"column {index + 1}"


class _Lines:
    """The file's text, one physical line at a time, decoded as UTF-8.

    Decoding is done in C (a TextIOWrapper) and ``csv`` reads the lines straight from it.
    Only when a byte is not UTF-8 is the file read again, line by line, to name the line
    and column of the first bad byte (a stream that cannot seek gets the line only).
    In the W3C layout the ``#`` directive lines are consumed here, the ``#Fields:`` one
    kept as the header, and ``line`` counts physical lines; otherwise ``csv``'s own
    ``line_num`` is the physical line number.
    """

    def __init__(self, stream: IO[bytes], path: str, delimiter: str, layout: str) -> None:
        self.stream = stream
        self.path = path
        self.delimiter = delimiter
        self.layout = layout
        self.line = 0
        self.w3c_header: list[str] | None = None
        self.w3c_line = 0
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")

    def source(self) -> Iterator[str]:
        return self._w3c() if self.layout == "w3c" else self.text

    def _w3c(self) -> Iterator[str]:
        for text in self.text:
            self.line += 1
            if text.startswith("#"):
                if text[:len(_W3C_FIELDS)].lower() == _W3C_FIELDS:
                    self.w3c_header = text[len(_W3C_FIELDS):].split()
                    self.w3c_line = self.line
                continue
            yield text

    def bad_utf8(self, near: int) -> UserError:
        """The located error for the first line that is not UTF-8."""
        try:
            self.text.detach()
            self.stream.seek(0)
        except (OSError, ValueError, AttributeError):
            return UserError("not valid UTF-8; export the file as UTF-8", path=self.path,
                             line=near)
        header: list[str] | None = None
        for number, raw in enumerate(self.stream, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = _column_of_bad_byte(raw, exc.start, header, self.delimiter)
                return UserError(
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); export the file as UTF-8",
                    path=self.path, line=number, key=column,
                )
            if header is None and self.layout == "header":
                try:
                    header = next(csv.reader([text], delimiter=self.delimiter), [])
                except csv.Error:  # a stray CR inside the header line: name no column
                    header = []
            elif self.layout == "w3c" and text[:len(_W3C_FIELDS)].lower() == _W3C_FIELDS:
                header = text[len(_W3C_FIELDS):].split()
        return UserError("not valid UTF-8; export the file as UTF-8", path=self.path, line=near)

    def close(self) -> None:
        """Let go of the stream without closing it (its owner closes it)."""
        try:
            self.text.detach()
        except ValueError:
            pass


def check_delimiter(header: list[str], delimiter: str, path: str) -> None:
    """A one-column header that contains another delimiter means the wrong delimiter."""
    if len(header) != 1:
        return
    for other, label in OTHER_DELIMITERS.items():
        if other != delimiter and other in header[0]:
            raise UserError(
                f"the header has one column but contains {label}: the file looks "
                f"{label}-separated; set the import's delimiter to {label}",
                path=path, line=1, key=header[0].strip()[:60],
            )


def check_mapping(mapping: Mapping[str, object], columns: ColumnSet, path: str) -> None:
    for column in mapping:
        if column not in columns.known:
            raise UserError(
                f"unknown column mapping {column!r}; known: {', '.join(columns.known)}",
                path=path, key=f"columns.{column}",
            )


class MappedReader:
    """An open export whose header is read and whose mapping is resolved.

    ``origin`` (generic column → header title or ``=constant``) and ``where`` (generic
    column → field index) are known once the reader is built, so a hot loop can take
    fields by index from :meth:`raw_rows` instead of building a mapping per row.
    """

    def __init__(
        self,
        stream: IO[bytes],
        columns: ColumnSet,
        *,
        mapping: Mapping[str, object] | None,
        delimiter: str,
        path: str,
        layout: str = "header",
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}")
        self.columns = columns
        self.path = path
        self.delimiter = delimiter
        self.layout = layout
        self._lines = _Lines(stream, path, delimiter, layout)
        self._reader = csv.reader(
            self._lines.source(), delimiter=delimiter, skipinitialspace=delimiter == " ",
        )
        self.header: list[str] = []
        self.width: int | None = None
        self.origin: dict[str, str] = {}
        self.where: dict[str, int] = {}
        self._first: list[str] | None = None
        self._first_line = 0
        check_mapping(dict(mapping or {}), columns, path)
        if layout == "none":
            self._by_number(dict(mapping or {}))
        else:
            self._by_header(dict(mapping or {}))

    # -- set-up -----------------------------------------------------------------------
    def _by_header(self, mapping: dict[str, object]) -> None:
        first = self._next_row()
        if self.layout == "w3c":
            if self._lines.w3c_header is None:
                raise UserError("no '#Fields:' directive before the first data line; "
                                "is this a W3C extended log?", path=self.path,
                                line=self._lines.line or 1)
            self.header = list(self._lines.w3c_header)
            self._first, self._first_line = first, self._lines.line
        else:
            if first is None:
                raise UserError("file is empty; expected a header row", path=self.path, line=1)
            self.header = first
            check_delimiter(self.header, self.delimiter, self.path)
        self.width = len(self.header)
        index = {header_key(t): i for i, t in reversed(list(enumerate(self.header)))}
        header_line = 1 if self.layout == "header" else self._lines.w3c_line
        # A header the mapping gives to one column is not also taken by name for another
        # ({time: "date"} must not make the "date" header the date column as well).
        claimed = {header_key(str(t)) for t in mapping.values()
                   if t is not None and not str(t).startswith("=")}
        for column in self.columns.known:
            title = mapping.get(column)
            if isinstance(title, str) and title.startswith("="):
                self.origin[column] = title
                continue
            wanted = str(title) if title is not None else column
            if title is None and header_key(wanted) in claimed:
                continue
            i = index.get(header_key(wanted))
            if i is None:
                if title is not None or self._needed(column, mapping, index):
                    raise UserError(
                        f"column {wanted!r} (for {column}) is not in the header; "
                        f"the header has: {', '.join(h.strip() for h in self.header)}",
                        path=self.path, line=header_line, key=wanted,
                    )
                continue
            self.origin[column] = self.header[i].strip()
            self.where[column] = i

    def _needed(self, column: str, mapping: Mapping[str, object],
                index: Mapping[str, int]) -> bool:
        if column not in self.columns.required:
            return False
        other = (self.columns.alternatives or {}).get(column)
        if other is None:
            return True
        title = mapping.get(other)
        if isinstance(title, str) and title.startswith("="):
            return False
        return header_key(str(title) if title is not None else other) not in index

    def _by_number(self, mapping: dict[str, object]) -> None:
        for column, spec in mapping.items():
            if isinstance(spec, str) and spec.startswith("="):
                self.origin[column] = spec
                continue
            if isinstance(spec, bool) or not isinstance(spec, int) or spec < 1:
                raise UserError(
                    "a file without a header row is mapped by field number "
                    f"(1 is the first field); got {spec!r}",
                    path=self.path, key=f"columns.{column}",
                )
            self.origin[column] = f"column {spec}"
            self.where[column] = spec - 1
        for column in self.columns.required:
            alt = (self.columns.alternatives or {}).get(column)
            if column not in self.origin and (alt is None or alt not in self.origin):
                raise UserError(f"the mapping needs a field number for {column}",
                                path=self.path, key=f"columns.{column}")

    @property
    def line(self) -> int:
        """The physical line number of the row last read."""
        return self._lines.line if self.layout == "w3c" else self._reader.line_num

    @property
    def lines_read(self) -> int:
        """Physical lines read so far (all of them once the rows are exhausted)."""
        return self.line

    def close(self) -> None:
        self._lines.close()

    # -- rows -------------------------------------------------------------------------
    def _next_row(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except UnicodeDecodeError:
            raise self._lines.bad_utf8(self.line + 1) from None
        except csv.Error as exc:
            raise UserError(f"cannot read this line as delimited text: {exc}",
                            path=self.path, line=self.line or 1) from None

    def raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of each non-blank data row, width checked."""
        width = self.width
        need = max(self.where.values(), default=-1) + 1
        reader = self._reader
        w3c = self.layout == "w3c"
        first = self._first
        self._first = None
        while True:
            if first is not None:
                row, line, first = first, self._first_line, None
            else:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise self._lines.bad_utf8(self.line + 1) from None
                except csv.Error as exc:
                    raise UserError(f"cannot read this line as delimited text: {exc}",
                                    path=self.path, line=self.line or 1) from None
                line = self._lines.line if w3c else reader.line_num
            n = len(row)
            if not n or not "".join(row).strip():
                continue
            if width is not None:
                if n > width and "".join(row[width:]).strip():
                    raise UserError(
                        f"row has {n} fields but the header has {width}",
                        path=self.path, line=line, key=f"column {width + 1}",
                    )
            elif n < need:
                raise UserError(
                    f"row has {n} fields but the mapping reads field {need}",
                    path=self.path, line=line, key=f"column {need}",
                )
            yield line, row

    def rows(self) -> Iterator[MappedRow]:
        """Each data row as generic-column values (missing trailing fields read as "")."""
        constants = {c: t[1:] for c, t in self.origin.items() if t.startswith("=")}
        where = list(self.where.items())
        for line, row in self.raw_rows():
            values = dict(constants)
            n = len(row)
            for column, i in where:
                values[column] = row[i].strip() if i < n else ""
            yield MappedRow(self.path, line, values, self.origin)


def iter_mapped_rows(
    source: str | Path | IO[bytes],
    columns: ColumnSet,
    *,
    mapping: Mapping[str, object] | None = None,
    delimiter: str = ",",
    name: str | None = None,
    layout: str = "header",
) -> Iterator[MappedRow]:
    """Stream the rows of an export as generic-column rows (see the module notes).

    ``source`` is a path or a binary stream (then ``name`` names it in errors).
    """
    with open_mapped(source, columns, mapping=mapping, delimiter=delimiter, name=name,
                     layout=layout) as reader:
        yield from reader.rows()


class open_mapped:
    """``with open_mapped(path, columns, ...) as reader:`` — a :class:`MappedReader`."""

    def __init__(
        self,
        source: str | Path | IO[bytes],
        columns: ColumnSet,
        *,
        mapping: Mapping[str, object] | None = None,
        delimiter: str = ",",
        name: str | None = None,
        layout: str = "header",
    ) -> None:
        self.source = source
        self.columns = columns
        self.mapping = mapping
        self.delimiter = delimiter
        self.layout = layout
        default = f"<{columns.label}>"
        self.path = name or (str(source) if isinstance(source, (str, Path)) else default)
        self._stack = ExitStack()
        self._reader: MappedReader | None = None

    def __enter__(self) -> MappedReader:
        check_mapping(dict(self.mapping or {}), self.columns, self.path)
        if isinstance(self.source, (str, Path)):
            try:
                stream: IO[bytes] = self._stack.enter_context(Path(self.source).open("rb"))
            except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
                raise UserError(f"cannot read file: {getattr(exc, 'strerror', None) or exc}",
                                path=self.path) from None
        else:
            stream = self.source
        try:
            self._reader = MappedReader(stream, self.columns, mapping=self.mapping,
                                        delimiter=self.delimiter, path=self.path,
                                        layout=self.layout)
        except BaseException:
            self._stack.close()
            raise
        return self._reader

    def __exit__(self, *_exc: object) -> None:
        if self._reader is not None:
            self._reader.close()
        self._stack.close()
