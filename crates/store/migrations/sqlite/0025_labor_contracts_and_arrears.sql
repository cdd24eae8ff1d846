-- The harmony index weighs the labor-contract gap and wage-arrears cases and no longer counts
-- workers' questions (咨询) as complaints: each month's report may say how many employees have
-- a signed contract (NULL: not reported) and how many arrears cases arose.
ALTER TABLE labor_monthly ADD COLUMN contracted BIGINT;
ALTER TABLE labor_monthly ADD COLUMN arrears_cases BIGINT NOT NULL DEFAULT 0;
