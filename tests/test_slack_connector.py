"""SlackConnector.collect against the fake Slack Web API: plans, Enterprise Grid, token
kinds, missing scopes, the fault matrix and settings. The audit always finishes; what it
could not see is coverage."""

from __future__ import annotations

from typing import Any

import pytest
from fakes.server import Fault, tls_pair
from fakes.slack import (
    ADMIN_SCOPES,
    ALL_SCOPES,
    FakeSlack,
    Token,
    demo_org,
    generate_org,
    minimum_requests,
)

from sprawl_audit.connectors.interface import ConnectorContext
from sprawl_audit.connectors.slack.connector import SlackConnector
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import AppRef, InventoryBuilder

TOKEN = "xoxp-4242-4242-connector-test"


def collect(fake: FakeSlack, monkeypatch: pytest.MonkeyPatch, token: str = TOKEN,
            context: ConnectorContext | None = None, **settings: Any) -> InventoryBuilder:
    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", token)
    connector = SlackConnector(sleep=lambda _s: None)
    return connector.run({"base_url": fake.base_url, **settings},
                             context or ConnectorContext())


def cov(out: InventoryBuilder) -> dict[str, Any]:
    topics = [c.topic for c in out.coverage]
    assert len(topics) == len(set(topics)), "one coverage entry per topic"
    return {c.topic: c for c in out.coverage}


def user_token(org, scopes=ALL_SCOPES, **kw) -> Token:
    return Token(TOKEN, team_id=org.first.id, scopes=frozenset(scopes), **kw)


def test_pro_workspace_gives_platform_people_apps_and_partners(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch)
        assert fake.requests() == minimum_requests(org, org_token=False)
    [platform] = out.platforms
    assert platform.id == "slack:T05HQ2R7XKZ" and platform.ref == AppRef("slug", "slack")
    attrs = platform.attributes
    assert attrs["plan"] == "pro" and attrs["billing_plan"] == "std"
    assert attrs["retention"] == {"messages": "delete_after_days", "messages_days": 730,
                                  "files": "keep_all"}
    assert attrs["login_countries"] == {"GB": 39} and attrs["bots"] == 4
    people = {p.id: p for p in out.people}
    renata = people["renata.silva@cobaltms.co.uk"]
    assert renata.guest and renata.attributes["restricted"] is True
    assert not people["anna.bell@riversidehomes.org.uk"].enabled
    assert {a.person for a in out.accounts} == set(people)
    assert all(a.mfa is not None for a in out.accounts)  # the fake's token is an admin's
    assert not any(p.id.startswith("slack:u") and "bot" in p.id for p in people.values())
    assert {i.name for i in out.integrations} >= {"Jira Cloud", "Otter.ai", "Zoom", "GitHub",
                                                   "Microsoft Teams Calls"}
    assert all(i.kind == "slack_app" and i.host == AppRef("platform", platform.id)
               for i in out.integrations)
    assert {link.target for link in out.external_links} == {"cobaltms.co.uk",
                                                            "Keystone Housing Systems"}
    assert all(link.kind == "shared_channel" for link in out.external_links)
    usage = {u.person: u for u in out.usages}
    assert usage["julie.hall@riversidehomes.org.uk"].last_active
    statuses = {t: c.status for t, c in cov(out).items()}
    assert statuses == dict.fromkeys(
        ["directory.users", "directory.guests", "activity.usage", "access.logs",
         "collab.external_channels", "oauth.grants", "collab.retention", "accounts.mfa",
         "licences.subscriptions", "collab.guest_reach"],
        "collected")
    # billable members: live people the fake bills (Fair Billing) hold the plan's seat
    [row] = attrs["licence_skus"]
    billed = {a.person for a in out.accounts if a.attributes.get("licences") == ["slack-pro"]}
    assert row == {"sku": "slack-pro", "product": "Slack Pro", "enabled": None,
                   "suspended": None, "warning": None, "consumed": len(billed)}
    assert len(billed) == 39 and "anna.bell@riversidehomes.org.uk" not in billed
    # each guest's channels, read live through users.conversations
    reach = {a.person: a.attributes.get("reach") for a in out.accounts
             if people[a.person].guest}
    assert reach["kieran.walsh.it@outlook.com"] == ["#ict-projects", "#ict-security",
                                                    "#ict-servicedesk"]
    assert reach["priya.natarajan@keystonehousing.co.uk"] == ["#ext-keystone-upgrade"]
    assert len(fake.calls_to("users.conversations")) == 4


