"""Rule packs (YAML data) shipped with sprawl-audit; see sprawl_audit/rules/README.md."""
