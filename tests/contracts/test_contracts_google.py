"""Google Admin SDK answers as Google documents them, through the real Google transforms.

The Directory and Reports samples go to the transform functions the connector calls
(pages as the API returns them); the batch sample goes through the real batch client —
google-api-python-client's BatchHttpRequest over our transport, with its completeness
check — from a loopback server that answers with the documented body.
"""

from __future__ import annotations

from typing import Any

from corpus import load
from fakes.server import FakeServer, Request, Response
from google_helpers import FakeClock

from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.google.auth import ManagedCredentials, token_transport
from sprawl_audit.connectors.google.client import GoogleClient, api_transports
from sprawl_audit.connectors.google.collect import TOKEN_FIELDS, token_items
from sprawl_audit.connectors.google.errors import ApiFailure
from sprawl_audit.connectors.google.http import boundary_of, complete
from sprawl_audit.connectors.google.scopes import FEEDS_BY_NAME
from sprawl_audit.connectors.google.transform import (
    transform_accounts,
    transform_devices,
    transform_grants,
    transform_meet_log,
    transform_usage,
    transform_users,
)

ORG = ("riverside.example",)


def page(key: str) -> list[dict[str, Any]]:
    return [load(key).json()]


# -- users ---------------------------------------------------------------------------------------
def test_users_list_gives_people() -> None:
    people = {p.id: p for p in transform_users(page("google/users-list"))}
    assert list(people) == ["priya.shah@riverside.example", "tom.okafor@riverside.example",
                            "new.starter@riverside.example", "leaver.jones@riverside.example",
                            "archive.2019@riverside.example"]
    priya = people["priya.shah@riverside.example"]
    assert (priya.display_name, priya.department, priya.job_title, priya.enabled) == (
        "Priya Shah", "Repairs", "Head of Repairs", True)
    assert priya.attributes == {"org_unit": "/Staff/Repairs"}
    tom = people["tom.okafor@riverside.example"]  # the organisation marked primary wins
    assert (tom.department, tom.job_title) == ("Housing", "Housing Officer")
    starter = people["new.starter@riverside.example"]  # no organizations, top-level unit
    assert (starter.department, starter.job_title, starter.attributes["org_unit"]) == (
        "", "", "/")
    assert people["leaver.jones@riverside.example"].enabled is False  # suspended
    archived = people["archive.2019@riverside.example"]
    assert (archived.enabled, archived.department) == (False, "Archive")


def test_users_list_gives_accounts_with_two_step_verification_and_admin_roles() -> None:
    accounts = {a.person: a for a in transform_accounts(page("google/users-list"))}
    priya = accounts["priya.shah@riverside.example"]
    assert (priya.mfa, priya.mfa_enforced, priya.admin, priya.role, priya.last_login) == (
        True, True, True, "super_admin", "2026-12-04")
    tom = accounts["tom.okafor@riverside.example"]
    assert (tom.mfa, tom.admin, tom.role) == (False, True, "delegated_admin")
    starter = accounts["new.starter@riverside.example"]
    assert (starter.last_login, starter.admin, starter.role) == (None, False, "user")
    assert accounts["leaver.jones@riverside.example"].enabled is False
    assert {a.platform.value for a in accounts.values()} == {"google-workspace-identity"}


def test_a_partial_response_leaves_the_flags_it_lacks_unknown() -> None:
    accounts = transform_accounts(page("google/users-list-fields"))
    assert [(a.person, a.mfa, a.mfa_enforced, a.admin, a.role, a.last_login, a.enabled)
            for a in accounts] == [
        ("grace.lee@riverside.example", None, None, None, "", None, True),
        ("lettings@riverside.example", None, None, None, "", None, True),
    ]
    people = transform_users(page("google/users-list-fields"))
    assert [p.department for p in people] == ["Staff/IT", "Shared"]


