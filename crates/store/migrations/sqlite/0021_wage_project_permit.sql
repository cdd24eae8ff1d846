-- 工程建设领域农民工工资保证金规定 (人社部发〔2021〕65号) art. 8: the wage deposit is due within
-- 20 working days of the construction permit (施工许可证, or the approval of the start report);
-- only works that need neither count from contract signing.
ALTER TABLE wage_projects ADD COLUMN permit_on TEXT;
ALTER TABLE wage_projects ADD COLUMN permit_exempt INTEGER NOT NULL DEFAULT 0;
