"""The format registry: names, lazy import, helpful errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sprawl_audit.core.errors import UserError
from sprawl_audit.report.formats import FORMATS, Format, get_format


def test_every_registered_format_loads_and_names_itself() -> None:
    assert {"rich", "json"} <= set(FORMATS)
    for name in FORMATS:
        cls = FORMATS[name]
        assert issubclass(cls, Format)
        assert cls.name == name
        assert cls.extension and "." not in cls.extension
        assert isinstance(get_format(name), cls)


def test_unknown_format_lists_valid_names() -> None:
    with pytest.raises(UserError) as info:
        get_format("docx")
    message = str(info.value)
    assert "'docx'" in message
    for name in FORMATS:
        assert name in message


def test_formats_are_imported_lazily() -> None:
    code = (
        "import sys, sprawl_audit.report.formats as f\n"
        "assert 'sprawl_audit.report.formats.rich_format' not in sys.modules\n"
        "assert 'rich' not in sys.modules\n"
        "f.get_format('rich')\n"
        "assert 'sprawl_audit.report.formats.rich_format' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
