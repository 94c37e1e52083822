"""What a new user sees first: the demo at 80 columns reads well (no word cut mid-way,
vendors distinct from product names, a pointer to auditing their own tenant), the README
shows what the demo really prints, and ``connectors check email`` tests the resolver."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakes.dns import FakeDNS

from sprawl_audit.cli.main import OWN_TENANT_HINT, main
from sprawl_audit.report.formats.labels import coverage_label

README = Path(__file__).resolve().parents[1] / "README.md"
WIDTH = 80


def run(*args: str, columns: int = WIDTH) -> Any:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})


@cache
def demo_text(columns: int = WIDTH) -> str:
    res = run("demo", "--no-history", columns=columns)
    assert res.exit_code == 0, res.output
    return str(res.output)


@cache
def demo_result() -> dict[str, Any]:
    res = run("demo", "--no-history", "-f", "json")
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.output)
    return doc


def section(text: str, title: str) -> list[str]:
    """The lines of one report section: from its heading to the next heading (a line
    ending in a rule of ─) or the closing recap line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title + " ("))
    out = []
    for line in lines[start + 1:]:
        if (re.search(r"─{5,}$", line) and not line.startswith("─")) or \
                re.match(r"\d+ findings?\b", line):
            break  # the next section's heading, or the recap
        out.append(line)
    return out


def words(*texts: Any) -> set[str]:
    return {w for t in texts for w in str(t or "").split()}


def dictionary() -> set[str]:
    """Every word the Coverage and Rules-not-assessed sections may show: the words of
    the coverage details and rule reasons as the Result holds them, and the labels."""
    doc = demo_result()
    vocabulary = words("Rule Checks Why not assessed Connector Topic Status Items Detail",
                       "items · … ─")
    for entry in doc["coverage"]:
        vocabulary |= words(entry["connector"], entry["topic"], entry["detail"],
                            coverage_label(entry["status"]), f"{entry['items']:,}")
    for rule in doc["rules"]:
        if rule["status"] == "not_assessed":
            vocabulary |= words(rule["id"], rule["title"], rule["reason"])
    return vocabulary


@pytest.mark.parametrize("title", ["Coverage", "Rules not assessed"])
def test_the_80_column_demo_cuts_no_word_mid_way(title: str) -> None:
    known = dictionary()
    lines = section(demo_text(), title)
    assert lines, title
    cut = [(word, line) for line in lines for word in line.split()
           if word not in known and not set(word) <= {"─"}]
    assert not cut, cut[:5]
    assert all(len(line) <= WIDTH for line in lines)


def test_every_coverage_detail_is_shown_whole_at_80_columns() -> None:
    shown = " ".join(" ".join(section(demo_text(), "Coverage")).split())
    for entry in demo_result()["coverage"]:
        assert " ".join(entry["detail"].split()) in shown, entry["detail"]


def test_vendors_read_apart_from_product_names() -> None:
    lines = demo_text().splitlines()
    whatsapp = next(i for i, line in enumerate(lines) if line.startswith("WhatsApp   "))
    assert lines[whatsapp + 1].startswith("(Meta) ")
    exchange = next(i for i, line in enumerate(lines) if line.startswith("Exchange Online "))
    assert lines[exchange + 1].startswith("(Microsoft) ")


def test_the_demo_ends_with_how_to_audit_your_own_tenant() -> None:
    assert demo_text().rstrip().splitlines()[-1] == OWN_TENANT_HINT
    assert len(OWN_TENANT_HINT) <= WIDTH
    assert (README.parent / "config.example.yaml").is_file()  # what the hint points to
    json.loads(run("demo", "--no-history", "-f", "json").output)  # never inside JSON
    assert OWN_TENANT_HINT not in run("demo", "--no-history", "-q").output


def readme_demo_box() -> list[str]:
    text = README.read_text("utf-8")
    part = text[text.index("## What the demo shows"):]
    block = part[part.index("```\n") + 4:]
    return block[:block.index("```")].rstrip("\n").splitlines()


def test_the_readme_demo_box_is_what_the_demo_prints() -> None:
    box = readme_demo_box()
    assert box[0].startswith("╭─ Riverside Homes Group") and box[-1].startswith("╰")
    assert demo_text().splitlines()[:len(box)] == box


def test_the_readme_demo_figures_are_in_the_demo_output() -> None:
    text = README.read_text("utf-8")
    part = text[text.index("It finds, among other things"):]
    paragraph = part[:part.index("\n\n")]
    figures = re.findall(r"\b\d[\d,]*\b", paragraph)
    assert figures, paragraph
    output = demo_text(120) + run("demo", "--no-history", "-v", columns=120).output
    for figure in figures:
        assert re.search(rf"\b{figure}\b", output), figure


# -- connectors check email ---------------------------------------------------------------

ZONE = {"example.org": {"MX": [(10, "mx1.example.org")]},
        "other.example": {"MX": [(10, "mx.other.example"), (20, "mx2.other.example")]}}


def email_config(tmp_path: Path, fake: FakeDNS, domains: list[str]) -> Path:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "connectors:\n  email:\n"
        f"    domains: [{', '.join(domains)}]\n"
        f"    nameservers: [127.0.0.1]\n    port: {fake.port}\n    timeout: 1\n",
        encoding="utf-8")
    return cfg


def test_connectors_check_email_asks_the_configured_resolver(tmp_path: Path) -> None:
    with FakeDNS(ZONE) as fake:
        port = fake.port
        res = run("connectors", "check", "email", "-c",
                  str(email_config(tmp_path, fake, ["example.org", "other.example"])))
        assert fake.queries("example.org", "MX") and fake.queries("other.example", "MX")
    assert res.exit_code == 0, res.output
    assert "nothing to sign in to" not in res.output
    assert f"DNS answers from 127.0.0.1:{port}" in res.output
    assert "example.org MX: answered, 1 record" in res.output
    assert "other.example MX: answered, 2 records" in res.output
    assert res.output.count("granted") == 2


def test_connectors_check_email_says_missing_when_the_resolver_fails(tmp_path: Path) -> None:
    with FakeDNS(ZONE) as fake:
        fake.fail("example.org", "servfail", times=None)
        res = run("connectors", "check", "email", "-c",
                  str(email_config(tmp_path, fake, ["example.org", "other.example"])))
    assert res.exit_code == 1, res.output
    assert "MISSING" in res.output and "example.org MX: no answer (SERVFAIL)" in res.output
    assert "other.example MX: answered" in res.output


def test_connectors_check_email_without_domains_says_so(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("connectors:\n  email:\n    nameservers: [127.0.0.1]\n", encoding="utf-8")
    res = run("connectors", "check", "email", "-c", str(cfg))
    assert res.exit_code == 1, res.output
    assert "no mail domains" in res.output
