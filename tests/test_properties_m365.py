"""Property-based tests: Microsoft 365 payloads, damaged, always end in a result (issue #8).

Every Graph collection, usage-report CSV and PowerShell export the m365 connector reads is
taken from a real example (the fake tenant the collector tests run against, the demo
reports) and mutated — fields missing, null, of another type, huge, full of control
characters, unknown fields added. The transform must return records and coverage, never
raise; the live connector, fed a damaged page by the fake Graph, must return and say in
coverage what went wrong.
"""

from __future__ import annotations

import copy
import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.graph import FakeClock, FakeGraph, Tenant, generate_tenant, loopback_only_connect
from fakes.server import tls_pair
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_strategies import mutated, nasty_csv_cells
from repo_paths import DEMO_DATA

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.m365 import exports as ex
from sprawl_audit.connectors.m365.connector import M365Connector
from sprawl_audit.connectors.m365.transform.apps import transform_app_consents
from sprawl_audit.connectors.m365.transform.devices import transform_devices
from sprawl_audit.connectors.m365.transform.directory import transform_users, verified_domains
from sprawl_audit.connectors.m365.transform.external import (
    transform_inbox_rules,
    transform_team_guests,
)
from sprawl_audit.connectors.m365.transform.policies import (
    transform_authorization_policy,
    transform_cross_tenant,
)
from sprawl_audit.connectors.m365.transform.reports import transform_activity_reports
from sprawl_audit.connectors.m365.transform.telephony import transform_number_assignments
from sprawl_audit.core.model import COVERAGE_STATUSES, InventoryBuilder

TENANT = generate_tenant(users=12, devices=8, service_principals=8, teams=4, detected_apps=6,
                         seed=8)
DEMO_REPORTS = DEMO_DATA / "m365" \
    / "reports"
TEAMS_CSV = (DEMO_REPORTS / "getTeamsUserActivityUserDetail_D30.csv").read_text(
    encoding="utf-8")
EMAIL_CSV = (DEMO_REPORTS / "getEmailActivityUserDetail_D30.csv").read_text(encoding="utf-8")
ASSIGNMENTS = [a for v in TENANT.assigned_to.values() for a in v] + \
    [a for v in TENANT.assignments.values() for a in v]
ORG = tuple(d["id"] for d in TENANT.domains)
RULES = {"user@example-homes.org.uk": [
    {"id": "r1", "displayName": "fwd", "isEnabled": True,
     "actions": {"forwardTo": [{"emailAddress": {"name": "Me", "address": "me@gmail.com"}}],
                 "redirectTo": [{"emailAddress": {"address": "x@hotmail.co.uk"}}]}}]}
GUESTS = {t["id"]: [{"id": "m1", "roles": ["guest"], "email": "g@partner.org.uk",
                     "displayName": "G"}] for t in TENANT.teams}


def check(out: Any, *topics: str) -> None:
    """The result every damaged payload must still give: a builder whose coverage is
    well-formed and covers ``topics``."""
    assert isinstance(out, InventoryBuilder)
    for c in out.coverage:
        assert c.status in COVERAGE_STATUSES, c
        assert isinstance(c.detail, str) and "Traceback" not in c.detail
        assert isinstance(c.items, int)
    assert set(topics) <= {c.topic for c in out.coverage}


# -- the transforms, directly ---------------------------------------------------------------
@settings(max_examples=250)
@given(users=mutated(TENANT.users), skus=mutated(TENANT.skus))
def test_users_and_licences(users: Any, skus: Any) -> None:
    check(transform_users(users, skus), "directory.users", "directory.guests")


@settings(max_examples=100)
@given(domains=mutated(TENANT.domains))
def test_verified_domains(domains: Any) -> None:
    names = verified_domains(domains, mail_only=True)
    assert all(isinstance(n, str) and n for n in names)


@settings(max_examples=200)
@given(sps=mutated(TENANT.service_principals), grants=mutated(TENANT.grants),
       assignments=mutated(ASSIGNMENTS), users=mutated(TENANT.users, 1))
def test_app_consents(sps: Any, grants: Any, assignments: Any, users: Any) -> None:
    check(transform_app_consents(sps, grants, assignments, users,
                                 tenant_id=TENANT.tenant_id), "oauth.grants", "identity.sso")


@settings(max_examples=200)
@given(devices=mutated(TENANT.managed_devices), apps=mutated(TENANT.detected_apps),
       by_app=mutated(TENANT.app_devices))
def test_devices(devices: Any, apps: Any, by_app: Any) -> None:
    check(transform_devices(devices, apps, by_app), "devices.apps")


@settings(max_examples=200)
@given(rules=mutated(RULES))
def test_inbox_rules(rules: Any) -> None:
    check(transform_inbox_rules(rules, ORG), "mail.forwarding")


