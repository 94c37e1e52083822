"""The Result JSON Schema: load it, validate a document, read a saved Result.

The schema (``schemas/result.schema.json``, installed as ``sprawl_audit.schemas``) is the
contract between the audit that writes a Result and everything that reads one: every
format, ``report``, ``diff`` and other people's scripts. A saved Result is user input like
a config file, so problems with it are :class:`UserError` s that name the file and the
JSON path (``$.findings[3].severity``) rather than tracebacks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.finite import NonFinite, json_path, parse_constant, parse_float
from sprawl_audit.report.formats.sanitize import cell

#: The schema_version this build writes; it reads any 1.x.
RESULT_SCHEMA_VERSION = "1.6"
_MAJOR, _MINOR = (int(part) for part in RESULT_SCHEMA_VERSION.split("."))


def load_result_schema() -> dict[str, Any]:
    """The Result JSON Schema as a fresh dict (callers may modify it)."""
    return copy.deepcopy(_schema())


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = (resources.files("sprawl_audit.schemas") / "result.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=2)
def _validator(lenient: bool) -> Draft202012Validator:
    schema = _schema()
    if lenient:
        schema = _open_objects(copy.deepcopy(schema))
    return Draft202012Validator(schema)


def _open_objects(node: Any) -> Any:
    """Drop every ``additionalProperties: false``: keys added by a newer minor version pass."""
    if isinstance(node, dict):
        if node.get("additionalProperties") is False:
            del node["additionalProperties"]
        for value in node.values():
            _open_objects(value)
    elif isinstance(node, list):
        for value in node:
            _open_objects(value)
    return node


def _document_position(doc: Any, error: ValidationError) -> tuple[int, ...]:
    """Where the error sits in the document's own key order, so "first" means first in file."""
    position: list[int] = []
    node = doc
    for part in error.absolute_path:
        if isinstance(node, Mapping):
            keys = list(node)
            position.append(keys.index(part) if part in keys else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
            node = node[part] if part < len(node) else None
        else:
            break
    return tuple(position)


def _first_error(doc: Any, lenient: bool) -> ValidationError | None:
    errors = list(_validator(lenient).iter_errors(doc))
    if not errors:
        return None
    # Earliest in the document; among errors at one place, the most specific one.
    first = min(_document_position(doc, e) for e in errors)
    here = [e for e in errors if _document_position(doc, e) == first]
    best: ValidationError = max(here, key=relevance)
    return best


def _message(error: ValidationError) -> str:
    # jsonschema quotes the offending value, which came from the file: keep it printable.
    return cell(error.message, limit=160)


def validate_result(doc: Any, *, source: str | None = None) -> None:
    """Raise :class:`UserError` at the first place ``doc`` breaks the Result schema.

    ``source`` (a file name) is put in the error so the user knows which file is wrong.
    A document of a newer minor version than this build knows may carry keys this
    schema does not list; they are accepted, everything listed is still checked.
    """
    error = _first_error(doc, lenient=_is_newer_minor(doc))
    if error is not None:
        where = json_path(error.absolute_path)
        raise UserError(f"not a valid Result: {_message(error)}", path=source, key=where)


def _is_newer_minor(doc: Any) -> bool:
    version = doc.get("schema_version") if isinstance(doc, Mapping) else None
    if not isinstance(version, str):
        return False
    major, _, minor = version.partition(".")
    return major == str(_MAJOR) and minor.isdigit() and int(minor) > _MINOR


def load_result(path: str | Path) -> dict[str, Any]:
    """Read, parse and validate a saved Result file; a located :class:`UserError` if not
    (strict JSON: ``NaN``, ``Infinity`` and numbers beyond a float such as ``1e999999``
    are refused, since other tools cannot read them).

    Checks the major ``schema_version`` before the schema, so a Result written by an
    incompatible release gets "written by an incompatible version" rather than a list of
    puzzling schema errors.
    """
    from sprawl_audit.core.inputs import NumberTooLong, json_int, long_number_line, read_document

    name = str(path)
    raw = read_document(path, what="Result file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"not UTF-8 text (bad byte at offset {exc.start}); is this a Result JSON file?",
            path=name,
        ) from None
    try:
        doc = json.loads(text, parse_constant=parse_constant, parse_float=parse_float,
                         parse_int=json_int)
    except NonFinite as exc:  # Infinity/NaN/1e999999: not strict JSON
        line, column = exc.position_in(text)
        raise UserError(f"not valid JSON: {exc.message()} ({column})", path=name,
                        line=line) from None
    except json.JSONDecodeError as exc:
        raise UserError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", path=name, line=exc.lineno
        ) from None
    except NumberTooLong as exc:
        raise UserError(str(exc), path=name, line=long_number_line(text)) from None
    except RecursionError:
        raise UserError("not valid JSON: nested too deeply to be a Result", path=name) \
            from None
    if not isinstance(doc, dict):
        raise UserError("not a Result: the top level must be a JSON object", path=name)
    _check_version(doc, name)
    validate_result(doc, source=name)
    return doc


def _check_version(doc: Mapping[str, Any], name: str) -> None:
    version = doc.get("schema_version")
    if not isinstance(version, str):
        raise UserError(
            "not a Result: no schema_version (was it written by sprawl-audit?)",
            path=name, key="$.schema_version",
        )
    major = version.partition(".")[0]
    if major != str(_MAJOR):
        raise UserError(
            f"written by an incompatible sprawl-audit (schema_version {cell(version, 20)!s}); "
            f"this version reads {_MAJOR}.x — re-run the audit or use a matching release",
            path=name, key="$.schema_version",
        )