def test_free_plan_audits_with_unavailable_coverage_instead_of_failing(monkeypatch) -> None:
    org = demo_org("free")
    no_billing = ALL_SCOPES - {"team.billing:read"}
    with FakeSlack(org, [user_token(org, no_billing)]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert c["access.logs"].status == "unavailable" and "paid_only" in c["access.logs"].detail
    assert c["oauth.grants"].status == "unavailable"
    assert "team.integrationLogs" in c["oauth.grants"].detail
    assert c["activity.usage"].status == "partial" and "paid_only" in c["activity.usage"].detail
    assert c["collab.retention"].status == "unavailable"
    assert c["directory.users"].status == "collected"
    assert "team.billing:read" in c["directory.users"].detail  # why the plan is inferred
    assert c["collab.external_channels"].status == "collected"
    [platform] = out.platforms
    assert platform.attributes["plan"] == "free"
    assert platform.attributes["plan_source"] == "paid_only answers"
    assert out.people and out.external_links and not out.integrations
    assert all(u.last_active is None for u in out.usages)
    # Without access logs, who Slack bills as active (team.billableInfo) is recorded.
    assert len(fake.calls_to("team.billableInfo")) == 1
    assert "billed as active" in c["activity.usage"].detail
    assert all(u.activity.get("billing_active") == 1 for u in out.usages)
    assert all(a.attributes.get("billing_active") is True for a in out.accounts if a.enabled)


def test_enterprise_org_token_reads_every_workspace(monkeypatch) -> None:
    org = generate_org(members=900, channels=400, workspaces=3, plan="enterprise")
    token = Token(TOKEN, kind="org", scopes=ALL_SCOPES | ADMIN_SCOPES)
    with FakeSlack(org, [token]) as fake:
        out = collect(fake, monkeypatch)
        assert fake.requests() == minimum_requests(org, org_token=True)
        assert all(c.get("team_id") for c in fake.calls_to("users.list"))
    assert sorted(p.id for p in out.platforms) == [f"slack:{t}" for t in sorted(org.workspaces)]
    for p in out.platforms:
        assert p.attributes["plan"] == "enterprise"
        assert p.attributes["enterprise_id"] == "E0ACME0001"
        assert p.attributes["sso"] is True and p.attributes["saml"] is True
        assert p.attributes["restricted_apps"] == ["Fireflies.ai", "Read AI"]
    apps = {(i.host.value, i.name): i for i in out.integrations}
    jira = apps[("slack:T0ACME0000", "Jira Cloud")]  # approved at org level
    assert jira.consent_type == "admin" and jira.attributes["sanctioned_hint"] is True
    fireflies = apps[("slack:T0ACME0000", "Fireflies.ai")]  # restricted, still installed
    assert fireflies.attributes["restricted"] is True
    assert fireflies.attributes["sanctioned_hint"] is False
    assert ("slack:T0ACME0000", "Read AI") not in apps  # restricted, never installed
    assert {link.target for link in out.external_links} == org.partners()
    # channels shared between the org's own workspaces are not outside links
    assert not any(link.target.startswith("T0ACME") for link in out.external_links)
    c = cov(out)
    assert all(x.status == "collected" for x in c.values()), c
    assert c["directory.users"].detail.startswith("3 workspaces")
    people = {p.id for p in out.people}
    assert len(people) == 900


def test_enterprise_workspace_token_audits_its_workspace_and_says_so(monkeypatch) -> None:
    org = generate_org(members=90, channels=40, workspaces=2, plan="enterprise")
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch)
        assert not fake.calls_to("admin.teams.list")
    assert [p.id for p in out.platforms] == ["slack:T0ACME0000"]
    c = cov(out)
    assert c["directory.users"].status == "partial"
    assert "admin.teams:read" in c["directory.users"].detail


