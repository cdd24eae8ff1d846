-- Electronic labor contracts (电子劳动合同) between a project's contractor and a worker, and the
-- worker's own confirmations. A contract is issued by the employer (its confirmation), then
-- confirmed or declined by the worker; once both confirmed it is sealed: `digest` is the SM3 of
-- the canonical text of every term and both confirmation instants (domain::wages::contract).

CREATE TABLE wage_contracts (
    id                     TEXT PRIMARY KEY,
    contract_no            TEXT NOT NULL UNIQUE,
    project_id             TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    worker_id              TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    employer_uscc          TEXT NOT NULL,
    employer_name          TEXT NOT NULL,
    worker_name            TEXT NOT NULL,
    id_card_no             TEXT NOT NULL,
    job                    TEXT NOT NULL,
    wage_type              TEXT NOT NULL,
    wage_rate_fen          BIGINT NOT NULL,
    pay_day                INTEGER NOT NULL,
    start_on               TEXT NOT NULL,
    end_on                 TEXT,
    terms                  TEXT NOT NULL DEFAULT '',
    -- 'pending' (issued, awaiting the worker), 'signed', 'declined'.
    status                 TEXT NOT NULL,
    employer_by            TEXT NOT NULL,
    employer_confirmed_at  BIGINT NOT NULL,
    worker_confirmed_at    BIGINT,
    decline_reason         TEXT NOT NULL DEFAULT '',
    digest                 TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX wage_contracts_worker ON wage_contracts(worker_id);
CREATE INDEX wage_contracts_id_card ON wage_contracts(id_card_no);
CREATE INDEX wage_contracts_project ON wage_contracts(project_id);

-- A worker's objection to a month's attendance or wages (instead of confirming it).
ALTER TABLE wage_payroll ADD COLUMN disputed_at BIGINT;
