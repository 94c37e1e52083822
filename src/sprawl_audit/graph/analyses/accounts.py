"""Per-platform account facts: what each platform's own accounts say about sign-in.

An account's second factor, admin rights and sign-in countries are judged on the
platform they belong to (``account`` nodes reach their platform over ``ON_PLATFORM``).
The ``*_unknown`` counts are what lets a rule say *not assessed* instead of *passed* when a
platform's source did not report a field for some of its accounts.

"Protected" means a second factor is registered (``mfa``) or sign-in requires one
(``mfa_enforced``); an account is *without MFA* when its source says no second factor is
registered and nothing says sign-in enforces one, and *unknown* when neither is known.
Enforcement is counted on its own (``accounts_mfa_not_enforced``: the source says sign-in
does not require a second factor — Google's ``isEnforcedIn2Sv`` false — whatever the
account enrolled; ``accounts_mfa_enforcement_unknown``: the source does not say), because
an enrolled account whose second factor is optional can switch it off again.
Only enabled accounts count: a disabled account cannot sign in.

"Never signed in" needs the platform's own word for it, because a missing last sign-in
is usually a field nobody read, not a sign-in that never happened. An account *never
signed in* when its source says so — ``attributes.never_signed_in`` true, or a Slack
invitation not yet accepted (``attributes.invited``: ``is_invited_user``, which Slack
sets only until the first sign-in); it *signed in* when it has a ``last_login`` (or
``attributes.never_signed_in`` false); otherwise it is *unknown*
(``accounts_sign_in_unknown``), and a rule cannot pass on it.
"""

from __future__ import annotations

from typing import Any

from sprawl_audit.graph.build import AuditGraph


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    edges = ag.edges
    for nid in ag.nodes_of("platform"):
        accounts = edges.distinct(nid, "ON_PLATFORM", "in")
        facts = g.nodes[nid]
        enabled = without = mfa_unknown = admins = admin_unknown = admin_mfa_unknown = 0
        enforced = not_enforced = enforcement_unknown = login_unknown = sign_in_unknown = 0
        never: list[str] = []
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
            not_enforced += a.get("mfa_enforced") is False
            enforcement_unknown += a.get("mfa_enforced") is None
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
            signed_in = _signed_in(a)
            if signed_in is False:
                never.append(str(a.get("name") or anode))
            elif signed_in is None:
                sign_in_unknown += 1
        facts.update(
            account_count=len(accounts),
            accounts_enabled=enabled,
            accounts_without_mfa=without,
            accounts_mfa_unknown=mfa_unknown,
            accounts_mfa_enforced=enforced,
            accounts_mfa_not_enforced=not_enforced,
            accounts_mfa_enforcement_unknown=enforcement_unknown,
            accounts_admin=admins,
            accounts_admin_unknown=admin_unknown,
            accounts_admin_mfa_unknown=admin_mfa_unknown,
            accounts_login_unknown=login_unknown,
            account_login_countries=sorted(countries),
            accounts_never_signed_in=len(never),
            accounts_never_signed_in_list=sorted(never),
            accounts_sign_in_unknown=sign_in_unknown,
        )


def _signed_in(account: dict[str, Any]) -> bool | None:
    """True: a sign-in is on record; False: the source says there never was one; None:
    nothing says."""
    attrs = account.get("attributes") or {}
    flag = attrs.get("never_signed_in") if isinstance(attrs, dict) else None
    if flag is True or (isinstance(attrs, dict) and attrs.get("invited") is True):
        return False
    if flag is False or account.get("last_login"):
        return True
    return None
