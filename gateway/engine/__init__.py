"""The settlement engine: pure functions over Decimal, driven by policy data. No I/O here."""
