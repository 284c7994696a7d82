"""Benchmarks: every path measured beside its bare stack in the same run (`make bench`)."""
