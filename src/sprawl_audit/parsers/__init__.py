"""One parser per thing a source writes as text: SPF, DMARC, phone numbers."""
