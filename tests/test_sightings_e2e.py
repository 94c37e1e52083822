"""The must-show: consumer WhatsApp seen on a device, in a network log and in an interview
is ONE platform with three sources, each sighting kept as evidence."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sprawl_audit.cli.main import main
from sprawl_audit.config import parse_config
from sprawl_audit.connectors import registry
from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365.transform import transform_devices
from sprawl_audit.connectors.manual.connector import ManualConnector
from sprawl_audit.connectors.network_logs.connector import NetworkLogsConnector
from sprawl_audit.core.model import Organisation, merge
from sprawl_audit.pipeline import RuleSelection, analyse, run_audit
from sprawl_audit.report.formats.schema import validate_result

ORG = "riversidehomes.org.uk"
# Intune, as Graph returns it: a personal Android phone with WhatsApp in its work profile
MANAGED_DEVICES = [{
    "id": "8c1e2f40-0000-4000-8000-000000000017", "deviceName": "RH-ANDROID-017",
    "operatingSystem": "Android", "managedDeviceOwnerType": "personal",
    "userPrincipalName": f"J.Bloggs@{ORG}", "lastSyncDateTime": "2026-10-30T08:00:00Z",
}]
DETECTED_APPS = [
    {"id": "00000000a1b2c3d4e5f6a7b8c9d0e1f2", "displayName": "com.whatsapp",
     "version": "2.24.21.80", "platform": "androidWorkProfile"},
    {"id": "00000000a1b2c3d4e5f6a7b8c9d0e1f3", "displayName": "com.example.calculator",
     "version": "1.0", "platform": "androidWorkProfile"},
]
DEVICES_BY_APP = {
    app["id"]: [{"id": MANAGED_DEVICES[0]["id"], "deviceName": "RH-ANDROID-017"}]
    for app in DETECTED_APPS
}
PROXY_LOG = (
    "date,cs-username,cs-host,sc-bytes\n"
    f"2026-10-29T10:15:00Z,a.smith@{ORG},web.whatsapp.com,5120\n"
    f"2026-10-29T10:16:00Z,a.smith@{ORG},intranet.{ORG},800\n"
)
INTERVIEWS = textwrap.dedent("""\
    version: 1
    source: Repairs interviews, October 2026
    entries:
      - platform: WhatsApp Messenger
        department: Repairs
        head_count: 12
        data_categories: [tenant addresses]
        external_parties: [Hartwell Building Services Ltd]
        last_seen: 2026-10-21
    """)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "proxy.csv").write_text(PROXY_LOG)
    (tmp_path / "interviews.yaml").write_text(INTERVIEWS)
    return tmp_path


def inventory(files: Path):
    context = ConnectorContext(config_dir=str(files))
    devices = transform_devices(MANAGED_DEVICES, DETECTED_APPS, DEVICES_BY_APP)
    logs = NetworkLogsConnector().run({"imports": [{
        "path": "proxy.csv", "format": "csv",
        "columns": {"user": "cs-username", "host": "cs-host", "time": "date"}}]}, context)
    notes = ManualConnector().run({"files": ["interviews.yaml"]}, context)
    org = Organisation(name="Riverside Homes Group", domains=(ORG,),
                       as_of="2026-11-01T09:00:00Z")
    return merge(org, [devices, logs, notes])


def test_whatsapp_from_device_log_and_interview_is_one_platform(files: Path) -> None:
    inv = inventory(files)
    config = parse_config({"organisation": {"name": "Riverside Homes Group"}})
    result = run_audit(inv, config, RuleSelection(), mode="live",
                       connectors=["m365", "network_logs", "manual"], fail_on=None)
    validate_result(result)
    whatsapp = [p for p in result["platforms"] if p["catalog"] == "whatsapp"]
    assert len(whatsapp) == 1
    (wa,) = whatsapp
    assert wa["id"] == "whatsapp" and wa["classification"] == "consumer"
    assert wa["sources"] == ["m365", "manual", "network_logs"]
    # the unknown intranet host and the calculator app are not platforms
    ids = {p["id"] for p in result["platforms"]}
    assert not any("intranet" in i or "calculator" in i for i in ids)
    assert any(f["rule_id"] == "SA-CONSUMER-001" and "whatsapp" in json.dumps(f["subject"])
               for f in result["findings"])

    ag = analyse(inv, config)
    facts = ag.graph.nodes["platform:whatsapp"]
    assert facts["evidence"] == ["m365/devices.apps", "manual/manual.inventory",
                                 "network_logs/network.logs"]
    sources = ag.resolution.platforms["whatsapp"].sources
    assert sorted((s.connector, s.topic, s.detail) for s in sources) == [
        ("m365", "devices.apps", "Intune detectedApps"),
        ("manual", "manual.inventory", "Repairs interviews, October 2026, entry 1"),
        ("network_logs", "network.logs", "proxy.csv"),
    ]
    people = {n for n in ag.users["platform:whatsapp"]}
    assert people == {f"person:j.bloggs@{ORG}", f"person:a.smith@{ORG}"}


def test_cli_audit_with_network_logs_and_interviews(files: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.REGISTRY, "network_logs", registry.ConnectorInfo(
        "network_logs", "sprawl_audit.connectors.network_logs.connector:NetworkLogsConnector",
        "proxy, firewall and DNS logs (CSV, Squid, W3C)"))
    cfg = files / "config.yaml"
    cfg.write_text(textwrap.dedent("""\
        organisation: {name: Riverside Homes Group, domains: [riversidehomes.org.uk]}
        connectors:
          network_logs:
            imports:
              - {path: proxy.csv, format: csv, columns: {user: "cs-username", host: "cs-host", time: "date"}}
          manual:
            files: [interviews.yaml]
        """))  # noqa: E501
    out = files / "result.json"
    res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    (wa,) = [p for p in doc["platforms"] if p["catalog"] == "whatsapp"]
    assert wa["sources"] == ["manual", "network_logs"]
    cov = {(c["connector"], c["topic"]): c["status"] for c in doc["coverage"]}
    assert cov[("network_logs", "network.logs")] == "collected"

    (files / "proxy.csv").write_text(PROXY_LOG + "last tuesday,a.smith@x.org,t.me,1\n")
    res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "-f", "json"])
    assert res.exit_code == 2
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"sprawl-audit: error: {files / 'proxy.csv'}:4: date: ")
