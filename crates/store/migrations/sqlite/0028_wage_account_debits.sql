-- 条例 art. 27 ¶1: the bank reports every debit of a special account. The payee is matched to
-- a worker of the project (by ID number or wage card) when it is one; anything else spends
-- money that is for this project's wages only (art. 26 ¶1, art. 31 ¶3).
CREATE TABLE wage_account_debits (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    on_date          TEXT NOT NULL,
    amount_fen       BIGINT NOT NULL,
    payee_name       TEXT NOT NULL,
    payee_id_card_no TEXT,
    payee_account    TEXT,
    cash             INTEGER NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES wage_workers(id) ON DELETE SET NULL,
    source           TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX wage_account_debits_project ON wage_account_debits(project_id, on_date);