def test_org_token_without_admin_teams_scope_is_forbidden_not_a_crash(monkeypatch) -> None:
    org = generate_org(members=30, channels=10, workspaces=2, plan="enterprise")
    token = Token(TOKEN, kind="org", scopes=ALL_SCOPES | {"admin.apps:read"})
    with FakeSlack(org, [token]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert {x.status for x in c.values()} == {"forbidden"}
    assert "admin.teams:read" in c["directory.users"].detail
    assert not out.people


def test_bot_token_gets_forbidden_admin_topics_naming_the_token_type(monkeypatch) -> None:
    org = demo_org("business+")
    with FakeSlack(org, [user_token(org, kind="bot")]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)
    for topic in ("access.logs", "oauth.grants"):
        assert c[topic].status == "forbidden"
        assert "not_allowed_token_type" in c[topic].detail and "user token" in c[topic].detail
    assert c["directory.users"].status == "collected"
    assert c["activity.usage"].status == "partial"


def test_missing_scopes_are_named_in_forbidden_coverage(monkeypatch) -> None:
    org = demo_org("pro")
    scopes = ALL_SCOPES - {"admin", "team.preferences:read", "users:read.email"}
    with FakeSlack(org, [user_token(org, scopes)]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert c["access.logs"].status == "forbidden"
    assert c["access.logs"].detail == "team.accessLogs: missing scope admin (missing_scope)"
    assert "missing scope admin" in c["oauth.grants"].detail
    assert c["collab.retention"].status == "forbidden"
    assert "team.preferences:read" in c["collab.retention"].detail
    # without users:read.email people are keyed by Slack id, still counted
    assert out.people and all(p.id.startswith("slack:") for p in out.people)


def test_without_groups_read_public_channels_are_still_read(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org, ALL_SCOPES - {"groups:read"})]) as fake:
        out = collect(fake, monkeypatch)
    c = cov(out)["collab.external_channels"]
    assert c.status == "partial" and "groups:read" in c.detail
    # ext-cobalt-major-incidents is private: only the public Cobalt channel is linked
    cobalt = next(link for link in out.external_links if link.target == "cobaltms.co.uk")
    assert cobalt.attributes["channels"] == ["ext-cobalt-support"]
    # each guest's channels likewise: public ones only, and the coverage says so
    reach = cov(out)["collab.guest_reach"]
    assert reach.status == "partial" and "public channels only" in reach.detail
    kieran = next(a for a in out.accounts if a.person == "kieran.walsh.it@outlook.com")
    assert kieran.attributes["reach"] == ["#ict-projects", "#ict-servicedesk"]


def test_http_403_on_one_topic_names_the_scope_and_the_rest_is_collected(monkeypatch) -> None:
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/team\.integrationLogs$", Fault(
            status=403, body={"ok": False, "error": "missing_scope", "needed": "admin",
                              "provided": "users:read"}))
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert c["oauth.grants"].status == "forbidden"
    assert "missing scope admin" in c["oauth.grants"].detail
    assert {t for t, x in c.items() if x.status == "collected"} == {
        "directory.users", "directory.guests", "activity.usage", "access.logs",
        "collab.external_channels", "collab.retention", "accounts.mfa",
        "licences.subscriptions", "collab.guest_reach"}


@pytest.mark.parametrize("how", ["token revoked", "HTTP 401 invalid_auth"])
def test_token_rejected_mid_run_keeps_what_was_read_and_stops_calling(monkeypatch,
                                                                       how: str) -> None:
    org = generate_org(members=600, channels=50, plan="pro")
    token = user_token(org)
    with FakeSlack(org, [token]) as fake:
        def on_call(method: str, _args: dict) -> None:
            if method == "team.accessLogs":
                if how == "token revoked":
                    token.revoked = True
                else:
                    fake.server.add_fault(r"/api/", Fault(
                        status=401, body={"ok": False, "error": "invalid_auth"}), times=99)

        fake.on_call = on_call
        out = collect(fake, monkeypatch)
        requests = fake.requests()
    c = cov(out)
    assert c["directory.users"].status == "collected" and len(out.people) == 600
    for topic in ("collab.external_channels", "oauth.grants", "collab.retention"):
        assert c[topic].status == "error"
        assert "Slack rejected the token" in c[topic].detail
    # auth.test, team.info, billing, 4 pages of users, 1 of access logs, then the one
    # rejected call: nothing after it (no hammering with a dead token)
    assert requests <= 9


