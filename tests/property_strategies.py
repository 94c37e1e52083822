"""Hypothesis strategies for hostile user input, shared by the property-based suites.

Everything here is generic — nothing knows about sprawl-audit's formats — so any suite
(config, rule files, snapshots, API payloads) can build cases the same way: start from a
real, valid document and :func:`mutate` it, so a case gets past the first check and
reaches deep into the parser, then wrap the text in :func:`mutate_bytes` hazards
(truncation, bad UTF-8, a BOM, other encodings).

``json_like`` values are what ``json.loads`` / ``yaml.safe_load`` produce: dicts with
string keys, lists, strings, ints, floats, bools and None.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Callable
from pathlib import Path as PathType
from typing import Any

from hypothesis import strategies as st

#: Short strings that have broken parsers, renderers or spreadsheets somewhere.
HOSTILE_STRINGS: tuple[str, ...] = (
    "", " ", "\t", "\n", "\r\n", "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "\x7f", "\x0b\x0c",
    "\u202eevil.exe", "\u200b", "\ufeff", "\u2028", "\u00a0", "🙂", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "Zalgơ̵̡",
    "=HYPERLINK(\"http://x\")", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1",
    "{{7*7}}", "${jndi:ldap://x/a}", "{name}", "{", "}", "%s%n", "../../etc/passwd",
    "C:\\Windows\\win.ini", "null", "~", "true", "no", "0x1F", "1e999", "-0", "NaN",
    "*", "&a", "!!python/object/apply:os.system ['true']", "'", '"', "\\", "`", "#", ": ",
    "- ", "? ", "|", ">", "%YAML 1.1", "---", "...", "<script>alert(1)</script>",
    "a" * 300, "é" * 200, "'; DROP TABLE x;--",
)

_SIZES = (100_000,)


def hostile_text() -> st.SearchStrategy[str]:
    """Short strings: the hostile list, or arbitrary unicode (control chars and NUL
    included, surrogates excluded — they cannot be written as UTF-8)."""
    return st.one_of(
        st.sampled_from(HOSTILE_STRINGS),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    )


def oversized_text() -> st.SearchStrategy[str]:
    """About 100 KB of one repeated character (plain, accented, emoji, space, newline)."""
    return st.builds(lambda ch, n: ch * (n // len(ch.encode())),
                     st.sampled_from(("a", "é", "🙂", " ", "\n", ",", "\"", "x\x00")),
                     st.sampled_from(_SIZES))


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        hostile_text(),
    )


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON-like value (nested lists and string-keyed dicts of scalars)."""
    return st.recursive(
        json_scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(hostile_text(), inner, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: Any = 1, kind: str = "list") -> Any:
    """``depth`` levels of list (or dict) nesting around ``leaf``, built iteratively."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


Path = tuple[Any, ...]


def paths(doc: Any, prefix: Path = (), limit: int = 8) -> list[Path]:
    """Paths into ``doc`` (dict keys and list indices), the root () included; only the
    first ``limit`` items of a list, so a mutated huge list stays cheap to walk."""
    out: list[Path] = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.extend(paths(value, (*prefix, key), limit))
    elif isinstance(doc, list):
        for index, value in enumerate(doc[:limit]):
            out.extend(paths(value, (*prefix, index), limit))
    return out


def get_at(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _wrong_types(value: Any) -> list[Any]:
    """Values of another JSON type than ``value``: list for string, string for int, ..."""
    return [
        [value] if not isinstance(value, list) else "a string",
        str(value)[:50] if not isinstance(value, str) else 7,
        1 if isinstance(value, bool) or not isinstance(value, int) else True,
        True if not isinstance(value, bool) else 1,
        {"nested": value} if not isinstance(value, dict) else ["x"],
        1.5, -1, 0, [], {}, 2**64,
    ]


#: The mutations :func:`mutate` applies at a path.
MUTATIONS: tuple[str, ...] = (
    "drop", "null", "wrong_type", "hostile", "oversized", "huge_list", "deep", "add_key",
    "duplicate_item", "any_value", "empty",
)
#: The mutations that make a case large (100 KB strings, 10,000-item lists): text formats
#: parsed in pure Python (YAML) take them in a few dedicated cases, not in every one.
HEAVY_MUTATIONS: tuple[str, ...] = ("oversized", "huge_list")
LIGHT_MUTATIONS: tuple[str, ...] = tuple(m for m in MUTATIONS if m not in HEAVY_MUTATIONS)


@st.composite
def mutated(draw: st.DrawFn, doc: Any, candidates: list[Path], max_mutations: int,
            mutations: tuple[str, ...]) -> Any:
    for _ in range(draw(st.integers(1, max_mutations))):
        path = draw(st.sampled_from(candidates))
        if not _resolves(doc, path):  # an earlier mutation removed or replaced it
            continue
        op = draw(st.sampled_from(mutations))
        has_parent = bool(path)
        doc = _replace_at(doc, path, lambda current, op=op, parent=has_parent:
                          _mutation(draw, current, op, parent))
    return doc


def mutate(doc: Any, max_mutations: int = 3,
           mutations: tuple[str, ...] = MUTATIONS) -> st.SearchStrategy[Any]:
    """Strategy: ``doc`` with a few fields dropped, nulled, retyped, oversized, nested...

    ``doc`` itself is never modified: containers on the path to a mutation are copied
    (the rest is shared), so a test must not modify the document it is given.
    """
    return mutated(doc, paths(doc), max_mutations, mutations)


class _Drop:
    """Marks a value to remove from its parent."""


_DROP = _Drop()


def _resolves(doc: Any, path: Path) -> bool:
    for step in path:
        if isinstance(doc, dict) and step in doc:
            doc = doc[step]
        elif isinstance(doc, list) and isinstance(step, int) and 0 <= step < len(doc):
            doc = doc[step]
        else:
            return False
    return True


def _replace_at(doc: Any, path: Path, change: Callable[[Any], Any]) -> Any:
    """``doc`` with the value at ``path`` replaced by ``change(value)`` (or removed when
    that is _DROP), copying only the containers on the way."""
    if not path:
        new = change(doc)
        return None if new is _DROP else new
    head, rest = path[0], path[1:]
    container = copy.copy(doc)
    if rest:
        container[head] = _replace_at(doc[head], rest, change)
        return container
    new = change(doc[head])
    if new is _DROP:
        del container[head]
    else:
        container[head] = new
    return container


def _mutation(draw: st.DrawFn, current: Any, op: str, has_parent: bool) -> Any:
    if op == "drop":
        return _DROP if has_parent else None
    if op == "add_key":
        if isinstance(current, dict):
            return {**current, draw(hostile_text()): draw(json_values(4))}
        if isinstance(current, list):
            return [*current, draw(json_values(4))]
        op = "wrong_type"
    if op == "duplicate_item":
        if isinstance(current, list) and current:
            return [*current, current[draw(st.integers(0, len(current) - 1))]]
        op = "null"
    if op == "null":
        return None
    if op == "wrong_type":
        return draw(st.sampled_from(_wrong_types(current)))
    if op == "hostile":
        return draw(hostile_text())
    if op == "oversized":
        return draw(oversized_text())
    if op == "huge_list":  # containers and long strings are repeated less: a real file
        # holding 10,000 copies of a 100 KB value would be a gigabyte
        if isinstance(current, (dict, list)) or (isinstance(current, str) and len(current) > 200):
            return [current] * 50
        return [current] * draw(st.sampled_from((1000, 10_000)))
    if op == "deep":
        return nested(draw(st.sampled_from((50, 200, 500))), current,
                      draw(st.sampled_from(("list", "dict"))))
    if op == "empty":
        return type(current)() if isinstance(current, (dict, list, str)) else ""
    return draw(json_values())  # any_value


# -- text and byte level -------------------------------------------------------------------

#: Byte sequences that are not UTF-8 (a lone continuation byte, a truncated sequence, an
#: encoded surrogate, an overlong form, Latin-1 and Windows-1252 letters).
BAD_UTF8: tuple[bytes, ...] = (b"\xff", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf",
                               b"\xe9", b"\x93quoted\x94", b"\xfe\xff")


@st.composite
def mutated_bytes(draw: st.DrawFn, text: str) -> bytes:
    """``text`` encoded, then perhaps truncated, given bad bytes, a BOM, NULs or CRs, or
    encoded as UTF-16 / Latin-1 instead."""
    op = draw(st.sampled_from(("as_is", "truncate", "bad_utf8", "bom", "nul", "utf16",
                               "latin1", "crlf", "cr", "insert")))
    raw = text.encode("utf-8")
    if op == "truncate":
        return raw[: draw(st.integers(0, max(len(raw) - 1, 0)))]
    if op == "bad_utf8":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from(BAD_UTF8)) + raw[at:]
    if op == "bom":
        return b"\xef\xbb\xbf" + raw
    if op == "nul":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + b"\x00" + raw[at:]
    if op == "utf16":
        return text.encode("utf-16")
    if op == "latin1":
        return text.encode("latin-1", errors="replace")
    if op == "crlf":
        return text.replace("\n", "\r\n").encode()
    if op == "cr":
        return text.replace("\n", "\r").encode()
    if op == "insert":
        at = draw(st.integers(0, len(text)))
        return (text[:at] + draw(hostile_text()) + text[at:]).encode("utf-8")
    return raw


def mutate_bytes(text: str) -> st.SearchStrategy[bytes]:
    """Strategy: ``text`` as bytes with a file-level hazard applied (or none)."""
    return mutated_bytes(text)


# -- YAML hazards ---------------------------------------------------------------------------

def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """The YAML alias bomb: ``width ** levels`` strings from a few hundred bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = string.ascii_lowercase
    for i in range(1, levels):
        refs = ",".join(f"*{names[i - 1]}" for _ in range(width))
        lines.append(f"{names[i]}: &{names[i]} [{refs}]")
    return "\n".join(lines) + "\n"


#: Whole YAML documents every YAML reader must refuse or read safely, quickly.
YAML_HAZARDS: tuple[str, ...] = (
    billion_laughs(),
    billion_laughs(12, 10),
    "x: !!python/object/apply:os.system ['echo pwned']\n",
    "!!python/object:collections.OrderedDict {}\n",
    "x: !!python/name:os.system\n",
    "x: !!binary aGVsbG8=\n",
    "x: !!set {a, b}\n",
    "x: !custom thing\n",
    "x: !!omap [a: 1]\n",
    "a: &a [*a]\n",
    "&a {x: *a}\n",
    "a: 1\na: 2\n",
    "? [a, b]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "a: *nowhere\n",
    "a: 1\n---\nb: 2\n",
    "---\n...\n",
    "\t- tab\n",
    "a: [1, 2\n",
    "a: 'unterminated\n",
    "a: 2027-02-30\n",
    "a: 2026-13-01T00:00:00Z\n",
    "<<: *x\n",
    "base: &b {k: 1}\nderived: {<<: *b, k: 2}\n",
    "[" * 1200 + "]" * 1200 + "\n",
    "{a: " * 1200 + "1" + "}" * 1200 + "\n",
    "- " * 1200 + "x\n",
    "%YAML 9.9\n---\na: 1\n",
    "%TAG ! tag:yaml.org,2002:python/\n---\n!object:os.system x\n",
    "a: .inf\nb: .nan\nc: 0o777\nd: 1_000\n",
    "\x00\n",
    "\ufeffa: 1\n",
    "a: \x85\n",
    "'a': 1\n\"a\": 2\n",
    "1: x\n1.0: y\n",
    "true: x\nyes: y\n",
    "null: x\n~: y\n",
)


def yaml_hazards() -> st.SearchStrategy[str]:
    return st.sampled_from(YAML_HAZARDS)


def one_line_with(text: str, *needles: str) -> bool:
    """True when ``text`` is exactly one line and contains every needle."""
    lines = text.strip().splitlines()
    return len(lines) == 1 and all(n in lines[0] for n in needles)


Check = Callable[[str], None]


# -- writing cases and checking outcomes ----------------------------------------------------

def dump_yaml(doc: Any) -> str:
    """``doc`` as YAML text (JSON text, which YAML also reads, when PyYAML cannot write it,
    e.g. nesting deeper than its representer recurses)."""
    import json

    import yaml

    # libyaml's emitter when PyYAML has it: writing a case must not cost more than reading it
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    try:
        return yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)
    except (RecursionError, yaml.YAMLError):
        return json.dumps(doc, default=str)


