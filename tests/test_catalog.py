"""The platform catalogue: shipped data, matching rules, config extension, located errors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from sprawl_audit.catalog import Catalog, CatalogEntry, load_catalog
from sprawl_audit.catalog.entry import DOCUMENTED_TAGS, IDENTIFIER_KINDS
from sprawl_audit.catalog.normalise import host_key, name_key
from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import CAPABILITIES, CLASSIFICATIONS, AppRef

CATALOG = load_catalog()


def _all_identifiers() -> list[tuple[str, str, str]]:
    return [
        (entry.slug, kind, value)
        for entry in CATALOG.entries
        for kind, values in entry.identifiers.items()
        for value in values
    ]


def _yaml_extra(tmp_path: Path, text: str, name: str = "config.yaml") -> object:
    """Write config-style YAML and load it the way the config loader does."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return yamlio.load_file(path)


# -- the shipped data ---------------------------------------------------------------------


def test_catalogue_is_large_enough() -> None:
    assert len(CATALOG.entries) >= 60


REQUIRED_SLUGS = [
    "teams", "exchange-online", "sharepoint", "onedrive", "entra-id", "gmail",
    "google-chat", "google-meet", "google-drive", "google-workspace-identity", "slack",
    "zoom", "webex", "whatsapp", "whatsapp-business", "whatsapp-business-platform",
    "telegram", "signal", "facebook-messenger", "viber", "discord", "skype", "ringcentral",
    "8x8", "vonage", "mitel", "avaya", "genesys-cloud", "nice-cxone", "twilio",
    "govuk-notify", "mailchimp", "sendgrid", "mimecast", "proofpoint", "egress", "zendesk",
    "intercom", "livechat", "dropbox", "box", "wetransfer", "otter-ai", "fireflies-ai",
    "chatgpt", "microsoft-copilot", "microsoft-365-copilot", "gemini", "gmail-personal",
    "outlook-personal", "yahoo-mail", "icloud-mail", "proton-mail", "bt-business", "gamma",
    "daisy", "virgin-media-business", "3cx", "cisco-ucm", "nec", "unify-openscape",
    "amazon-connect", "five9", "content-guru-storm", "dynamics-365-contact-center",
    "freshdesk", "hubspot", "salesforce", "microsoft-bookings", "loom", "read-ai", "tldv",
    "fathom", "zoom-ai-companion", "claude", "perplexity", "imessage", "snapchat",
    "instagram", "linkedin", "x-twitter", "facebook", "nextcloud", "mattermost",
    "rocket-chat", "element", "wire", "threema", "skype-for-business-server",
    "goto-meeting", "goto-connect", "bluejeans", "whereby", "jitsi", "brevo", "mailgun",
    "amazon-ses", "postmark", "dynamics-365-marketing", "campaign-monitor",
    "constant-contact", "esendex", "textlocal", "firetext", "messagebird", "clickatell",
]


@pytest.mark.parametrize("slug", REQUIRED_SLUGS)
def test_required_products_are_present(slug: str) -> None:
    assert CATALOG.get(slug) is not None, slug


def test_every_entry_is_well_formed() -> None:
    for e in CATALOG.entries:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", e.slug), e.slug
        assert e.name and e.vendor and e.description, e.slug
        assert "\n" not in e.description, e.slug
        assert set(e.capabilities) <= set(CAPABILITIES), e.slug
        assert e.classification in CLASSIFICATIONS, e.slug
        assert set(e.identifiers) <= set(IDENTIFIER_KINDS), e.slug
        assert e.retired == ("retired" in e.tags), e.slug
        if e.retired_on is not None:
            assert e.retired and re.fullmatch(r"\d{4}-\d{2}-\d{2}", e.retired_on), e.slug
        if e.native_identity is not None:
            idp = CATALOG.get(e.native_identity)
            assert idp is not None and "identity_provider" in idp.tags, e.slug


