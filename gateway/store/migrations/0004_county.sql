-- hisgw schema version 4: the county side (gateway/county): audit trail, policy versions, identity lists.
-- (Numbered 0004 so it never collides with a 0003 written on another branch; migrate.py tolerates the gap.)

-- Every write by the county, append-only: the triggers refuse UPDATE and DELETE.
CREATE TABLE county_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,                 -- local time, 'YYYY-MM-DD HH:MM:SS.mmm'
    operator TEXT NOT NULL,           -- the credentials file's [county.<name>]
    role TEXT NOT NULL,
    action TEXT NOT NULL,             -- gateway/county/roles.py ACTIONS
    subject TEXT NOT NULL,            -- what it acted on: 'policy:3', 'import:7', 'refdata:persons'
    before TEXT NOT NULL,             -- JSON
    after TEXT NOT NULL,              -- JSON
    request_id TEXT NOT NULL
);
CREATE INDEX county_audit_by_time ON county_audit (at);
CREATE INDEX county_audit_by_subject ON county_audit (subject);
CREATE TRIGGER county_audit_no_update BEFORE UPDATE ON county_audit
BEGIN SELECT RAISE(ABORT, 'county_audit is append-only'); END;
CREATE TRIGGER county_audit_no_delete BEFORE DELETE ON county_audit
BEGIN SELECT RAISE(ABORT, 'county_audit is append-only'); END;

-- Policy versions uploaded by the county (the TOML text as sent). A published version is never changed again.
CREATE TABLE policy_versions (
    version INTEGER PRIMARY KEY,      -- 1, 2, … in upload order
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    effective_from TEXT,              -- set at publication
    policy_id TEXT UNIQUE,            -- '<id>@<effective_from>': what each settlement names
    published_by TEXT,
    published_at TEXT
);

-- An identity list as received and its diff against the registry (rows: JSON), under review.
CREATE TABLE identity_imports (
    import_id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,             -- fupin | minzheng | canlian
    filename TEXT NOT NULL,
    as_of TEXT NOT NULL,              -- the list's date: attributes change from this day
    state TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT NOT NULL,
    counts TEXT NOT NULL,             -- JSON: rows per kind
    digest TEXT NOT NULL,             -- of the diff: an apply re-derives it and refuses a stale one
    rows TEXT NOT NULL
);

-- Attribute history: from which day (inclusive) to which day (exclusive; NULL = still held).
CREATE TABLE identity_periods (
    id INTEGER PRIMARY KEY,
    psn_no TEXT NOT NULL,
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    import_id INTEGER
);
CREATE INDEX identity_periods_by_person ON identity_periods (psn_no);

-- Who is on each source's last applied list (for 应保尽保、未保有因), insured or not, known or not.
CREATE TABLE identity_list_members (
    source TEXT NOT NULL,
    certno TEXT NOT NULL,
    psn_name TEXT NOT NULL,
    codes TEXT NOT NULL,
    import_id INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    PRIMARY KEY (source, certno)
) WITHOUT ROWID;
