-- hisgw schema version 1. Money is INTEGER fen (exact sums in SQL); rates and quantities are TEXT decimals.

CREATE TABLE hospitals (
    fixmedins_code TEXT PRIMARY KEY,
    fixmedins_name TEXT NOT NULL,
    hosp_lv INTEGER NOT NULL CHECK (hosp_lv BETWEEN 1 AND 3),
    admdvs TEXT NOT NULL
);

CREATE TABLE catalogue (
    med_list_codg TEXT PRIMARY KEY,
    med_list_name TEXT NOT NULL,
    med_chrgitm_type TEXT NOT NULL,
    chrgitm_lv TEXT NOT NULL CHECK (chrgitm_lv IN ('01', '02', '03')),
    selfpay_prop TEXT NOT NULL
);

CREATE TABLE identity_attributes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type_code TEXT NOT NULL,
    type_name TEXT NOT NULL
);

-- Hunan 附件1: the attributes every county starts with; a county adds its own by import.
INSERT INTO identity_attributes (code, name, type_code, type_name) VALUES
    ('0001', '建档立卡贫困人口', 'A', '扶贫办确定的贫困人口'),
    ('0002', '城镇低保人员', 'B', '民政确定的贫困人口'),
    ('0003', '农村低保人员', 'B', '民政确定的贫困人口'),
    ('0004', '特困人员', 'B', '民政确定的贫困人口'),
    ('0005', '社会保障兜底对象', 'B', '民政确定的贫困人口'),
    ('0006', '贫困残疾人', 'C', '其他贫困人口');

CREATE TABLE persons (
    psn_no TEXT PRIMARY KEY,
    certno TEXT NOT NULL UNIQUE,
    psn_cert_type TEXT NOT NULL,
    psn_name TEXT NOT NULL,
    gend TEXT NOT NULL,
    brdy TEXT NOT NULL,
    naty TEXT NOT NULL,
    insutype TEXT NOT NULL,
    insuplc_admdvs TEXT NOT NULL,
    identities TEXT NOT NULL,  -- attribute codes joined by ','
    insured INTEGER NOT NULL,
    uninsured_reason TEXT,
    emp_name TEXT NOT NULL
);

CREATE TABLE sign_ins (
    sign_no TEXT PRIMARY KEY,
    fixmedins_code TEXT NOT NULL,
    opter_no TEXT NOT NULL,
    sign_time TEXT NOT NULL,
    signed_out_at TEXT
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE stays (
    mdtrt_id TEXT PRIMARY KEY,
    fixmedins_code TEXT NOT NULL,
    psn_no TEXT NOT NULL,
    insutype TEXT NOT NULL,
    state TEXT NOT NULL,
    hosp_lv INTEGER NOT NULL,
    in_county INTEGER NOT NULL,
    begntime TEXT NOT NULL,
    endtime TEXT,
    ipt_no TEXT NOT NULL,
    med_type TEXT NOT NULL,
    admission TEXT NOT NULL,  -- JSON: the admission as registered, with later 2403 changes
    discharge TEXT,           -- JSON: the 2402 details
    created_msgid TEXT NOT NULL
);
CREATE INDEX stays_by_person ON stays (psn_no);
CREATE INDEX stays_by_ipt_no ON stays (fixmedins_code, ipt_no);

CREATE TABLE fee_lines (
    mdtrt_id TEXT NOT NULL REFERENCES stays (mdtrt_id),
    feedetl_sn TEXT NOT NULL,
    init_feedetl_sn TEXT NOT NULL,
    med_list_codg TEXT NOT NULL,
    cnt TEXT NOT NULL,
    pric TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    fulamt_ownpay_fen INTEGER NOT NULL,
    preselfpay_fen INTEGER NOT NULL,
    inscp_scp_fen INTEGER NOT NULL,
    overlmt_fen INTEGER NOT NULL,
    chrgitm_lv TEXT NOT NULL,
    med_chrgitm_type TEXT NOT NULL,
    selfpay_prop TEXT NOT NULL,
    line TEXT NOT NULL,  -- JSON of the canonical line, to recognise an identical re-send
    PRIMARY KEY (mdtrt_id, feedetl_sn)
);

CREATE TABLE settlements (
    setl_id TEXT PRIMARY KEY,
    mdtrt_id TEXT NOT NULL REFERENCES stays (mdtrt_id),
    psn_no TEXT NOT NULL,
    fixmedins_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    setl_time TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('settlement', 'reversal')),
    status TEXT NOT NULL CHECK (status IN ('valid', 'reversed')),
    reverses TEXT,  -- for a reversal: the settlement it undoes
    medfee_sumamt_fen INTEGER NOT NULL,
    fund_pay_sumamt_fen INTEGER NOT NULL,
    hosp_part_amt_fen INTEGER NOT NULL,
    psn_part_amt_fen INTEGER NOT NULL,
    figures TEXT NOT NULL,  -- JSON of the engine's ChainResult (decimals as strings)
    msgid TEXT NOT NULL
);
CREATE INDEX settlements_by_stay ON settlements (mdtrt_id);

-- Year-to-date accumulators: one row per person, year and key, so a settlement costs the same
-- whatever the number of earlier settlements.
CREATE TABLE accumulators (
    psn_no TEXT NOT NULL,
    year INTEGER NOT NULL,
    key TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    PRIMARY KEY (psn_no, year, key)
) WITHOUT ROWID;

-- The first answer of every state-changing call, by (hospital, msgid): a retry gets it again.
CREATE TABLE answers (
    fixmedins_code TEXT NOT NULL,
    msgid TEXT NOT NULL,
    infno TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    answer BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (fixmedins_code, msgid)
) WITHOUT ROWID;
