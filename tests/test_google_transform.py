"""Google raw API shapes → records: the pure transform step, and coverage combination."""

from __future__ import annotations

from datetime import datetime

from sprawl_audit.connectors.google import transform as t
from sprawl_audit.connectors.google.outcome import FeedOutcome, topic_coverage
from sprawl_audit.core.model import AppRef

BASE = "https://www.googleapis.com/auth/"


def _ts(day: str) -> int:
    return int(datetime.fromisoformat(day + "T12:00:00+00:00").timestamp())


def test_users_department_falls_back_to_org_unit_and_keeps_posture() -> None:
    pages = [{"users": [
        {"primaryEmail": "Ann@Example.org", "name": {"fullName": "Ann"},
         "orgUnitPath": "/Staff/Housing", "isEnrolledIn2Sv": True, "isAdmin": True,
         "organizations": [{"department": "Lettings", "title": "Officer", "primary": True}],
         "lastLoginTime": "2025-01-02T03:04:05.000Z"},
        {"primaryEmail": "bob@example.org", "orgUnitPath": "/Staff/Care",
         "isEnrolledIn2Sv": False, "suspended": True,
         "lastLoginTime": "1970-01-01T00:00:00.000Z"},
        {"primaryEmail": "root@example.org", "orgUnitPath": "/"},
        {"name": {"fullName": "no email"}},
    ]}, {"kind": "admin#directory#users"}]
    people = t.transform_users(pages)
    assert [p.id for p in people] == ["ann@example.org", "bob@example.org", "root@example.org"]
    ann, bob, root = people
    assert ann.department == "Lettings" and ann.job_title == "Officer"
    assert bob.department == "Staff/Care" and bob.enabled is False
    assert root.department == "" and root.attributes["org_unit"] == "/"
    # sign-in posture is the Google Workspace account's, never the person's
    assert not any(k in p.attributes for p in people
                   for k in ("two_step_enrolled", "is_admin", "last_login"))
    accounts = {a.person: a for a in t.transform_accounts(pages)}
    a_ann, a_bob, a_root = (accounts[p.id] for p in people)
    assert all(a.platform == t.IDENTITY and a.source.topic == "accounts.mfa"
               for a in accounts.values())
    assert a_ann.mfa is True and a_ann.admin is True and a_ann.role == "super_admin"
    assert a_ann.last_login == "2025-01-02" and a_ann.mfa_enforced is None  # not in the answer
    assert a_bob.mfa is False and a_bob.enabled is False
    assert a_bob.last_login is None  # the epoch means "never signed in"
    assert a_bob.attributes["never_signed_in"] is True
    assert a_ann.attributes["never_signed_in"] is False
    assert "never_signed_in" not in a_root.attributes  # no lastLoginTime: nothing said
    assert a_root.mfa is None and a_root.admin is None  # flags absent: unknown, not "no"
    platforms = {p.id: p for p in t.workspace_platforms(people, accounts.values())}
    assert set(platforms) == {"google-workspace-identity", "gmail", "google-chat", "google-meet"}
    ident = platforms["google-workspace-identity"]
    assert ident.attributes["users"] == 2 and ident.attributes["two_step_enrolled"] == 1


def test_grants_merge_tokens_with_the_audit_log() -> None:
    tokens = {
        "a@example.org": [{"clientId": "zoom", "displayText": "Zoom for Google Workspace",
                           "scopes": [BASE + "calendar.readonly"], "nativeApp": False}],
        "B@example.org": [{"clientId": "zoom", "displayText": "Zoom for Google Workspace",
                           "scopes": [BASE + "calendar.events"]},
                          {"displayText": "", "clientId": ""}],
    }
    log = [{"items": [
        {"id": {"time": "2025-03-01T10:00:00.000Z"}, "actor": {"email": "c@example.org"},
         "events": [{"name": "authorize", "parameters": [
             {"name": "client_id", "value": "ff"},
             {"name": "app_name", "value": "Fireflies.ai Notetaker"},
             {"name": "scope", "multiValue": [BASE + "drive.readonly"]}]}]},
        {"id": {"time": "2025-03-02T10:00:00.000Z"}, "actor": {"email": "a@example.org"},
         "events": [{"name": "authorize", "parameters": [
             {"name": "client_id", "value": "zoom"},
             {"name": "app_name", "value": "Zoom for Google Workspace"},
             {"name": "scope", "value": BASE + "userinfo.email"}]},
                    {"name": "activity", "parameters": []}]},
    ]}]
    grants = {g.name: g for g in t.transform_grants(tokens, log)}
    zoom = grants["Zoom for Google Workspace"]
    assert zoom.app == AppRef("google_oauth", "Zoom for Google Workspace",
                              "Zoom for Google Workspace")
    assert zoom.host == AppRef("slug", "google-workspace-identity")
    assert zoom.users == ("a@example.org", "b@example.org") and zoom.user_count == 2
    assert set(zoom.scopes) == {BASE + "calendar.readonly", BASE + "calendar.events",
                                BASE + "userinfo.email"}
    assert zoom.consent_type == "user" and zoom.kind == "oauth"
    assert zoom.attributes["currently_granted"] is True
    assert zoom.source.detail == "tokens.list + token audit log"
    ff = grants["Fireflies.ai Notetaker"]
    assert ff.attributes["currently_granted"] is False  # authorised, since revoked
    assert ff.users == ("c@example.org",) and ff.attributes["last_authorised"] == "2025-03-01"
    # Log only (tokens not read): no claim about what is granted now.
    only_log = t.transform_grants(None, log)
    assert all("currently_granted" not in g.attributes for g in only_log)


