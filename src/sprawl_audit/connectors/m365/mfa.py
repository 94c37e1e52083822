"""Where :mod:`sprawl_audit.connectors.demo` still imports the MFA transforms from.

They live in :mod:`.transform.mfa` (the transform room). ``connectors/demo`` is another
change's to edit; once it imports from ``m365.transform``, delete this module.
"""

from __future__ import annotations

from sprawl_audit.connectors.m365.transform.mfa import (
    mfa_enforcement,
    policy_summary,
    transform_mfa,
)

__all__ = ["mfa_enforcement", "policy_summary", "transform_mfa"]
