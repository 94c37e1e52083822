"""Outages are never fixes, end to end (issue 12, points 4 and 5).

A complete nightly audit of the fake Microsoft 365 tenant (tests/fakes/graph.py) and the
fake DNS server (tests/fakes/dns.py), then three bad nights, each diffed against it:

- the client secret is wrong (Entra refuses the sign-in: every Graph topic errors);
- the DNS server is unreachable (nothing answers on its port);
- one topic is forbidden (the app lost the Intune permission).

Each asserts that no finding is "resolved" and no rule "passed" because of the gap, that
the diff names the failed sources, that a failed source prints one JSON line on stderr
even with ``-q`` and exits 4 over findings, and that history marks the run incomplete.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from fakes.dns import FakeDNS
from fakes.graph import ALL_ROLES, FakeGraph, demo_tenant, offline_m365
from fakes.server import tls_pair

from sprawl_audit.cli.common import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_SOURCE_FAILED
from sprawl_audit.cli.main import main
from sprawl_audit.store import drift

SECRET = "fake-secret-value-for-outages"
ENV = "SPRAWL_OUTAGE_M365_SECRET"
DOMAIN = "riversidehomes.org.uk"
ZONE = {
    DOMAIN: {"MX": [(10, "riversidehomes-org-uk.mail.protection.outlook.com")],
             "TXT": ["v=spf1 include:spf.protection.outlook.com ?all"]},
    f"_dmarc.{DOMAIN}": {"TXT": ["v=DMARC1; p=none"]},
    "spf.protection.outlook.com": {"TXT": ["v=spf1 ip4:40.92.0.0/15 -all"]},
    # the tenant's second verified domain: checked only when Microsoft 365 says it exists
    "riverside-housing.co.uk": {"MX": [(10, "mx.riverside-housing.co.uk")],
                                "TXT": ["v=spf1 mx -all"]},
}


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_m365(monkeypatch)


@pytest.fixture(scope="module")
def tls() -> Any:
    _ca, cert, path = tls_pair()
    return cert, path


def closed_port() -> int:
    """A loopback UDP port nothing listens on: a DNS server that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, graph: FakeGraph, dns_port: int) -> Path:
    data = {
        "organisation": {"name": "Riverside Homes Group", "domains": [DOMAIN],
                         "identity_provider": "entra-id"},
        "connectors": {
            "m365": graph.settings(secret_env=ENV),
            "email": {"domains": [DOMAIN], "nameservers": ["127.0.0.1"], "port": dns_port,
                      "timeout": 1, "mta_sts_fetch": False, "dkim_selectors": ["selector1"]},
        },
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def audit(tmp: Path, name: str, graph: FakeGraph, dns_port: int, secret: str,
          *extra: str) -> tuple[int, dict[str, Any], Path, str]:
    """One scheduled run: JSON out, JSON logs, -q, history; (exit, Result, file, stderr)."""
    cfg = write_config(tmp / f"{name}.yaml", graph, dns_port)
    out = tmp / f"{name}.json"
    res = CliRunner().invoke(
        main, ["audit", "-c", str(cfg), "-f", "json", "-o", str(out), "-q",
               "--log-format", "json", "--history", str(tmp / "history.sqlite"),
               "--fail-on", "high", *extra],
        env={ENV: secret}, catch_exceptions=False)
    return res.exit_code, json.loads(out.read_text()), out, res.stderr


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory, tls: Any) -> Any:
    """The fakes, and the complete run every bad night is compared with."""
    tmp = tmp_path_factory.mktemp("outages")
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    with FakeGraph(demo_tenant(), tls=tls, client_secret=SECRET) as graph, \
            FakeDNS(ZONE) as dns:
        code, result, path, stderr = audit(tmp, "complete", graph, dns.port, SECRET)
        # the CLI set up the root logger (-q: errors only) outside any test; put it back
        # so later tests in this worker see warnings
        root.setLevel(level)
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        yield {"tmp": tmp, "graph": graph, "dns": dns, "complete": result,
               "complete_path": path, "complete_code": code, "complete_stderr": stderr}


def rules(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in result["rules"]}


def assert_no_gap_reads_as_a_fix(old: dict[str, Any], new: dict[str, Any],
                                 failed: set[str]) -> drift.Drift:
    d = drift.diff(old, new)
    assert d.resolved == [], [f["rule_id"] for f in d.resolved]
    before, after = rules(old), rules(new)
    for rid, rule in after.items():
        if rule["status"] == "passed":  # nothing newly passes on the gap
            assert before[rid]["status"] == "passed", rid
            assert rule["evidence"] == "complete", rid
    for change in d.rules:
        assert change["new"] != "passed", change
        if change["old"] == "failed":
            assert change.get("not_rechecked"), change
    text = drift.render_text(d)
    assert "RESOLVED" not in text and " 0 resolved" in text
    for connector in failed:
        assert f"INCOMPLETE new audit: source {connector} collected nothing" in text
    return d


def test_the_complete_run_is_complete(night: Any) -> None:
    result = night["complete"]
    assert night["complete_code"] == EXIT_FINDINGS  # findings at high, nothing failed
    assert "incomplete" not in result
    assert "source_failed" not in night["complete_stderr"]
    assert rules(result)["SA-DNS-002"]["status"] == "failed"  # SPF ?all, seen


