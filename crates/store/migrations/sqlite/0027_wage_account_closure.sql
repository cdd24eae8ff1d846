-- 条例 art. 27 ¶2: the special account may be closed after the works are complete, no wages are
-- owed and the general contractor has publicised it for 30 days; the notice and closure dates.
ALTER TABLE wage_accounts ADD COLUMN closure_notice_on TEXT;
ALTER TABLE wage_accounts ADD COLUMN closed_on TEXT;
