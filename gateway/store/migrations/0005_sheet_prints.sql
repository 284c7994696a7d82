-- hisgw schema version 5: every one-stop settlement sheet issued (Hunan 附件3, the NCMS cross-province sheet).
-- The first row of a settlement is its original; every later one is a reprint (补打). Append-only.
CREATE TABLE sheet_prints (
    setl_id TEXT NOT NULL REFERENCES settlements (setl_id),
    print_no INTEGER NOT NULL,        -- 1 = the original
    printed_at TEXT NOT NULL,         -- local time, 'YYYY-MM-DD HH:MM:SS'
    printed_by TEXT NOT NULL,         -- the hospital's fixmedins_code, or 'county:<operator>'
    layout TEXT NOT NULL,             -- hunan | ncms
    PRIMARY KEY (setl_id, print_no)
) WITHOUT ROWID;
