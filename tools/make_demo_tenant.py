#!/usr/bin/env python3
"""Generate the demo tenant: "Riverside Homes Group", a fictional UK housing association.

Writes ``src/sprawl_audit/connectors/demo/data/`` in the raw shapes the real sources
return — Microsoft Graph JSON pages, Microsoft 365 usage-report CSVs, Slack Web API
bodies, Google Workspace Admin SDK, Chat and Enterprise License Manager answers (the
lettings subsidiary), phone-system CSV exports, DNS answers and a consultant's interview
notes — so
the demo runs through the same transforms as a live audit. The output is committed;
rerunning the script with the same seed rewrites it byte for byte.

Everything is invented. Telephone numbers come from Ofcom's ranges reserved for drama
(0113 496 0xxx, 07700 900xxx, 03069 990xxx); organisation names and domains are fictional.

    python tools/make_demo_tenant.py [--seed N] [--out DIR]
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import random
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SEED = 20261101
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "sprawl_audit" / "connectors" / "demo" / "data"

ORG = "Riverside Homes Group"
DOMAIN = "riversidehomes.org.uk"
LEGACY = "riverside-housing.co.uk"
INITIAL = "riversidehomes.onmicrosoft.com"
LETTINGS = "riversidelettings.co.uk"  # Riverside Lettings: joined the group, on Google
LETTINGS_CUSTOMER = "C03r1vl7x"
AS_OF = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
#: The sign-in timestamps of Graph's signInActivity (all null: nothing ever recorded).
SIGN_IN_FIELDS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime",
                  "lastSuccessfulSignInDateTime")
REFRESH = date(2026, 10, 30)
GRAPH = "https://graph.microsoft.com/v1.0"
MS_SERVICES = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
MS_CORP = "72f988bf-86f1-41af-91ab-2d7cd011db47"

FIRST = """Aaliyah Abdul Adam Adele Aisha Alan Alex Alice Amanda Amir Amy Andrew Angela Anna
Arjun Asha Barbara Ben Beth Bilal Carl Caroline Catherine Chantelle Charlotte Chloe Chris
Claire Colin Craig Dan Daniel Darren Dave Dawn Dean Debbie Declan Dominika Donna Ella Emma
Eric Fatima Fiona Gareth Gemma Grace Graham Hannah Harry Hayley Helen Ian Imran Jack
Jade Jake James Jamie Jane Jason Jenny Joanne John Jordan Joseph Julie Karen Kate Kayleigh
Keith Kelly Kevin Kieran Kirsty Krzysztof Laura Lee Leon Lewis Liam Lisa Louise Lucy Luke
Mandeep Marcus Maria Mark Martin Matthew Megan Michael Michelle Mohammed Natalie Neil Nicola
Nina Oliver Olivia Omar Paul Paula Pete Phil Priya Rachel Rebecca Richard Rob Rosie Ryan
Sadia Sam Sarah Scott Sean Shaun Simon Sophie Stacey Stephen Steve Stuart Tariq Tom Tony
Tracey Vicky Wayne Yasmin Zoe Zofia""".split()
LAST = """Ahmed Akhtar Ali Allen Anderson Armstrong Atkinson Bailey Baker Barker Barnes Bell
Bennett Booth Bradley Brooks Brown Butler Campbell Carter Chapman Clarke Collins Cooper Cox
Davies Dawson Dixon Edwards Ellis Evans Fletcher Foster Fox Gibson Graham Gray Green Hall
Harris Harrison Hill Holmes Hughes Hunt Hussain Iqbal Jackson James Jenkins Johnson Jones
Kaur Kelly Kennedy Khan King Knight Kowalski Lee Lewis Lloyd Marshall Martin Mason
Matthews Mills Mitchell Moore Morgan Morris Murphy Murray Nowak O'Brien Owen Palmer Parker
Patel Pearson Phillips Powell Price Rahman Reid Richards Richardson Roberts Robinson Rogers
Rose Russell Saunders Scott Shaw Simpson Singh Smith Spencer Stevens Stewart Taylor Thomas
Thompson Turner Walker Wallace Ward Watson Webb White Wilkinson Williams Wilson Wood Wright
Young""".split()

# department -> [(job title, count, role)]; roles drive licences, devices and habits.
DEPARTMENTS: dict[str, list[tuple[str, int, str]]] = {
    "Repairs": [
        ("Multi-trade Operative", 70, "operative"), ("Plumbing Operative", 36, "operative"),
        ("Electrical Operative", 30, "operative"), ("Carpentry Operative", 24, "operative"),
        ("Gas Engineer", 20, "operative"), ("Repairs Planner", 30, "repairs_office"),
        ("Surveyor", 20, "repairs_field"), ("Repairs Supervisor", 12, "repairs_field"),
        ("Repairs Administrator", 10, "repairs_office"), ("Voids Coordinator", 5, "repairs_office"),
        ("Repairs Manager", 2, "repairs_office"), ("Head of Repairs", 1, "repairs_office"),
    ],
    "Housing Management": [
        ("Housing Officer", 85, "housing_officer"),
        ("Neighbourhood Officer", 25, "housing_officer"),
        ("Tenancy Sustainment Officer", 20, "housing_officer"),
        ("Lettings Officer", 15, "housing_office"), ("Anti-social Behaviour Officer", 10,
                                                      "housing_officer"),
        ("Housing Assistant", 10, "housing_office"), ("Housing Manager", 5, "housing_office"),
    ],
    "Income": [
        ("Income Officer", 55, "income"), ("Rent Accounts Assistant", 15, "income"),
        ("Welfare Benefits Adviser", 7, "income"), ("Income Manager", 3, "income"),
    ],
    "Customer Services": [
        ("Customer Service Advisor", 100, "contact_centre"), ("Team Leader", 12, "contact_centre"),
        ("Quality and Training Officer", 5, "contact_centre"),
        ("Contact Centre Manager", 3, "contact_centre"),
    ],
    "ICT": [
        ("Service Desk Analyst", 10, "ict"), ("Infrastructure Engineer", 6, "ict"),
        ("Business Systems Analyst", 6, "ict"), ("Developer", 5, "ict"),
        ("ICT Project Manager", 3, "ict"), ("Information Security Officer", 2, "ict"),
        ("Data Analyst", 2, "ict"), ("Head of ICT", 1, "ict"),
    ],
    "Communications": [
        ("Communications Officer", 10, "comms"), ("Digital Content Officer", 6, "comms"),
        ("Resident Engagement Officer", 4, "comms"), ("Graphic Designer", 3, "comms"),
        ("Press Officer", 1, "comms"), ("Head of Communications", 1, "comms"),
    ],
    "Executive": [
        ("Chief Executive", 1, "exec"), ("Director of Housing", 1, "exec"),
        ("Director of Property", 1, "exec"), ("Director of Finance", 1, "exec"),
        ("Director of People", 1, "exec"), ("Executive Assistant", 4, "exec"),
        ("Governance Officer", 3, "exec"), ("Company Secretary", 1, "exec"),
        ("Data Protection Officer", 1, "exec"), ("Board Liaison Officer", 1, "exec"),
    ],
    "Finance": [
        ("Finance Officer", 20, "office"), ("Management Accountant", 8, "office"),
        ("Payroll Officer", 5, "office"), ("Procurement Officer", 5, "office"),
        ("Head of Finance", 2, "office"),
    ],
    "HR": [
        ("HR Adviser", 12, "office"), ("Recruitment Officer", 6, "office"),
        ("Learning and Development Officer", 6, "office"), ("Health and Safety Adviser", 6,
                                                          "office"),
        ("HR Business Partner", 4, "office"), ("Head of HR", 1, "office"),
    ],
}

# Licences: (skuId, skuPartNumber, product name in reports, [(planId, planName, service)])
SKUS = {
    "SPE_E3": ("05e9a617-0261-4cee-bb44-138d3ef5d965", "MICROSOFT 365 E3", [
        ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
        ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE", "SharePoint"),
        ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION", "MicrosoftOffice"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO"),
        ("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD", "MicrosoftCommunicationsOnline"),
    ]),
    "SPE_F1": ("66b55226-6b4f-492c-910c-a3b7a3c9d993", "MICROSOFT 365 F3", [
        ("4a82b400-a79f-41a4-b4e2-e94f5787b113", "EXCHANGE_S_DESKLESS", "exchange"),
        ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
        ("902b47e5-dcb2-4fdc-858b-c63a90a2bdb9", "SHAREPOINTDESKLESS", "SharePoint"),
        ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO"),
        ("afc06cb0-b4f4-4473-8286-d644f70d8faf", "MCOIMP", "MicrosoftCommunicationsOnline"),
    ]),
    "MCOEV": ("e43b5b99-8dfb-405f-9987-dc307f34bcbd", "MICROSOFT TEAMS PHONE STANDARD", [
        ("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV", "MicrosoftCommunicationsOnline"),
    ]),
    "POWER_BI_STANDARD": ("a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "POWER BI (FREE)", [
        ("2049e525-b859-401b-b2a0-e0a31c4b1fe4", "BI_AZURE_P0", "PowerBI"),
        ("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION", "exchange"),
    ]),
}
OFFICE_SITE = "Head Office, Kirkgate"
DEPOT_SITE = "Canal Wharf Depot"


@dataclass
class Staff:
    given: str
    family: str
    department: str
    title: str
    role: str
    upn: str
    id: str
    enabled: bool = True
    skus: list[str] = field(default_factory=list)
    created: str = ""

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"


@dataclass
class Guest:
    given: str
    family: str
    mail: str
    id: str
    org: str

    @property
    def upn(self) -> str:
        return self.mail.replace("@", "_") + f"#EXT#@{INITIAL}"


class Gen:
    """Holds the seeded RNG and the tenant as it is built, then writes every file."""

    def __init__(self, seed: int, out: Path) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fiction, not secrets
        self.seed = seed
        self.out = out
        self.tenant_id = self.guid()
        self.staff: list[Staff] = []
        self.guests: list[Guest] = []
        self.leavers: list[Staff] = []
        self.devices: list[dict[str, Any]] = []
        self.device_apps: dict[str, set[tuple[str, str, str]]] = {}  # device id -> apps
        self.sizes: dict[str, int] = {}

    # ---------------------------------------------------------------- primitives
    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, n: int = 32) -> str:
        raw = bytes(self.rng.getrandbits(8) for _ in range(n))
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def stamp(self, d: date, hour_from: int = 7, hour_to: int = 18) -> str:
        h = self.rng.randint(hour_from, hour_to)
        m, s = self.rng.randint(0, 59), self.rng.randint(0, 59)
        return f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}Z"

    def write_json(self, rel: str, data: Any, compact: bool = True) -> None:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) if compact else \
            json.dumps(data, ensure_ascii=False, indent=1)
        self.write_text(rel, text + "\n")

    def write_text(self, rel: str, text: str, bom: bool = False) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        path.write_bytes(data)
        self.sizes[rel] = len(data)

    def write_csv(self, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                  bom: bool = False, crlf: bool = False) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
        w.writerow(header)
        w.writerows(rows)
        self.write_text(rel, buf.getvalue(), bom=bom)

    def pages(self, rel: str, context: str, items: list[dict[str, Any]], size: int,
              next_url: str) -> None:
        """Graph collection pages with @odata.nextLink between them (files -1, -2, ...)."""
        chunks = [items[i:i + size] for i in range(0, len(items), size)] or [[]]
        for n, chunk in enumerate(chunks, 1):
            page: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#{context}"}
            if n < len(chunks):
                page["@odata.nextLink"] = f"{next_url}&$skiptoken={self.token(48)}"
            page["value"] = chunk
            self.write_json(f"{rel}-{n}.json", page)

    # ---------------------------------------------------------------- people
    def build_people(self) -> None:
        used: set[str] = set()

        def upn_for(given: str, family: str) -> str:
            base = f"{given}.{family}".lower().replace("'", "").replace(" ", "")
            upn, n = f"{base}@{DOMAIN}", 1
            while upn in used:
                n += 1
                upn = f"{base}{n}@{DOMAIN}"
            used.add(upn)
            return upn

        for dept, roles in DEPARTMENTS.items():
            for title, count, role in roles:
                for _ in range(count):
                    g, f = self.rng.choice(FIRST), self.rng.choice(LAST)
                    s = Staff(g, f, dept, title, role, upn_for(g, f), self.guid())
                    s.created = self.stamp(self.day(date(2016, 1, 4), date(2026, 9, 30)))
                    s.skus = ["SPE_F1"] if role == "operative" else ["SPE_E3"]
                    self.staff.append(s)
        # Teams Phone for officers who ring tenants, and the executive team.
        for s in self.staff:
            if (s.role == "housing_officer" and self.rng.random() < 0.55) or (
                s.role == "income" and self.rng.random() < 0.3) or s.role == "exec":
                s.skus.append("MCOEV")
            if s.role in ("office", "ict") and self.rng.random() < 0.4:
                s.skus.append("POWER_BI_STANDARD")
        # Leavers: disabled accounts, some still holding licences.
        leaver_roles = ["operative"] * 6 + ["housing_officer"] * 4 + ["contact_centre"] * 3 + \
            ["ict"] * 2 + ["income"] * 2 + ["office"]
        for i, role in enumerate(leaver_roles):
            dept, title = next((d, t) for d, rs in DEPARTMENTS.items() for t, _, r in rs
                               if r == role)
            g, f = self.rng.choice(FIRST), self.rng.choice(LAST)
            s = Staff(g, f, dept, title, role, upn_for(g, f), self.guid(), enabled=False)
            s.created = self.stamp(self.day(date(2015, 1, 5), date(2023, 12, 1)))
            s.skus = (["SPE_F1"] if role == "operative" else ["SPE_E3"]) if i % 3 == 0 else []
            self.leavers.append(s)
        for given, family, mail, org in (
            ("Gavin", "Price", "gavin.price@cobaltms.co.uk", "Cobalt Managed Services"),
            ("Renata", "Silva", "renata.silva@cobaltms.co.uk", "Cobalt Managed Services"),
            ("Tom", "Fairley", "tom.fairley@cobaltms.co.uk", "Cobalt Managed Services"),
            ("Neil", "Hartwell", "neil@hartwellbs.co.uk", "Hartwell Building Services"),
            ("Shona", "Birch", "shona.birch@hartwellbs.co.uk", "Hartwell Building Services"),
            ("Marie", "Okoro", "marie.okoro@riversideborough.gov.uk", "Riverside Borough Council"),
            ("Dev", "Chauhan", "dev.chauhan@riversideborough.gov.uk",
             "Riverside Borough Council"),
            ("Jo", "Lindqvist", "jo.lindqvist.design@gmail.com", "freelance designer"),
        ):
            self.guests.append(Guest(given, family, mail, self.guid(), org))

    def by_role(self, *roles: str) -> list[Staff]:
        return [s for s in self.staff if s.role in roles]

    def by_dept(self, *depts: str) -> list[Staff]:
        return [s for s in self.staff if s.department in depts]

    def pick(self, people: Sequence[Staff], n: int) -> list[Staff]:
        return self.rng.sample(list(people), min(n, len(people)))

    # ---------------------------------------------------------------- m365 directory
    def write_directory(self) -> None:
        self.write_json("m365/organization.json", {
            "@odata.context": f"{GRAPH}/$metadata#organization",
            "value": [{"id": self.tenant_id, "displayName": ORG, "countryLetterCode": "GB",
                       "verifiedDomains": [{"name": d, "isDefault": d == DOMAIN,
                                            "isInitial": d == INITIAL, "type": "Managed"}
                                           for d in (DOMAIN, LEGACY, INITIAL)]}],
        }, compact=False)
        self.write_json("m365/domains.json", {
            "@odata.context": f"{GRAPH}/$metadata#domains",
            "value": [
                {"id": DOMAIN, "authenticationType": "Managed", "isDefault": True,
                 "isInitial": False, "isVerified": True,
                 "supportedServices": ["Email", "OfficeCommunicationsOnline", "Intune"]},
                {"id": LEGACY, "authenticationType": "Managed", "isDefault": False,
                 "isInitial": False, "isVerified": True, "supportedServices": ["Email"]},
                {"id": INITIAL, "authenticationType": "Managed", "isDefault": False,
                 "isInitial": True, "isVerified": True,
                 "supportedServices": ["Email", "OfficeCommunicationsOnline"]},
                {"id": "riversidehomes.co.uk", "authenticationType": "Managed",
                 "isDefault": False, "isInitial": False, "isVerified": False,
                 "supportedServices": []},
            ],
        }, compact=False)
        everyone = self.staff + self.leavers
        counts = {k: sum(k in s.skus for s in everyone) for k in SKUS}
        prepaid = {"SPE_E3": 640, "SPE_F1": 200, "MCOEV": 110, "POWER_BI_STANDARD": 1000000}
        skus = []
        for part, (sku_id, _, plans) in SKUS.items():
            skus.append({
                "accountId": self.tenant_id, "accountName": "Riverside Homes Group",
                "appliesTo": "User", "capabilityStatus": "Enabled",
                "consumedUnits": counts[part], "id": f"{self.tenant_id}_{sku_id}",
                "skuId": sku_id, "skuPartNumber": part,
                "prepaidUnits": {"enabled": prepaid[part], "suspended": 0, "warning": 0,
                                 "lockedOut": 0},
                "servicePlans": [{"servicePlanId": pid, "servicePlanName": name,
                                  "provisioningStatus": "Success", "appliesTo": "User"}
                                 for pid, name, _ in plans],
            })
        self.write_json("m365/subscribedSkus.json", {
            "@odata.context": f"{GRAPH}/$metadata#subscribedSkus", "value": skus,
        }, compact=False)

        select = ("id,userPrincipalName,mail,displayName,department,jobTitle,accountEnabled,"
                  "userType,assignedLicenses,assignedPlans")
        users: list[dict[str, Any]] = []
        order = sorted(everyone, key=lambda s: s.id)
        for s in order:
            assigned = [
                {"assignedDateTime": s.created, "capabilityStatus": "Enabled",
                 "service": service, "servicePlanId": pid}
                for part in s.skus for pid, _, service in SKUS[part][2]
            ]
            users.append({
                "id": s.id, "userPrincipalName": s.upn, "mail": s.upn,
                "displayName": s.name, "department": s.department, "jobTitle": s.title,
                "accountEnabled": s.enabled, "userType": "Member",
                "assignedLicenses": [{"disabledPlans": [], "skuId": SKUS[p][0]}
                                     for p in s.skus],
                "assignedPlans": assigned,
            })
        for g in self.guests:
            users.append({
                "id": g.id, "userPrincipalName": g.upn, "mail": g.mail,
                "displayName": f"{g.given} {g.family} ({g.org})", "department": None,
                "jobTitle": None, "accountEnabled": True, "userType": "Guest",
                "assignedLicenses": [], "assignedPlans": [],
            })
        self.add_sign_in_activity(order, users)
        self.pages("m365/users", f"users({select})", users, 500,
                   f"{GRAPH}/users?$select={select}&$top=500")

    def add_sign_in_activity(self, staff: list[Staff], users: list[dict[str, Any]]) -> None:
        """``createdDateTime`` and ``signInActivity`` on every user, as Graph lists them when
        both are selected (``$select=…,signInActivity``, AuditLog.Read.All).

        Its own RNG, so every other value stays as it was. The story: two invited guests
        never accepted (their accounts were never signed in to); leavers last signed in
        months ago; every member, all of whom show in the usage reports, in the last three
        weeks. The three timestamps are the documented ones; the request ids are left out.
        """
        rng = random.Random(self.seed * 7 + 31)  # noqa: S311 - reproducible fiction
        by_id = {s.id: s for s in staff}
        pending = set(sorted(u["id"] for u in users if u["userType"] == "Guest")[:2])

        def iso(moment: datetime) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        for user in users:
            person = by_id.get(user["id"])
            if person is not None:
                user["createdDateTime"] = person.created
            else:
                user["createdDateTime"] = iso(AS_OF - timedelta(
                    days=rng.randint(40, 700), seconds=rng.randint(0, 36000)))
            if user["id"] in pending:
                user["signInActivity"] = dict.fromkeys(SIGN_IN_FIELDS)
                continue
            days = rng.randint(0, 20) if user["accountEnabled"] else rng.randint(100, 400)
            last = AS_OF - timedelta(days=days, seconds=rng.randint(0, 86399))
            quiet = last + timedelta(hours=rng.randint(1, 30))
            quiet = min(quiet, AS_OF - timedelta(minutes=rng.randint(5, 90)))
            user["signInActivity"] = {
                "lastSignInDateTime": iso(last),
                "lastNonInteractiveSignInDateTime": iso(quiet),
                "lastSuccessfulSignInDateTime": iso(max(last, quiet)),
            }

    # ---------------------------------------------------------------- MFA evidence
    def write_mfa(self) -> None:
        """userRegistrationDetails, Conditional Access policies and security defaults.

        Its own RNG, so adding it left every other file byte for byte as it was. The
        story: MFA for everyone is still in report-only mode, only admins are covered (by
        role), most staff registered a method anyway, some operatives and one ICT admin
        did not, guests register nothing here.
        """
        rng = random.Random(self.seed * 7 + 12)  # noqa: S311 - reproducible fiction
        ict = self.by_dept("ICT")
        admins = {s.id for s in ict if s.title in ("Head of ICT", "Infrastructure Engineer")}
        admins.add(next(s.id for s in ict if s.title not in ("Head of ICT",
                                                            "Infrastructure Engineer")))
        lapsed_admin = sorted(admins)[1]
        methods = (["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
                   ["microsoftAuthenticatorPush"], ["mobilePhone"],
                   ["microsoftAuthenticatorPasswordless", "fido2"])
        rows: list[dict[str, Any]] = []
        for s in sorted(self.staff, key=lambda x: x.id):  # disabled users are not listed
            admin = s.id in admins
            registered = (s.id != lapsed_admin if admin else
                          rng.random() < (0.72 if s.role == "operative" else 0.93))
            chosen = rng.choice(methods) if registered else []
            row: dict[str, Any] = {
                "id": s.id, "userPrincipalName": s.upn, "userDisplayName": s.name,
                "userType": "member", "isAdmin": admin,
                "isSsprRegistered": registered, "isSsprEnabled": True,
                "isSsprCapable": registered, "isMfaRegistered": registered,
                "isMfaCapable": registered, "isPasswordlessCapable": "fido2" in chosen,
                "methodsRegistered": chosen,
                "isSystemPreferredAuthenticationMethodEnabled": True,
                "systemPreferredAuthenticationMethods": chosen[:1],
                "userPreferredMethodForSecondaryAuthentication": (
                    "push" if chosen and chosen[0].startswith("microsoftAuth") else
                    "sms" if chosen else "none"),
                "lastUpdatedDateTime": self.stamp(self.day(date(2026, 9, 1), REFRESH)),
            }
            if rng.random() < 0.1:  # optional fields Graph leaves out for some users
                for key in ("userPreferredMethodForSecondaryAuthentication",
                            "systemPreferredAuthenticationMethods", "isPasswordlessCapable"):
                    row.pop(key)
            rows.append(row)
        for g in self.guests:
            rows.append({
                "id": g.id, "userPrincipalName": g.upn, "userDisplayName": f"{g.given} "
                f"{g.family}", "userType": "guest", "isAdmin": False,
                "isSsprRegistered": False, "isSsprEnabled": False, "isSsprCapable": False,
                "isMfaRegistered": False, "isMfaCapable": False,
                "isPasswordlessCapable": False, "methodsRegistered": [],
                "lastUpdatedDateTime": self.stamp(self.day(date(2026, 9, 1), REFRESH)),
            })
        base = "reports/authenticationMethods/userRegistrationDetails"
        self.pages(f"m365/{base}", base, rows, 500, f"{GRAPH}/{base}?$top=500")
        break_glass = str(uuid.UUID(int=rng.getrandbits(128), version=4))

        def policy(name: str, state: str, users: dict[str, Any], grant: dict[str, Any],
                   client_apps: Sequence[str] = ("all",)) -> dict[str, Any]:
            created = self.stamp(self.day(date(2023, 3, 1), date(2025, 6, 30)))
            return {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "templateId": None, "displayName": name, "createdDateTime": created,
                "modifiedDateTime": None, "state": state, "sessionControls": None,
                "conditions": {
                    "userRiskLevels": [], "signInRiskLevels": [],
                    "clientAppTypes": list(client_apps), "platforms": None,
                    "locations": None, "devices": None, "clientApplications": None,
                    "applications": {"includeApplications": ["All"],
                                     "excludeApplications": [],
                                     "includeUserActions": [],
                                     "includeAuthenticationContextClassReferences": []},
                    "users": {"includeUsers": [], "excludeUsers": [], "includeGroups": [],
                              "excludeGroups": [], "includeRoles": [], "excludeRoles": [],
                              **users},
                },
                "grantControls": {"operator": "OR", "customAuthenticationFactors": [],
                                  "termsOfUse": [], "authenticationStrength": None, **grant},
            }

        policies = [
            policy("Require MFA for administrators", "enabled",
                   {"includeRoles": ["62e90394-69f5-4237-9190-012177145e10",
                                     "29232cdf-9323-42fd-ade2-1d097af3e4de",
                                     "f28a1f50-f6e7-4571-818b-6a12f2af6b6c"]},
                   {"builtInControls": ["mfa"]}),
            policy("Require MFA for all users (pilot)", "enabledForReportingButNotEnforced",
                   {"includeUsers": ["All"], "excludeGroups": [break_glass]},
                   {"builtInControls": ["mfa"]}),
            policy("Block legacy authentication", "enabled", {"includeUsers": ["All"]},
                   {"builtInControls": ["block"]},
                   client_apps=("exchangeActiveSync", "other")),
        ]
        self.write_json("m365/identity/conditionalAccess/policies.json", {
            "@odata.context": f"{GRAPH}/$metadata#identity/conditionalAccess/policies",
            "value": policies}, compact=False)
        self.write_json("m365/policies/identitySecurityDefaultsEnforcementPolicy.json", {
            "@odata.context": f"{GRAPH}/$metadata#policies/"
                              "identitySecurityDefaultsEnforcementPolicy/$entity",
            "id": "00000000-0000-0000-0000-000000000005",
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security "
                           "mechanisms recommended by Microsoft.",
            "isEnabled": False}, compact=False)

    # ---------------------------------------------------------------- cross-tenant access
    def write_cross_tenant(self) -> None:
        """B2B partners in the cross-tenant policy and what the tenant lookup says of them.

        Cobalt (the managed-service provider, also guests in Teams and a Slack Connect
        team) and the council are named by the lookup; a third tenant the lookup cannot
        find shows as "Unknown organisation (tenant …abcd)". Tenant ids are derived from
        the names (uuid5), not drawn from the RNG, so adding them moved no other file.
        """
        def tid(name: str) -> str:
            return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.demo-tenant.invalid"))

        def direction(access: str) -> dict[str, Any]:
            return {"usersAndGroups": {"accessType": access, "targets": [
                        {"target": "AllUsers", "targetType": "user"}]},
                    "applications": {"accessType": access, "targets": [
                        {"target": "AllApplications", "targetType": "application"}]}}

        cobalt, council, unknown = tid("cobaltms"), tid("riversideborough"), tid("former-msp")
        base = f"{GRAPH}/$metadata#policies/crossTenantAccessPolicy"
        self.write_json("m365/policies/crossTenantAccessPolicy/default.json", {
            "@odata.context": f"{base}/default/$entity", "isServiceDefault": True,
            "inboundTrust": {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                             "isHybridAzureADJoinedDeviceAccepted": False},
            "b2bCollaborationInbound": direction("allowed"),
            "b2bCollaborationOutbound": direction("allowed"),
            "b2bDirectConnectInbound": direction("blocked"),
            "b2bDirectConnectOutbound": direction("blocked")}, compact=False)

        def partner(tenant: str, provider: bool, mfa: bool) -> dict[str, Any]:
            return {"tenantId": tenant, "isServiceProvider": provider,
                    "inboundTrust": {"isMfaAccepted": mfa, "isCompliantDeviceAccepted": False,
                                     "isHybridAzureADJoinedDeviceAccepted": False},
                    "b2bCollaborationInbound": None, "b2bCollaborationOutbound": None,
                    "b2bDirectConnectInbound": None, "b2bDirectConnectOutbound": None}

        self.write_json("m365/policies/crossTenantAccessPolicy/partners.json", {
            "@odata.context": f"{base}/partners", "value": [
                partner(cobalt, True, True), partner(council, False, False),
                partner(unknown, False, True)]}, compact=False)
        info = f"{GRAPH}/$metadata#microsoft.graph.tenantInformation"
        self.write_json("m365/tenantRelationships/findTenantInformationByTenantId.json", {
            cobalt: {"@odata.context": info, "tenantId": cobalt,
                     "displayName": "Cobalt Managed Services Ltd",
                     "defaultDomainName": "cobaltms.co.uk", "federationBrandName": None},
            council: {"@odata.context": info, "tenantId": council,
                      "displayName": "Riverside Borough Council",
                      "defaultDomainName": "riversideborough.gov.uk",
                      "federationBrandName": "Riverside Borough Council"},
            unknown: {"error": {"code": "Request_ResourceNotFound",
                                "message": f"Resource '{unknown}' does not exist or one of "
                                           "its queried reference-property objects are not "
                                           "present."}},
        }, compact=False)

    # ---------------------------------------------------------------- usage reports
    def write_reports(self) -> None:
        header = ["Report Refresh Date", "Tenant Display Name",
                  "Shared Channel Tenant Display Names", "User Id", "User Principal Name",
                  "Last Activity Date", "Is Deleted", "Deleted Date", "Assigned Products",
                  "Team Chat Message Count", "Private Chat Message Count", "Call Count",
                  "Meeting Count", "Post Messages", "Reply Messages", "Urgent Messages",
                  "Meetings Organized Count", "Meetings Attended Count",
                  "Ad Hoc Meetings Organized Count", "Ad Hoc Meetings Attended Count",
                  "Scheduled One-time Meetings Organized Count",
                  "Scheduled One-time Meetings Attended Count",
                  "Scheduled Recurring Meetings Organized Count",
                  "Scheduled Recurring Meetings Attended Count", "Audio Duration",
                  "Video Duration", "Screen Share Duration", "Audio Duration In Seconds",
                  "Video Duration In Seconds", "Screen Share Duration In Seconds",
                  "Has Other Action", "Is Licensed", "Report Period"]
        teams_rows, email_rows = [], []
        start = REFRESH - timedelta(days=29)
        for s in sorted(self.staff + self.leavers, key=lambda x: x.upn):
            if not s.skus or s.skus == ["POWER_BI_STANDARD"]:
                continue
            products = "+".join(SKUS[p][1] for p in s.skus)
            r = self.rng.random()
            if not s.enabled:
                last = self.day(date(2026, 3, 1), date(2026, 8, 20)).isoformat()
                counts = [0, 0, 0, 0]
            elif (s.role == "operative" and r < 0.24) or r < 0.03:
                last = "" if self.rng.random() < 0.5 else \
                    self.day(date(2026, 5, 1), start - timedelta(days=1)).isoformat()
                counts = [0, 0, 0, 0]
            else:
                last = self.day(REFRESH - timedelta(days=20), REFRESH).isoformat()
                heavy = 1 if s.role == "operative" else 4
                counts = [self.rng.randint(0, 12 * heavy), self.rng.randint(3, 45 * heavy),
                          self.rng.randint(0, 4 * heavy), self.rng.randint(0, 5 * heavy)]
                if s.role == "comms":
                    counts[3] = self.rng.randint(0, 4)  # their meetings happen on Zoom
            meetings = counts[3]
            audio = meetings * self.rng.randint(600, 2400) + counts[2] * 180
            teams_rows.append([
                REFRESH.isoformat(), ORG, "", s.id, s.upn, last, "False", "", products,
                *counts, self.rng.randint(0, 3) if counts[0] else 0, counts[0] // 2, 0,
                meetings // 3, meetings - meetings // 3, meetings // 2, meetings // 2 and 1,
                0, meetings // 3, meetings // 3, meetings - meetings // 3 - meetings // 3,
                f"PT{audio // 60}M", f"PT{audio // 180}M", "PT0S", audio, audio // 3, 0,
                "Yes" if last else "No", "Yes", "30",
            ])
            email_last = last or ""
            if s.enabled and not email_last:
                email_last = self.day(REFRESH - timedelta(days=15), REFRESH).isoformat()
            active = bool(email_last) and s.enabled
            email_rows.append([
                REFRESH.isoformat(), s.upn, s.name, "False", "", email_last,
                self.rng.randint(0, 160) if active else 0,
                self.rng.randint(40, 900) if active else self.rng.randint(0, 30),
                self.rng.randint(20, 700) if active else 0,
                self.rng.randint(0, 12) if active else 0,
                self.rng.randint(0, 30) if active else 0, products, "30",
            ])
        self.write_csv("m365/reports/getTeamsUserActivityUserDetail_D30.csv", header,
                       teams_rows, bom=True)
        self.write_csv("m365/reports/getEmailActivityUserDetail_D30.csv", [
            "Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted",
            "Deleted Date", "Last Activity Date", "Send Count", "Receive Count", "Read Count",
            "Meeting Created Count", "Meeting Interacted Count", "Assigned Products",
            "Report Period"], email_rows, bom=True)

    # ---------------------------------------------------------------- enterprise apps
    def write_apps(self) -> None:
        graph_roles = {
            "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
            "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
            "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
            "Calendars.ReadWrite": "ef54d2bf-783f-4e0f-bca1-3210c0444d99",
            "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
            "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
        }
        sps: list[dict[str, Any]] = []

        def sp(name: str, app_id: str | None = None, owner: str | None = None,
               publisher: str = "", verified: str = "", sso: str | None = None,
               kind: str = "Application", gallery: bool = True,
               roles: dict[str, str] | None = None) -> dict[str, Any]:
            obj: dict[str, Any] = {
                "id": self.guid(), "appId": app_id or self.guid(), "displayName": name,
                "appOwnerOrganizationId": owner, "publisherName": publisher or None,
                "verifiedPublisher": {"displayName": publisher if verified else None,
                                      "verifiedPublisherId": verified or None,
                                      "addedDateTime": "2023-04-12T10:15:00Z" if verified
                                      else None},
                "servicePrincipalType": kind, "accountEnabled": True,
                "preferredSingleSignOnMode": sso,
                "tags": ["WindowsAzureActiveDirectoryIntegratedApp"] if gallery else [],
                "appRoles": [{"id": rid, "value": value, "allowedMemberTypes": ["Application"],
                              "isEnabled": True} for value, rid in (roles or {}).items()],
            }
            sps.append(obj)
            return obj

        graph = sp("Microsoft Graph", "00000003-0000-0000-c000-000000000000", MS_SERVICES,
                   "Microsoft Services", gallery=False, roles=graph_roles)
        for name, app_id, owner in (
            ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000", MS_SERVICES),
            ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000",
             MS_SERVICES),
            ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264", MS_SERVICES),
            ("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", MS_SERVICES),
            ("Skype for Business Online", "00000004-0000-0ff1-ce00-000000000000", MS_SERVICES),
            ("Microsoft Intune", "0000000a-0000-0000-c000-000000000000", MS_SERVICES),
            ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c", MS_SERVICES),
            ("Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000",
             MS_SERVICES),
            ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", MS_SERVICES),
            ("Office 365 Management APIs", "c5393580-f805-4401-95e8-94b7a6ef2fc2", MS_SERVICES),
        ):
            sp(name, app_id, owner, "Microsoft Services", gallery=False)
        explorer = sp("Graph Explorer", "de8bc8b5-d9f9-48b1-a8ad-b748da725064", MS_CORP,
                      "Microsoft", gallery=False)
        sp("rhg-func-reports", kind="ManagedIdentity", gallery=False)

        grants: list[dict[str, Any]] = []
        assignments: dict[str, list[dict[str, Any]]] = {}

        def grant(client: dict[str, Any], scope: str, users: Sequence[Staff] | None) -> None:
            if users is None:
                grants.append({"id": self.token(32), "clientId": client["id"],
                               "consentType": "AllPrincipals", "principalId": None,
                               "resourceId": graph["id"], "scope": " " + scope + " "})
                return
            for u in users:
                grants.append({"id": self.token(32), "clientId": client["id"],
                               "consentType": "Principal", "principalId": u.id,
                               "resourceId": graph["id"], "scope": scope})

        def assign(app: dict[str, Any], users: Sequence[Staff] = (),
                   groups: Sequence[tuple[str, str]] = ()) -> None:
            rows = assignments.setdefault(f"/servicePrincipals/{app['id']}/appRoleAssignedTo",
                                          [])
            for u in users:
                rows.append({"id": self.token(32), "appRoleId":
                             "00000000-0000-0000-0000-000000000000",
                             "createdDateTime": self.stamp(self.day(date(2023, 1, 9),
                                                                    date(2026, 9, 30))),
                             "principalDisplayName": u.name, "principalId": u.id,
                             "principalType": "User", "resourceDisplayName": app["displayName"],
                             "resourceId": app["id"]})
            for gid, gname in groups:
                rows.append({"id": self.token(32), "appRoleId":
                             "00000000-0000-0000-0000-000000000000",
                             "createdDateTime": "2024-06-03T09:12:44Z",
                             "principalDisplayName": gname, "principalId": gid,
                             "principalType": "Group", "resourceDisplayName": app["displayName"],
                             "resourceId": app["id"]})

        def app_permission(app: dict[str, Any], *values: str) -> None:
            rows = assignments.setdefault(f"/servicePrincipals/{app['id']}/appRoleAssignments",
                                          [])
            for value in values:
                rows.append({"id": self.token(32), "appRoleId": graph_roles[value],
                             "createdDateTime": "2024-02-19T14:03:10Z",
                             "principalDisplayName": app["displayName"],
                             "principalId": app["id"], "principalType": "ServicePrincipal",
                             "resourceDisplayName": "Microsoft Graph",
                             "resourceId": graph["id"]})

        office = [s for s in self.staff if s.role != "operative"]
        comms, ict = self.by_dept("Communications"), self.by_dept("ICT")
        sign_in = "openid profile email offline_access User.Read"

        otter = sp("Otter.ai", publisher="Otter.ai", verified="6198423")
        grant(otter, sign_in + " Calendars.Read", self.pick(
            self.by_role("housing_office", "exec", "income", "office", "comms"), 12))
        fireflies = sp("Fireflies.ai", publisher="Fireflies.AI Corp", verified="5410377")
        grant(fireflies, sign_in + " Calendars.Read", self.pick(self.by_role("office",
                                                                            "exec"), 3))
        chatgpt = sp("ChatGPT", publisher="OpenAI", verified="6370145")
        grant(chatgpt, sign_in + " Files.Read.All Sites.Read.All", self.pick(office, 7))
        dropbox = sp("Dropbox", publisher="Dropbox, Inc.", verified="4437781")
        grant(dropbox, sign_in, self.pick(self.by_dept("Communications", "Repairs",
                                                       "Housing Management"), 9))
        zoom = sp("Zoom", publisher="Zoom Video Communications, Inc.", verified="5170489")
        grant(zoom, sign_in + " Calendars.ReadWrite", self.pick(comms, 4))
        assign(zoom, comms)  # an island: assigned to Communications, SSO never configured
        mailchimp = sp("Mailchimp", publisher="The Rocket Science Group LLC")
        grant(mailchimp, "openid profile email User.Read", self.pick(comms, 3))
        canva = sp("Canva", publisher="Canva Pty Ltd", verified="6022971")
        grant(canva, sign_in + " Files.Read", self.pick(comms, 8))
        trello = sp("Trello", publisher="Atlassian", verified="4785296")
        grant(trello, "openid profile email User.Read", self.pick(ict, 5))
        calendly = sp("Calendly", publisher="Calendly LLC", verified="5612390")
        grant(calendly, sign_in + " Calendars.ReadWrite", self.pick(
            self.by_role("housing_office", "income"), 4))
        docusign = sp("DocuSign", publisher="DocuSign, Inc.", verified="3781025", sso="saml")
        grant(docusign, "openid profile email User.Read", None)
        assign(docusign, self.by_dept("Finance", "HR")[:22] + self.by_dept("Executive")[:8])
        adobe = sp("Adobe Identity Management", publisher="Adobe Inc.", verified="4211970",
                   sso="saml")
        assign(adobe, comms[:14] + self.pick(self.by_dept("Finance", "Executive"), 6))
        slack = sp("Slack", publisher="Slack Technologies, LLC", verified="5030268",
                   sso="saml")
        assign(slack, ict)
        eightbyeight = sp("8x8 Work", publisher="8x8, Inc.", verified="4872216", sso="saml")
        assign(eightbyeight, self.by_dept("Customer Services"))
        app_permission(eightbyeight, "User.Read.All")
        keystone = sp("Keystone Housing Online", publisher="Keystone Housing Systems Ltd",
                      sso="oidc")
        grant(keystone, "openid profile email User.Read", None)
        assign(keystone, groups=[(self.guid(), "SG-Keystone-Users")])
        mimecast = sp("Mimecast Synchronization Engine", publisher="Mimecast Services Limited",
                      verified="4069541")
        app_permission(mimecast, "User.Read.All", "Group.Read.All")
        scheduler = sp("Riverside Repairs Scheduler", owner=self.tenant_id,
                       publisher="Riverside Homes Group", gallery=False)
        app_permission(scheduler, "Calendars.ReadWrite", "Mail.Send")
        sp("LinkedIn Learning", publisher="LinkedIn Corporation", verified="4101826",
           sso="notSupported")  # added from the gallery once, never used: yields nothing
        grant(explorer, "openid profile User.Read Mail.Read Directory.Read.All",
              self.pick(ict, 4))  # Microsoft first-party: skipped by the transform

        self.write_json("m365/servicePrincipals-1.json", {
            "@odata.context": f"{GRAPH}/$metadata#servicePrincipals", "value": sps})
        self.write_json("m365/oauth2PermissionGrants-1.json", {
            "@odata.context": f"{GRAPH}/$metadata#oauth2PermissionGrants", "value": grants})
        self.write_json("m365/appRoleAssignments.json", {
            path: {"@odata.context": f"{GRAPH}/$metadata#servicePrincipals('x')/"
                                     f"{path.rsplit('/', 1)[1]}", "value": rows}
            for path, rows in assignments.items()
        })

    # ---------------------------------------------------------------- mail and teams
    def write_mail_rules(self) -> None:
        mailboxes = [s for s in self.staff if s.enabled]
        personal = [("gmail.com", 4), ("hotmail.co.uk", 2)]
        forwarders = self.pick([s for s in mailboxes if s.role != "ict"], 11)
        rules: dict[str, list[dict[str, Any]]] = {s.upn: [] for s in mailboxes}

        def rule(name: str, actions: dict[str, Any], enabled: bool = True) -> dict[str, Any]:
            return {"id": "AQAAA" + self.token(6) + "=", "displayName": name, "sequence": 1,
                    "isEnabled": enabled, "hasError": False, "isReadOnly": False,
                    "conditions": {}, "actions": actions}

        def to(address: str, name: str) -> list[dict[str, Any]]:
            return [{"emailAddress": {"name": name, "address": address}}]

        i = 0
        for domain, n in personal:
            for _ in range(n):
                s = forwarders[i]
                i += 1
                addr = f"{s.given.lower()}{s.family[0].lower()}{self.rng.randint(70, 99)}@{domain}"
                action = self.rng.choice(["forwardTo", "redirectTo", "forwardAsAttachmentTo"])
                rules[s.upn].append(rule("Forward to home", {action: to(addr, s.name),
                                                             "stopProcessingRules": False}))
        s = forwarders[i]
        rules[s.upn].append(rule("Job sheets to Hartwell", {
            "forwardTo": to("jobs@hartwellbs.co.uk", "Hartwell Jobs")}))
        s = forwarders[i + 1]
        rules[s.upn].append(rule("Copy to team lead", {
            "forwardTo": to(forwarders[i + 2].upn, forwarders[i + 2].name)}))
        s = forwarders[i + 3]
        rules[s.upn].append(rule("Old address", {
            "redirectTo": to(f"{s.given.lower()}.{s.family.lower()}@{LEGACY}", s.name)}))
        s = forwarders[i + 4]
        rules[s.upn].append(rule("Forward when on leave", {
            "forwardTo": to(f"{s.given.lower()}{self.rng.randint(1, 99)}@yahoo.co.uk", s.name)},
            enabled=False))
        for s in self.pick(mailboxes, 60):
            rules[s.upn].append(rule("Newsletters", {"moveToFolder": "AQMkADAwATM0MDAAL" +
                                                     self.token(9), "markAsRead": True}))
        self.write_json("m365/messageRules.json", {
            f"/users/{upn}/mailFolders/inbox/messageRules": {
                "@odata.context": f"{GRAPH}/$metadata#users('{upn}')/mailFolders('inbox')/"
                                  "messageRules", "value": r}
            for upn, r in sorted(rules.items())
        })

    def write_teams(self) -> None:
        guests = {g.mail: g for g in self.guests}
        teams = [
            ("All Staff", []), ("Repairs Operations", []),
            ("Repairs - Contractor Liaison", ["neil@hartwellbs.co.uk",
                                              "shona.birch@hartwellbs.co.uk"]),
            ("Voids and Lettings", []), ("Housing Management", []),
            ("Homelessness Partnership", ["marie.okoro@riversideborough.gov.uk",
                                          "dev.chauhan@riversideborough.gov.uk"]),
            ("ASB Case Review", ["marie.okoro@riversideborough.gov.uk"]),
            ("Income Team", []), ("Customer Services", []), ("ICT", []),
            ("ICT - Cobalt Managed Service", ["gavin.price@cobaltms.co.uk",
                                              "renata.silva@cobaltms.co.uk",
                                              "tom.fairley@cobaltms.co.uk"]),
            ("Communications", ["jo.lindqvist.design@gmail.com"]), ("Resident Voice", []),
            ("Executive Team", []), ("Board Papers", []), ("Finance", []), ("HR", []),
            ("Health and Safety", []), ("Damp and Mould Taskforce", []), ("Social Club", []),
        ]
        groups, members = [], {}
        for name, guest_mails in teams:
            gid = self.guid()
            groups.append({"id": gid, "displayName": name,
                           "resourceProvisioningOptions": ["Team"],
                           "visibility": "Private" if guest_mails else "Public"})
            key = (f"/teams/{gid}/members?$filter=roles/any(r:r eq 'guest')")
            members[key] = {
                "@odata.context": f"{GRAPH}/$metadata#teams('{gid}')/members",
                "@odata.count": len(guest_mails),
                "value": [{
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "id": self.token(40), "roles": ["guest"],
                    "displayName": f"{guests[m].given} {guests[m].family} ({guests[m].org})",
                    "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
                    "userId": guests[m].id, "email": m, "tenantId": self.tenant_id,
                } for m in guest_mails],
            }
        self.write_json("m365/teams-1.json", {
            "@odata.context": f"{GRAPH}/$metadata#groups(id,displayName,"
                              "resourceProvisioningOptions,visibility)", "value": groups})
        self.write_json("m365/teamGuests.json", members)

    # ---------------------------------------------------------------- intune
    def add_device(self, name: str, os_name: str, os_version: str, owner: Staff | None,
                   ownership: str, enrolment: str, model: str, maker: str,
                   apps: Iterable[tuple[str, str, str]]) -> None:
        dev_id = self.guid()
        self.devices.append({
            "id": dev_id, "deviceName": name, "operatingSystem": os_name,
            "osVersion": os_version, "model": model, "manufacturer": maker,
            "managedDeviceOwnerType": ownership, "deviceEnrollmentType": enrolment,
            "userPrincipalName": owner.upn if owner else "",
            "lastSyncDateTime": self.stamp(self.day(date(2026, 10, 20), date(2026, 10, 31))),
        })
        self.device_apps[dev_id] = set(apps)

    def write_intune(self) -> None:
        rng = self.rng
        fm, wp = "androidDedicatedAndFullyManaged", "androidWorkProfile"
        base_android = [(fm, "com.microsoft.teams", "1416/1.0.0.2025"),
                        (fm, "com.microsoft.office.outlook", "4.2540.1"),
                        (fm, "com.azure.authenticator", "6.2509.6230"),
                        (fm, "com.samsung.android.messaging", "15.1.10.13"),
                        (fm, "com.android.chrome", "141.0.7390.70")]
        whatsapp = (fm, "com.whatsapp", "2.25.29.77")
        operatives = self.by_role("operative")
        wa_ops = set(id(s) for s in self.pick(operatives, 150))
        telegram = set(id(s) for s in self.pick(operatives, 5))
        field_staff = self.by_role("repairs_field")
        wa_field = set(id(s) for s in self.pick(field_staff, 6))
        wab_field = self.pick(field_staff, 1)[0]
        for n, s in enumerate(operatives + field_staff, 1):
            apps = [*base_android, (fm, "com.keystonehousing.mobile", "7.4.2")]
            if id(s) in wa_ops or id(s) in wa_field:
                apps.append(whatsapp)
            if id(s) in telegram:
                apps.append((fm, "org.telegram.messenger", "12.0.1"))
            if s is wab_field:
                apps.append((fm, "com.whatsapp.w4b", "2.25.29.77"))
            self.add_device(f"RHG-AND-{n:04d}", "Android", rng.choice(["14", "15"]), s,
                            "company", "androidEnterpriseFullyManaged",
                            "SM-G736B", "samsung", apps)
        self.add_device("RHG-AND-INCOME-SMS", "Android", "15", None, "company",
                        "androidEnterpriseDedicatedDevice", "SM-A556B", "samsung",
                        [(fm, "com.whatsapp.w4b", "2.25.29.77"),
                         (fm, "com.samsung.android.messaging", "15.1.10.13")])
        # Housing officers: corporate iPhones; Intune reports iOS apps by store name.
        ios_base = [("ios", "Microsoft Teams", "7.21.1"), ("ios", "Microsoft Outlook", "5.2540.0"),
                    ("ios", "Microsoft Authenticator", "6.8.29"), ("ios", "Keystone Mobile",
                                                                    "7.4.1")]
        officers = self.by_role("housing_officer")
        wa_ios = set(id(s) for s in self.pick(officers, 18))
        signal = set(id(s) for s in self.pick(officers, 2))
        for n, s in enumerate(officers, 1):
            apps = list(ios_base)
            if id(s) in wa_ios:
                apps.append(("ios", "WhatsApp Messenger", "25.29.74"))
            if id(s) in signal:
                apps.append(("ios", "Signal - Private Messenger", "7.72"))
            self.add_device(f"RHG-IPH-{n:04d}", "iOS", rng.choice(["18.7.1", "26.0.1"]), s,
                            "company", "appleBulkWithUser", "iPhone SE (3rd generation)",
                            "Apple", apps)
        # Laptops for everyone who is not an operative.
        win = [s for s in self.staff if s.role != "operative"]
        zoom = set(id(s) for s in self.by_dept("Communications")) | set(
            id(s) for s in self.pick(win, 6))
        whatsapp_desktop = set(id(s) for s in self.pick(win, 9))
        mitel_users = set(id(s) for s in self.pick(self.by_role("housing_office", "income",
                                                                "office", "exec"), 40))
        for n, s in enumerate(win, 1):
            apps = [("windows", "Microsoft Teams", "25275.2601.4002.2815")]
            if id(s) in zoom:
                apps.append(("windows", "Zoom Workplace", "6.6.2"))
            if s.department == "ICT":
                apps.append(("windows", "Slack", "4.46.101"))
            if s.department == "Customer Services" or (s.department == "ICT" and n % 7 == 0):
                apps.append(("windows", "8x8 Work", "8.24.2.3"))
            if id(s) in whatsapp_desktop:
                apps.append(("windows", "WhatsApp", "2.2540.3.0"))
            if id(s) in mitel_users:
                apps.append(("windows", "Mitel MiCollab", "9.8.0.104"))
            if s.department == "ICT" and n % 9 == 0:
                apps.append(("windows", "Telegram Desktop", "6.1.3"))
            self.add_device(f"RHG-LT-{n:05d}", "Windows", "10.0.26100.6899", s, "company",
                            "windowsAzureADJoin", rng.choice(["Latitude 5450", "Latitude 7450"]),
                            "Dell Inc.", apps)
        # Bring-your-own devices: only the work profile / managed apps are visible.
        byod = self.pick(self.by_role("repairs_office", "income", "office", "exec",
                                      "housing_office"), 30)
        for n, s in enumerate(byod, 1):
            if n <= 20:
                apps = [(wp, "com.microsoft.teams", "1416/1.0.0.2025"),
                        (wp, "com.microsoft.office.outlook", "4.2540.1"),
                        (wp, "com.azure.authenticator", "6.2509.6230")]
                if n <= 6:
                    apps.append((wp, "com.whatsapp", "2.25.29.77"))
                self.add_device(f"{s.given}'s Galaxy", "Android", "15", s, "personal",
                                "androidEnterpriseWorkProfile",
                                rng.choice(["SM-S921B", "SM-A356B", "Pixel 8a"]),
                                rng.choice(["samsung", "Google"]), apps)
            else:
                self.add_device(f"{s.given}'s iPhone", "iOS", "26.0.1", s, "personal",
                                "appleUserEnrollment", "iPhone 15", "Apple",
                                [("ios", "Microsoft Teams", "7.21.1"),
                                 ("ios", "Microsoft Outlook", "5.2540.0")])
        select = ("id,deviceName,operatingSystem,osVersion,model,manufacturer,"
                  "managedDeviceOwnerType,deviceEnrollmentType,userPrincipalName,"
                  "lastSyncDateTime")
        self.pages("m365/intune/managedDevices", f"deviceManagement/managedDevices({select})",
                   self.devices, 500,
                   f"{GRAPH}/deviceManagement/managedDevices?$select={select}&$top=500")
        # detectedApps: one object per (platform, name, version), with its devices.
        names = {d["id"]: d["deviceName"] for d in self.devices}
        on: dict[tuple[str, str, str], list[str]] = {}
        for dev_id, seen in self.device_apps.items():
            for app in seen:
                on.setdefault(app, []).append(dev_id)
        detected, device_lists = [], {}
        publishers = {"com.microsoft": "Microsoft Corporation", "Microsoft": "Microsoft "
                      "Corporation", "com.whatsapp": "WhatsApp LLC", "WhatsApp": "WhatsApp LLC"}
        for platform, name, version in sorted(on):
            app_id = self.token(33)
            devs = sorted(on[(platform, name, version)], key=lambda d: names[d])
            publisher = next((p for k, p in publishers.items() if name.startswith(k)), "")
            detected.append({"id": app_id, "displayName": name, "version": version,
                             "sizeInByte": rng.randint(20, 400) * 1048576,
                             "deviceCount": len(devs), "publisher": publisher,
                             "platform": platform})
            device_lists[f"/deviceManagement/detectedApps/{app_id}/managedDevices"
                         "?$select=id,deviceName"] = {
                "@odata.context": f"{GRAPH}/$metadata#deviceManagement/detectedApps('{app_id}')"
                                  "/managedDevices(id,deviceName)",
                "value": [{"id": d, "deviceName": names[d]} for d in devs]}
        self.write_json("m365/intune/detectedApps-1.json", {
            "@odata.context": f"{GRAPH}/$metadata#deviceManagement/detectedApps",
            "value": detected})
        self.write_json("m365/intune/detectedAppDevices.json", device_lists)

    # ---------------------------------------------------------------- slack
    def write_slack(self) -> None:
        rng = self.rng
        team, cobalt, keystone = "T05HQ2R7XKZ", "T03CBLT8MSP", "T02KYSTN8HS"

        def uid() -> str:
            return "U0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                  for _ in range(9))

        def epoch(d: date) -> int:
            return int(datetime(d.year, d.month, d.day, rng.randint(7, 18), rng.randint(0, 59),
                                tzinfo=timezone.utc).timestamp())

        def member(s_id: str, name: str, email: str, title: str = "", **flags: Any
                   ) -> dict[str, Any]:
            first, _, last = name.partition(" ")
            handle = email.split("@")[0] if email else name
            m: dict[str, Any] = {"id": s_id, "team_id": team, "name": handle,
                 "deleted": False, "color": "9f69e7", "real_name": name,
                 "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
                 "profile": {"title": title, "phone": "", "real_name": name,
                             "display_name": first, "email": email, "first_name": first,
                             "last_name": last, "team": team},
                 "is_admin": False, "is_owner": False, "is_primary_owner": False,
                 "is_restricted": False, "is_ultra_restricted": False, "is_bot": False,
                 "is_app_user": False, "updated": epoch(self.day(date(2025, 1, 6),
                                                                date(2026, 10, 28))),
                 "has_2fa": rng.random() < 0.8}
            m.update(flags)
            if not email:
                del m["profile"]["email"]
            return m

        ict = self.by_dept("ICT")
        members, ids = [], {}
        head = next(s for s in ict if s.title == "Head of ICT")
        admins = [head, *[s for s in ict if s.title == "Infrastructure Engineer"][:2]]
        for s in ict:
            ids[s.upn] = uid()
            members.append(member(ids[s.upn], s.name, s.upn, s.title,
                                  is_admin=s in admins, is_owner=s is head,
                                  is_primary_owner=s is head))
        for s in [x for x in self.leavers if x.department == "ICT"]:
            ids[s.upn] = uid()
            members.append(member(ids[s.upn], s.name, s.upn, s.title, deleted=True,
                                  has_2fa=False))
        for g in self.guests[:2]:
            ids[g.mail] = uid()
            members.append(member(ids[g.mail], f"{g.given} {g.family}", g.mail,
                                  "Cobalt service desk", is_restricted=True))
        ids["consultant"] = uid()
        members.append(member(ids["consultant"], "Priya Natarajan",
                              "priya.natarajan@keystonehousing.co.uk", "Implementation consultant",
                              is_restricted=True, is_ultra_restricted=True))
        # A contractor invited with a personal mailbox (SA-GUEST-002). Added with the
        # generator's random state put back, so every other record stays as it was.
        state = rng.getstate()
        members.append(member("U0KWALSH7QX", "Kieran Walsh", "kieran.walsh.it@outlook.com",
                              "Network contractor", is_restricted=True, has_2fa=False))
        rng.setstate(state)
        # The leaver deactivated last is deactivated three days before the audit, after
        # Slack last computed who it bills (team.billableInfo below): still billed.
        # Set without the random generator, so every other record stays as it was.
        billed_leaver = max((m for m in members if m["deleted"]), key=lambda m: m["updated"])
        billed_leaver["updated"] = int(datetime(2026, 10, 29, 16, 20,
                                                tzinfo=timezone.utc).timestamp())
        members.append(member("USLACKBOT", "Slackbot", "", is_bot=False))
        for name, bot_id in (("Jira Cloud", "U0JIRA7B0T1"), ("GitHub", "U0GH8B0T2XQ"),
                             ("Otter.ai", "U0OTTR4B0T3")):
            members.append(member(bot_id, name, "", is_bot=True, has_2fa=False))
        members.sort(key=lambda m: m["id"])
        half = len(members) // 2
        cursor = base64.b64encode(f"user:{members[half]['id']}".encode()).decode()
        self.write_json("slack/users.list-1.json", {
            "ok": True, "members": members[:half], "cache_ts": epoch(REFRESH),
            "response_metadata": {"next_cursor": cursor}})
        self.write_json("slack/users.list-2.json", {
            "ok": True, "members": members[half:], "cache_ts": epoch(REFRESH),
            "response_metadata": {"next_cursor": ""}})
        self.write_json("slack/team.info.json", {"ok": True, "team": {
            "id": team, "name": "Riverside ICT", "url": "https://riverside-ict.slack.com/",
            "domain": "riverside-ict", "email_domain": DOMAIN,
            "icon": {"image_default": True}, "avatar_base_url": "https://ca.slack-edge.com/",
            "is_verified": False}}, compact=False)
        self.write_json("slack/team.billing.info.json", {"ok": True, "plan": "pro"},
                        compact=False)
        self.write_json("slack/team.info.connected.json", {
            cobalt: {"ok": True, "team": {"id": cobalt, "name": "Cobalt Managed Services",
                                          "domain": "cobalt-ms", "email_domain":
                                          "cobaltms.co.uk"}},
            keystone: {"ok": True, "team": {"id": keystone, "name": "Keystone Housing Systems",
                                            "domain": "keystonehq", "email_domain": ""}},
        }, compact=False)

        def channel(name: str, n: int, private: bool = False, ext: Sequence[str] = (),
                    archived: bool = False) -> dict[str, Any]:
            cid = "C0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
                                 for _ in range(9))
            return {"id": cid, "name": name, "is_channel": True, "is_group": False,
                    "is_im": False, "is_mpim": False, "is_private": private,
                    "created": epoch(self.day(date(2022, 5, 3), date(2025, 6, 30))),
                    "is_archived": archived, "is_general": name == "general",
                    "unlinked": 0, "name_normalized": name, "is_shared": bool(ext),
                    "is_org_shared": False, "is_pending_ext_shared": False,
                    "pending_shared": [], "context_team_id": team,
                    "is_ext_shared": bool(ext),
                    "shared_team_ids": [team, *ext] if ext else [team],
                    "connected_team_ids": [team, *ext] if ext else [],
                    "conversation_host_id": team, "num_members": n,
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": "", "creator": "", "last_set": 0}}

        channels = [
            channel("general", 38), channel("random", 36), channel("ict-servicedesk", 14),
            channel("ict-infrastructure", 9), channel("ict-security", 5, private=True),
            channel("ict-projects", 18), channel("ict-alerts", 12), channel("ict-dev", 8),
            channel("ext-cobalt-support", 17, ext=[cobalt]),
            channel("ext-keystone-upgrade", 11, ext=[keystone]),
            channel("ext-cobalt-major-incidents", 9, private=True, ext=[cobalt]),
            channel("ext-oldvendor-migration", 6, ext=["T01LEGACY42"], archived=True),
        ]
        self.write_json("slack/conversations.list-1.json", {
            "ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}})

        def log(when: date, user: Staff, change: str, scope: str, app: tuple[str, str] | None
                = None, service: tuple[int, str] | None = None, ch: str = "") -> dict[str, Any]:
            entry: dict[str, Any] = {}
            if app:
                entry.update(app_id=app[0], app_type=app[1])
            if service:
                entry.update(service_id=service[0], service_type=service[1])
            entry.update(user_id=ids[user.upn], user_name=user.upn.split("@")[0],
                         date=str(epoch(when)), change_type=change, scope=scope)
            if ch:
                entry["channel"] = ch
            if change in ("removed", "disabled"):
                entry["reason"] = "user"
            return entry

        dev = next(s for s in ict if s.title == "Developer")
        analyst = next(s for s in ict if s.title == "Business Systems Analyst")
        engineer = admins[1]
        logs = [
            log(date(2023, 6, 14), engineer, "added", "incoming-webhook",
                service=(1180345512, "Incoming WebHooks"), ch=channels[6]["id"]),
            log(date(2023, 11, 2), analyst, "added", "read", service=(1120093417,
                                                                      "Google Drive")),
            log(date(2024, 2, 20), analyst, "added", "commands,chat:write,users:read",
                app=("A0TRELLO12", "Trello")),
            log(date(2024, 3, 5), engineer, "added",
                "commands,chat:write,links:read,links:write,users:read,users:read.email",
                app=("A0JIRACL01", "Jira Cloud")),
            log(date(2024, 5, 16), dev, "added", "commands,chat:write,links:read,team:read,"
                "users:read", app=("A0GITHUB77", "GitHub")),
            log(date(2025, 2, 11), engineer, "removed", "read",
                service=(1120093417, "Google Drive")),
            log(date(2025, 4, 7), head, "added", "commands,chat:write,users:read",
                app=("A0MSTEAMSC", "Microsoft Teams Calls")),
            log(date(2025, 9, 23), analyst, "added", "commands,chat:write,users:read,"
                "users:read.email", app=("A0ZOOMAPP1", "Zoom")),
            log(date(2025, 10, 14), head, "disabled", "commands,chat:write,users:read",
                app=("A0TRELLO12", "Trello")),
            log(date(2026, 9, 8), dev, "added", "channels:history,channels:read,chat:write,"
                "files:write,users:read,users:read.email", app=("A0OTTERAI9", "Otter.ai")),
            log(date(2026, 9, 30), engineer, "expanded", "commands,chat:write,links:read,"
                "links:write,users:read,users:read.email,channels:history",
                app=("A0JIRACL01", "Jira Cloud")),
        ]
        logs.reverse()  # newest first, as Slack returns them
        self.write_json("slack/team.integrationLogs-1.json", {
            "ok": True, "logs": logs,
            "paging": {"count": 100, "total": len(logs), "page": 1, "pages": 1}})
        logins = []
        for m in members:
            if m["is_bot"] or m["deleted"] or m["id"] in ("USLACKBOT", "U0KWALSH7QX"):
                continue
            last = self.day(date(2026, 10, 1), REFRESH) if rng.random() < 0.92 else \
                self.day(date(2026, 5, 1), date(2026, 7, 31))
            logins.append({
                "user_id": m["id"], "username": m["name"],
                "date_first": epoch(self.day(date(2022, 5, 3), date(2024, 12, 31))),
                "date_last": epoch(last), "count": rng.randint(40, 900),
                "ip": f"203.0.113.{rng.randint(2, 250)}", "user_agent":
                "com.tinyspeck.chatlyio/25.10.10 (Windows 11; Electron 37.6.0)",
                "isp": "Riverside Homes Group", "country": "GB", "region": "England"})
        # the personal-mail contractor: written without the random generator (see above)
        logins.append({
            "user_id": "U0KWALSH7QX", "username": "kieran.walsh.it",
            "date_first": int(datetime(2025, 11, 3, 9, 14, tzinfo=timezone.utc).timestamp()),
            "date_last": int(datetime(2026, 10, 20, 16, 41, tzinfo=timezone.utc).timestamp()),
            "count": 57, "ip": "198.51.100.23", "user_agent":
            "com.tinyspeck.chatlyio/25.10.10 (Macintosh; Electron 37.6.0)",
            "isp": "Virgin Media", "country": "GB", "region": "England"})
        self.write_json("slack/team.accessLogs-1.json", {
            "ok": True, "logins": logins,
            "paging": {"count": 100, "total": len(logins), "page": 1, "pages": 1}})
        # team.billableInfo, as Slack's Fair Billing Policy computes it: a member (or a
        # multi-channel guest) is billed when active in about the last 14 days; a
        # single-channel guest is free; a deactivated account is not billed, except the
        # leaver deactivated since the last computation (above). No random draws here.
        seen = {e["user_id"]: int(e["date_last"]) for e in logins}
        fresh = int((AS_OF - timedelta(days=14)).timestamp())
        billable = {}
        for m in members:
            if m["is_bot"] or m["is_app_user"] or m["id"] == "USLACKBOT":
                continue
            active = (m is billed_leaver if m["deleted"] else
                      seen.get(m["id"], 0) >= fresh and not m["is_ultra_restricted"])
            billable[m["id"]] = {"billing_active": active}
        self.write_json("slack/team.billableInfo-1.json", {
            "ok": True, "billable_info": billable, "response_metadata": {"next_cursor": ""}})
        # users.conversations?user=<guest>: the channels each guest is in (SA-GUEST-002's
        # reach), one answer per guest keyed by member id.
        by_name = {c["name"]: c for c in channels}
        reach = {ids[self.guests[0].mail]: ["ext-cobalt-support", "ext-cobalt-major-incidents"],
                 ids[self.guests[1].mail]: ["ext-cobalt-support"],
                 ids["consultant"]: ["ext-keystone-upgrade"],
                 "U0KWALSH7QX": ["ict-servicedesk", "ict-projects", "ict-security"]}
        keep = ("id", "name", "is_channel", "is_group", "is_private", "is_archived",
                "is_ext_shared", "context_team_id")
        self.write_json("slack/users.conversations.json", {
            guest: {"ok": True, "channels": [{k: by_name[n][k] for k in keep} for n in names],
                    "response_metadata": {"next_cursor": ""}}
            for guest, names in sorted(reach.items())})

    # ---------------------------------------------------------------- phones
    def write_phones(self) -> None:
        rng = self.rng
        cs = self.by_dept("Customer Services")
        cs_leavers = [s for s in self.leavers if s.department == "Customer Services"][:2]
        rows = []
        for n, s in enumerate(cs + cs_leavers):
            did = f"+44 113 496 {400 + n:04d}"
            advisor = s.title == "Customer Service Advisor"
            rows.append([s.given, s.family, s.upn, s.upn.split("@")[0],
                         "Customer Services - Kirkgate", f"{4000 + n}", did,
                         "X8 Contact Centre Agent" if advisor else "X6",
                         "Yes" if advisor else "No", "Active"])
        self.write_csv("phone/8x8_user_export.csv", [
            "First Name", "Last Name", "Email", "Username", "Site", "Extension",
            "Direct Number", "Licence", "Call Recording", "Status"], rows, crlf=True)

        # Legacy Mitel in the generic format.
        owners = self.pick(self.by_role("housing_office", "income", "office", "exec"), 55)
        leavers = [s for s in self.leavers if s.role in ("housing_officer", "income",
                                                         "office")][:5]
        rows = []
        number = iter(range(100, 400))
        for s in owners + leavers:
            rows.append([f"0113 496 {next(number):04d}", s.upn, "BT", "MiVoice Business",
                         "user", OFFICE_SITE, "no", "", "", ""])
        for local in ("karen.baxter", "d.whitfield", "housing.north"):
            rows.append([f"0113 496 {next(number):04d}", f"{local}@{LEGACY}", "BT",
                         "MiVoice Business", "", OFFICE_SITE, "no", "", "", ""])
        for label, site, rec, keep in (
            ("Reception", OFFICE_SITE, "yes", "90"), ("Main switchboard", OFFICE_SITE, "yes",
                                                      "90"),
            ("Out of hours repairs", DEPOT_SITE, "yes", "365"),
            ("Lift emergency line - Kirkgate", OFFICE_SITE, "no", ""),
            ("Lift emergency line - Mill Court", "Mill Court", "no", ""),
            ("Fax", OFFICE_SITE, "no", ""), ("Board room", OFFICE_SITE, "no", ""),
            ("Depot stores", DEPOT_SITE, "no", ""), ("Depot office", DEPOT_SITE, "no", ""),
            ("Door entry - Mill Court", "Mill Court", "", ""),
            ("Warden call - Willow House", "Willow House", "yes", "30"),
            ("Training room", OFFICE_SITE, "", ""),
        ):
            # recorded lines say whether callers pay by card on them (none do: card
            # payments go to the 8x8 contact centre)
            rows.append([f"0113 496 {next(number):04d}", "", "BT", "MiVoice Business",
                         "service", site, rec, keep, label, "no" if rec == "yes" else ""])
        rng.shuffle(rows)
        self.write_csv("phone/mitel_numbers.csv", [
            "number", "owner", "provider", "system", "kind", "site", "call_recording",
            "retention_days", "label", "takes_payments"], rows)

        self.write_csv("phone/twilio_active_numbers.csv", [
            "Phone Number", "Friendly Name", "SID", "Capabilities", "Messaging Service SID"], [
            ["+447700900" + f"{n:03d}", name, "PN" + hexid(rng), "SMS,MMS,Voice",
             "MG" + hexid(rng)]
            for n, name in ((118, "Income arrears reminders 1"),
                            (119, "Income arrears reminders 2"),
                            (342, "Repairs appointment reminders"))
        ] + [["+443069990451", "Income payment line (SMS replies)", "PN" + hexid(rng),
              "SMS,Voice", ""]])

    # ---------------------------------------------------------------- dns
    def write_dns(self) -> None:
        dkim_key = "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + \
            base64.b64encode(bytes(rng_bytes(self.rng, 180))).decode()
        main_spf = ("v=spf1 include:eu._netblocks.mimecast.com include:spf.protection.outlook.com "
                    "include:servers.mcsv.net include:sendgrid.net ~all")
        answers = {
            DOMAIN: {
                "mx": [[10, "eu-smtp-inbound-1.mimecast.com."],
                       [10, "eu-smtp-inbound-2.mimecast.com."]],
                "txt": [main_spf, "MS=ms48213377",
                        "docusign=5d3c1a9e-8f2b-4c6d-9e1f-2a7b3c4d5e6f",
                        "adobe-idp-site-verification=8c2d7e41a9b05f36",
                        "atlassian-domain-verification=Qx7pL2mN9rT4vW1yZ3bC5dF8hJ0kS6aE"],
                "dmarc": ["v=DMARC1; p=none; rua=mailto:dmarc-rua@riversidehomes.org.uk; "
                          "ruf=mailto:dmarc-ruf@riversidehomes.org.uk; fo=1"],
                "dkim": {"selector1": [[dkim_key[:255], dkim_key[255:]]],
                         "selector2": [[dkim_key[:255], dkim_key[255:]]],
                         "k1": [dkim_key], "s1": [dkim_key], "s2": None,
                         "mimecast20240311": None, "google": None},
                "mta_sts": ["v=STSv1; id=20250301T090000"],
                "mta_sts_policy": "version: STSv1\nmode: testing\n"
                                  "mx: eu-smtp-inbound-1.mimecast.com\n"
                                  "mx: eu-smtp-inbound-2.mimecast.com\nmax_age: 86400\n",
                "tls_rpt": ["v=TLSRPTv1; rua=mailto:tlsrpt@riversidehomes.org.uk"],
            },
            LEGACY: {
                "mx": [[0, "riversidehousing-co-uk.mail.protection.outlook.com."]],
                "txt": ["v=spf1 include:spf.protection.outlook.com a:mail.riverside-housing.co.uk"
                        " ?all"],
                "dmarc": [],
                "dkim": {"selector1": None, "selector2": None, "k1": None, "s1": None,
                         "s2": None, "mimecast20240311": None, "google": None},
                "mta_sts": [], "mta_sts_policy": None, "tls_rpt": [],
            },
            # Riverside Lettings' own domain: Gmail, no DMARC record yet.
            LETTINGS: {
                "mx": [[1, "smtp.google.com."]],
                "txt": ["v=spf1 include:_spf.google.com ~all",
                        "google-site-verification=Lq4d7XyP0cRkV2nB8mT1sW9eH3jA6fZuGo5iNqYbKwE"],
                "dmarc": [],
                "dkim": {"selector1": None, "selector2": None, "k1": None, "s1": None,
                         "s2": None, "mimecast20240311": None, "google": [dkim_key]},
                "mta_sts": [], "mta_sts_policy": None, "tls_rpt": [],
            },
        }
        self.write_json("dns/answers.json", answers, compact=False)

    # ---------------------------------------------------------------- google (lettings)
    def write_google(self) -> None:
        """Riverside Lettings: a lettings agency the group bought, still on its own Google
        Workspace (own domain, own customer). Raw Admin SDK, Reports, Chat and Enterprise
        License Manager answers, as the Google connector reads them. 2-Step Verification
        is enforced only for the admin org unit; two leavers are suspended, one of them
        still holding a Business Standard licence; a new starter never signed in."""
        rng = random.Random(self.seed * 11 + 5)  # noqa: S311 - its own stream: the other
        # files stay byte for byte what they were

        def tag() -> str:  # an etag
            return base64.urlsafe_b64encode(bytes(rng_bytes(rng, 18))).decode()

        skus = {"standard": ("1010020028", "Google Workspace Business Standard"),
                "starter": ("1010020027", "Google Workspace Business Starter"), "none": None}
        people = [(g, f, title, team, ou, enrolled == "yes", enforced == "yes", login, state,
                   skus[sku])
                  for g, f, title, team, ou, enrolled, enforced, login, state, sku in (
                      line.split("|") for line in LETTINGS_STAFF.splitlines())]
        users: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        usage: list[dict[str, Any]] = []
        meet: list[dict[str, Any]] = []
        for given, family, title, dept, ou, enrolled, enforced, login, state, sku in people:
            mail = ("it.admin" if state == "admin" else
                    f"{given}.{family}".lower()) + f"@{LETTINGS}"
            uid = str(104_728_300_000_000_000_000 + rng.randint(10**9, 10**10))
            created = "2026-10-26T08:30:00.000Z" if state == "new" else \
                f"{date(2017, 3, 1) + timedelta(days=rng.randint(0, 3100))}T09:00:00.000Z"
            user: dict[str, Any] = {
                "kind": "admin#directory#user", "id": uid, "etag": f'"{tag()}"',
                "primaryEmail": mail, "customerId": LETTINGS_CUSTOMER,
                "name": {"givenName": given, "familyName": family,
                         "fullName": f"{given} {family}"},
                "isAdmin": state == "admin", "isDelegatedAdmin": False,
                "lastLoginTime": f"{login}T{rng.randint(7, 18):02d}:{rng.randint(0, 59):02d}"
                                 f":{rng.randint(0, 59):02d}.000Z" if login
                else "1970-01-01T00:00:00.000Z",
                "creationTime": created, "agreedToTerms": bool(login),
                "suspended": state == "suspended", "archived": False,
                "changePasswordAtNextLogin": state == "new", "ipWhitelisted": False,
                "isMailboxSetup": True, "includeInGlobalAddressList": True,
                "isEnrolledIn2Sv": enrolled, "isEnforcedIn2Sv": enforced,
                # the subsidiary is one department of the group; its teams are org units
                "orgUnitPath": f"{ou}/{dept}" if ou == "/Staff" else ou,
                "organizations": [{"title": title, "department": "Riverside Lettings",
                                   "costCenter": dept, "primary": True, "customType": ""}],
            }
            if state == "suspended":
                user["suspensionReason"] = "ADMIN"
            users.append(user)
            if sku is not None:
                assignments.append({
                    "kind": "licensing#licenseAssignment", "etags": f'"{tag()}"',
                    "productId": "Google-Apps", "productName": "Google Workspace",
                    "skuId": sku[0], "skuName": sku[1], "userId": mail,
                    "selfLink": "https://licensing.googleapis.com/apps/licensing/v1/product/"
                                f"Google-Apps/sku/{sku[0]}/user/{mail}"})
            if state in ("suspended", "new"):
                continue
            last = datetime.fromisoformat(f"{login}T17:00:00+00:00") - \
                timedelta(hours=rng.randint(0, 9))
            params = [
                {"name": "gmail:num_emails_sent", "intValue": str(rng.randint(3, 60))},
                {"name": "gmail:num_emails_received", "intValue": str(rng.randint(40, 260))},
                {"name": "gmail:timestamp_last_interaction",
                 "intValue": str(int(last.timestamp()) * 1_000_000)},
            ]
            if state != "admin":
                params += [
                    {"name": "chat:num_28day_messages_and_reactions_sent",
                     "intValue": str(rng.randint(0, 140))},
                    {"name": "chat:num_28day_conversations_read",
                     "intValue": str(rng.randint(1, 30))}]
            usage.append({"kind": "admin#reports#usageReport", "date": "2026-10-29",
                          "etag": f'"{tag()}"',
                          "entity": {"type": "USER", "customerId": LETTINGS_CUSTOMER,
                                     "userEmail": mail, "profileId": uid},
                          "parameters": params})
            for _call in range(rng.randint(0, 3) if dept in ("Lettings", "Office") else 0):
                when = datetime(2026, 10, 30, 16, tzinfo=timezone.utc) - timedelta(
                    days=rng.randint(0, 27), hours=rng.randint(0, 7))
                meet.append(self._google_event("meet", when, mail, uid, "call_ended", [
                    {"name": "identifier", "value": mail},
                    {"name": "identifier_type", "value": "email_address"},
                    {"name": "duration_seconds", "intValue": str(rng.randint(8, 55) * 60)},
                    {"name": "is_external", "boolValue": False},
                    {"name": "meeting_code", "value": "".join(
                        rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))},
                ], rng))
        self.write_json("google/users.list-1.json", {
            "kind": "admin#directory#users", "etag": f'"{tag()}"', "users": users})
        # Third-party apps each person has granted (tokens.list), and the token audit log.
        zoom = {"clientId": "849883241272-ed6lnodi1grnoomiuknqkq2rbvd2udku"
                            ".apps.googleusercontent.com",
                "displayText": "Zoom for Google Workspace", "anonymous": False,
                "nativeApp": False,
                "scopes": ["https://www.googleapis.com/auth/calendar.readonly",
                           "https://www.googleapis.com/auth/userinfo.email", "openid"]}
        goodlord = {"clientId": "310475520836-3l9ggh0r4d7v2kq8b1p5m6n0c2x4z7ts"
                                ".apps.googleusercontent.com",
                    "displayText": "Goodlord", "anonymous": False, "nativeApp": False,
                    "scopes": ["https://www.googleapis.com/auth/gmail.send",
                               "https://www.googleapis.com/auth/calendar.events",
                               "https://www.googleapis.com/auth/userinfo.email", "openid"]}
        grants = {"helen.marsh": [zoom], "omar.siddiqui": [zoom, goodlord],
                  "sarah.kent": [zoom], "jack.fenwick": [goodlord], "ryan.doyle": [goodlord],
                  "chloe.barnes": [goodlord]}
        tokens: dict[str, Any] = {}
        log: list[dict[str, Any]] = []
        for u in users:
            if u["suspended"]:
                continue
            mail = u["primaryEmail"]
            mine = grants.get(mail.split("@")[0], [])
            answer: dict[str, Any] = {"kind": "admin#directory#tokenList",
                                      "etag": f'"{tag()}"'}
            if mine:  # Google leaves out an empty repeated field
                answer["items"] = [{"kind": "admin#directory#token",
                                    "etag": f'"{tag()}"', "userKey": u["id"], **t}
                                   for t in mine]
            tokens[mail] = answer
            for t in mine:
                if rng.random() < 0.7:  # authorised within the log's 180 days
                    when = datetime(2026, 10, 31, 12, tzinfo=timezone.utc) - timedelta(
                        days=rng.randint(3, 170), hours=rng.randint(0, 8))
                    log.append(self._google_event("token", when, mail, u["id"], "authorize", [
                        {"name": "client_id", "value": t["clientId"]},
                        {"name": "app_name", "value": t["displayText"]},
                        {"name": "client_type", "value": "WEB"},
                        {"name": "scope", "multiValue": t["scopes"]},
                    ], rng))
        self.write_json("google/tokens.list.json", tokens)
        log.sort(key=lambda a: a["id"]["time"], reverse=True)  # newest first, as Google
        self.write_json("google/activities.token-1.json", {
            "kind": "admin#reports#activities", "etag": f'"{tag()}"', "items": log})
        meet.sort(key=lambda a: a["id"]["time"], reverse=True)
        self.write_json("google/activities.meet-1.json", {
            "kind": "admin#reports#activities", "etag": f'"{tag()}"', "items": meet})
        self.write_json("google/userUsageReport-1.json", {
            "kind": "admin#reports#usageReports", "etag": f'"{tag()}"',
            "usageReports": usage})
        # One Chat space the maintenance coordinator runs with the repairs contractor.
        space = "spaces/AAAAk3Lw9Qs"
        self.write_json("google/spaces.search-1.json", {"spaces": [{
            "name": space, "type": "ROOM", "spaceType": "SPACE",
            "displayName": "Hartwell - lettings maintenance", "externalUserAllowed": True,
            "spaceThreadingState": "THREADED_MESSAGES", "spaceHistoryState": "HISTORY_ON",
            "createTime": "2024-05-14T09:12:44.120Z", "lastActiveTime": "2026-10-29T15:41:07.000Z",
            "membershipCount": {"joinedDirectHumanUserCount": 5},
            "accessSettings": {"accessState": "PRIVATE"},
        }], "totalSize": 1})
        roster = []
        for k, (mail, affiliation) in enumerate((
                (f"dean.moss@{LETTINGS}", "INTERNAL"), (f"sarah.kent@{LETTINGS}", "INTERNAL"),
                (f"amira.haddad@{LETTINGS}", "INTERNAL"),
                ("neil@hartwellbs.co.uk", "EXTERNAL"),
                ("shona.birch@hartwellbs.co.uk", "EXTERNAL"))):
            roster.append({"name": f"{space}/members/{104_000 + k}", "state": "JOINED",
                           "role": "ROLE_MANAGER" if k == 0 else "ROLE_MEMBER",
                           "affiliation": affiliation,
                           "member": {"name": f"users/{104_000 + k}", "type": "HUMAN",
                                      "email": mail},
                           "createTime": "2024-05-14T09:12:44.120Z"})
        self.write_json("google/spaces.members.json", {space: {"memberships": roster}})
        # Licence assignments (Enterprise License Manager), one answer per product read.
        self.write_json("google/licenseAssignments.listForProduct.json", {
            "Google-Apps": {"kind": "licensing#licenseAssignmentList",
                            "etag": f'"{tag()}"', "items": assignments},
            "101031": {"kind": "licensing#licenseAssignmentList",
                       "etag": f'"{tag()}"'},
            "101033": {"kind": "licensing#licenseAssignmentList",
                       "etag": f'"{tag()}"'},
            "101047": {"kind": "licensing#licenseAssignmentList",
                       "etag": f'"{tag()}"'},
            "Google-Vault": {"kind": "licensing#licenseAssignmentList",
                             "etag": f'"{tag()}"'},
        })

    @staticmethod
    def _google_event(app: str, when: datetime, actor: str, profile: str, name: str,
                      parameters: list[dict[str, Any]], rng: random.Random
                      ) -> dict[str, Any]:
        """A Reports API activity as ``activities.list`` returns it."""
        return {"kind": "admin#reports#activity",
                "id": {"time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z",
                       "uniqueQualifier": str(rng.randint(10**17, 10**18)),
                       "applicationName": app, "customerId": LETTINGS_CUSTOMER},
                "actor": {"email": actor, "profileId": profile},
                "events": [{"type": "auth" if app == "token" else "call",
                            "name": name, "parameters": parameters}]}

    # ---------------------------------------------------------------- interviews
    def write_interviews(self) -> None:
        sup = [s.upn for s in self.staff if s.title == "Repairs Supervisor"][:3]
        hm = [s.upn for s in self.staff if s.title == "Housing Manager"][:1]
        comms = [s.upn for s in self.staff if s.title == "Head of Communications"]
        text = f"""# Consultant interview notes, Riverside Homes Group
