-- hisgw schema version 3: the HIS's own settlement id (医药机构结算ID), echoed by 2304, 2305 and 5203.
-- A 2304 that sent none gets its msgid; settlements made before this version get the same, and a reversal
-- keeps the id of the settlement it undoes.
ALTER TABLE settlements ADD COLUMN medins_setl_id TEXT NOT NULL DEFAULT '';
UPDATE settlements SET medins_setl_id = msgid WHERE kind = 'settlement';
UPDATE settlements SET medins_setl_id = coalesce(
    (SELECT original.msgid FROM settlements AS original WHERE original.setl_id = settlements.reverses), '')
WHERE kind = 'reversal';
