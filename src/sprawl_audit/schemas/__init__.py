"""JSON Schemas of the documents sprawl-audit writes."""