def test_shipped_tags_are_all_documented() -> None:
    used = {t for e in CATALOG.entries for t in e.tags}
    assert used <= set(DOCUMENTED_TAGS), used - set(DOCUMENTED_TAGS)


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("teams", {"classification": "corporate", "suite": "microsoft-365",
                   "native_identity": "entra-id"}),
        ("exchange-online", {"native_identity": "entra-id", "capabilities": ("email",)}),
        ("sharepoint", {"native_identity": "entra-id"}),
        ("gmail", {"classification": "corporate", "suite": "google-workspace",
                   "native_identity": "google-workspace-identity"}),
        ("google-chat", {"native_identity": "google-workspace-identity"}),
        ("google-meet", {"native_identity": "google-workspace-identity"}),
        ("whatsapp", {"classification": "consumer"}),
        ("whatsapp-business", {"classification": "consumer"}),
        ("whatsapp-business-platform", {"classification": "corporate"}),
        ("skype", {"retired": True, "retired_on": "2025-05-05"}),
        ("gmail-personal", {"classification": "consumer", "capabilities": ("email",)}),
    ],
)
def test_key_facts_of_named_products(slug: str, expected: dict[str, object]) -> None:
    entry = CATALOG.get(slug)
    assert entry is not None
    for field, value in expected.items():
        assert getattr(entry, field) == value, (slug, field)


@pytest.mark.parametrize(
    ("slug", "tag"),
    [
        ("entra-id", "identity_provider"), ("google-workspace-identity", "identity_provider"),
        ("mitel", "pbx"), ("twilio", "telephony_provider"), ("mimecast", "mail_security"),
        ("wetransfer", "file_transfer"), ("otter-ai", "ai_notetaker"),
        ("fireflies-ai", "ai_notetaker"), ("skype", "retired"), ("bluejeans", "retired"),
        ("skype-for-business-server", "retired"), ("gmail-personal", "personal_email"),
        ("mailchimp", "marketing_email"), ("bt-business", "telephony_provider"),
    ],
)
def test_tags_of_named_products(slug: str, tag: str) -> None:
    entry = CATALOG.get(slug)
    assert entry is not None and tag in entry.tags


def test_twilio_and_notetakers_have_the_expected_capabilities() -> None:
    assert set(CATALOG.get("twilio").capabilities) >= {"sms", "voice"}  # type: ignore[union-attr]
    for slug in ("otter-ai", "fireflies-ai"):
        assert "ai_assistant" in CATALOG.get(slug).capabilities  # type: ignore[union-attr]


def test_personal_mail_domains() -> None:
    expected = {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk",
        "live.com", "live.co.uk", "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com",
        "aol.com", "protonmail.com", "proton.me", "btinternet.com", "sky.com",
        "virginmedia.com", "talktalk.net",
    }
    assert expected <= CATALOG.personal_mail_domains
    assert "google.com" not in CATALOG.personal_mail_domains
    # Derived from entries, not a hard-coded list: every one belongs to a personal mailbox.
    for domain in CATALOG.personal_mail_domains:
        entry = CATALOG.match(AppRef("domain", domain))
        assert entry is not None and "personal_email" in entry.tags, domain


def test_shipped_catalogue_is_cached() -> None:
    assert load_catalog() is load_catalog()
    assert load_catalog(None) is CATALOG
    assert load_catalog([]) is CATALOG


# -- matching -----------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "kind", "value"), _all_identifiers())
def test_every_identifier_resolves_to_its_own_entry(slug: str, kind: str, value: str) -> None:
    entry = CATALOG.match(AppRef(kind, value))
    assert entry is not None and entry.slug == slug


@pytest.mark.parametrize("entry", CATALOG.entries, ids=lambda e: e.slug)
def test_display_name_and_slug_resolve(entry: CatalogEntry) -> None:
    for kind in ("name", "desktop", "entra_app", "google_oauth", "slack_app", "phone_provider"):
        assert CATALOG.match(AppRef(kind, entry.name)) is entry
    assert CATALOG.match(AppRef("slug", entry.slug)) is entry


