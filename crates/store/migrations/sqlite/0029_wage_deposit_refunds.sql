-- 人社部发〔2021〕65号 art. 22: a completed project's deposit refund — the contractor's written
-- commitment and its 30-day publicity, the application, the 人社 department's review within 5
-- working days and the sealed 返还（销户）确认书. One per project; a refused one may start again.
CREATE TABLE wage_deposit_refunds (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL UNIQUE REFERENCES wage_projects(id) ON DELETE CASCADE,
    status           TEXT NOT NULL,
    commitment       TEXT NOT NULL,
    committed_by     TEXT NOT NULL,
    committed_name   TEXT NOT NULL,
    publicity_from   TEXT NOT NULL,
    applied_on       TEXT,
    review_due       TEXT,
    reviewed_on      TEXT,
    reviewer_id      TEXT,
    reviewer_name    TEXT,
    reason           TEXT,
    confirmation_no  TEXT UNIQUE,
    department       TEXT,
    confirmation     TEXT,
    signature        TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