# Format: src/sprawl_audit/connectors/manual/FORMAT.md
version: 1
source: "Sprawl review interviews, October 2026"
entries:
  - platform: WhatsApp
    department: Repairs
    team: Responsive repairs operatives and supervisors
    head_count: 40
    people: [{", ".join(sup)}]
    data_categories: [tenant names, tenant addresses, property photos, repair details,
                      damp and mould photos]
    external_parties: [Hartwell Building Services Ltd, PMS Repairs and Maintenance]
    note: >-
      Area WhatsApp groups (North, South, Voids) share job addresses, tenants' names and
      photos of damp and damage with two subcontractors. Groups are created from personal
      numbers; nobody in ICT administers them. Photos stay on personal phones.
    last_seen: 2026-10-21
  - platform: SMS from personal mobiles
    department: Housing Management
    team: Housing officers
    head_count: 25
    people: [{", ".join(hm)}]
    data_categories: [tenant names, phone numbers, tenancy matters]
    note: >-
      Officers without a work mobile text tenants about visits and arrears from their own
      phones; messages are not logged on the tenancy record.
    last_seen: 2026-10-17
  - platform: WhatsApp
    department: Housing Management
    team: Neighbourhood officers (ASB)
    head_count: 12
    data_categories: [anti-social behaviour reports, witness details]
    external_parties: [Riverside Borough Council, West Yorkshire Police Safer Neighbourhood Team]
    disappearing_messages: true
    note: >-
      A WhatsApp group with council and police contacts coordinates ASB cases between
      monthly multi-agency meetings; messages are set to disappear after seven days.
    last_seen: 2026-10-24
  - platform: Canva
    department: Communications
    head_count: 8
    people: [{", ".join(comms)}]
    data_categories: [resident photos, marketing material]
    note: Team Canva subscription on a credit card; resident photos uploaded for newsletters.
    last_seen: 2026-10-28
  - slug: zoom
    department: Communications
    head_count: 12
    data_categories: [resident panel recordings]
    external_parties: [Resident Scrutiny Panel]
    note: >-
      Paid Zoom licences (expensed) for resident panels and press interviews; recordings
      kept in personal Zoom cloud storage.
    last_seen: 2026-10-29
  - platform: Facebook Messenger
    department: Customer Services
    head_count: 4
    data_categories: [tenant enquiries, repair reports, complaints]
    note: >-
      The association's Facebook page answers tenants' messages; repair reports received
      there are retyped into the housing system, complaints are answered in the thread.
    last_seen: 2026-10-30
