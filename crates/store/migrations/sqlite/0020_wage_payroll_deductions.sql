-- 《保障农民工工资支付条例》第十五条第二款: the wage ledger records 应发, 代扣、代缴、扣除 and 实发.
-- Payments are compared with 实发 (应发 less deductions); lines recorded before carry none.
ALTER TABLE wage_payroll ADD COLUMN deductions_fen BIGINT NOT NULL DEFAULT 0;
