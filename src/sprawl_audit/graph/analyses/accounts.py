"""Per-platform account facts: what each platform's own accounts say about sign-in.

An account's second factor, admin rights and sign-in countries are judged on the
platform they belong to (``account`` nodes reach their platform over ``ON_PLATFORM``).
The ``*_unknown`` counts are what lets a rule say *not assessed* instead of *passed* when a
platform's source did not report a field for some of its accounts.

"Protected" means a second factor is registered (``mfa``) or sign-in requires one
(``mfa_enforced``); an account is *without MFA* when its source says no second factor is
registered and nothing says sign-in enforces one, and *unknown* when neither is known.
Only enabled accounts count: a disabled account cannot sign in.
"""

from __future__ import annotations

from sprawl_audit.graph.build import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    edges = ag.edges
    for nid in ag.nodes_of("platform"):
        accounts = edges.distinct(nid, "ON_PLATFORM", "in")
        facts = g.nodes[nid]
        enabled = without = mfa_unknown = admins = admin_unknown = admin_mfa_unknown = 0
        enforced = login_unknown = 0
        countries: set[str] = set()
        for anode in accounts:
            a = g.nodes[anode]
            logins = a.get("login_countries")
            if logins:
                countries.update(logins)
            if a.get("enabled") is False:
                continue
            enabled += 1
            mfa = a.get("mfa")
            protected = mfa is True or a.get("mfa_enforced") is True
            enforced += a.get("mfa_enforced") is True
            admin = a.get("admin")
            if not protected:
                if mfa is False:
                    without += 1
                else:
                    mfa_unknown += 1
            if admin is True:
                admins += 1
            elif admin is None:
                admin_unknown += 1
            # could be an administrator without a second factor, and nothing says
            if not protected and (admin is None or (admin is True and mfa is None)):
                admin_mfa_unknown += 1
            if logins is None:
                login_unknown += 1
        facts.update(
            account_count=len(accounts),
            accounts_enabled=enabled,
            accounts_without_mfa=without,
            accounts_mfa_unknown=mfa_unknown,
            accounts_mfa_enforced=enforced,
            accounts_admin=admins,
            accounts_admin_unknown=admin_unknown,
            accounts_admin_mfa_unknown=admin_mfa_unknown,
            accounts_login_unknown=login_unknown,
            account_login_countries=sorted(countries),
        )