def test_a_wrong_client_secret_resolves_nothing(night: Any) -> None:
    code, result, path, stderr = audit(night["tmp"], "wrong-secret", night["graph"],
                                       night["dns"].port, "not-the-secret")
    old = night["complete"]
    assert code == EXIT_SOURCE_FAILED  # over "findings" (1): the run could not look
    cov = [c for c in result["coverage"] if c["connector"] == "m365"]
    graph_topics = [c for c in cov if c["status"] != "not_configured"]
    assert graph_topics and all(c["status"] == "error" and "sign-in failed" in c["detail"]
                                for c in graph_topics)
    assert [s["connector"] for s in result["incomplete"]["failed_sources"]] == ["m365"]
    d = assert_no_gap_reads_as_a_fix(old, result, {"m365"})
    gone = [f for f in old["findings"] if f["fingerprint"] not in
            {g["fingerprint"] for g in result["findings"]}]
    assert len(d.not_rechecked) == len(gone) > 10
    assert any(f["severity"] in ("critical", "high") for f in d.not_rechecked)
    # every one names m365: its topics errored, or (DNS) the domains it would have found
    # went unchecked
    assert all(any("m365" in s for s in f["sources"]) for f in d.not_rechecked)
    assert any("m365 would have found were not checked" in s for f in d.not_rechecked
               for s in f["sources"])
    # one structured line on stderr even with -q
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    failed = [x for x in lines if x.get("event") == "source_failed"]
    assert len(failed) == 1
    line = failed[0]
    assert (line["level"], line["connector"], line["status"], line["count"]) == (
        "error", "m365", "error", 0)
    assert "directory.users" in line["topic"] and "AADSTS7000215" in line["reason"]
    assert "not-the-secret" not in stderr
    # the diff command says it too, and history marks the run
    res = CliRunner().invoke(main, ["diff", str(night["complete_path"]), str(path)],
                             catch_exceptions=False)
    assert "INCOMPLETE new audit: source m365 collected nothing (error: sign-in failed" \
        in res.output
    assert "0 resolved" in res.output and "NOT RE-CHECKED" in res.output


def test_the_dns_server_down_resolves_nothing(night: Any) -> None:
    code, result, _path, _stderr = audit(night["tmp"], "dns-down", night["graph"],
                                         closed_port(), SECRET)
    assert code == EXIT_SOURCE_FAILED
    [dns] = [c for c in result["coverage"] if c["connector"] == "email"]
    assert dns["status"] == "error" and "timeout" in dns["detail"]
    d = assert_no_gap_reads_as_a_fix(night["complete"], result, {"email"})
    dns_gone = [f for f in d.not_rechecked if f["rule_id"].startswith(("SA-DNS", "CAF-DNS"))]
    assert dns_gone and all(any("email error" in s for s in f["sources"]) for f in dns_gone)
    assert [s["connector"] for s in d.sources_failed["new"]] == ["email"]


def test_one_forbidden_topic_resolves_nothing_and_is_partial_not_failed(
        night: Any, tls: Any) -> None:
    roles = [r for r in ALL_ROLES if r != "DeviceManagementManagedDevices.Read.All"]
    with FakeGraph(demo_tenant(), tls=tls, client_secret=SECRET, roles=roles) as graph:
        code, result, _path, stderr = audit(night["tmp"], "forbidden", graph,
                                            night["dns"].port, SECRET)
        code_flag, *_ = audit(night["tmp"], "forbidden-flag", graph, night["dns"].port,
                              SECRET, "--fail-on-incomplete")
    devices = [c for c in result["coverage"] if c["topic"] == "devices.apps"]
    assert [c["status"] for c in devices] == ["forbidden"]
    # a topic forbidden is partial evidence, not a failed source: findings decide the
    # exit (1 over 3), and no source_failed line is printed
    assert "incomplete" not in result and "source_failed" not in stderr
    assert code == code_flag == EXIT_FINDINGS
    d = assert_no_gap_reads_as_a_fix(night["complete"], result, set())
    assert all(any(s.startswith("devices.apps:") for s in f["sources"])
               for f in d.not_rechecked)
    assert d.sources_failed["new"] == []


def test_fail_on_incomplete_keeps_its_meaning(night: Any, tls: Any) -> None:
    roles = [r for r in ALL_ROLES if r != "DeviceManagementManagedDevices.Read.All"]
    with FakeGraph(demo_tenant(), tls=tls, client_secret=SECRET, roles=roles) as graph:
        cfg = write_config(night["tmp"] / "flag.yaml", graph, night["dns"].port)
        res = CliRunner().invoke(main, ["audit", "-c", str(cfg), "-f", "json", "-o",
                                        str(night["tmp"] / "flag.json"), "-q",
                                        "--no-history", "--fail-on-incomplete"],
                                 env={ENV: SECRET}, catch_exceptions=False)
    assert res.exit_code == EXIT_INCOMPLETE


def test_history_marks_the_incomplete_runs(night: Any, tmp_path: Path) -> None:
    # Its own history: under xdist the other tests of this module may run in another
    # worker, so the runs it reads are made here.
    audit(tmp_path, "complete", night["graph"], night["dns"].port, SECRET)
    audit(tmp_path, "wrong-secret", night["graph"], night["dns"].port, "not-the-secret")
    audit(tmp_path, "dns-down", night["graph"], closed_port(), SECRET)
    history = str(tmp_path / "history.sqlite")
    res = CliRunner().invoke(main, ["history", "trend", "--history", history, "-f", "json"],
                             catch_exceptions=False)
    points = json.loads(res.output)["points"]
    marks = [(p["incomplete"], p["failed_sources"]) for p in points]
    assert (False, []) in marks and (True, ["m365"]) in marks and (True, ["email"]) in marks
    text = CliRunner().invoke(main, ["history", "trend", "--history", history],
                              catch_exceptions=False).output
    assert "INCOMPLETE (m365 collected nothing)" in text
    assert "audits INCOMPLETE" in text
