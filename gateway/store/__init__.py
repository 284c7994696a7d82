"""Durable state: reference data, stays, fee lines, settlements, accumulators, answers by msgid."""
