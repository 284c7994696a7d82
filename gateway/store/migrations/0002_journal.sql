-- hisgw schema version 2: the exchange journal, and finding what a msgid created (2601 冲正, 5999).

-- Every exchange. A state-changing call's row is committed before the call runs (outcome NULL); its outcome
-- is filled in the commit that makes the call's effects durable. A row whose outcome is still NULL after a
-- crash is an attempt that committed nothing: 'unknown' to every reader (gateway/runtime.py).
CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,        -- local time, 'YYYY-MM-DD HH:MM:SS.mmm'
    fixmedins_code TEXT NOT NULL,
    dialect TEXT NOT NULL,
    transport TEXT NOT NULL,
    msgid TEXT NOT NULL,              -- the national msgid, or the dialect's serial mapped onto it
    trade TEXT NOT NULL,              -- the vendor's trade code
    infno TEXT NOT NULL,
    psn_no TEXT NOT NULL,             -- search keys, from the call and its answer ('' when none)
    mdtrt_id TEXT NOT NULL,
    setl_id TEXT NOT NULL,
    protection TEXT NOT NULL CHECK (protection IN ('mask', 'clear', 'encrypt')),
    encoding TEXT NOT NULL,           -- of request and answer
    request BLOB NOT NULL,
    call BLOB NOT NULL,               -- compact JSON of the canonical call (empty when it never became one)
    outcome TEXT CHECK (outcome IN ('ok', 'error', 'replayed')),
    err_code TEXT NOT NULL DEFAULT '',
    err_msg TEXT NOT NULL DEFAULT '',
    answer BLOB,
    answered_at TEXT,
    ms REAL
);
CREATE INDEX journal_by_time ON journal (received_at);
CREATE INDEX journal_by_msgid ON journal (msgid, fixmedins_code);
CREATE INDEX journal_by_person ON journal (psn_no);
CREATE INDEX journal_by_stay ON journal (mdtrt_id);
CREATE INDEX journal_by_setl ON journal (setl_id);

CREATE INDEX settlements_by_msgid ON settlements (msgid);
CREATE INDEX stays_by_msgid ON stays (created_msgid);
