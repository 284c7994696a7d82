-- hisgw schema version 11: cross-province referral (NCMS pilot 2018; gateway/referral/).
-- referrals: the 2501 转院备案 this gateway's hospitals filed (status 1 valid, 0 cancelled by 2502).
CREATE TABLE referrals (
    trt_dcla_detl_sn TEXT PRIMARY KEY,
    fixmedins_code TEXT NOT NULL,
    psn_no TEXT NOT NULL,
    year INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('1', '0')),
    filed_at TEXT NOT NULL,
    msgid TEXT NOT NULL,
    details TEXT NOT NULL              -- JSON: the 2501 input as the gateway read it
);
CREATE INDEX referrals_by_person ON referrals (psn_no, year);
-- referral_imports: the latest signed accumulator record of each partner gateway for a person and year; what
-- settlement adds to the year-to-date figures. A newer record replaces it, a cancelled one removes it.
CREATE TABLE referral_imports (
    issuer TEXT NOT NULL,
    psn_no TEXT NOT NULL,
    year INTEGER NOT NULL,
    trt_dcla_detl_sn TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    record TEXT NOT NULL,              -- the record exactly as received (JSON, signature included)
    PRIMARY KEY (issuer, psn_no, year)
);
-- referral_carried: what a settlement took over from partners' records (the sum of the records it used), so the
-- sheet shows the year's line carried in as it stood at that settlement, a pure read of ledger rows.
CREATE TABLE referral_carried (
    setl_id TEXT PRIMARY KEY,          -- the settlement (no foreign key: removed with it, remove_test_persons)
    issuers TEXT NOT NULL,             -- the partner gateways' ids, comma-separated
    cum_cmpl_fee TEXT NOT NULL,        -- money as decimal text, to the fen
    cum_basic_pay TEXT NOT NULL,
    cum_crit_pay TEXT NOT NULL,
    cum_crit_base TEXT NOT NULL
);