@settings(max_examples=200)
@given(teams=mutated(TENANT.teams), guests=mutated(GUESTS))
def test_team_guests(teams: Any, guests: Any) -> None:
    check(transform_team_guests(teams, guests, ORG), "collab.external_channels")


@settings(max_examples=150)
@given(policy=mutated(TENANT.authorization_policy))
def test_authorization_policy(policy: Any) -> None:
    check(transform_authorization_policy(policy), "oauth.consent_policy")


@settings(max_examples=150)
@given(default=mutated(TENANT.cross_tenant_default),
       partners=mutated(TENANT.cross_tenant_partners))
def test_cross_tenant(default: Any, partners: Any) -> None:
    check(transform_cross_tenant(default, partners), "identity.cross_tenant")


@settings(max_examples=150)
@given(numbers=mutated(TENANT.number_assignments), users=mutated(TENANT.users, 1))
def test_number_assignments(numbers: Any, users: Any) -> None:
    check(transform_number_assignments(numbers, users), "phone.numbers")


@st.composite
def damaged_csv(draw: st.DrawFn, text: str) -> str:
    """A usage report with some cells, rows or header columns damaged."""
    lines = text.splitlines()
    header, rows = lines[0], lines[1:8]
    cells = [row.split(",") for row in rows]
    for _ in range(draw(st.integers(1, 6))):
        row = draw(st.integers(0, len(cells) - 1))
        col = draw(st.integers(0, len(cells[row])))
        value = draw(nasty_csv_cells())
        if col == len(cells[row]):
            cells[row].append(value)  # a row longer than the header
        else:
            cells[row][col] = value
    if draw(st.booleans()):
        cells[draw(st.integers(0, len(cells) - 1))] = cells[0][: draw(st.integers(0, 3))]
    head = header if draw(st.integers(0, 4)) else draw(st.sampled_from(
        ("", "\ufeff", header.replace("User Principal Name", "UPN"), header + ",Extra")))
    return "\n".join([head, *(",".join(c) for c in cells)])


@settings(max_examples=150)
@given(teams=st.one_of(st.none(), damaged_csv(TEAMS_CSV)),
       email=st.one_of(st.none(), damaged_csv(EMAIL_CSV)))
def test_activity_reports(teams: str | None, email: str | None) -> None:
    check(transform_activity_reports(teams, email), "activity.usage")


def test_a_huge_report_cell_is_skipped_and_counted() -> None:
    """Python's csv refuses a field over 128 KiB; the report still gives its other rows."""
    lines = TEAMS_CSV.splitlines()
    bad = lines[1].split(",")
    bad[4] = "x" * 200_000
    out = transform_activity_reports("\n".join([lines[0], ",".join(bad), *lines[2:]]), EMAIL_CSV)
    cov = out.coverage[0]
    assert cov.status == "partial"
    assert "unreadable" in cov.detail
    assert out.usages


EXPORT_EXAMPLES: dict[str, list[dict[str, Any]]] = {
    ex.FEDERATION: [{"Identity": "Global", "AllowFederatedUsers": True,
                     "AllowedDomains": {"Element": "AllowList",
                                        "AllowedDomain": [{"Domain": "partner.org.uk"},
                                                          "Domain=council.gov.uk"]},
                     "BlockedDomains": ["bad.example"], "AllowTeamsConsumer": True,
                     "AllowTeamsConsumerInbound": "True"}],
    ex.EXTERNAL_ACCESS: [{"Identity": "Global", "EnableFederationAccess": True,
                          "EnableTeamsConsumerAccess": True}],
    ex.MEETING: [{"Identity": "Global", "AllowAnonymousUsersToJoinMeeting": True,
                  "AutoAdmittedUsers": "EveryoneInCompany", "AllowCloudRecording": True}],
    ex.APP_PERMISSION: [{"Identity": "Global", "GlobalCatalogAppsType": "BlockedAppList",
                         "GlobalCatalogApps": [], "PrivateCatalogAppsType": "AllowedAppList",
                         "PrivateCatalogApps": [{"Id": "x"}]}],
    ex.REMOTE_DOMAINS: [{"Identity": "Default", "DomainName": "*",
                         "AutoForwardEnabled": True}],
    ex.OUTBOUND_SPAM: [{"Identity": "Default", "IsDefault": True,
                        "AutoForwardingMode": "Automatic"}],
    ex.TRANSPORT: [{"SmtpClientAuthenticationDisabled": False}],
    ex.CAS_MAILBOXES: [{"PrimarySmtpAddress": "a@b.c", "SmtpClientAuthenticationDisabled": None}],
    ex.INFO: [{"ExportedAt": "2026-11-01T09:00:00Z"}],
}


