-- 满薪满益 (case 1): construction projects under wage monitoring and everything that arrives
-- about them. Rows from other systems carry (source, external_id), unique, so a batch sent twice
-- adds nothing. Months are TEXT 'YYYY-MM-01'; dates 'YYYY-MM-DD'; money BIGINT fen.

CREATE TABLE wage_projects (
    id                      TEXT PRIMARY KEY,
    code                    TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    address                 TEXT NOT NULL DEFAULT '',
    lon                     DOUBLE PRECISION,
    lat                     DOUBLE PRECISION,
    division_code           TEXT NOT NULL REFERENCES divisions(code),
    grid_id                 TEXT REFERENCES grids(id),
    status                  TEXT NOT NULL,
    contract_value_fen      BIGINT NOT NULL DEFAULT 0,
    government_funded       INTEGER NOT NULL DEFAULT 0,
    contract_signed_on      TEXT,
    start_on                TEXT,
    finish_on               TEXT,
    registered_on           TEXT,
    tripartite_on           TEXT,
    builder_uscc            TEXT NOT NULL DEFAULT '',
    builder_name            TEXT NOT NULL DEFAULT '',
    contractor_uscc         TEXT NOT NULL DEFAULT '',
    contractor_name         TEXT NOT NULL DEFAULT '',
    labor_manager_name      TEXT NOT NULL DEFAULT '',
    labor_manager_phone     TEXT NOT NULL DEFAULT '',
    notice_board_on         TEXT,
    payment_guarantee       INTEGER NOT NULL DEFAULT 0,
    pay_day                 INTEGER NOT NULL DEFAULT 15,
    progress_paid_fen       BIGINT NOT NULL DEFAULT 0,
    gov_funds_required_fen  BIGINT NOT NULL DEFAULT 0,
    gov_funds_in_place_fen  BIGINT NOT NULL DEFAULT 0,
    source                  TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX wage_projects_division ON wage_projects(division_code);
CREATE INDEX wage_projects_contractor ON wage_projects(contractor_uscc);

-- 农民工工资专用账户.
CREATE TABLE wage_accounts (
    project_id  TEXT PRIMARY KEY REFERENCES wage_projects(id) ON DELETE CASCADE,
    bank        TEXT NOT NULL,
    account_no  TEXT NOT NULL,
    opened_on   TEXT NOT NULL
);

-- 工资保证金.
CREATE TABLE wage_deposits (
    project_id     TEXT PRIMARY KEY REFERENCES wage_projects(id) ON DELETE CASCADE,
    mode           TEXT NOT NULL,
    required_fen   BIGINT NOT NULL DEFAULT 0,
    paid_fen       BIGINT NOT NULL DEFAULT 0,
    drawn_fen      BIGINT NOT NULL DEFAULT 0,
    drawn_on       TEXT,
    topped_up_fen  BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);

-- 人工费用拨付 into the special account.
CREATE TABLE wage_allocations (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    on_date      TEXT NOT NULL,
    amount_fen   BIGINT NOT NULL,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX wage_allocations_project ON wage_allocations(project_id);

-- Real-name workers (实名制) of a project.
CREATE TABLE wage_workers (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    id_card_no   TEXT NOT NULL,
    name         TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    bank         TEXT NOT NULL DEFAULT '',
    bank_card    TEXT NOT NULL DEFAULT '',
    team         TEXT NOT NULL DEFAULT '',
    registered   INTEGER NOT NULL DEFAULT 1,
    contract     INTEGER NOT NULL DEFAULT 0,
    joined_on    TEXT NOT NULL,
    left_on      TEXT,
    settled_on   TEXT,
    source       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (project_id, id_card_no)
);
CREATE INDEX wage_workers_id_card ON wage_workers(id_card_no);

-- 出工量: days per month (and pieces for piece rates), confirmed by the worker.
CREATE TABLE wage_attendance (
    worker_id     TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month         TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    days          INTEGER NOT NULL,
    pieces        INTEGER NOT NULL DEFAULT 0,
    confirmed_at  BIGINT,
    source        TEXT NOT NULL,
    PRIMARY KEY (worker_id, month)
);
CREATE INDEX wage_attendance_project ON wage_attendance(project_id, month);

-- 工资支付台账: one line per worker and month.
CREATE TABLE wage_payroll (
    worker_id     TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month         TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    due_fen       BIGINT NOT NULL,
    signed        INTEGER NOT NULL DEFAULT 0,
    complete      INTEGER NOT NULL DEFAULT 1,
    confirmed_at  BIGINT,
    source        TEXT NOT NULL,
    PRIMARY KEY (worker_id, month)
);
CREATE INDEX wage_payroll_project ON wage_payroll(project_id, month);

-- Wage payments from the bank feed (代发, 跨行发放) or declared.
CREATE TABLE wage_payments (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    worker_id    TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    amount_fen   BIGINT NOT NULL,
    paid_on      TEXT NOT NULL,
    method       TEXT NOT NULL,
    cross_bank   INTEGER NOT NULL DEFAULT 0,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX wage_payments_project ON wage_payments(project_id, month);
CREATE INDEX wage_payments_worker ON wage_payments(worker_id, month);

-- 欠薪投诉 and collective incidents; project or employer.
CREATE TABLE wage_complaints (
    id             TEXT PRIMARY KEY,
    project_id     TEXT REFERENCES wage_projects(id) ON DELETE CASCADE,
    employer_uscc  TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    complainant    TEXT NOT NULL DEFAULT '',
    amount_fen     BIGINT NOT NULL DEFAULT 0,
    received_on    TEXT NOT NULL,
    collective     INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'open',
    recovered_fen  BIGINT NOT NULL DEFAULT 0,
    closed_on      TEXT,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX wage_complaints_project ON wage_complaints(project_id);

-- Signals from other systems (tax, social insurance, credit, courts, utilities, grid workers)
-- about a project, or about an employer (then they apply to its projects as contractor).
CREATE TABLE wage_signals (
    id             TEXT PRIMARY KEY,
    project_id     TEXT REFERENCES wage_projects(id) ON DELETE CASCADE,
    employer_uscc  TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL,
    on_date        TEXT NOT NULL,
    value          BIGINT NOT NULL DEFAULT 1,
    note           TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX wage_signals_project ON wage_signals(project_id);
CREATE INDEX wage_signals_employer ON wage_signals(employer_uscc);

-- Every import, by API or file, and every row it refused with the reason.
CREATE TABLE ingest_batches (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL,
    via          TEXT NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    by_user      TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    total        INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,
    duplicates   INTEGER NOT NULL,
    rejected     INTEGER NOT NULL
);
CREATE INDEX ingest_batches_received ON ingest_batches(received_at);

CREATE TABLE ingest_rejections (
    batch_id     TEXT NOT NULL REFERENCES ingest_batches(id) ON DELETE CASCADE,
    row_no       INTEGER NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    field        TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL,
    raw          TEXT NOT NULL,
    PRIMARY KEY (batch_id, row_no)
);
