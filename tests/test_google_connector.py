"""The Google connector against the fake tenant over real HTTP: records, coverage, faults.

The real google-api-python-client with its bundled discovery documents talks to
tests/fakes/google.py on loopback; the service-account flow signs real JWTs that the
fake token endpoint verifies. Virtual time (FakeClock) makes backoff and quota pacing
instant while recording every wait.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.google import BASE, FakeGoogle, expected, generate_tenant
from fakes.server import Fault
from google_helpers import FakeClock, cov, enabled_emails, run

INSUFFICIENT = {"error": {"code": 403, "message": "Request had insufficient authentication "
                                                 "scopes.", "status": "PERMISSION_DENIED",
                          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                       "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}


@pytest.fixture(scope="module")
def tenant():
    return generate_tenant(60)


def test_audit_of_the_fake_tenant_collects_every_topic(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        b, connector = run(fake, tmp_path)
    want = expected(tenant)
    c = cov(b)
    assert {t: c[t].status for t in c} == {
        "directory.users": "collected", "oauth.grants": "collected",
        "devices.apps": "partial", "activity.usage": "collected",
        "collab.external_channels": "collected", "mail.forwarding": "not_configured",
        "accounts.mfa": "collected", "licences.subscriptions": "collected",
        "collab.retention": "collected", "collab.federation": "collected",
        "collab.meeting_policies": "collected", "mail.remote_domains": "collected"}
    assert "work profile" in c["devices.apps"].detail  # the BYOD blind spot, stated
    # Admin console settings: one filtered policies.list page for four topics
    assert fake.calls["cloudidentity.policies.list"] == 1
    attrs: dict[str, Any] = {}
    for p in b.platforms:
        attrs.setdefault(p.id, {}).update(p.attributes)
    assert attrs["google-chat"]["chat_history_default"] == "on"  # ADMIN beats SYSTEM
    assert attrs["google-chat"]["external_chat"] == "trusted_domains"
    assert attrs["google-meet"]["meet_access_type"] == "trusted"
    assert attrs["google-meet"]["meet_open_units"] == 1  # the staff unit's override
    assert attrs["gmail"]["external_autoforwarding"] == "blocked"
    assert {p.id for p in b.people} == {e.lower() for e in tenant.emails}
    assert {a.person for a in b.accounts} == {p.id for p in b.people}
    assert {a.platform.value for a in b.accounts} == {"google-workspace-identity"}
    assert {p.id for p in b.platforms} == {"google-workspace-identity", "gmail",
                                           "google-chat", "google-meet"}
    assert {i.name for i in b.integrations} == want.integrations
    zoom = next(i for i in b.integrations if i.name == "Zoom for Google Workspace")
    assert zoom.user_count == sum(1 for e, toks in tenant.tokens.items()
                                  if any(t["displayText"] == zoom.name for t in toks))
    apps = {a.value for d in b.devices for a in d.apps}
    assert {"com.whatsapp", "org.telegram.messenger", "com.facebook.orca",
            "org.thoughtcrime.securesms"} <= apps
    assert "com.viber.voip" not in apps  # installed, then uninstalled
    assert {lk.target for lk in b.external_links} == want.external_targets
    assert {u.platform.value for u in b.usages} == {"gmail", "google-chat", "google-meet"}
    # Efficiency: one page of users, one batch of token lookups, one page per log.
    stats = connector.last_stats
    assert fake.calls["directory.users.list"] == 1
    assert stats.batch_requests["directory"] == 1
    assert fake.calls["directory.tokens.list"] == len(enabled_emails(tenant))
    assert fake.calls["reports.activities.list"] == 4  # token, mobile x2, meet


def test_a_mixed_case_batch_answer_is_read_on_the_first_try(tenant, tmp_path: Path) -> None:
    """Google's batch boundaries are mixed case; the fake sends them that way too. A
    case-folded match judged every batch answer "cut short" and lost it after six tries."""
    with FakeGoogle(tenant) as fake:
        b, connector = run(fake, tmp_path)
        batch_answers = [r for r in fake.server.log if r.path.startswith("/batch")]
    stats = connector.last_stats
    assert stats.retries == 0 and stats.batch_requests["directory"] == 1
    assert len(batch_answers) == 1
    assert cov(b)["oauth.grants"].status == "collected"
    assert {i.name for i in b.integrations} == expected(tenant).integrations


def test_paging_and_the_fault_matrix_lose_no_page(tmp_path: Path) -> None:
    big = generate_tenant(1200)
    clock = FakeClock()
    with FakeGoogle(big) as fake:
        users = "/admin/directory/v1/users$"
        fake.add_fault(users, Fault(status=429, headers={"Retry-After": "7"},
                                    body={"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}))
        fake.add_fault(users, Fault(status=503))
        fake.add_fault(users, Fault(kind="truncate", keep=40))
        fake.add_fault(users, Fault(kind="reset"))
        fake.add_fault(users, Fault(status=403, body={"error": {
            "code": 403, "message": "Quota exceeded", "errors": [
                {"reason": "userRateLimitExceeded"}]}}))
        fake.add_fault("/devices/mobile", Fault(kind="truncate", keep=100), times=2)
        fake.add_fault("/devices/mobile", Fault(status=500))
        fake.add_fault("/applications/token", Fault(status=502))
        fake.add_fault("/dates/", Fault(kind="truncate", keep=5))
        fake.add_fault(r"spaces:search", Fault(status=429))
        fake.add_part_fault("/tokens", Fault(status=429, headers={"Retry-After": "3"}), times=5)
        fake.add_part_fault("/tokens", Fault(status=503), times=5)
        b, connector = run(fake, tmp_path, clock=clock)
        # Three pages and five faults (one more if a reset lands after a request was sent).
        assert 3 + 5 <= len(fake.server.requests_to(users)) <= 3 + 5 + 1
    c = cov(b)
    assert c["directory.users"].status == "collected"
    assert len(b.people) == 1200
    assert c["oauth.grants"].status == "collected", c["oauth.grants"].detail
    holders = {e for e, toks in big.tokens.items() if toks}
    assert {u for i in b.integrations for u in i.users} >= holders
    assert c["devices.apps"].status == "partial" and "error" not in c["devices.apps"].detail
    assert len([d for d in b.devices if d.id.startswith("google:res-")]) == len(big.devices)
    assert c["activity.usage"].status == "collected"
    assert c["collab.external_channels"].status == "collected"
    assert 7.0 in clock.sleeps and 3.0 in clock.sleeps  # Retry-After honoured, page and part
    assert connector.last_stats.retries >= 10


def test_timeouts_and_429_without_retry_after_back_off(tenant, tmp_path: Path) -> None:
    clock = FakeClock()
    with FakeGoogle(tenant) as fake:
        fake.add_fault("/admin/directory/v1/users$", Fault(kind="delay", seconds=4.0))
        fake.add_fault("/admin/directory/v1/users$", Fault(status=429))
        b, connector = run(fake, tmp_path, clock=clock, timeout=1.5)
    assert cov(b)["directory.users"].status == "collected" and len(b.people) == 60
    directory = connector.last_stats.transports["directory"]
    assert directory.retries >= 2 and directory.by_status.get(429) == 1
    # full-jitter backoff (no Retry-After to go by): some wait, within the policy's cap
    assert 0 < directory.slept <= 2 * 60.0


def test_401_mid_run_fetches_a_fresh_token_and_retries_once(tmp_path: Path) -> None:
    big = generate_tenant(1200)
    seen = {"users": 0, "revoked": 0}
    with FakeGoogle(big) as fake:
        def revoke(_req, method: str) -> None:
            if method == "directory.users.list":
                seen["users"] += 1
                if seen["users"] == 2:
                    fake.revoke_all()
                    seen["revoked"] += 1

        fake.before = revoke
        b, connector = run(fake, tmp_path)
        grants = fake.token_grants["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert seen["revoked"] == 1
    assert len(b.people) == 1200 and cov(b)["directory.users"].status == "collected"
    assert connector.last_stats.auth_retries >= 1
    assert grants >= 7 + 1  # one token per scope (7), and a fresh one after the 401
    assert cov(b)["oauth.grants"].status == "collected"


def test_401_inside_a_batch_is_re_signed_by_the_client_library(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        state = {"done": False}

        def revoke(_req, method: str) -> None:
            if method == "directory.tokens.list" and not state["done"]:
                state["done"] = True
                fake.revoke_all()

        fake.before = revoke
        b, _ = run(fake, tmp_path)
        assert fake.batch_requests >= 2  # the parts that got 401 went again
    assert cov(b)["oauth.grants"].status == "collected"
    zoom = next(i for i in b.integrations if i.name == "Zoom for Google Workspace")
    assert zoom.user_count == sum(1 for toks in tenant.tokens.values()
                                  if any(t["clientId"] == "zoom.apps.example" for t in toks))


def test_an_undelegated_scope_makes_only_its_topic_forbidden(tmp_path: Path) -> None:
    t = generate_tenant(40)
    t.delegated.discard(BASE + "chat.admin.spaces.readonly")
    t.delegated.discard(BASE + "admin.directory.device.mobile.readonly")
    with FakeGoogle(t) as fake:
        b, _ = run(fake, tmp_path)
    c = cov(b)
    assert c["collab.external_channels"].status == "forbidden"
    assert "chat.admin.spaces.readonly" in c["collab.external_channels"].detail
    assert "domain-wide delegation" in c["collab.external_channels"].detail
    # The mobile log still brings app installs: partial, naming the missing scope.
    assert c["devices.apps"].status == "partial"
    assert "admin.directory.device.mobile.readonly" in c["devices.apps"].detail
    assert c["directory.users"].status == "collected"
    assert c["oauth.grants"].status == "collected"


def test_a_403_from_the_api_names_the_scope(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        fake.add_fault(r"spaces:search", Fault(status=403, body=INSUFFICIENT))
        b, _ = run(fake, tmp_path)
    c = cov(b)["collab.external_channels"]
    assert c.status == "forbidden" and "chat.admin.spaces.readonly" in c.detail


def test_a_plan_or_project_without_the_api_is_unavailable_not_an_error(tmp_path: Path) -> None:
    t = generate_tenant(40)
    t.disabled_apis.update(("chat", "policy"))
    t.unavailable.add("mobile")
    with FakeGoogle(t) as fake:
        b, _ = run(fake, tmp_path)
    c = cov(b)
    assert c["collab.retention"].status == c["mail.remote_domains"].status == "unavailable"
    assert "Cloud Identity Policy API is not enabled" in c["collab.retention"].detail
    assert c["collab.external_channels"].status == "unavailable"
    assert "not enabled" in c["collab.external_channels"].detail
    assert c["devices.apps"].status == "partial"
    assert "not available" in c["devices.apps"].detail


def test_a_feed_that_keeps_failing_ends_as_coverage_not_an_exception(tenant, tmp_path: Path
                                                                      ) -> None:
    with FakeGoogle(tenant) as fake:
        fake.add_fault("/dates/", Fault(status=503), times=20)
        b, _ = run(fake, tmp_path)
    c = cov(b)["activity.usage"]
    assert c.status == "partial"  # Meet still came in
    assert "HTTP 503 after 6 attempts" in c.detail


def test_a_later_than_day_that_does_not_exist_is_google_s_error(tenant, tmp_path: Path
                                                                ) -> None:
    """Google's "later than <day>" moves the report back to that day; a day no calendar
    has is not a day to move to (nor a ValueError): the 400 stands as Google worded it."""
    with FakeGoogle(replace(tenant, usage_latest="2026-02-30")) as fake:
        b, _ = run(fake, tmp_path)
    c = cov(b)["activity.usage"]
    assert c.status == "partial"  # Meet still came in
    assert "later than 2026-02-30" in c.detail and "unexpected" not in c.detail


def test_user_tokens_off_reads_only_the_audit_log(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        b, _ = run(fake, tmp_path, user_tokens=False)
        assert fake.calls["directory.tokens.list"] == 0
    c = cov(b)["oauth.grants"]
    assert c.status == "partial" and "user_tokens: false" in c.detail
    assert {i.name for i in b.integrations} == {"Otter.ai", "Fireflies.ai Notetaker"}


def test_gmail_forwarding_is_opt_in_capped_and_per_user(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        b, _ = run(fake, tmp_path, gmail_forwarding={"enabled": True, "max_users": 40})
        per_user = fake.token_grants["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        assert fake.calls["gmail.users.settings.getAutoForwarding"] == 40
    c = cov(b)["mail.forwarding"]
    assert c.status == "partial" and "first 40 of" in c.detail
    assert "without Gmail" in c.detail
    assert {lk.target for lk in b.external_links if lk.kind == "mail_forwarding"} == \
        {"gmail.com"}
    assert per_user >= 40  # one delegated token per mailbox owner


def test_all_gmail_mailboxes_checked(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        b, _ = run(fake, tmp_path, gmail_forwarding={"enabled": True})
    want = expected(tenant, gmail=True)
    assert cov(b)["mail.forwarding"].status == "collected"
    assert {lk.target for lk in b.external_links if lk.kind == "mail_forwarding"} == \
        want.forwarding_targets


def test_batches_go_to_the_configured_endpoint(tenant, tmp_path: Path) -> None:
    with FakeGoogle(tenant) as fake:
        run(fake, tmp_path, gmail_forwarding={"enabled": True, "max_users": 5})
        batch_posts = [r for r in fake.server.log if r.method == "POST" and
                       r.path.startswith("/batch")]
        assert {r.path for r in batch_posts} == {"/batch"}
        assert len(batch_posts) == fake.batch_requests >= 2


def test_explicit_ca_bundle_wins_over_the_environment(tenant, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from fakes.server import tls_pair

    _ca, cert, ca_path = tls_pair()
    _other, _cert2, other_path = tls_pair()  # a CA that did not sign the fake's certificate
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_path)
    monkeypatch.setenv("SSL_CERT_FILE", other_path)
    with FakeGoogle(tenant, tls=cert) as fake:
        assert fake.url.startswith("https://")
        b, _ = run(fake, tmp_path, ca_bundle=ca_path)
        assert cov(b)["directory.users"].status == "collected" and len(b.people) == 60
        assert cov(b)["oauth.grants"].status == "collected"  # batches over TLS too
        # Without it the environment's bundle is used — and the audit says why it failed.
        bad, _ = run(fake, tmp_path)
    detail = cov(bad)["directory.users"].detail
    assert cov(bad)["directory.users"].status == "error"
    assert "TLS certificate" in detail and "ca_bundle" in detail


def test_check_lists_granted_and_missing_scopes(tmp_path: Path) -> None:
    from fakes.google import sa_settings

    from sprawl_audit.connectors.google.connector import GoogleConnector, Runtime
    from sprawl_audit.connectors.interface import ConnectorContext

    t = generate_tenant(10)
    t.delegated.discard(BASE + "chat.admin.memberships.readonly")
    with FakeGoogle(t) as fake:
        key = fake.write_key(tmp_path / "sa.json")
        checks = GoogleConnector(Runtime(clock=FakeClock())).run_check(
            sa_settings(fake, key, gmail_forwarding={"enabled": True}),
            ConnectorContext(config_dir=str(tmp_path)))
        assert fake.calls == {}  # check signs in; it reads nothing
    by_scope = {c.needed: c for c in checks}
    assert by_scope[BASE + "chat.admin.memberships.readonly"].granted is False
    assert by_scope[BASE + "admin.directory.user.readonly"].granted is True
    tokens = by_scope[BASE + "admin.directory.user.security"]
    assert tokens.granted is True and "not read-only" in tokens.detail
    assert by_scope[BASE + "gmail.readonly"].granted is True
    assert [c.topic for c in checks].count("oauth.grants") == 2
    json.dumps([c.__dict__ for c in checks])  # plain data


def test_a_bug_in_one_feed_is_that_feed_s_error_not_a_crash(
        tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sprawl_audit.connectors.google.collect import Fetcher

    def broken(self):
        raise RuntimeError("user00003@example.org leaked into a message")

    monkeypatch.setattr(Fetcher, "devices", broken)
    with FakeGoogle(tenant) as fake:
        b, _ = run(fake, tmp_path)
    c = cov(b)["devices.apps"]
    assert c.status == "partial"  # the mobile audit log still came in
    assert "unexpected RuntimeError" in c.detail and "user00003" not in c.detail
    assert cov(b)["directory.users"].status == "collected"


@pytest.mark.parametrize("cycle", [False, True])
def test_a_repeating_page_token_ends_in_bounded_requests_with_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cycle: bool) -> None:
    """The same ``nextPageToken`` again (or A→B→A) is a coverage error after a bounded
    number of requests; it used to end the read quietly, as if it were complete."""
    import fakes.google as fake_module

    original = fake_module._page

    def repeating(items: list[Any], req: Any, key: str, limit: int,
                  size_param: str = "maxResults") -> dict[str, Any]:
        out = original(items, req, key, limit, size_param)
        if key == "users" and "nextPageToken" in out:
            start = int(req.query.get("pageToken", ["0"])[0] or 0)
            if not cycle or start > 0:
                out["nextPageToken"] = str(limit)  # the second page's token, again
        return out

    monkeypatch.setattr(fake_module, "_page", repeating)
    with FakeGoogle(generate_tenant(1200)) as fake:
        b, _connector = run(fake, tmp_path)
        requests = len(fake.server.requests_to("/admin/directory/v1/users$"))
    assert requests <= 3
    c = cov(b)["directory.users"]
    # The pages read before the repeat are kept, so the topic is partial (as for any read
    # that fails part-way) and the detail names the failure; never "collected".
    assert c.status == "partial", c
    assert "already given" in c.detail and "not read in full" in c.detail


def test_a_very_deep_json_page_is_a_coverage_error_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fakes.google as fake_module
    from fakes.server import Response

    def deep(self: Any, req: Any, m: Any) -> Response:
        return Response(200, b"[" * 100_000 + b"]" * 100_000,
                        {"Content-Type": "application/json"})

    monkeypatch.setattr(fake_module.FakeGoogle, "_users", deep)
    with FakeGoogle(generate_tenant(20)) as fake:
        b, _connector = run(fake, tmp_path)
    c = cov(b)["directory.users"]
    assert c.status == "error", c
    assert "nested too deeply" in c.detail


def test_a_trickling_token_endpoint_is_cut_at_the_deadline(tmp_path: Path) -> None:
    import time

    with FakeGoogle(generate_tenant(20)) as fake:
        fake.server.add_fault(r"/token", Fault(kind="trickle", seconds=0.2), times=50)
        started = time.monotonic()
        b, _connector = run(fake, tmp_path, timeout=1, request_deadline=1)
        took = time.monotonic() - started
        token_posts = len(fake.server.requests_to(r"/token"))
    assert {c.status for c in b.coverage} <= {"error", "not_configured"}
    assert "deadline" in cov(b)["directory.users"].detail
    # Cut at the deadline and not retried (it would trickle again): at most one request
    # per feed (feeds sign in side by side: 11 feeds with 9 scopes; a retry would double it).
    assert token_posts <= 11, token_posts
    assert took < 30, took  # per request at most the deadline, not a byte a second for ever


# -- the shared transport's limits, on Google's calls ---------------------------------------
def test_a_trickling_api_answer_is_cut_at_the_deadline_and_not_retried(tmp_path: Path) -> None:
    import time

    with FakeGoogle(generate_tenant(20)) as fake:
        users = "/admin/directory/v1/users$"
        fake.add_fault(users, Fault(kind="trickle", seconds=0.2), times=10)
        started = time.monotonic()
        b, _connector = run(fake, tmp_path, timeout=1, request_deadline=1.5)
        took = time.monotonic() - started
        sent = len(fake.server.requests_to(users))
    c = cov(b)["directory.users"]
    assert c.status == "error" and "deadline" in c.detail, c
    assert sent == 1  # a server that trickles once will do it again
    assert cov(b)["devices.apps"].status == "partial"  # the other feeds went on
    assert took < 30, took


def test_a_gzip_bomb_is_refused_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    import fakes.google as fake_module
    from fakes.server import Response, gzip_bomb

    bomb = gzip_bomb(64 * 1024 * 1024)

    def inflating(self: Any, req: Any, m: Any) -> Response:
        return Response(200, bomb, {"Content-Type": "application/json",
                                    "Content-Encoding": "gzip"})

    monkeypatch.setattr(fake_module.FakeGoogle, "_users", inflating)
    with FakeGoogle(generate_tenant(20)) as fake:
        b, _connector = run(fake, tmp_path, max_response_mb=4)
        sent = len(fake.server.requests_to("/admin/directory/v1/users$"))
    c = cov(b)["directory.users"]
    assert c.status == "error" and "larger than 4194304 bytes" in c.detail, c
    assert sent == 1  # not retried: it would inflate again


def test_a_batch_answer_without_its_closing_boundary_is_sent_again(
        tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut between parts, a multipart answer is well-formed HTTP (its length matches) but
    lacks ``--boundary--``: the transport's ``cut_short`` hook has it sent again."""
    import fakes.google as fake_module

    original = fake_module.FakeGoogle._batch
    cut = {"done": 0}

    def cut_once(self: Any, req: Any) -> Any:
        resp = original(self, req)
        if not cut["done"]:
            cut["done"] += 1
            body = resp.body
            resp.body = body[: body.rindex(b"--batch_")]
        return resp

    monkeypatch.setattr(fake_module.FakeGoogle, "_batch", cut_once)
    with FakeGoogle(tenant) as fake:
        b, connector = run(fake, tmp_path)
        batches = fake.batch_requests
    assert cut["done"] == 1 and batches == 2
    assert connector.last_stats.transports["directory"].retries == 1
    assert cov(b)["oauth.grants"].status == "collected"
    assert {i.name for i in b.integrations} == expected(tenant).integrations