REAL_WORLD = [
    ("android", "com.whatsapp", "whatsapp"),
    ("android", "COM.WHATSAPP", "whatsapp"),
    ("ios", "net.whatsapp.WhatsApp", "whatsapp"),
    ("ios", "net.whatsapp.whatsapp", "whatsapp"),
    ("desktop", "WhatsApp Desktop", "whatsapp"),
    ("desktop", "WhatsApp", "whatsapp"),
    ("desktop", "WhatsApp for Windows", "whatsapp"),
    ("domain", "web.whatsapp.com", "whatsapp"),
    ("domain", "https://web.whatsapp.com/", "whatsapp"),
    ("domain", "web.whatsapp.com.", "whatsapp"),
    ("name", "WhatsApp", "whatsapp"),
    ("name", "whatsapp", "whatsapp"),
    ("name", "WhatsApp Desktop", "whatsapp"),  # the same name rules apply to every name kind
    ("android", "com.whatsapp.w4b", "whatsapp-business"),
    ("domain", "business.whatsapp.com", "whatsapp-business"),
    ("android", "org.telegram.messenger", "telegram"),
    ("desktop", "Telegram Desktop", "telegram"),
    ("android", "us.zoom.videomeetings", "zoom"),
    ("desktop", "Zoom Workplace (64-bit)", "zoom"),
    ("domain", "acme.zoom.us", "zoom"),
    ("entra_app", "Otter.ai", "otter-ai"),
    ("entra_app", "otter ai", "otter-ai"),
    ("google_oauth", "Otter.ai", "otter-ai"),
    ("mx", "eu-smtp-inbound-1.mimecast.com", "mimecast"),
    ("mx", "eu-smtp-inbound-1.mimecast.com.", "mimecast"),
    ("spf", "servers.mcsv.net", "mailchimp"),
    ("spf", "include:servers.mcsv.net", "mailchimp"),
    ("spf", "sendgrid.net", "sendgrid"),
    ("spf", "u1234567.wl123.sendgrid.net", "sendgrid"),
    ("mx", "contoso-com.mail.protection.outlook.com", "exchange-online"),
    ("mx", "*.mail.protection.outlook.com", "exchange-online"),
    ("mx", "contoso-com.o-v1.mx.microsoft", "exchange-online"),
    ("mx", "aspmx.l.google.com", "gmail"),
    ("mx", "alt1.aspmx.l.google.com", "gmail"),
    ("mx", "aspmx2.googlemail.com", "gmail"),
    ("spf", "_spf.google.com", "gmail"),
    ("spf", "spf.protection.outlook.com", "exchange-online"),
    ("spf", "eu._netblocks.mimecast.com", "mimecast"),
    ("mx", "mx0a-00123456.pphosted.com", "proofpoint"),
    ("domain", "gmail.com", "gmail-personal"),
    ("domain", "someone@hotmail.co.uk", "outlook-personal"),
    ("domain", "mail.google.com", "gmail"),
    ("domain", "https://teams.microsoft.com:443/l/meetup-join/x", "teams"),
    ("domain", "acme-my.sharepoint.com", "sharepoint"),
    ("domain", "acme.euw2.pure.cloud", "genesys-cloud"),
    ("domain", "teams.live.com", "teams-personal"),
    ("domain", "outlook.live.com", "outlook-personal"),
    ("domain", "flex.twilio.com", "twilio-flex"),
    ("domain", "api.twilio.com", "twilio"),
    ("entra_app_id", "1FEC8E78-BCE4-4AAF-AB1B-5451CC387264", "teams"),
    ("entra_app_id", "{00000002-0000-0ff1-ce00-000000000000}", "exchange-online"),
    ("entra_app_id", "00000003-0000-0ff1-ce00-000000000000", "sharepoint"),
    ("entra_app", "Office 365 Exchange Online", "exchange-online"),
    ("desktop", "Microsoft Teams", "teams"),
    ("desktop", "Microsoft Teams (free)", "teams-personal"),
    ("desktop", "3CX Desktop App", "3cx"),
    ("desktop", "Google Drive for desktop", "google-drive"),
    ("desktop", "Microsoft OneDrive", "onedrive"),
    ("slack_app", "Zoom", "zoom"),
    ("slack_app", "Google Drive", "google-drive"),
    ("phone_provider", "BT", "bt-business"),
    ("phone_provider", "British Telecom", "bt-business"),
    ("phone_provider", "Gamma Telecom", "gamma"),
    ("phone_provider", "Virgin Media O2 Business", "virgin-media-business"),
    ("phone_provider", "Twilio", "twilio"),
    ("phone_provider", "8x8", "8x8"),
    ("name", "Skype", "skype"),
    ("name", "tl;dv", "tldv"),
    ("name", "TLDV", "tldv"),
    ("name", "Rocket Chat", "rocket-chat"),
    ("name", "Fireflies", "fireflies-ai"),
    ("name", "GOV.UK Notify", "govuk-notify"),
    ("name", "Zoom AI Companion", "zoom-ai-companion"),
    ("name", "Azure AD", "entra-id"),
    ("slug", "teams", "teams"),
]