def test_a_lasting_5xx_part_way_keeps_the_pages_read_as_partial(monkeypatch) -> None:
    org = generate_org(members=600, channels=20, plan="pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        seen = []

        def on_call(method: str, _args: dict) -> None:
            if method == "users.list" and not seen:
                seen.append(1)
                fake.server.add_fault(r"/api/users\.list$", Fault(status=500), times=20)

        fake.on_call = on_call
        out = collect(fake, monkeypatch)
    c = cov(out)
    assert c["directory.users"].status == "partial"
    assert "stopped after 1 page: users.list: HTTP 500" in c["directory.users"].detail
    assert c["directory.guests"].status == "partial"
    assert c["access.logs"].status == "collected"


FAULTS = {
    "429 + Retry-After": Fault(status=429, body={"ok": False, "error": "ratelimited"},
                               headers={"Retry-After": "1"}),
    "429 bare": Fault(status=429),
    "ratelimited body": Fault(status=200, body={"ok": False, "error": "ratelimited"},
                              headers={"Retry-After": "1"}),
    "500": Fault(status=500),
    "503": Fault(status=503),
    "truncated JSON": Fault(kind="truncate", keep=25),
    "reset": Fault(kind="reset"),
}
PAGED = ["users.list", "team.accessLogs", "conversations.list", "team.integrationLogs",
         "team.billableInfo", "users.conversations"]


def _snapshot(out: InventoryBuilder) -> tuple:
    return (sorted(p.id for p in out.people), sorted((u.person, u.last_active)
                                                    for u in out.usages),
            sorted(link.target for link in out.external_links),
            sorted((i.id, i.user_count) for i in out.integrations),
            sorted((c.topic, c.status, c.items) for c in out.coverage))


@pytest.fixture(scope="module")
def big_org():
    org = generate_org(members=2100, channels=2100, partners=6, plan="business+")
    org.first.integration_logs *= 90  # more than one page of log
    return org


@pytest.fixture(scope="module")
def clean_run(big_org, tmp_path_factory) -> tuple:
    mp = pytest.MonkeyPatch()
    try:
        with FakeSlack(big_org, [user_token(big_org)]) as fake:
            return _snapshot(collect(fake, mp))
    finally:
        mp.undo()


@pytest.mark.parametrize("method", PAGED)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_matrix_loses_no_page(monkeypatch, big_org, clean_run, method: str,
                                    fault: str) -> None:
    with FakeSlack(big_org, [user_token(big_org)]) as fake:
        armed = []

        def on_call(name: str, _args: dict) -> None:
            if name == method and not armed:  # first page answered: fault the second
                armed.append(True)
                fake.server.add_fault("/api/" + method.replace(".", r"\.") + "$",
                                      FAULTS[fault])

        fake.on_call = on_call
        out = collect(fake, monkeypatch)
        assert armed
    assert _snapshot(out) == clean_run


def test_settings_errors_are_one_line_with_the_key(monkeypatch, tmp_path) -> None:
    connector = SlackConnector()
    ctx = ConnectorContext(config_dir=str(tmp_path))
    monkeypatch.delenv("NO_SUCH_SLACK_TOKEN", raising=False)
    with pytest.raises(UserError) as err:
        connector.run({"token_env": "NO_SUCH_SLACK_TOKEN"}, ctx)
    assert "connectors.slack.token_env" in str(err.value) and "NO_SUCH_SLACK_TOKEN" in str(
        err.value)
    with pytest.raises(UserError, match="https"):
        connector.run({"base_url": "http://slack.example.org/api/"}, ctx)
    with pytest.raises(UserError, match="unknown key"):
        connector.run({"token": "xoxp-inline"}, ctx)
    with pytest.raises(UserError, match="no such file"):
        connector.run({"ca_bundle": "missing.pem"}, ctx)
    with pytest.raises(UserError, match="environment variable"):
        connector.run({"token_env": "xoxp-1234-looks-like-a-token"}, ctx)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", TOKEN)
    with pytest.raises(UserError, match="PEM"):
        connector.run({"ca_bundle": "bad.pem"}, ctx)


def test_org_domains_from_context_mark_outsiders(monkeypatch) -> None:
    org = demo_org("pro")
    org.first.team["email_domain"] = ""
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch, context=ConnectorContext(
            domains=("riversidehomes.org.uk",)))
    outsiders = {p.id for p in out.people if p.attributes.get("external")}
    assert outsiders and all(not p.endswith("riversidehomes.org.uk") for p in outsiders)


def test_ca_bundle_in_config_wins_over_the_environment(monkeypatch, tmp_path) -> None:
    import shutil
    import ssl

    _ca, cert, ca_path = tls_pair()
    shutil.copy(ca_path, tmp_path / "corp-proxy-ca.pem")
    system = ssl.get_default_verify_paths().openssl_cafile
    monkeypatch.setenv("SSL_CERT_FILE", system)  # trusts the world, not the fake's CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", system)
    org = demo_org("pro")
    with FakeSlack(org, [user_token(org)], tls=cert) as fake:
        ctx = ConnectorContext(config_dir=str(tmp_path))
        out = collect(fake, monkeypatch, context=ctx, ca_bundle="corp-proxy-ca.pem")
        assert {c.status for c in out.coverage} == {"collected"}
        without = collect(fake, monkeypatch, context=ctx)
    assert not without.people
    statuses = {c.status for c in without.coverage}
    assert statuses == {"error"}
    assert all("ca_bundle" in c.detail for c in without.coverage)


