-- hisgw schema: outpatient visits (门诊, the 22xx trades), chronic-disease recognitions (Guangxi 先享受待遇、后备案)
-- and late inpatient registrations (Hunan 三(二)1).

-- 2204 uploads lines by charge batch (收费批次号) and 2205 revokes a whole batch: which batch each line came in.
CREATE TABLE outpatient_batches (
    mdtrt_id TEXT NOT NULL REFERENCES stays (mdtrt_id),
    feedetl_sn TEXT NOT NULL,
    chrg_bchno TEXT NOT NULL,
    PRIMARY KEY (mdtrt_id, feedetl_sn)
) WITHOUT ROWID;

-- 2503: a level-2+ hospital's recognition of a special chronic disease; active from recog_date until the agency
-- cancels it (then that person's chronic-disease outpatient settlements no longer get the benefit).
CREATE TABLE chronic_recognitions (
    recog_id TEXT PRIMARY KEY,
    psn_no TEXT NOT NULL,
    fixmedins_code TEXT NOT NULL,
    dise_codg TEXT NOT NULL,
    dise_name TEXT NOT NULL,
    recog_date TEXT NOT NULL,
    doctors TEXT NOT NULL,  -- JSON: [[code, name, title], ...]
    recorded_at TEXT NOT NULL,
    msgid TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
    cancelled_at TEXT,
    cancelled_by TEXT,
    cancel_reason TEXT
);
CREATE INDEX chronic_by_person ON chronic_recognitions (psn_no);
CREATE INDEX chronic_by_hospital ON chronic_recognitions (fixmedins_code, recog_date);

-- A 2401 whose begntime was more than 24 hours before it arrived: accepted with a warn_msg, listed for the agency.
CREATE TABLE late_registrations (
    mdtrt_id TEXT PRIMARY KEY REFERENCES stays (mdtrt_id),
    fixmedins_code TEXT NOT NULL,
    psn_no TEXT NOT NULL,
    begntime TEXT NOT NULL,
    received_at TEXT NOT NULL,
    minutes_late INTEGER NOT NULL
);
CREATE INDEX late_by_hospital ON late_registrations (fixmedins_code, received_at);