"""
        self.write_text("manual/interviews.yaml", text)

    def write_config(self) -> None:
        """The organisation's settings: its approved tools, so "unsanctioned" means something."""
        self.write_text("config.yaml", DEMO_CONFIG)

    def write_readme(self) -> None:
        lines = ["# Demo tenant: Riverside Homes Group (fictional)", "",
                 "Generated by `tools/make_demo_tenant.py` (seeded, deterministic); do not edit",
                 "by hand. Each file is a raw response or export as the real source returns it;",
                 "`src/sprawl_audit/connectors/demo/connector.py` runs them through the "
                 "connectors' transforms.",
                 "", "| file | bytes |", "|---|---|"]
        lines += [f"| `{rel}` | {size} |" for rel, size in sorted(self.sizes.items())]
        self.write_text("README.md", "\n".join(lines) + "\n")


#: Riverside Lettings' Google Workspace users: given|family|title|team|org unit|2SV
#: enrolled|2SV enforced|last sign-in (empty: never)|state|licence. 2SV is enforced only
#: for the /Admins org unit; two leavers are suspended, one still holding a licence.
LETTINGS_STAFF = """\
IT|Admin|IT administrator (Brightline IT)|Office|/Admins|yes|yes|2026-10-29|admin|standard
Helen|Marsh|Lettings Director|Lettings|/Staff|yes|no|2026-10-31||standard
Omar|Siddiqui|Lettings Manager|Lettings|/Staff|yes|no|2026-10-31||standard
Chloe|Barnes|Lettings Negotiator|Lettings|/Staff|no|no|2026-10-30||standard
Jack|Fenwick|Lettings Negotiator|Lettings|/Staff|yes|no|2026-10-31||standard
Priya|Nair|Lettings Negotiator|Lettings|/Staff|no|no|2026-10-28||standard
Ryan|Doyle|Lettings Negotiator|Lettings|/Staff|yes|no|2026-10-31||standard
Sarah|Kent|Property Manager|Property Management|/Staff|yes|no|2026-10-30||standard
Lewis|Grant|Property Manager|Property Management|/Staff|no|no|2026-10-29||standard
Amira|Haddad|Property Manager|Property Management|/Staff|yes|no|2026-10-31||standard
Martin|Hale|Client Accounts Manager|Client Accounts|/Staff|yes|no|2026-10-30||standard
Zofia|Nowak|Client Accounts Administrator|Client Accounts|/Staff|no|no|2026-10-27||standard
Beth|Roper|Office Administrator|Office|/Staff|no|no|2026-10-31||starter
Dean|Moss|Maintenance Coordinator|Property Management|/Staff|yes|no|2026-10-30||starter
Kayla|Finch|Lettings Negotiator|Lettings|/Staff|no|no||new|standard
Tom|Ashby|Lettings Negotiator|Lettings|/Leavers|yes|no|2026-06-12|suspended|standard
Gemma|Lowe|Property Manager|Property Management|/Leavers|no|no|2026-03-20|suspended|none
"""


