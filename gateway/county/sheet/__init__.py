"""The one-stop settlement sheet: Hunan 附件3 and the NCMS cross-province sheet, built from the ledger (build.py,
pure), issued with a print count (ledger.py), rendered as JSON, A4 HTML and PDF (render.py)."""
