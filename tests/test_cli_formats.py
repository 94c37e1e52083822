"""The CLI with every report format: --output-dir, multi-file csv, binary xlsx, report."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from sprawl_audit.cli.main import main
from sprawl_audit.report.formats import FORMATS

CSV_PARTS = ["summary", "inventory", "findings", "rules", "people-platforms", "capabilities",
             "departments", "phone-numbers", "integrations", "external-parties",
             "mail-domains", "licences", "coverage"]


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_demo_renders_to_every_format(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["demo", "--format", ",".join(FORMATS),
                                    "--output-dir", str(out)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    for single in ("txt", "json", "html", "md", "xlsx", "sarif", "graphml", "gexf"):
        assert f"sprawl-audit.{single}" in names, single
    for part in CSV_PARTS:
        assert f"sprawl-audit-{part}.csv" in names, part
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind
    assert (out / "sprawl-audit.html").read_text("utf-8").startswith("<!DOCTYPE html>")
    assert zipfile.is_zipfile(out / "sprawl-audit.xlsx")
    assert json.loads((out / "sprawl-audit.sarif").read_text("utf-8"))["version"] == "2.1.0"


def test_report_re_renders_csv_and_xlsx(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    assert CliRunner().invoke(main, ["demo", "-f", "json", "-o", str(result)]).exit_code == 0
    res = CliRunner().invoke(main, ["report", str(result), "-f", "csv",
                                    "--output-dir", str(tmp_path / "csv")])
    assert res.exit_code == 0, res.output
    names = {p.name for p in (tmp_path / "csv").iterdir()}
    # compliance.csv comes with a Result that has frameworks
    assert names - {"sprawl-audit-compliance.csv"} == {f"sprawl-audit-{part}.csv"
                                                       for part in CSV_PARTS}
    xlsx = tmp_path / "client.xlsx"
    res = CliRunner().invoke(main, ["report", str(result), "-f", "xlsx", "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    assert "Inventory" in load_workbook(xlsx).sheetnames


def test_csv_needs_an_output_dir(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    assert CliRunner().invoke(main, ["demo", "-f", "json", "-o", str(result)]).exit_code == 0
    for extra in (["-o", str(tmp_path / "x.csv")], []):
        res = CliRunner().invoke(main, ["report", str(result), "-f", "csv", *extra])
        assert res.exit_code == 2
        assert "--output-dir" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.csv").exists()
    # checked before any collection starts
    res = CliRunner().invoke(main, ["audit", "--demo", "-f", "csv"])
    assert res.exit_code == 2 and "--output-dir" in res.output


def test_xlsx_to_stdout_is_bytes_when_redirected(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    assert CliRunner().invoke(main, ["demo", "-f", "json", "-o", str(result)]).exit_code == 0
    res = CliRunner().invoke(main, ["report", str(result), "-f", "xlsx"])
    assert res.exit_code == 0
    assert res.stdout_bytes.startswith(b"PK")
    assert "Summary" in load_workbook(io.BytesIO(res.stdout_bytes)).sheetnames