def check_one_line_error(message: str, *needles: str, limit: int = 2000) -> None:
    """An error a user sees: one line, short, carrying every needle (the file name...)."""
    assert one_line_with(message, *needles), f"not one line naming {needles}: {message[:500]!r}"
    assert len(message) < limit, f"error line of {len(message)} characters"


def write_case(root: PathType, name: str, raw: bytes | str) -> PathType:
    """``raw`` written as ``name`` in a fresh folder under ``root`` (one per case, so a
    case never sees another's files)."""
    import tempfile

    path = PathType(tempfile.mkdtemp(dir=root)) / name
    if isinstance(raw, str):
        path.write_text(raw, encoding="utf-8")
    else:
        path.write_bytes(raw)
    return path


def tiny_snapshot(root: PathType) -> PathType:
    """A minimal valid inventory snapshot (one Slack platform) in ``root``, for CLI cases
    that need an ``--from`` input but test something else."""
    from sprawl_audit.core.model import AppRef, Coverage, Inventory, Organisation, Platform
    from sprawl_audit.inventory.snapshot import write_snapshot

    path = root / "snapshot.json"
    if not path.exists():
        inv = Inventory(
            organisation=Organisation("Acme", ("acme.org",), "entra-id", "2026-11-01T09:00:00Z"),
            platforms=(Platform("slack:T1", AppRef("slug", "slack"), "Acme"),),
            coverage=(Coverage("slack", "directory.users", "collected", "", 1),),
        )
        write_snapshot(inv, path)
    return path


def run_cli(args: list[str]) -> Any:
    """``sprawl-audit ARGS`` in-process (click's runner), exceptions caught for checking."""
    from click.testing import CliRunner

    from sprawl_audit.cli.main import main

    return CliRunner().invoke(main, args, env={"NO_COLOR": "1"}, catch_exceptions=True)


def check_cli_outcome(res: Any, allowed: set[int], name: str) -> None:
    """Exit code allowed, no traceback, an uncaught exception is a failure, and exit 2
    is one ``sprawl-audit: error:`` line naming ``name`` (the file)."""
    out = (res.stdout or "") + (res.stderr or "")
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(
            f"uncaught {type(res.exception).__name__}: {str(res.exception)[:500]}"
        ) from res.exception
    assert "Traceback" not in out, out[-2000:]
    assert res.exit_code in allowed, (res.exit_code, out[-1000:])
    if res.exit_code == 2:
        err = res.stderr.strip()
        check_one_line_error(err, name)
        assert err.startswith("sprawl-audit: error:"), err[:300]
