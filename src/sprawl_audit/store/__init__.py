"""What outlives one run: history, state, drift, suppressions, redaction."""
