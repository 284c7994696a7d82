"""Who is calling: per-hospital credentials and request signatures, county operators and their roles."""