DEMO_CONFIG = """\
# The demo organisation's own settings, used by `sprawl-audit demo` when no --config is
# given: what Riverside Homes Group has approved, so "unsanctioned" means something.
organisation:
  name: Riverside Homes Group
  identity_provider: entra-id
  sector: housing            # a housing association: its framework views; the Cabinet
                             # Office guidance is good practice, never "failed"
audit:
  activity_days: 90
rules:
  # No rules.packs: the housing profile's packs run (baseline, uk-gdpr, cyber-essentials,
  # housing). The association's retention schedule keeps call recordings 90 days; it sets
  # no minimum for resident lines yet, so HSG-REC-002 stays not assessed.
  parameters:
    HSG-REC-001: {max_days: 90}
platforms:
  sanctioned:
    - teams
    - exchange-online
    - sharepoint
    - onedrive
    - entra-id
    - 8x8
    - mitel
    - bt-business
    - twilio
    - mimecast
    - slack            # approved for ICT only
    - DocuSign                 # not in the catalogue: named as Entra shows the app
    - mailchimp
    - Keystone Housing Online   # the housing management system, named as Entra shows it
"""


def hexid(rng: random.Random) -> str:
    """A Twilio-style 32-hex-digit SID body."""
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


def rng_bytes(rng: random.Random, n: int) -> list[int]:
    return [rng.getrandbits(8) for _ in range(n)]


def generate(seed: int = SEED, out: Path = OUT) -> dict[str, int]:
    """Write the demo tenant under ``out`` (replacing it) and return file sizes."""
    if out.exists():
        shutil.rmtree(out)
    g = Gen(seed, out)
    g.build_people()
    g.write_directory()
    g.write_reports()
    g.write_apps()
    g.write_mail_rules()
    g.write_teams()
    g.write_intune()
    g.write_slack()
    g.write_phones()
    g.write_dns()
    g.write_interviews()
    g.write_mfa()
    g.write_cross_tenant()
    g.write_google()
    g.write_config()
    g.write_readme()
    return g.sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sizes = generate(args.seed, args.out)
    print(f"wrote {len(sizes)} files, {sum(sizes.values()):,} bytes, to {args.out}")


if __name__ == "__main__":
    main()
