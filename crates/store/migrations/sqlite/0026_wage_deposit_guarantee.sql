-- 人社部发〔2021〕65号 arts. 15, 17: a bank guarantee replaces the cash deposit only for at least
-- the amount due, and is valid through the works; its amount and last valid day are kept.
ALTER TABLE wage_deposits ADD COLUMN guarantee_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wage_deposits ADD COLUMN guarantee_until TEXT;
