-- hisgw schema version 8: settlements made at the county agency's window (Hunan 三(二)3; gateway/county/agency.py).
-- The settlement itself is an ordinary row of `settlements` (with its stay and fee lines), so the ledger, the
-- accumulators, the reports and the sheets read it like any other; this table says it was made at the window,
-- how (mode) and from what the operator entered. Its reversal record names it through `settlements.reverses`.
CREATE TABLE agency_settlements (
    setl_id TEXT PRIMARY KEY REFERENCES settlements (setl_id),
    mode TEXT NOT NULL CHECK (mode IN ('basic_settled', 'self_paid')),
    psn_no TEXT NOT NULL,
    fixmedins_code TEXT NOT NULL,
    begndate TEXT NOT NULL,
    enddate TEXT NOT NULL,
    operator TEXT NOT NULL,
    request_id TEXT NOT NULL,
    entry TEXT NOT NULL            -- JSON: what the operator entered, as the gateway read it
);
CREATE INDEX agency_by_stay ON agency_settlements (psn_no, fixmedins_code, begndate, enddate);
