-- hisgw schema version 2: the exchange journal, and finding what a msgid created (2601 冲正, 5999).

-- Every exchange. A state-changing call's row is committed before the call runs; its outcome row is
-- written in the commit that makes the call's effects durable. A journal row without an outcome row after
-- a crash is an attempt that committed nothing: 'unknown' to every reader (gateway/runtime.py).
-- Both tables are append-only (an outcome is never an UPDATE of the attempt, which would rewrite its bodies).
CREATE TABLE journal (
    id INTEGER PRIMARY KEY,           -- given by the store thread, in the order the gateway wrote them
    received_at TEXT NOT NULL,        -- local time, 'YYYY-MM-DD HH:MM:SS.mmm'
    fixmedins_code TEXT NOT NULL,
    dialect TEXT NOT NULL,
    transport TEXT NOT NULL,
    msgid TEXT NOT NULL,              -- the national msgid, or the dialect's serial mapped onto it
    trade TEXT NOT NULL,              -- the vendor's trade code
    infno TEXT NOT NULL,
    psn_no TEXT NOT NULL,             -- search keys the call names ('' when none)
    mdtrt_id TEXT NOT NULL,
    setl_id TEXT NOT NULL,
    protection TEXT NOT NULL CHECK (protection IN ('mask', 'clear', 'encrypt')),
    encoding TEXT NOT NULL,           -- of request and answer
    request BLOB NOT NULL,
    call BLOB NOT NULL                -- compact JSON of the canonical call (empty when it never became one)
);
CREATE INDEX journal_by_time ON journal (received_at);
CREATE INDEX journal_by_msgid ON journal (msgid, fixmedins_code);
CREATE INDEX journal_by_person ON journal (psn_no);
CREATE INDEX journal_by_stay ON journal (mdtrt_id);
CREATE INDEX journal_by_setl ON journal (setl_id);

CREATE TABLE journal_outcomes (
    id INTEGER PRIMARY KEY,           -- the journal row's id
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'replayed')),
    err_code TEXT NOT NULL,
    err_msg TEXT NOT NULL,
    answer BLOB NOT NULL,
    answered_at TEXT NOT NULL,
    ms REAL NOT NULL,
    psn_no TEXT NOT NULL,             -- keys the answer named and the call did not (a new mdtrt_id, a setl_id)
    mdtrt_id TEXT NOT NULL,
    setl_id TEXT NOT NULL
);
CREATE INDEX journal_outcomes_by_person ON journal_outcomes (psn_no) WHERE psn_no <> '';
CREATE INDEX journal_outcomes_by_stay ON journal_outcomes (mdtrt_id) WHERE mdtrt_id <> '';
CREATE INDEX journal_outcomes_by_setl ON journal_outcomes (setl_id) WHERE setl_id <> '';

CREATE INDEX settlements_by_msgid ON settlements (msgid);
CREATE INDEX stays_by_msgid ON stays (created_msgid);
