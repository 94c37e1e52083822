"""Command-line wiring only: flags in, pipeline calls, exit codes out."""
