-- hisgw schema version 13: a partner's old record or request cannot be replayed (gateway/referral/).
-- referral_issued: the issuer's side, the last sequence number of a record issued to each partner; every record
-- takes the next, so the receiver can tell a newer record from an older one whatever the clocks say.
CREATE TABLE referral_issued (
    audience TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
);
-- referral_seen: the receiver's side, the highest sequence accepted from an issuer for a person and year. It
-- outlives the record held (a cancellation drops the record, not this), so an earlier record sent again, or one
-- older than a cancellation, is refused.
CREATE TABLE referral_seen (
    issuer TEXT NOT NULL,
    psn_no TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (issuer, psn_no, year)
);
-- referral_nonces: the nonces of partners' signed requests within their time window; one seen is a replay.
CREATE TABLE referral_nonces (
    partner TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at REAL NOT NULL,             -- unix seconds; rows older than the window are pruned
    PRIMARY KEY (partner, nonce)
);
