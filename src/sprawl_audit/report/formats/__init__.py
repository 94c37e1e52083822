"""Output formats: each renders a Result document for one medium.

:data:`FORMATS` maps a ``--format`` name to its :class:`~.interface.Format` class. Classes
are imported on first use, so ``sprawl-audit --help`` does not import Rich, an HTML
templating layer or anything else a format needs. To add a format, write one module
with one :class:`Format` subclass and add a line to ``_FORMAT_PATHS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.interface import Format, RenderOptions

__all__ = ["FORMATS", "Format", "RenderOptions", "get_format"]

#: ``--format`` name -> "module:Class"; the first entry is the default.
_FORMAT_PATHS: dict[str, str] = {
    "rich": "sprawl_audit.report.formats.rich_format:RichFormat",
    "json": "sprawl_audit.report.formats.json_format:JsonFormat",
    "html": "sprawl_audit.report.formats.html_format:HtmlFormat",
    "board": "sprawl_audit.report.formats.board_format:BoardFormat",
    "pdf": "sprawl_audit.report.formats.pdf_format:PdfFormat",
    "markdown": "sprawl_audit.report.formats.markdown_format:MarkdownFormat",
    "csv": "sprawl_audit.report.formats.csv_format:CsvFormat",
    "xlsx": "sprawl_audit.report.formats.xlsx_format:XlsxFormat",
    "sarif": "sprawl_audit.report.formats.sarif_format:SarifFormat",
    "graphml": "sprawl_audit.report.formats.graphml_format:GraphmlFormat",
    "gexf": "sprawl_audit.report.formats.gexf_format:GexfFormat",
}


class _LazyFormats(Mapping[str, type[Format]]):
    """A read-only name -> class mapping that imports each class when first asked for."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self._paths = dict(paths)
        self._loaded: dict[str, type[Format]] = {}

    def __getitem__(self, name: str) -> type[Format]:
        if name not in self._loaded:
            module_name, _, class_name = self._paths[name].partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            if not (isinstance(cls, type) and issubclass(cls, Format)):
                raise TypeError(f"{self._paths[name]} is not a Format")
            self._loaded[name] = cls
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:
        return name in self._paths


FORMATS: Mapping[str, type[Format]] = _LazyFormats(_FORMAT_PATHS)


def get_format(name: str) -> Format:
    """An instance of the format called ``name``; a :class:`UserError` naming the valid ones."""
    if name not in FORMATS:
        valid = ", ".join(sorted(FORMATS))
        raise UserError(f"unknown format {name!r}; choose one of: {valid}", key="--format")
    return FORMATS[name]()