# -- tokens and the token audit log -------------------------------------------------------------
def test_tokens_and_the_token_log_give_oauth_integrations() -> None:
    tokens, errors = token_items(
        ["Priya.Shah@riverside.example", "new.starter@riverside.example"],
        {"Priya.Shah@riverside.example": load("google/tokens-list").json(),
         "new.starter@riverside.example": load("google/tokens-list-none").json()})
    assert errors == [] and tokens["new.starter@riverside.example"] == []
    apps = {i.name: i for i in transform_grants(tokens, page("google/activities-token"))}
    assert set(apps) == {"Zoom for Google Workspace", "Otter.ai", "iOS Mail", "Fireflies.ai"}
    zoom = apps["Zoom for Google Workspace"]
    assert zoom.users == ("priya.shah@riverside.example",)
    assert zoom.scopes == ("https://www.googleapis.com/auth/calendar.events",
                           "https://www.googleapis.com/auth/userinfo.email", "openid")
    assert zoom.attributes == {
        "client_id": "849883241272-ed6lnodi1grnoomiuknqkq2rbvd2udku.apps.googleusercontent.com",
        "native_app": False, "anonymous": False, "currently_granted": True}
    otter = apps["Otter.ai"]  # granted now by Priya, authorised in the log by Grace
    assert otter.users == ("grace.lee@riverside.example", "priya.shah@riverside.example")
    assert otter.attributes["last_authorised"] == "2026-11-20"
    assert otter.attributes["client_type"] == "WEB"
    assert otter.source.detail == "tokens.list + token audit log"
    assert apps["iOS Mail"].attributes["anonymous"] is True
    fireflies = apps["Fireflies.ai"]  # authorised, then revoked: used, no longer granted
    assert (fireflies.users, fireflies.attributes["currently_granted"]) == (
        ("tom.okafor@riverside.example",), False)
    assert all(i.consent_type == "user" and i.host.value == "google-workspace-identity"
               for i in apps.values())


# -- devices ------------------------------------------------------------------------------------
def test_mobile_devices_and_the_device_log_give_devices_with_apps() -> None:
    devices, stats = transform_devices(page("google/mobiledevices-list"),
                                       page("google/activities-mobile"))
    by_owner = {(d.owner, d.os): d for d in devices}
    work_profile = by_owner[("tom.okafor@riverside.example", "Android 15")]
    assert work_profile.ownership == "personal"
    assert [a.value for a in work_profile.apps] == ["com.whatsapp", "com.google.android.gm"]
    # Viber was installed and uninstalled since: not on the phone.
    assert work_profile.source.detail == "mobiledevices.list"
    managed = by_owner[("priya.shah@riverside.example", "Android 14")]
    assert (managed.ownership, [(a.kind, a.value) for a in managed.apps]) == (
        "corporate", [("android", "org.telegram.messenger")])
    iphone = by_owner[("grace.lee@riverside.example", "iOS 18.1")]
    assert (iphone.apps, iphone.ownership) == ((), "unknown")
    assert ("new.starter@riverside.example", "Google Sync") in by_owner
    log_only = by_owner[("leaver.jones@riverside.example", "Android")]
    assert log_only.id == "google:device:b7c8d9e0f1a2b3c4"
    assert [a.value for a in log_only.apps] == ["org.thoughtcrime.securesms"]
    assert (stats.devices, stats.with_app_list, stats.without_app_list, stats.personal,
            stats.log_events, stats.log_only_devices) == (4, 2, 2, 1, 3, 1)


# -- usage --------------------------------------------------------------------------------------
def test_meet_log_gives_meet_usage_of_internal_participants() -> None:
    usages = transform_meet_log(page("google/activities-meet"), ORG)
    assert [(u.person, u.last_active, u.activity) for u in usages] == [
        ("priya.shah@riverside.example", "2026-12-01", {"calls": 1, "call_minutes": 30}),
        ("tom.okafor@riverside.example", "2026-11-25", {"calls": 1, "call_minutes": 10}),
    ]  # the outside participant and the dial-in caller are not staff usage


