"""Allow ``python -m sprawl_audit``."""

from sprawl_audit.cli.main import main

main()
