-- hisgw schema version 7: money after the window (gateway/county/claims.py, account.py). Append-only except a
-- claim's state: its history is claim_events, and nothing is ever deleted (the triggers refuse it).

-- A hospital's claim (申报) for a period: its lines are fixed when it is submitted.
CREATE TABLE claims (
    claim_id INTEGER PRIMARY KEY,
    fixmedins_code TEXT NOT NULL,
    since TEXT NOT NULL,              -- the period, both days inclusive
    until TEXT NOT NULL,
    state TEXT NOT NULL,              -- gateway/county/claims.py ClaimState
    submitted_by TEXT NOT NULL,       -- 'hospital:<code>' or the county operator
    submitted_at TEXT NOT NULL,
    UNIQUE (fixmedins_code, since, until)
);

-- One settlement (+), a refused one claimed again (+), or a reversal after claiming (−), amounts per fund.
CREATE TABLE claim_lines (
    claim_id INTEGER NOT NULL REFERENCES claims (claim_id),
    line_no INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('settlement', 'reclaim', 'reversal')),
    setl_id TEXT NOT NULL REFERENCES settlements (setl_id),
    psn_no TEXT NOT NULL,
    setl_time TEXT NOT NULL,
    medfee_sumamt TEXT NOT NULL,      -- decimal yuan, signed like the line
    funds TEXT NOT NULL,              -- JSON [[fund_pay_type, "amount"], …], signed
    origin TEXT NOT NULL,             -- reclaim/reversal: the 'claim_id:line_no' it follows; else ''
    PRIMARY KEY (claim_id, line_no)
) WITHOUT ROWID;
CREATE UNIQUE INDEX claim_lines_first ON claim_lines (setl_id) WHERE kind = 'settlement';
CREATE UNIQUE INDEX claim_lines_reversal ON claim_lines (setl_id) WHERE kind = 'reversal';
CREATE UNIQUE INDEX claim_lines_reclaim ON claim_lines (origin) WHERE kind = 'reclaim';

-- Every step of every claim (line_no 0) and every decision or explanation on a line, in order.
CREATE TABLE claim_events (
    id INTEGER PRIMARY KEY,
    claim_id INTEGER NOT NULL REFERENCES claims (claim_id),
    line_no INTEGER NOT NULL,
    event TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL              -- JSON
);
CREATE INDEX claim_events_by_claim ON claim_events (claim_id);

-- The one-stop special account (一站式专户): receipts by source, payments (拨付) to hospitals.
CREATE TABLE account_entries (
    id INTEGER PRIMARY KEY,
    on_date TEXT NOT NULL,            -- value date, YYYY-MM-DD
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'payment')),
    source TEXT NOT NULL,             -- receipt: gateway/county/account.py SOURCES; payment: the hospital
    amount TEXT NOT NULL,             -- decimal yuan, > 0 in, > 0 out (a recovery from a hospital is negative)
    reference TEXT NOT NULL,          -- bank reference
    claim_id INTEGER REFERENCES claims (claim_id),
    note TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX account_entries_by_date ON account_entries (on_date);

CREATE TRIGGER claim_lines_no_update BEFORE UPDATE ON claim_lines
BEGIN SELECT RAISE(ABORT, 'claim_lines are append-only'); END;
CREATE TRIGGER claim_lines_no_delete BEFORE DELETE ON claim_lines
BEGIN SELECT RAISE(ABORT, 'claim_lines are append-only'); END;
CREATE TRIGGER claim_events_no_update BEFORE UPDATE ON claim_events
BEGIN SELECT RAISE(ABORT, 'claim_events are append-only'); END;
CREATE TRIGGER claim_events_no_delete BEFORE DELETE ON claim_events
BEGIN SELECT RAISE(ABORT, 'claim_events are append-only'); END;
CREATE TRIGGER claims_no_delete BEFORE DELETE ON claims
BEGIN SELECT RAISE(ABORT, 'claims are never deleted'); END;
CREATE TRIGGER account_no_update BEFORE UPDATE ON account_entries
BEGIN SELECT RAISE(ABORT, 'account_entries are append-only'); END;
CREATE TRIGGER account_no_delete BEFORE DELETE ON account_entries
BEGIN SELECT RAISE(ABORT, 'account_entries are append-only'); END;
