"""Rule packs (YAML data) shipped with sprawl-audit; see rules/README.md."""