@pytest.mark.parametrize(("kind", "value", "slug"), REAL_WORLD)
def test_real_world_forms(kind: str, value: str, slug: str) -> None:
    entry = CATALOG.match(AppRef(kind, value))
    assert entry is not None, (kind, value)
    assert entry.slug == slug


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("android", "com.acme.chat"),
        ("android", "com.whatsap"),
        ("ios", "com.whatsapp"),  # an Android package is not an iOS bundle id
        ("desktop", "Acme Messenger Pro"),
        ("name", "Whats"),
        ("domain", "notwhatsapp.com"),  # suffix match is on label boundaries
        ("domain", "whatsapp.com.evil.example"),
        ("domain", "google.com"),
        ("mx", "mail.example.org"),
        ("spf", "mimecast.co"),
        ("entra_app_id", "00000000-0000-0000-0000-000000000000"),
        ("entra_app_id", "not-a-guid"),
        ("slug", "no-such-product"),
        ("slug", "Teams"),
        ("platform", "teams"),
        ("platform", "slack:T0123"),
        ("name", ""),
        ("name", "   "),
        ("name", "!!!"),
        ("domain", "https://"),
        ("unknown_kind", "WhatsApp"),
    ],
)
def test_unknown_references_return_none(kind: str, value: str) -> None:
    assert CATALOG.match(AppRef(kind, value)) is None


def test_name_kind_wins_nothing_over_desktop_kind() -> None:
    # "Messages" is the macOS app of iMessage, but far too generic as a free-text name.
    assert CATALOG.match(AppRef("desktop", "Messages")).slug == "imessage"  # type: ignore[union-attr]
    assert CATALOG.match(AppRef("name", "Messages")) is None


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("WhatsApp Desktop", "whatsapp"),
        ("WhatsApp (64-bit)", "whatsapp"),
        ("WhatsApp for Windows", "whatsapp"),
        ("WhatsApp Desktop App", "whatsapp"),
        ("Zoom Workplace x64", "zoomworkplace"),
        ("Otter.ai", "otterai"),
        ("  Rocket.Chat  ", "rocketchat"),
        ("Zoom for Google Workspace", "zoomforgoogleworkspace"),
        ("App", "app"),
        ("Desktop App", "desktop"),
        ("Café Chat", "cafechat"),
        ("Microsoft Teams (work or school)", "microsoftteamsworkorschool"),
        ("", ""),
    ],
)
def test_name_key(value: str, key: str) -> None:
    assert name_key(value) == key