@settings(max_examples=250)
@given(files=mutated(EXPORT_EXAMPLES, 4))
def test_powershell_exports(files: Any) -> None:
    """``read_export`` hands the transforms lists of objects; anything inside them can be
    damaged (a broken file itself is a UserError naming it, by design)."""
    bundle = ex.ExportBundle(Path("exports"))
    if isinstance(files, dict):
        for name, value in files.items():
            if isinstance(value, list):
                bundle.files[str(name)] = [v for v in value if isinstance(v, dict)]
            elif isinstance(value, dict):
                bundle.files[str(name)] = [value]
    check(ex.transform_exports(bundle), *ex.TOPIC_FILES)


@settings(max_examples=60)
@given(data=st.binary(max_size=200) | st.sampled_from((b"[" * 100_000, b"\xff\xfe\x00",
                                                       b"{\"a\": 1e999}", b"null", b"[1]")))
def test_unreadable_export_files_are_user_errors(data: bytes) -> None:
    """A file that is not a JSON object/array is a UserError with the file — never an
    uncaught RecursionError or UnicodeError."""
    from sprawl_audit.core.errors import UserError

    folder = Path(_tmp_dir())
    (folder / ex.MEETING).write_bytes(data)
    try:
        ex.load_exports(folder)
    except UserError as exc:
        assert ex.MEETING in str(exc) or exc.path


_TMP: list[str] = []


def _tmp_dir() -> str:
    import tempfile

    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="prop-m365-"))
    return _TMP[0]


# -- the live connector against the fake Graph --------------------------------------------
@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeGraph, Tenant]]:
    _ca, cert, _path = tls_pair()
    tenant = generate_tenant(users=10, devices=5, service_principals=6, teams=3, seed=11)
    fake = FakeGraph(tenant, tls=(cert, _path)).start()
    try:
        yield fake, tenant
    finally:
        fake.stop()


def _collect(fake: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> InventoryBuilder:
    monkeypatch.setenv("SPRAWL_TEST_M365_SECRET", fake.client_secret or "")
    connector = M365Connector(clock=FakeClock(), rng=random.Random(5))
    return connector.run(fake.settings(concurrency=1, max_retries=1, delta=False),
                             ConnectorContext())


LIVE_FIELDS = ("users", "service_principals", "managed_devices", "number_assignments",
               "teams", "grants")


@settings(max_examples=15)
@given(field=st.sampled_from(LIVE_FIELDS), data=st.data())
def test_live_connector_with_damaged_collections(live: tuple[FakeGraph, Tenant],
                                                 monkeypatch_session: pytest.MonkeyPatch,
                                                 field: str, data: st.DataObject) -> None:
    fake, tenant = live
    original = getattr(tenant, field)
    items = data.draw(mutated(original), label=field)
    if not isinstance(items, list):
        items = [items]
    # The fake pages by slicing and keys some lists by "id": give it dicts with ids.
    items = [i if isinstance(i, dict) else {"id": f"junk-{n}", "value": i}
             for n, i in enumerate(items)]
    for n, item in enumerate(items):
        if not isinstance(item.get("id"), str):
            item["id"] = f"bad-id-{n}"
    setattr(tenant, field, items)
    try:
        out = _collect(fake, monkeypatch_session)
    finally:
        setattr(tenant, field, original)
    check(out, "directory.users", "oauth.grants", "devices.apps", "phone.numbers")
    assert not [c for c in out.coverage if "internal error" in c.detail], out.coverage


@pytest.fixture(scope="module")
def monkeypatch_session() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", loopback_only_connect(socket.socket.connect))
    yield mp
    mp.undo()


def test_live_connector_records_a_damaged_page(live: tuple[FakeGraph, Tenant],
                                               monkeypatch_session: pytest.MonkeyPatch) -> None:
    """A users page whose ``value`` is not a list and whose ``@odata.nextLink`` is not a
    link: the connector returns, and coverage says the users were not read and why —
    the page's items skipped, the pages after it not read — instead of calling the
    number 5 "a link to another host" or the read complete."""
    from fakes.server import Fault

    fake, _tenant = live
    fake.add_fault(r"/v1\.0/users$", Fault(status=200, body={"value": "not a list",
                                                            "@odata.nextLink": 5}))
    out = _collect(fake, monkeypatch_session)
    check(out, "directory.users")
    cov = {c.topic: c for c in out.coverage}
    users = cov["directory.users"]
    assert users.status == "error", users
    assert "/users" in users.detail and "damaged page 1" in users.detail, users.detail
    assert "'value' is a string, not a list" in users.detail, users.detail
    assert "items were skipped" in users.detail, users.detail
    assert "'@odata.nextLink' is a number, not a link" in users.detail, users.detail
    assert "pages after it were not read" in users.detail, users.detail
    assert "another host" not in users.detail, users.detail
    assert not out.people  # nothing from the damaged read is passed off as the directory
    # what needs the user list says it is incomplete; the fault was used up, not left
    # queued on the shared fake for the next test
    assert cov["phone.numbers"].status == "partial", cov["phone.numbers"]
    assert not fake.server.faults.get(r"/v1\.0/users$")
    copy.deepcopy(out)
