"""The facts graph: built from the inventory, then enriched by the analyses."""