@pytest.mark.parametrize(
    ("value", "spf", "host"),
    [
        ("Web.WhatsApp.com", False, "web.whatsapp.com"),
        ("https://web.whatsapp.com/", False, "web.whatsapp.com"),
        ("http://user@web.whatsapp.com:8443/a?b#c", False, "web.whatsapp.com"),
        ("web.whatsapp.com/path", False, "web.whatsapp.com"),
        ("web.whatsapp.com:443", False, "web.whatsapp.com"),
        ("aspmx.l.google.com.", False, "aspmx.l.google.com"),
        ("*.mail.protection.outlook.com", False, "mail.protection.outlook.com"),
        ("bob@gmail.com", False, "gmail.com"),
        ("include:servers.mcsv.net", True, "servers.mcsv.net"),
        ("~include:_spf.google.com", True, "_spf.google.com"),
        ("redirect=_spf.example.org", True, "_spf.example.org"),
    ],
)
def test_host_key(value: str, spf: bool, host: str) -> None:
    assert host_key(value, spf=spf) == host


def test_longest_suffix_wins() -> None:
    cat = Catalog([
        CatalogEntry("short", "Short", identifiers={"domain": ("example.com",)}),
        CatalogEntry("long", "Long", identifiers={"domain": ("a.example.com",)}),
    ])
    assert cat.match(AppRef("domain", "x.a.example.com")).slug == "long"  # type: ignore[union-attr]
    assert cat.match(AppRef("domain", "a.example.com")).slug == "long"  # type: ignore[union-attr]
    assert cat.match(AppRef("domain", "b.example.com")).slug == "short"  # type: ignore[union-attr]
    assert cat.match(AppRef("domain", "example.com")).slug == "short"  # type: ignore[union-attr]
    assert cat.match(AppRef("domain", "com")) is None


def test_identifiers_are_read_only_and_entries_hashable() -> None:
    entry = CATALOG.get("whatsapp")
    assert entry is not None
    with pytest.raises(TypeError):
        entry.identifiers["android"] = ("x",)  # type: ignore[index]
    assert entry in {entry}
    assert entry.identifiers_of("android") == ("com.whatsapp",)
    assert entry.identifiers_of("spf") == ()


def test_hand_built_entry_rejects_unknown_capability() -> None:
    with pytest.raises(ValueError, match="capabilities"):
        CatalogEntry("x", "X", capabilities=("telepathy",))


# -- extending from config ------------------------------------------------------------------


def test_extra_adds_a_new_entry() -> None:
    cat = load_catalog([{
        "slug": "acme-chat", "name": "Acme Chat", "vendor": "Acme",
        "capabilities": ["chat"], "classification": "corporate",
        "identifiers": {"android": ["com.acme.chat"], "domain": ["chat.acme.example"]},
    }])
    assert cat is not CATALOG
    assert cat.match(AppRef("android", "com.acme.chat")).slug == "acme-chat"  # type: ignore[union-attr]
    assert cat.match(AppRef("domain", "eu.chat.acme.example")).slug == "acme-chat"  # type: ignore[union-attr]
    assert cat.match(AppRef("name", "ACME chat")).slug == "acme-chat"  # type: ignore[union-attr]
    assert cat.match(AppRef("android", "com.whatsapp")).slug == "whatsapp"  # type: ignore[union-attr]
    assert len(cat.entries) == len(CATALOG.entries) + 1
    # The shared cached catalogue is not modified.
    assert CATALOG.get("acme-chat") is None


def test_extra_overrides_fields_and_merges_identifiers() -> None:
    cat = load_catalog([{
        "slug": "whatsapp",
        "classification": "unknown",
        "tags": ["approved_for_field_staff"],
        "identifiers": {"android": ["com.whatsapp.custom"], "name": ["WA"]},
    }])
    entry = cat.get("whatsapp")
    assert entry is not None
    assert entry.classification == "unknown"
    assert entry.tags == ("approved_for_field_staff",)
    assert entry.vendor == "Meta" and entry.name == "WhatsApp"  # not given: kept
    assert entry.identifiers["android"] == ("com.whatsapp", "com.whatsapp.custom")
    assert "com.whatsapp" in entry.identifiers["android"]
    for kind, value in [("android", "com.whatsapp.custom"), ("android", "com.whatsapp"),
                        ("name", "WA"), ("ios", "net.whatsapp.WhatsApp")]:
        assert cat.match(AppRef(kind, value)) is entry
    assert CATALOG.get("whatsapp").classification == "consumer"  # type: ignore[union-attr]