def test_times_are_read_as_instants_and_their_utc_day_kept() -> None:
    """Google's times are instants: the day kept is the UTC one; the epoch is "never
    signed in"; text that is not a time is no day at all, so a damaged audit event cannot
    become an app's latest authorisation by sorting after the real ones."""
    assert t.utc_day("2025-01-02T03:04:05.000Z") == "2025-01-02"
    assert t.utc_day("2025-01-02T23:30:00-05:00") == "2025-01-03"
    assert t.utc_day("1970-01-01T00:00:00.000Z") is None
    assert t.utc_day("2025-01-02garbage") is None and t.utc_day(None) is None
    assert t.epoch_to_date(_ts("2025-01-02") * 1000) == "2025-01-02"
    log = [{"items": [
        {"id": {"time": time}, "actor": {"email": "c@example.org"},
         "events": [{"name": "authorize", "parameters": [
             {"name": "client_id", "value": "ff"}, {"name": "app_name", "value": "FF"}]}]}
        for time in ("2025-03-01T10:00:00.000Z", "not a time, and sorts last")]}]
    (ff,) = t.transform_grants(None, log)
    assert ff.attributes["last_authorised"] == "2025-03-01"


def test_devices_replay_the_mobile_log_over_the_directory() -> None:
    devices = [{"mobiledevices": [
        {"resourceId": "r1", "deviceId": "d1", "email": ["Ann@example.org"], "type": "ANDROID",
         "os": "Android 14", "managedAccountIsOnOwnerProfile": False,
         "applications": [{"packageName": "com.whatsapp", "displayName": "WhatsApp"}]},
        {"resourceId": "r2", "deviceId": "d2", "email": ["bob@example.org"], "type": "IOS_SYNC"},
        {"resourceId": "r3", "deviceId": "d3", "type": "ANDROID", "privilege": "DEVICE_OWNER"},
    ]}]

    def event(when: str, app: str, state: str, dev: str, who: str = "ann@example.org") -> dict:
        return {"id": {"time": when}, "actor": {"email": who},
                "events": [{"name": "APPLICATION_EVENT", "parameters": [
                    {"name": "APPLICATION_ID", "value": app},
                    {"name": "APPLICATION_STATE", "value": state},
                    {"name": "DEVICE_ID", "value": dev},
                    {"name": "DEVICE_TYPE", "value": "ANDROID"}]}]}

    log = [{"items": [  # newest first, as the API answers
        event("2025-02-03T00:00:00Z", "com.viber.voip", "UNINSTALLED", "d1"),
        event("2025-02-02T00:00:00Z", "com.viber.voip", "INSTALLED", "d1"),
        event("2025-02-01T00:00:00Z", "org.telegram.messenger", "INSTALLED", "d1"),
        event("2025-02-01T00:00:00Z", "org.thoughtcrime.securesms", "INSTALLED", "x9",
              who="cat@example.org"),
        event("2025-02-01T00:00:00Z", "com.evil", "UNINSTALLED", "x10"),
    ]}]
    out, stats = t.transform_devices(devices, log)
    by_id = {d.id: d for d in out}
    ann = by_id["google:r1"]
    assert ann.ownership == "personal" and ann.owner == "ann@example.org"
    assert {a.value for a in ann.apps} == {"com.whatsapp", "org.telegram.messenger"}
    assert ann.source.detail == "mobiledevices.list + mobile audit log"
    assert by_id["google:r2"].os == "iOS" and by_id["google:r2"].apps == ()
    assert by_id["google:r3"].ownership == "corporate" and by_id["google:r3"].owner is None
    log_only = by_id["google:device:x9"]
    assert log_only.owner == "cat@example.org"
    assert log_only.apps == (AppRef("android", "org.thoughtcrime.securesms"),)
    assert "google:device:x10" not in by_id  # nothing installed there at the end
    assert stats.devices == 3 and stats.personal == 1 and stats.log_only_devices == 1


