-- A worker's 欠薪投诉 as a case (domain::wages::complaint): what the worker wrote, who the worker
-- is (to tell them at each step), the step it has reached, the inspector it is assigned to, the
-- two deadlines (contact as promised; 60 working days, 劳动保障监察条例 art. 17), the steps taken
-- (JSON) and whether it was escalated past a deadline.
ALTER TABLE wage_complaints ADD COLUMN text TEXT NOT NULL DEFAULT '';
ALTER TABLE wage_complaints ADD COLUMN worker_id TEXT;
ALTER TABLE wage_complaints ADD COLUMN id_card_no TEXT;
ALTER TABLE wage_complaints ADD COLUMN stage TEXT NOT NULL DEFAULT 'received';
ALTER TABLE wage_complaints ADD COLUMN assignee_id TEXT;
ALTER TABLE wage_complaints ADD COLUMN assignee_name TEXT;
ALTER TABLE wage_complaints ADD COLUMN contact_due TEXT;
ALTER TABLE wage_complaints ADD COLUMN handle_due TEXT;
ALTER TABLE wage_complaints ADD COLUMN steps TEXT NOT NULL DEFAULT '[]';
ALTER TABLE wage_complaints ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
UPDATE wage_complaints SET stage = 'closed' WHERE status = 'closed';
CREATE INDEX wage_complaints_stage ON wage_complaints(stage, received_on);
