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