def test_usage_reads_every_timestamp_shape_and_skips_the_idle() -> None:
    def row(mail: str, *params: dict) -> dict:
        return {"date": "2025-04-01", "entity": {"type": "USER", "userEmail": mail},
                "parameters": list(params)}

    pages = [{"usageReports": [
        row("a@example.org", {"name": "gmail:num_emails_sent", "intValue": "4"},
            {"name": "gmail:timestamp_last_interaction", "intValue": str(_ts("2025-03-30"))}),
        row("b@example.org", {"name": "gmail:timestamp_last_interaction",
                              "intValue": str(_ts("2025-03-29") * 1_000_000)}),
        row("c@example.org", {"name": "gmail:last_interaction_time",
                              "datetimeValue": "2025-03-28T08:00:00.000Z"},
            {"name": "chat:num_28day_messages_and_reactions_sent", "intValue": "7"}),
        row("idle@example.org", {"name": "gmail:num_emails_sent", "intValue": "0"},
            {"name": "chat:num_28day_conversations_read", "intValue": "0"}),
    ], "warnings": []}]
    usages, stats = t.transform_usage(pages)
    got = {(u.person, u.platform.value): u for u in usages}
    assert got[("a@example.org", "gmail")].last_active == "2025-03-30"
    assert got[("a@example.org", "gmail")].activity == {"sent": 4, "received": 0}
    assert got[("b@example.org", "gmail")].last_active == "2025-03-29"
    assert got[("c@example.org", "gmail")].last_active == "2025-03-28"
    chat = got[("c@example.org", "google-chat")]
    assert chat.last_active is None and chat.activity["messages_sent_28d"] == 7
    assert not any(p == "idle@example.org" for p, _ in got)
    assert stats.gmail == 3 and stats.chat == 1 and stats.report_date == "2025-04-01"


def test_meet_log_counts_internal_participants_only() -> None:
    def call(when: str, ident: str, kind: str = "email_address", external: bool = False,
             actor: str = "") -> dict:
        return {"id": {"time": when}, "actor": {"email": actor},
                "events": [{"name": "call_ended", "parameters": [
                    {"name": "identifier", "value": ident},
                    {"name": "identifier_type", "value": kind},
                    {"name": "duration_seconds", "intValue": "900"},
                    {"name": "is_external", "boolValue": external}]}]}

    pages = [{"items": [
        call("2025-04-02T10:00:00Z", "Ann@example.org"),
        call("2025-04-01T10:00:00Z", "ann@example.org"),
        call("2025-04-01T11:00:00Z", "guest@else.example", external=True),
        call("2025-04-01T12:00:00Z", "+441234", kind="phone_number"),
        call("2025-04-01T13:00:00Z", "dev-1", kind="device_id", actor="bob@example.org"),
        call("2025-04-01T14:00:00Z", "stranger@other.example"),
    ]}]
    usages = {u.person: u for u in t.transform_meet_log(pages, ["example.org"])}
    assert set(usages) == {"ann@example.org", "bob@example.org"}
    assert usages["ann@example.org"].activity == {"calls": 2, "call_minutes": 30}
    assert usages["ann@example.org"].last_active == "2025-04-02"