def test_extra_can_rename_and_retire() -> None:
    cat = load_catalog([
        {"slug": "slack", "name": "Slack (Acme Grid)", "retired": True,
         "retired_on": "2026-01-31"},
        {"slug": "skype", "retired": False},
    ])
    slack = cat.get("slack")
    assert slack is not None and slack.retired and slack.retired_on == "2026-01-31"
    assert "retired" in slack.tags
    assert cat.match(AppRef("name", "Slack (Acme Grid)")) is slack
    assert cat.match(AppRef("name", "Slack")) is None  # the old display name is gone
    skype = cat.get("skype")
    assert skype is not None and not skype.retired and skype.retired_on is None
    assert "retired" not in skype.tags


def test_extra_personal_mail_entry_extends_personal_domains() -> None:
    cat = load_catalog([{
        "slug": "examplemail", "name": "Example Mail", "capabilities": ["email"],
        "classification": "consumer", "tags": ["personal_email"],
        "identifiers": {"domain": ["examplemail.example"]},
    }])
    assert "examplemail.example" in cat.personal_mail_domains
    assert "examplemail.example" not in CATALOG.personal_mail_domains


def test_extra_from_yaml_file_is_merged(tmp_path: Path) -> None:
    extra = _yaml_extra(tmp_path, """\
        - slug: acme-radio
          name: Acme Radio
          capabilities: [voice]
          retired_on: 2024-03-31
        - slug: zoom
          identifiers:
            desktop: [Zoom Rooms Controller]
        """)
    cat = load_catalog(extra)  # type: ignore[arg-type]
    radio = cat.get("acme-radio")
    assert radio is not None and radio.retired and radio.retired_on == "2024-03-31"
    assert cat.match(AppRef("desktop", "Zoom Rooms Controller")).slug == "zoom"  # type: ignore[union-attr]


# -- located errors ---------------------------------------------------------------------


