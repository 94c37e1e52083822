"""Finding messages: ``{fact}`` / ``{param}`` templates checked at load, rendered per node.

A misspelt placeholder would otherwise surface only in a report a board reads, so every
placeholder must be a fact of the rule's node kind (dotted names reach into
``attributes``) or a declared parameter. Values render for people: lists comma-joined,
booleans as yes/no, null and empty lists as ``(none)``. A numeric format spec is allowed
(``{consumer_exposure:.0%}``). Tenant strings are inserted as they are — never
re-interpreted as a template — and escaped later by each output format.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.engine import vocabulary
from sprawl_audit.engine.conditions import get_fact

NONE = "(none)"


@dataclass(frozen=True)
class Field:
    name: str
    spec: str = ""


@dataclass(frozen=True)
class Template:
    """A parsed message: literal text and fields, alternating."""

    text: str
    parts: tuple[str | Field, ...]

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(p for p in self.parts if isinstance(p, Field))

    def render(self, facts: Mapping[str, Any], params: Mapping[str, Any]) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif part.name in params:
                out.append(render_value(params[part.name], part.spec))
            else:
                out.append(render_value(get_fact(facts, part.name), part.spec))
        return "".join(out)


def parse_template(
    text: Any, *, kind: str, parameters: Mapping[str, Any], path: str, line: int | None,
    key: str = "message",
) -> Template:
    """Parse and validate ``text``; unknown placeholders are a located UserError."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("must be a non-empty string", path=path, line=line, key=key)
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise UserError(
            f"bad template: {exc} (write {{{{ and }}}} for literal braces)",
            path=path, line=line, key=key,
        ) from None
    known = vocabulary.facts_of(kind)
    parts: list[str | Field] = []
    for literal, name, spec, conversion in pieces:
        if literal:
            parts.append(literal)
        if name is None:
            continue
        if conversion or "[" in name or not name:
            raise UserError(
                f"bad placeholder {{{name}{'!' + conversion if conversion else ''}}}",
                path=path, line=line, key=key,
            )
        if name not in parameters and not vocabulary.is_known_fact(
            name, known, vocabulary.DICT_FACTS
        ):
            raise UserError(
                f"unknown placeholder {{{name}}}: not a fact of a {kind} node "
                "nor a parameter of the rule",
                path=path, line=line, key=key,
            )
        if spec:
            try:
                format(0.5, spec)
            except ValueError:
                raise UserError(
                    f"bad number format {spec!r} in {{{name}:{spec}}}",
                    path=path, line=line, key=key,
                ) from None
        parts.append(Field(name, spec or ""))
    return Template(text=text, parts=tuple(parts))


def render_value(value: Any, spec: str = "") -> str:
    """Render one fact or parameter value for a human reader."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if spec:
            return format(value, spec)
        if isinstance(value, float) and not value.is_integer():
            return f"{value:.2f}".rstrip("0").rstrip(".")
        return str(int(value)) if isinstance(value, float) else str(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return NONE
        return ", ".join(render_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={render_value(v)}" for k, v in value.items())
    return str(value)