def test_spaces_name_outside_domains_when_members_are_readable() -> None:
    spaces = [
        {"name": "spaces/A", "displayName": "Partners", "externalUserAllowed": True},
        {"name": "spaces/B", "displayName": "Unknown", "externalUserAllowed": True},
        {"name": "spaces/C", "displayName": "Internal only", "externalUserAllowed": True},
        {"name": "spaces/D", "displayName": "Closed", "externalUserAllowed": False},
        {"name": "spaces/E", "displayName": "No emails", "externalUserAllowed": True},
    ]
    members = {
        "spaces/A": [
            {"affiliation": "INTERNAL", "member": {"type": "HUMAN", "email": "ann@example.org"}},
            {"affiliation": "EXTERNAL", "member": {"type": "HUMAN", "email": "x@partner.org"}},
            {"member": {"type": "HUMAN", "email": "y@partner.org"}},
            {"member": {"type": "BOT", "email": "bot@chat.example"}},
        ],
        "spaces/C": [{"affiliation": "INTERNAL",
                      "member": {"type": "HUMAN", "email": "bob@example.org"}}],
        "spaces/E": [{"affiliation": "EXTERNAL", "member": {"type": "HUMAN"}}],
    }
    links, stats = t.transform_spaces(spaces, members, ["example.org"])
    by_target = {(lk.target, lk.attributes["space"]): lk for lk in links}
    partner = by_target[("partner.org", "spaces/A")]
    assert partner.kind == "shared_channel" and partner.people == ("ann@example.org",)
    assert partner.attributes["external_members"] == 2
    assert ("external users", "spaces/B") in by_target  # members not readable
    assert ("external users", "spaces/E") in by_target  # outsiders without an address
    assert not any(s == "spaces/C" or s == "spaces/D" for _t, s in by_target)
    assert stats.spaces == 4 and stats.members_unread == 1
    no_members, _ = t.transform_spaces(spaces, None, ["example.org"])
    assert {lk.target for lk in no_members} == {"external users"} and len(no_members) == 4


def test_forwarding_keeps_outside_domains_only() -> None:
    settings = {
        "a@example.org": {"autoForwarding": {"enabled": True,
                                             "emailAddress": "a.home@gmail.com"},
                          "forwardingAddresses": [{"forwardingEmail": "a.home@gmail.com",
                                                   "verificationStatus": "accepted"}]},
        "b@example.org": {"autoForwarding": {"enabled": True,
                                             "emailAddress": "b@sub.example.org"}},
        "c@example.org": {"autoForwarding": {"enabled": False},
                          "forwardingAddresses": [
                              {"forwardingEmail": "arch@archive.example",
                               "verificationStatus": "accepted"},
                              {"forwardingEmail": "p@pending.example",
                               "verificationStatus": "pending"}]},
    }
    links, stats = t.transform_forwarding(settings, ["example.org"])
    got = {(lk.target, lk.attributes["mechanism"]): lk.people for lk in links}
    assert got == {("gmail.com", "auto_forwarding"): ("a@example.org",),
                   ("archive.example", "forwarding_address"): ("c@example.org",)}
    assert all("@" not in lk.target and "a.home" not in lk.detail for lk in links)
    assert stats.mailboxes == 3 and stats.auto_forwarding_outside == 1


def test_topic_coverage_prefers_the_actionable_failure() -> None:
    ok = FeedOutcome("users")
    assert topic_coverage("directory.users", [ok], items=3).status == "collected"
    part = topic_coverage("oauth.grants", [FeedOutcome("tokens"),
                                           FeedOutcome("token_log", "forbidden", "no scope")])
    assert part.status == "partial" and "no scope" in part.detail
    assert topic_coverage("devices.apps", [ok], always_partial="BYOD").status == "partial"
    worst = topic_coverage("activity.usage", [FeedOutcome("usage", "unavailable", "plan"),
                                              FeedOutcome("meet_log", "forbidden", "scope")])
    assert worst.status == "forbidden"
    assert topic_coverage("x", [FeedOutcome("usage", "unavailable", "plan")]).status == \
        "unavailable"
    assert topic_coverage("x", [FeedOutcome("usage", "error", "boom"),
                                FeedOutcome("meet_log", "unavailable")]).status == "error"


def test_two_step_enforcement_and_delegated_admins_reach_the_account() -> None:
    pages = [{"users": [
        {"primaryEmail": "it@example.org", "isEnrolledIn2Sv": False, "isEnforcedIn2Sv": True,
         "isAdmin": False, "isDelegatedAdmin": True},
        {"primaryEmail": "ops@example.org", "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": False,
         "isAdmin": False, "isDelegatedAdmin": False},
    ]}]
    it, ops = t.transform_accounts(pages)
    assert it.mfa is False and it.mfa_enforced is True
    assert it.admin is True and it.role == "delegated_admin"
    assert ops.mfa is True and ops.mfa_enforced is False
    assert ops.admin is False and ops.role == "user"
