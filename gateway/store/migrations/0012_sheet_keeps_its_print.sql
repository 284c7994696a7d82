-- hisgw schema version 12: the settlement sheet keeps what it knew when the settlement was made.
-- settlements.categories: the stay's fee lines by national med_chrgitm_type at settlement, JSON
-- [[type, total_fen, inscp_fen], ...], so its sheet shows the fee table even after its lines were replaced
-- (2305, 2302, new 2301). NULL for a settlement made before this version (or a reversal): its sheet splits the
-- stay's lines as they are now, and says so when they no longer add up.
ALTER TABLE settlements ADD COLUMN categories TEXT;

-- sheet_prints is counted per layout (the NCMS sheet's first print is its original, whatever the Hunan one's
-- count), and only a hospital's prints count: a county operator's fetch is a view (sheet_views), not a print.
CREATE TABLE sheet_prints_by_layout (
    setl_id TEXT NOT NULL REFERENCES settlements (setl_id),
    layout TEXT NOT NULL,             -- hunan | ncms
    print_no INTEGER NOT NULL,        -- 1 = the original of this layout
    printed_at TEXT NOT NULL,         -- local time, 'YYYY-MM-DD HH:MM:SS'
    printed_by TEXT NOT NULL,         -- the hospital's fixmedins_code ('open' on the unsigned demo listener)
    PRIMARY KEY (setl_id, layout, print_no)
) WITHOUT ROWID;
CREATE TABLE sheet_views (
    setl_id TEXT NOT NULL REFERENCES settlements (setl_id),
    layout TEXT NOT NULL,
    viewed_at TEXT NOT NULL,
    viewed_by TEXT NOT NULL           -- county:<operator> or console:<user>
);
CREATE INDEX sheet_views_by_settlement ON sheet_views (setl_id);
-- The old rows: county and console fetches become views; the hospitals' prints are numbered again per layout.
INSERT INTO sheet_views (setl_id, layout, viewed_at, viewed_by)
    SELECT setl_id, layout, printed_at, printed_by FROM sheet_prints
    WHERE printed_by LIKE 'county:%' OR printed_by LIKE 'console:%' ORDER BY setl_id, print_no;
INSERT INTO sheet_prints_by_layout (setl_id, layout, print_no, printed_at, printed_by)
    SELECT setl_id, layout, row_number() OVER (PARTITION BY setl_id, layout ORDER BY print_no), printed_at, printed_by
    FROM sheet_prints WHERE printed_by NOT LIKE 'county:%' AND printed_by NOT LIKE 'console:%';
DROP TABLE sheet_prints;
ALTER TABLE sheet_prints_by_layout RENAME TO sheet_prints;
