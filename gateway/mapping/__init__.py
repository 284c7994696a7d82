"""Vendor dialects as data: a mapping file per dialect, compiled once into codecs.

Every dialect translates its own bytes to and from the national interface's JSON document (infno, msgid,
fixmedins_code, input/output with the national field names), so all of them go through the one road the
national HTTP interface uses: decode_call() on the way in, render_output() on the way out.
"""
