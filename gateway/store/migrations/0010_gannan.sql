-- hisgw schema: Gannan's 先诊疗后付费 arrears register (州医改办发〔2018〕9号 附件1): a hospital's report of a
-- malicious defaulter (恶意拖欠) ends the person's zero-deposit privilege at every hospital until it is paid in full.
-- The zero-deposit agreement itself is kept with the admission (stays.admission JSON, key zero_deposit).

CREATE TABLE arrears (
    arrears_id TEXT PRIMARY KEY,
    psn_no TEXT NOT NULL,
    fixmedins_code TEXT NOT NULL,
    mdtrt_id TEXT NOT NULL REFERENCES stays (mdtrt_id),
    owed_fen INTEGER NOT NULL CHECK (owed_fen > 0),
    paid_fen INTEGER NOT NULL DEFAULT 0 CHECK (paid_fen >= 0 AND paid_fen <= owed_fen),
    reported_on TEXT NOT NULL,   -- the hospital's date of the report
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    cleared_on TEXT              -- the date of the payment that settled it in full
);
CREATE INDEX arrears_by_person ON arrears (psn_no);
CREATE UNIQUE INDEX arrears_one_per_stay ON arrears (mdtrt_id);

-- Guangxi's 90% catalogue rule has exceptions: a hospital asks, the county's reviewer approves (audited); an
-- approved stay's 全自费 beyond 10% of the total is then not the hospital's (630100) but the backstop's (640100).
CREATE TABLE catalogue_exceptions (
    mdtrt_id TEXT PRIMARY KEY REFERENCES stays (mdtrt_id),
    fixmedins_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'refused')),
    decided_by TEXT,
    decided_at TEXT
);
