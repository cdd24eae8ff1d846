-- 最低工资规定 art. 12: overtime pay within 应发 is not compared with the minimum wage; 条例
-- art. 15 ¶3: the worker is given their own pay slip (NULL: the sender did not say).
ALTER TABLE wage_payroll ADD COLUMN overtime_fen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wage_payroll ADD COLUMN payslip INTEGER;
