"""The exchange journal: every call as received, before it runs, and what it ended as (gateway/runtime.py)."""
