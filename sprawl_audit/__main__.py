"""Allow ``python -m sprawl_audit``."""

from sprawl_audit.cli import main

main()