def _error(tmp_path: Path, text: str) -> str:
    extra = _yaml_extra(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_catalog(extra)  # type: ignore[arg-type]
    message = str(err.value)
    assert "\n" not in message
    return message


def test_duplicate_identifier_across_entries_is_located(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-chat
          name: Acme Chat
          identifiers:
            android:
              - com.acme.chat
              - com.whatsapp
        """)
    path = tmp_path / "config.yaml"
    assert message.startswith(f"{path}:6: identifiers.android:")
    assert "'whatsapp'" in message and "messaging.yaml:" in message


def test_duplicate_host_identifier_is_located(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-mail
          name: Acme Mail
          identifiers:
            mx: [Mail.Protection.Outlook.com.]
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:4: identifiers.mx:")
    assert "exchange-online" in message


def test_name_colliding_across_name_kinds_is_rejected(tmp_path: Path) -> None:
    # A desktop name of a new entry equal (after normalisation) to WhatsApp's display name
    # would make "WhatsApp Desktop" ambiguous.
    message = _error(tmp_path, """\
        - slug: acme-chat
          name: Acme Chat
          identifiers:
            desktop: [WHATSAPP (64-bit)]
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:4: identifiers.desktop:")
    assert "'whatsapp'" in message


def test_display_name_colliding_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, """\
        - slug: acme-zoom
          name: Zoom
        """)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:2: name:")


def test_duplicate_identifier_within_shipped_files_is_located(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "- slug: one\n  name: One\n  identifiers:\n    domain: [one.example]\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text(
        "- slug: two\n  name: Two\n  identifiers:\n    domain:\n      - two.example\n"
        "      - ONE.example\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as err:
        load_catalog(data_dir=tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'b.yaml'}:6: identifiers.domain:")
    assert f"{tmp_path / 'a.yaml'}:4" in str(err.value)


def test_duplicate_slug_across_files_is_located(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- slug: one\n  name: One\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- slug: two\n  name: Two\n- slug: one\n  name: Uno\n",
                                     encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_catalog(data_dir=tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'b.yaml'}:3: slug:")


def test_data_dir_loads_a_custom_catalogue(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "- slug: one\n  name: One\n  retired_on: 2020-01-02\n", encoding="utf-8")
    cat = load_catalog(data_dir=tmp_path)
    assert [e.slug for e in cat.entries] == ["one"]
    assert cat.get("one").retired_on == "2020-01-02"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ("- slug: x\n  name: X\n  capabilities: [chat, telepathy]\n", 3, "capabilities",
         "unknown capability 'telepathy'"),
        ("- slug: x\n  name: X\n  classification: personal\n", 3, "classification",
         "unknown classification 'personal'"),
        ("- slug: x\n  name: X\n  colour: blue\n", 3, "colour", "unknown key 'colour'"),
        ("- slug: x\n  name: X\n  identifiers:\n    bluetooth: [x]\n", 4,
         "identifiers.bluetooth", "unknown identifier kind 'bluetooth'"),
        ("- slug: x\n  name: X\n  identifiers:\n    slug: [x]\n", 4, "identifiers.slug",
         "unknown identifier kind 'slug'"),
        ("- name: X\n", 1, None, "has no slug"),
        ("- slug: new-thing\n  vendor: V\n", 1, "name", "has no name"),
        ("- slug: Bad Slug\n  name: X\n", 1, "slug", "lower-case words"),
        ("- slug: x\n  name: X\n  tags: [Not-Snake]\n", 3, "tags", "snake_case"),
        ("- slug: x\n  name: X\n  retired_on: last year\n", 3, "retired_on", "ISO date"),
        ("- slug: x\n  name: X\n  retired: maybe\n", 3, "retired", "true or false"),
        ("- slug: x\n  name: X\n  identifiers:\n    entra_app_id: [abc]\n", 4,
         "identifiers.entra_app_id", "not a GUID"),
        ("- slug: x\n  name: X\n  identifiers:\n    domain: ['exa mple.com']\n", 4,
         "identifiers.domain", "not a host"),
        ("- slug: x\n  name: X\n  identifiers:\n    android: [com.x]\n    ios: 3\n", 5,
         "identifiers.ios", "list of strings"),
        ("- slug: x\n  name: X\n  native_identity: slack\n", 3, "native_identity",
         "not tagged identity_provider"),
        ("- slug: x\n  name: X\n  native_identity: nobody\n", 3, "native_identity",
         "no catalogue entry"),
        ("- slug: x\n  name: X\n  retired: false\n  retired_on: 2020-01-01\n", 3, "retired",
         "retired is false"),
        ("- slug: x\n  name: X\n- slug: x\n  name: Y\n", 3, "slug", "already given"),
    ],
)
def test_bad_entries_are_located(
    tmp_path: Path, text: str, line: int, key: str | None, fragment: str
) -> None:
    message = _error(tmp_path, text)
    prefix = f"{tmp_path / 'config.yaml'}:{line}: " + (f"{key}: " if key else "")
    assert message.startswith(prefix), message
    assert fragment in message


def test_extra_must_be_a_list(tmp_path: Path) -> None:
    extra = _yaml_extra(tmp_path, "slug: x\nname: X\n")
    with pytest.raises(UserError) as err:
        load_catalog(extra)  # type: ignore[arg-type]
    assert str(err.value).startswith(f"{tmp_path / 'config.yaml'}:1: ")


def test_plain_dict_errors_have_no_location_but_one_line() -> None:
    with pytest.raises(UserError) as err:
        load_catalog([{"slug": "x", "name": "X", "capabilities": ["fax"]}])
    assert str(err.value) == (
        "capabilities: unknown capability 'fax' (expected one of: "
        + ", ".join(CAPABILITIES) + ")"
    )
