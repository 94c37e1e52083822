"""The board pack as PDF (``-f pdf``): the ``board`` format's HTML, rendered by WeasyPrint.

Why WeasyPrint: a maintained HTML-to-PDF library in pure Python over Pango, which honours
the CSS paged-media rules the board pack carries (running headers, the protective
marking in every page's header and footer, "Page n of m", page numbers in the table of
contents) — so the PDF is the HTML, not a second layout to keep in step. It is an
optional extra (``pip install 'sprawl-audit[pdf]'``) with system libraries (Pango), so
a missing install is a one-line error before anything is collected
(:meth:`PdfFormat.check_available`), never a traceback after an hour's audit.

Rendering fetches nothing: the document is self-contained, and the URL fetcher refuses
every URL that is not a ``data:`` URI (no file, no network), so neither a tenant string
nor an SVG logo can make the renderer read a local file or call out.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import IO, Any, cast

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats.board_format import board_document
from sprawl_audit.report.formats.interface import Format, RenderOptions

INSTALL_HINT = ("the pdf format needs WeasyPrint: pip install 'sprawl-audit[pdf]' (it uses "
                "Pango; on Debian or Ubuntu: apt install libpango-1.0-0 libpangoft2-1.0-0 "
                "fonts-dejavu-core)")


def _weasyprint() -> Any:
    """The weasyprint module, or a :class:`UserError` saying how to install it."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there, Pango is not
        raise UserError(f"{INSTALL_HINT}; {type(exc).__name__}: {str(exc)[:200]}",
                        key="--format pdf") from None
    return weasyprint


def data_only_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves ``data:`` URIs and refuses everything else."""
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError("the board pack fetches nothing but data: URIs")
            return super().fetch(url, headers)

    return DataOnlyFetcher(allowed_protocols={"data"}, allow_redirects=False)


def html_to_pdf(html: str) -> bytes:
    """``html`` as PDF bytes; no URL but ``data:`` is fetched, and WeasyPrint's warnings
    about CSS it does not support stay out of the user's log."""
    weasyprint = _weasyprint()
    quiet = logging.getLogger("weasyprint")
    level, quiet.level = quiet.level, logging.ERROR
    try:
        pdf: bytes = weasyprint.HTML(string=html, base_url=None,
                                     url_fetcher=data_only_fetcher()).write_pdf()
    finally:
        quiet.level = level
    return pdf


class PdfFormat(Format):
    """The board pack as PDF, with page numbers, running headers and the marking."""

    name = "pdf"
    extension = "pdf"
    binary = True
    file_stem = "sprawl-audit-board"
    description = "board pack as PDF (needs: pip install 'sprawl-audit[pdf]')"

    def check_available(self) -> None:
        _weasyprint()

    def render(self, result: Mapping[str, Any], out: IO[str], options: RenderOptions) -> None:
        if isinstance(out, io.TextIOBase):
            raise UserError("the pdf format is binary; write it with --output FILE or "
                            "--output-dir DIR", key="--format pdf")
        cast(IO[bytes], out).write(self.render_bytes(result, options))

    def render_bytes(self, result: Mapping[str, Any], options: RenderOptions) -> bytes:
        return html_to_pdf(board_document(result, options.branding))
