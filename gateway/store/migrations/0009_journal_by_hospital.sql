-- hisgw schema version 9: the console's journal search by hospital, newest first, keyset-paged (id < ?), reads
-- this index instead of walking every other hospital's rows.
CREATE INDEX journal_by_hospital ON journal (fixmedins_code, id);
