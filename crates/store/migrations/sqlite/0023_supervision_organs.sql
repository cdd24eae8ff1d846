-- 刑事诉讼法 arts. 67 ¶2 and 74 ¶3: the police execute 取保候审 and 监视居住 whichever organ decided
-- them; the 社区矫正机构 (司法局) executes community measures (社区矫正法 art. 9). `agency_id` is
-- the executing organ (执行机关), who approves leave and handles alarms; `decider_id` the organ
-- whose decision the person is under (决定机关), who consents to leave and lifts the measure.
ALTER TABLE sup_persons ADD COLUMN decider_id TEXT REFERENCES departments(id);
UPDATE sup_persons SET decider_id = agency_id;
-- Cases a procuratorate or court held after a hand-off go back to the police, who execute them.
UPDATE sup_persons SET agency_id = (SELECT id FROM departments WHERE code = 'gaj'), officer_id = NULL
 WHERE measure IN ('取保候审', '监视居住') AND stage IN ('procuratorate', 'court')
   AND EXISTS (SELECT 1 FROM departments WHERE code = 'gaj');
ALTER TABLE sup_stages ADD COLUMN decider_id TEXT REFERENCES departments(id);
UPDATE sup_stages SET decider_id = agency_id;

-- Leave under a decision of the procuratorate or court: the deciding organ consents first, then
-- the police approve (公安机关办理刑事案件程序规定, 取保候审 and 监视居住 sections).
ALTER TABLE sup_leaves ADD COLUMN consent_by TEXT;
ALTER TABLE sup_leaves ADD COLUMN consent_name TEXT;
ALTER TABLE sup_leaves ADD COLUMN consent_at BIGINT;
ALTER TABLE sup_leaves ADD COLUMN consent_note TEXT NOT NULL DEFAULT '';

-- 刑事诉讼法 art. 71 ¶1(2): a change of address, employer or contact is reported within 24 hours
-- of when it happened; the report keeps that instant and how late it came.
ALTER TABLE sup_reports ADD COLUMN changed_at BIGINT;
ALTER TABLE sup_reports ADD COLUMN late_hours INTEGER NOT NULL DEFAULT 0;

-- 社区矫正法 art. 29: a person under community correction carries an electronic location device
-- only by a decision naming one of the five situations, approved by the head of the county
-- 司法行政部门, for at most three months; each renewal (renews) at most three more.
CREATE TABLE sup_locating (
    id             TEXT PRIMARY KEY,
    person_id      TEXT NOT NULL REFERENCES sup_persons(id),
    ground         TEXT NOT NULL,
    facts          TEXT NOT NULL,
    approver_name  TEXT NOT NULL,
    approved_on    TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT NOT NULL,
    renews         TEXT REFERENCES sup_locating(id),
    created_by     TEXT NOT NULL,
    created_name   TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX sup_locating_person ON sup_locating(person_id, valid_to);
