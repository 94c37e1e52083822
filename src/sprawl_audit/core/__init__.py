"""The vocabulary every layer shares: records, errors, instants, topics, files."""
