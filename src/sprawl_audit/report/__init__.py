"""The Result document and every format that renders it."""