def test_usage_report_gives_gmail_and_chat_usage_of_people_who_used_them() -> None:
    usages, stats = transform_usage(page("google/usage-users"))
    got = {(u.person, u.platform.value): u for u in usages}
    assert set(got) == {("priya.shah@riverside.example", "gmail"),
                        ("priya.shah@riverside.example", "google-chat")}
    gmail = got[("priya.shah@riverside.example", "gmail")]
    assert (gmail.last_active, gmail.activity) == ("2026-12-02", {"sent": 37, "received": 412})
    chat = got[("priya.shah@riverside.example", "google-chat")]
    assert (chat.last_active, chat.activity) == (
        None, {"messages_sent_28d": 58, "conversations_read_28d": 120})
    # Tom only received mail (no interaction, nothing sent): that is not using Gmail.
    assert (stats.rows, stats.gmail, stats.chat, stats.report_date) == (3, 1, 1, "2026-12-03")


def test_a_day_not_yet_processed_gives_no_usage() -> None:
    usages, stats = transform_usage(page("google/usage-users-not-ready"))
    assert usages == [] and stats.rows == 0


# -- the batch answer ---------------------------------------------------------------------------
class _Signed:
    """The inner credential of a ManagedCredentials: a token, no network."""

    token: str | None = None
    expiry = None

    def refresh(self, _request: Any) -> None:
        self.token = "contract-test-token"


def test_documented_batch_answer_is_read_on_the_first_try() -> None:
    sample = load("google/batch-tokens")
    content_type = str(sample.meta["content_type"])
    body = sample.path.read_bytes()
    assert boundary_of(content_type) == "batch_Rk9Y2mQ7tW_AAJb3Vx8pLc="
    assert complete({"content-type": content_type}, body)

    with FakeServer() as server:
        @server.route("POST", r"/batch")
        def _batch(_req: Request) -> Response:
            return Response(200, body, {"Content-Type": content_type})

        http = HttpSettings(timeout=5)
        client = GoogleClient(api_transports(http, 6000, clock=FakeClock()), server.url + "/")
        creds = ManagedCredentials(_Signed(), token_transport(http), ("scope",),
                                   "service_account", None)
        tokens_api = client.service("directory").tokens()
        emails = ["Priya.Shah@riverside.example", "new.starter@riverside.example",
                  "gone.user@riverside.example"]
        calls = [(e, tokens_api.list(userKey=e, fields=TOKEN_FIELDS), creds) for e in emails]
        results = client.batch(calls, FEEDS_BY_NAME["tokens"])
        assert [(r.method, r.path) for r in server.log] == [("POST", "/batch")]
    assert client.stats.retries == 0
    gone = results["gone.user@riverside.example"]
    assert isinstance(gone, ApiFailure) and gone.http_status == 404
    tokens, errors = token_items(emails, results)
    assert errors == []
    assert tokens["new.starter@riverside.example"] == []
    assert tokens["gone.user@riverside.example"] == []  # deleted while read: no grants
    apps = transform_grants(tokens, None)
    assert [(i.name, i.users) for i in apps] == [
        ("Zoom for Google Workspace", ("priya.shah@riverside.example",))]


# -- Admin console settings (Cloud Identity Policy API) ------------------------------------------
def test_policies_list_gives_chat_meet_and_gmail_posture() -> None:
    from sprawl_audit.connectors.google.policies import transform_policies

    answer = load("google/policies-list").json()
    out = transform_policies(answer["policies"])
    assert out.root == "orgUnits/01rvsd0b2kx3q9" and out.missing == {}
    attrs: dict[str, dict[str, Any]] = {}
    for p in out.platforms:
        attrs.setdefault(p.id, {}).update(p.attributes)
    assert attrs["google-chat"] == {
        "chat_history_default": "off", "chat_history_off_units": 0,
        "chat_history_user_can_change": True,
        "retention": {"messages": "delete_after_days", "messages_days": 1},
        "external_chat": "all_domains", "external_chat_open_units": 0}
    assert attrs["google-meet"] == {"meet_access_type": "trusted", "meet_open_units": 1,
                                    "meet_external_meetings": "all"}
    # blocked at the root, allowed for one group: allowed is what the rules judge
    assert attrs["gmail"] == {"external_autoforwarding": "allowed",
                              "autoforwarding_allowed_units": 1}
    [link] = out.links
    assert (link.kind, link.target) == ("federation", "*")