def test_check_of_an_unreachable_slack_is_a_one_line_error(monkeypatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", TOKEN)
    with pytest.raises(UserError, match="cannot check"):
        SlackConnector(sleep=lambda _s: None).run_check(
            {"base_url": f"http://127.0.0.1:{port}/api/"}, ConnectorContext())


def test_a_timeout_on_a_middle_page_is_retried(monkeypatch) -> None:
    org = generate_org(members=20, channels=2100, partners=3, plan="pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        armed = []

        def on_call(method: str, _args: dict) -> None:
            if method == "conversations.list" and not armed:
                armed.append(True)
                fake.server.add_fault(r"/api/conversations\.list$",
                                      Fault(kind="delay", seconds=2.5))

        fake.on_call = on_call
        out = collect(fake, monkeypatch, timeout=1)
        assert fake.requests("conversations.list") >= 4  # three pages, the second twice
    c = cov(out)["collab.external_channels"]
    assert c.status == "collected" and c.items == len(org.partners())


@pytest.mark.parametrize("cycle", [False, True])
def test_a_repeating_cursor_ends_in_bounded_requests_with_an_error(monkeypatch,
                                                                   cycle: bool) -> None:
    """The same ``next_cursor`` again (or A→B→A) stops the listing after a bounded number
    of requests and says so in coverage: error, as for every connector's repeated next
link, with the pages read kept."""
    import fakes.slack as fake_module

    original = FakeSlack._page

    def repeating(self, method, items, args, **kw):
        out = original(self, method, items, args, **kw)
        if method == "users.list" and out["response_metadata"]["next_cursor"]:
            first = fake_module._cursor(method, int(args.get("limit") or 1))
            second = fake_module._cursor(method, 2 * int(args.get("limit") or 1))
            at_start = not args.get("cursor")
            out["response_metadata"]["next_cursor"] = (
                first if not cycle or at_start or args.get("cursor") == second
                else second)
        return out

    monkeypatch.setattr(FakeSlack, "_page", repeating)
    org = generate_org(members=1200, channels=5, plan="pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        out = collect(fake, monkeypatch)
        calls = len(fake.server.requests_to(r"/api/users\.list$"))
    assert calls == (3 if cycle else 2)  # never the repeated cursor's page again
    c = cov(out)["directory.users"]
    # the shared LinkGuard's rule: a stopped listing is an error, the pages read kept
    assert c.status == "error", c
    assert 0 < c.items <= len(out.people)  # members read before the loop (guests apart)
    assert "already given" in c.detail and "cursor_loop" in c.detail


def test_shared_http_settings_configure_slack_sdk(monkeypatch, caplog) -> None:
    """``timeout`` and ``max_retries`` reach slack_sdk (its timeout, its retry handlers);
    ``request_deadline``/``max_response_mb`` are accepted, said not to apply."""
    monkeypatch.setenv("SPRAWL_SLACK_TOKEN", TOKEN)
    connector = SlackConnector(sleep=lambda _s: None)
    ctx = ConnectorContext()
    defaults = connector.parse_settings({}, ctx)
    assert (defaults.http.timeout, defaults.http.max_retries) == (30.0, 5)
    assert TOKEN not in repr(defaults)
    for bad in ({"max_retries": 0}, {"timeout": 0}, {"max_response_mb": 0},
                {"timeout": 60, "request_deadline": 10}):
        with pytest.raises(UserError) as err:
            connector.parse_settings(bad, ctx)
        assert f"connectors.slack.{list(bad)[-1]}" in str(err.value)
    with caplog.at_level("WARNING", logger="sprawl_audit.connectors.slack"):
        tuned = connector.parse_settings({"timeout": 5, "max_retries": 2,
                                          "request_deadline": 60}, ctx)
    assert "request_deadline is not applied to Slack" in caplog.text
    api = connector.api(tuned)
    assert api.web.timeout == 5
    assert {h.max_retry_count for h in api.web.retry_handlers} == {1}
    org = generate_org(members=10, channels=2, plan="pro")
    with FakeSlack(org, [user_token(org)]) as fake:
        fake.server.add_fault(r"/api/users\.list$", Fault(status=503), times=10)
        out = collect(fake, monkeypatch, max_retries=2)
        assert fake.requests("users.list") == 2  # max_retries attempts, then coverage
    assert cov(out)["directory.users"].status == "error"
