"""Property-based tests: Google Workspace payloads, damaged, always end in a result (#8).

The pages come from the fake tenant the connector tests use (Directory users, tokens,
mobile devices, Reports activities and usage, Chat spaces and members, Gmail forwarding,
licence assignments, Cloud Identity policies)
and are mutated by :mod:`payload_strategies`. Each transform must return its records;
the live connector, served a damaged page by the fake, must return an Inventory whose
coverage covers every topic.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fakes.google import FakeGoogle, generate_tenant
from fakes.server import Fault
from google_helpers import cov, run
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_strategies import mutated

from sprawl_audit.connectors.google import transform as t
from sprawl_audit.core.model import COVERAGE_STATUSES, Device, ExternalLink, Integration, Person

TENANT = generate_tenant(8, now=datetime(2026, 11, 1, 9, tzinfo=timezone.utc))
USERS = [{"users": TENANT.users[:6], "nextPageToken": "x"}, {"users": TENANT.users[6:]}]
DEVICES = [{"mobiledevices": TENANT.devices[:6]}]
TOKEN_LOG = [{"items": TENANT.activities["token"][:8]}]
MOBILE_LOG = [{"items": TENANT.activities["mobile"][:10]}]
MEET_LOG = [{"items": TENANT.activities["meet"][:8]}]
USAGE = [{"usageReports": TENANT.usage[:8]}]
TOKENS = dict(list(TENANT.tokens.items())[:6])
SPACES = TENANT.spaces[:6]
MEMBERS = {k: v for k, v in TENANT.members.items() if any(s.get("name") == k for s in SPACES)}
FORWARDING = dict(list(TENANT.forwarding.items())[:6]) or {
    "a@example.org": {"autoForwarding": {"enabled": True, "emailAddress": "a@gmail.com",
                                         "disposition": "leaveInInbox"},
                      "forwardingAddresses": [{"forwardingEmail": "a@gmail.com",
                                               "verificationStatus": "accepted"}]}}
LICENCES = TENANT.licences["Google-Apps"][:8]
POLICIES = TENANT.policies
ORG = ("example.org",)


@settings(max_examples=200)
@given(pages=mutated(USERS))
def test_users(pages: Any) -> None:
    people = t.transform_users(pages)
    assert all(isinstance(p, Person) and p.id for p in people)
    t.workspace_platforms(people)
    t.org_domains_of(people, ORG)


@settings(max_examples=200)
@given(tokens=mutated(TOKENS), log=mutated(TOKEN_LOG))
def test_grants(tokens: Any, log: Any) -> None:
    grants = t.transform_grants(tokens, log)
    assert all(isinstance(g, Integration) for g in grants)


@settings(max_examples=200)
@given(devices=mutated(DEVICES), log=mutated(MOBILE_LOG))
def test_devices(devices: Any, log: Any) -> None:
    found, stats = t.transform_devices(devices, log)
    assert all(isinstance(d, Device) for d in found)
    assert stats.devices >= 0


@settings(max_examples=150)
@given(usage=mutated(USAGE), meet=mutated(MEET_LOG))
def test_usage_and_meet(usage: Any, meet: Any) -> None:
    usages, _stats = t.transform_usage(usage)
    usages += t.transform_meet_log(meet, ORG)
    assert all(u.person for u in usages)


@settings(max_examples=150)
@given(spaces=mutated(SPACES), members=st.none() | mutated(MEMBERS))
def test_spaces(spaces: Any, members: Any) -> None:
    links, _stats = t.transform_spaces(spaces, members, ORG)
    assert all(isinstance(x, ExternalLink) for x in links)


@settings(max_examples=120)
@given(forwarding=mutated(FORWARDING))
def test_forwarding(forwarding: Any) -> None:
    links, _stats = t.transform_forwarding(forwarding, ORG)
    assert all(isinstance(x, ExternalLink) and x.target for x in links)


@settings(max_examples=150)
@given(assignments=mutated(LICENCES))
def test_licences(assignments: Any) -> None:
    lic = t.transform_licences(assignments)
    rows = lic.platform.attributes["licence_skus"]
    assert isinstance(rows, list) and lic.skus == len(rows)
    assert sum(r["consumed"] for r in rows) == lic.assigned  # type: ignore[index]
    assert all(isinstance(k, str) and k for k in lic.held)


@settings(max_examples=200)
@given(policies=mutated(POLICIES))
def test_policies(policies: Any) -> None:
    from sprawl_audit.connectors.google.policies import transform_policies

    out = transform_policies(policies if isinstance(policies, list) else [policies])
    assert all(isinstance(lk, ExternalLink) for lk in out.links)
    assert set(out.missing) <= {"collab.retention", "collab.federation",
                                "collab.meeting_policies", "mail.remote_domains"}
    for detail in (*out.missing.values(), *out.notes.values()):
        assert len(detail) < 2_000  # unit ids are the tenant's and are cut short


@settings(max_examples=150)
@given(value=st.one_of(st.integers(), st.floats(), st.text(max_size=12), st.none(),
                       st.sampled_from(("1e999", "-1e999", "inf", "nan", 10**400, 1e308))))
def test_numbers_from_reports(value: Any) -> None:
    """``intValue``s are strings; a huge or infinite one is 0 or a date, never a crash."""
    assert isinstance(t.as_int(value), int)
    assert t.epoch_to_date(value) is None or len(t.epoch_to_date(value) or "") == 10


# -- the live connector against the fake ---------------------------------------------------
_TMP = Path(tempfile.mkdtemp(prefix="prop-google-"))
ROUTES = {
    "users": r"/admin/directory/v1/users$",
    "devices": r"/admin/directory/v1/customer/[^/]+/devices/mobile$",
    "usage": r"/admin/reports/v1/usage/users/all/dates/.*",
    "spaces": r"/v1/spaces:search$",
    "licences": r"/apps/licensing/v1/product/Google-Apps/users$",
    "policies": r"/v1/policies$",
}
EXAMPLES = {
    "users": {"users": TENANT.users, "kind": "admin#directory#users"},
    "devices": {"mobiledevices": TENANT.devices},
    "usage": {"usageReports": TENANT.usage},
    "spaces": {"spaces": TENANT.spaces},
    "licences": {"items": TENANT.licences["Google-Apps"]},
    "policies": {"policies": TENANT.policies},
}


@settings(max_examples=8)
@given(feed=st.sampled_from(sorted(ROUTES)), data=st.data())
def test_live_connector_with_a_damaged_page(feed: str, data: st.DataObject) -> None:
    body = data.draw(mutated(EXAMPLES[feed], 2), label=feed)
    with FakeGoogle(TENANT) as fake:
        fake.add_fault(ROUTES[feed], Fault(status=200, body=body))
        out, _connector = run(fake, _TMP)
    c = cov(out)
    assert {"directory.users", "oauth.grants", "devices.apps", "activity.usage",
            "collab.external_channels", "licences.subscriptions"} <= set(c)
    for entry in c.values():
        assert entry.status in COVERAGE_STATUSES
        assert "internal error" not in entry.detail, entry
