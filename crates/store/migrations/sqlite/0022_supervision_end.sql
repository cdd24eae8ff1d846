-- 刑事诉讼法 art. 79 ¶2 and art. 99: a measure ends — lifted (解除) or run out — and nothing is
-- collected after it (个人信息保护法 art. 47). When it ended, who lifted it and why, and which
-- expiry reminder was last sent (days before the end).
ALTER TABLE sup_persons ADD COLUMN ended_on TEXT;
ALTER TABLE sup_persons ADD COLUMN released_at BIGINT;
ALTER TABLE sup_persons ADD COLUMN released_by TEXT;
ALTER TABLE sup_persons ADD COLUMN release_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sup_persons ADD COLUMN expiry_warned INTEGER;
-- A person may be registered again once an earlier measure has been lifted: one open row
-- (under the measure, or run out and not yet lifted) per ID number.
DROP INDEX sup_persons_active_card;
CREATE UNIQUE INDEX sup_persons_open_card ON sup_persons(id_card_no) WHERE status IN ('active', 'expired');
