-- The PostgreSQL schema: the SQLite migrations 0001-0037 as one, in the same types (TEXT,
-- BIGINT, DOUBLE PRECISION, BYTEA): instants are BIGINT milliseconds since the Unix epoch (UTC),
-- dates TEXT 'YYYY-MM-DD', money BIGINT fen, ids application-generated. Flags stay BIGINT 0/1,
-- so every statement reads and writes the same values on both backends. Append-only tables
-- refuse UPDATE and DELETE by trigger, as on SQLite. Later migrations are numbered after 0037
-- in both folders.

CREATE TABLE divisions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT REFERENCES divisions(code),
    full_name   TEXT NOT NULL
);

CREATE INDEX divisions_parent ON divisions(parent_code);

CREATE TABLE departments (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    short_name    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions(code),
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
, doc_prefix TEXT NOT NULL DEFAULT '');

CREATE TABLE grids (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    division_code TEXT NOT NULL REFERENCES divisions(code),
    polygon       TEXT NOT NULL,
    -- The shape as it was supplied when that was not WGS-84 (GCJ-02 or BD-09), and its datum.
    datum         TEXT NOT NULL DEFAULT 'wgs84',
    polygon_original TEXT,
    min_lon       DOUBLE PRECISION NOT NULL,
    min_lat       DOUBLE PRECISION NOT NULL,
    max_lon       DOUBLE PRECISION NOT NULL,
    max_lat       DOUBLE PRECISION NOT NULL,
    keywords      TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX grids_division ON grids(division_code);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scope       TEXT NOT NULL,
    builtin     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE role_permissions (
    role_id    TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    login                TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    department_id        TEXT REFERENCES departments(id),
    division_code        TEXT REFERENCES divisions(code),
    grid_id              TEXT REFERENCES grids(id),
    uscc                 TEXT,
    id_card_no           TEXT,
    phone                TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'active',
    failed_logins        BIGINT NOT NULL DEFAULT 0,
    locked_until         BIGINT,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    password_changed_at  BIGINT NOT NULL,
    last_login_at        BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE INDEX users_department ON users(department_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id),
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    ended_at     BIGINT,
    end_reason   TEXT
);

CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE enterprises (
    id                     TEXT PRIMARY KEY,
    uscc                   TEXT NOT NULL UNIQUE,
    name                   TEXT NOT NULL,
    kind                   TEXT NOT NULL,
    industry               TEXT NOT NULL,
    division_code          TEXT NOT NULL REFERENCES divisions(code),
    grid_id                TEXT REFERENCES grids(id),
    address                TEXT NOT NULL DEFAULT '',
    lon                    DOUBLE PRECISION,
    lat                    DOUBLE PRECISION,
    legal_rep              TEXT NOT NULL DEFAULT '',
    employees              BIGINT NOT NULL DEFAULT 0,
    registered_capital_fen BIGINT NOT NULL DEFAULT 0,
    established_on         TEXT,
    status                 TEXT NOT NULL DEFAULT '存续',
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
, grid_method TEXT NOT NULL DEFAULT '');

CREATE INDEX enterprises_division ON enterprises(division_code);

CREATE INDEX enterprises_grid ON enterprises(grid_id);

CREATE INDEX enterprises_industry ON enterprises(industry);

CREATE TABLE citizens (
    id            TEXT PRIMARY KEY,
    id_card_no    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    sex           TEXT NOT NULL,
    birth_date    TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    division_code TEXT REFERENCES divisions(code),
    grid_id       TEXT REFERENCES grids(id),
    address       TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX citizens_division ON citizens(division_code);

CREATE INDEX citizens_grid ON citizens(grid_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log(at);

CREATE INDEX audit_log_actor ON audit_log(actor_id);

CREATE INDEX audit_log_action ON audit_log(action);

CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 10,
    dedup_key    TEXT UNIQUE,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);

CREATE INDEX jobs_due ON jobs(status, due_at);

CREATE TABLE holiday_tables (
    year      BIGINT PRIMARY KEY,
    source    TEXT NOT NULL,
    content   TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE wf_instances (
    id             TEXT PRIMARY KEY,
    def_id         TEXT NOT NULL,
    def_version    BIGINT NOT NULL,
    title          TEXT NOT NULL,
    applicant_id   TEXT NOT NULL REFERENCES users(id),
    applicant_name TEXT NOT NULL,
    status         TEXT NOT NULL,
    -- Facts the routes read (JSON), and the engine's state (JSON of domain::workflow::Instance).
    facts          TEXT NOT NULL,
    state          TEXT NOT NULL,
    version        BIGINT NOT NULL,
    started_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    finished_at    BIGINT
);

CREATE INDEX wf_instances_applicant ON wf_instances(applicant_id);

CREATE INDEX wf_instances_def ON wf_instances(def_id, started_at);

CREATE TABLE wf_tasks (
    instance_id  TEXT NOT NULL REFERENCES wf_instances(id) ON DELETE CASCADE,
    task_no      BIGINT NOT NULL,
    step         TEXT NOT NULL,
    step_name    TEXT NOT NULL,
    department   TEXT NOT NULL,
    role         TEXT NOT NULL,
    assignee     TEXT,
    escalated_to TEXT,
    status       TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    deadline_at  BIGINT,
    decided_at   BIGINT,
    overdue      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, task_no)
);

CREATE INDEX wf_tasks_open ON wf_tasks(status, department, role);

CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    -- Addressed to a role (in a department, or anywhere) or to one user.
    department   TEXT,
    role         TEXT,
    user_id      TEXT,
    link         TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE INDEX notifications_role ON notifications(role, department, created_at);

CREATE TABLE notification_reads (
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    read_at         BIGINT NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);

CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    indicator     TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    subject_name  TEXT NOT NULL,
    division_code TEXT,
    grid_id       TEXT,
    level         TEXT NOT NULL,
    status        TEXT NOT NULL,
    cleared       BIGINT NOT NULL DEFAULT 0,
    -- The facts that triggered it (JSON list of {text, value}), and the lifecycle (JSON).
    facts         TEXT NOT NULL,
    state         TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    closed_at     BIGINT
);

CREATE UNIQUE INDEX alerts_one_open ON alerts(indicator, subject_type, subject_id) WHERE status <> 'closed';

CREATE INDEX alerts_status ON alerts(status, level);

CREATE INDEX alerts_division ON alerts(division_code);

CREATE TABLE doc_numbers (
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE score_events (
    id           TEXT PRIMARY KEY,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    at           BIGINT NOT NULL,
    source       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);

CREATE INDEX score_events_subject ON score_events(subject_type, subject_id, at);

CREATE TABLE score_history (
    id            TEXT PRIMARY KEY,
    score_id      TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    points        BIGINT NOT NULL,
    color         TEXT NOT NULL,
    contributions TEXT NOT NULL,
    at            BIGINT NOT NULL
);

CREATE INDEX score_history_subject ON score_history(score_id, subject_type, subject_id, at);

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
    government_funded       BIGINT NOT NULL DEFAULT 0,
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
    payment_guarantee       BIGINT NOT NULL DEFAULT 0,
    pay_day                 BIGINT NOT NULL DEFAULT 15,
    progress_paid_fen       BIGINT NOT NULL DEFAULT 0,
    gov_funds_required_fen  BIGINT NOT NULL DEFAULT 0,
    gov_funds_in_place_fen  BIGINT NOT NULL DEFAULT 0,
    source                  TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
, permit_on TEXT, permit_exempt BIGINT NOT NULL DEFAULT 0);

CREATE INDEX wage_projects_division ON wage_projects(division_code);

CREATE INDEX wage_projects_contractor ON wage_projects(contractor_uscc);

CREATE TABLE wage_accounts (
    project_id  TEXT PRIMARY KEY REFERENCES wage_projects(id) ON DELETE CASCADE,
    bank        TEXT NOT NULL,
    account_no  TEXT NOT NULL,
    opened_on   TEXT NOT NULL
, closure_notice_on TEXT, closed_on TEXT);

CREATE TABLE wage_deposits (
    project_id     TEXT PRIMARY KEY REFERENCES wage_projects(id) ON DELETE CASCADE,
    mode           TEXT NOT NULL,
    required_fen   BIGINT NOT NULL DEFAULT 0,
    paid_fen       BIGINT NOT NULL DEFAULT 0,
    drawn_fen      BIGINT NOT NULL DEFAULT 0,
    drawn_on       TEXT,
    topped_up_fen  BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
, guarantee_fen BIGINT NOT NULL DEFAULT 0, guarantee_until TEXT);

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

CREATE TABLE wage_workers (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    id_card_no   TEXT NOT NULL,
    name         TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    bank         TEXT NOT NULL DEFAULT '',
    bank_card    TEXT NOT NULL DEFAULT '',
    team         TEXT NOT NULL DEFAULT '',
    registered   BIGINT NOT NULL DEFAULT 1,
    contract     BIGINT NOT NULL DEFAULT 0,
    joined_on    TEXT NOT NULL,
    left_on      TEXT,
    settled_on   TEXT,
    source       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (project_id, id_card_no)
);

CREATE INDEX wage_workers_id_card ON wage_workers(id_card_no);

CREATE TABLE wage_attendance (
    worker_id     TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month         TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    days          BIGINT NOT NULL,
    pieces        BIGINT NOT NULL DEFAULT 0,
    confirmed_at  BIGINT,
    source        TEXT NOT NULL,
    PRIMARY KEY (worker_id, month)
);

CREATE INDEX wage_attendance_project ON wage_attendance(project_id, month);

CREATE TABLE wage_payroll (
    worker_id     TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month         TEXT NOT NULL,
    project_id    TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    due_fen       BIGINT NOT NULL,
    signed        BIGINT NOT NULL DEFAULT 0,
    complete      BIGINT NOT NULL DEFAULT 1,
    confirmed_at  BIGINT,
    source        TEXT NOT NULL, disputed_at BIGINT, deductions_fen BIGINT NOT NULL DEFAULT 0, overtime_fen BIGINT NOT NULL DEFAULT 0, payslip BIGINT,
    PRIMARY KEY (worker_id, month)
);

CREATE INDEX wage_payroll_project ON wage_payroll(project_id, month);

CREATE TABLE wage_payments (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    worker_id    TEXT NOT NULL REFERENCES wage_workers(id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    amount_fen   BIGINT NOT NULL,
    paid_on      TEXT NOT NULL,
    method       TEXT NOT NULL,
    cross_bank   BIGINT NOT NULL DEFAULT 0,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (source, external_id)
);

CREATE INDEX wage_payments_project ON wage_payments(project_id, month);

CREATE INDEX wage_payments_worker ON wage_payments(worker_id, month);

CREATE TABLE wage_complaints (
    id             TEXT PRIMARY KEY,
    project_id     TEXT REFERENCES wage_projects(id) ON DELETE CASCADE,
    employer_uscc  TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    complainant    TEXT NOT NULL DEFAULT '',
    amount_fen     BIGINT NOT NULL DEFAULT 0,
    received_on    TEXT NOT NULL,
    collective     BIGINT NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT 'open',
    recovered_fen  BIGINT NOT NULL DEFAULT 0,
    closed_on      TEXT,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL, text TEXT NOT NULL DEFAULT '', worker_id TEXT, id_card_no TEXT, stage TEXT NOT NULL DEFAULT 'received', assignee_id TEXT, assignee_name TEXT, contact_due TEXT, handle_due TEXT, steps TEXT NOT NULL DEFAULT '[]', escalated BIGINT NOT NULL DEFAULT 0,
    UNIQUE (source, external_id)
);

CREATE INDEX wage_complaints_project ON wage_complaints(project_id);

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

CREATE TABLE ingest_batches (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    source       TEXT NOT NULL,
    via          TEXT NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    by_user      TEXT NOT NULL,
    by_name      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    accepted     BIGINT NOT NULL,
    duplicates   BIGINT NOT NULL,
    rejected     BIGINT NOT NULL
);

CREATE INDEX ingest_batches_received ON ingest_batches(received_at);

CREATE TABLE ingest_rejections (
    batch_id     TEXT NOT NULL REFERENCES ingest_batches(id) ON DELETE CASCADE,
    row_no       BIGINT NOT NULL,
    external_id  TEXT NOT NULL DEFAULT '',
    field        TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL,
    raw          TEXT NOT NULL,
    PRIMARY KEY (batch_id, row_no)
);

CREATE TABLE labor_monthly (
    uscc              TEXT NOT NULL,
    month             TEXT NOT NULL,
    employees         BIGINT NOT NULL DEFAULT 0,
    insured           BIGINT NOT NULL DEFAULT 0,
    consultations     BIGINT NOT NULL DEFAULT 0,
    complaints        BIGINT NOT NULL DEFAULT 0,
    disputes          BIGINT NOT NULL DEFAULT 0,
    collective_risks  BIGINT NOT NULL DEFAULT 0,
    source            TEXT NOT NULL,
    updated_at        BIGINT NOT NULL, contracted BIGINT, arrears_cases BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (uscc, month)
);

CREATE INDEX labor_monthly_month ON labor_monthly(month);

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
    pay_day                BIGINT NOT NULL,
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
, term_kind TEXT, task TEXT NOT NULL DEFAULT '', probation_months BIGINT NOT NULL DEFAULT 0);

CREATE INDEX wage_contracts_worker ON wage_contracts(worker_id);

CREATE INDEX wage_contracts_id_card ON wage_contracts(id_card_no);

CREATE INDEX wage_contracts_project ON wage_contracts(project_id);

CREATE TABLE talent_people (
    id_card_no  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    education   TEXT NOT NULL,
    school      TEXT NOT NULL DEFAULT '',
    major       TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE talent_employments (
    id             TEXT PRIMARY KEY,
    id_card_no     TEXT NOT NULL,
    employer_uscc  TEXT NOT NULL,
    started_on     TEXT NOT NULL,
    ended_on       TEXT,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);

CREATE INDEX talent_employments_employer ON talent_employments(employer_uscc);

CREATE INDEX talent_employments_person ON talent_employments(id_card_no);

CREATE TABLE job_postings (
    id             TEXT PRIMARY KEY,
    employer_uscc  TEXT NOT NULL,
    title          TEXT NOT NULL,
    education      TEXT NOT NULL DEFAULT '',
    openings       BIGINT NOT NULL,
    applicants     BIGINT NOT NULL DEFAULT 0,
    posted_on      TEXT NOT NULL,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);

CREATE INDEX job_postings_employer ON job_postings(employer_uscc);

CREATE TABLE sup_persons (
    id                  TEXT PRIMARY KEY,
    id_card_no          TEXT NOT NULL,
    name                TEXT NOT NULL,
    phone               TEXT NOT NULL DEFAULT '',
    address             TEXT NOT NULL DEFAULT '',
    division_code       TEXT NOT NULL REFERENCES divisions(code),
    -- The agency (department) holding the case at its stage, and the responsible officer.
    agency_id           TEXT NOT NULL REFERENCES departments(id),
    stage               TEXT NOT NULL,
    measure             TEXT NOT NULL,
    measure_from        TEXT NOT NULL,
    measure_to          TEXT NOT NULL,
    officer_id          TEXT REFERENCES users(id),
    user_id             TEXT REFERENCES users(id),
    status              TEXT NOT NULL DEFAULT 'active',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
, ended_on TEXT, released_at BIGINT, released_by TEXT, release_reason TEXT NOT NULL DEFAULT '', expiry_warned BIGINT, decider_id TEXT REFERENCES departments(id));

CREATE INDEX sup_persons_agency ON sup_persons(agency_id);

CREATE TABLE sup_devices (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    device_id   TEXT NOT NULL,
    token_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    bound_by    TEXT NOT NULL,
    bound_at    BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE INDEX sup_devices_person ON sup_devices(person_id, status);

CREATE TABLE sup_fences (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES sup_persons(id),
    name         TEXT NOT NULL,
    -- 'allowed' or 'forbidden'; 'polygon', 'circle' or 'division'.
    rule         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- WGS-84: GeoJSON Polygon, or {"center":[lon,lat],"radius_m":r}, or {"division":"code"}.
    geometry     TEXT NOT NULL,
    datum        TEXT NOT NULL DEFAULT 'wgs84',
    original     TEXT,
    window_from  BIGINT,
    window_to    BIGINT,
    active       BIGINT NOT NULL DEFAULT 1,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE INDEX sup_fences_person ON sup_fences(person_id);

CREATE TABLE sup_events (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX sup_events_fix ON sup_events(person_id, at, kind);

CREATE TABLE sup_alarms (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES sup_persons(id),
    kind             TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    at               BIGINT NOT NULL,
    -- 'open', 'acknowledged', 'explained', 'closed'.
    status           TEXT NOT NULL DEFAULT 'open',
    handled_by       TEXT,
    note             TEXT NOT NULL DEFAULT '',
    acknowledged_at  BIGINT,
    closed_at        BIGINT,
    created_at       BIGINT NOT NULL
);

CREATE INDEX sup_alarms_person ON sup_alarms(person_id, status);

CREATE TABLE sup_trackers (
    person_id  TEXT PRIMARY KEY REFERENCES sup_persons(id),
    last_ms    BIGINT NOT NULL,
    streak     BIGINT NOT NULL,
    since_ms   BIGINT,
    alarmed    BIGINT NOT NULL
);

CREATE TABLE sup_fix_log (
    seq          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    received_at  BIGINT NOT NULL,
    fixes        BIGINT NOT NULL,
    data         BYTEA NOT NULL
);

CREATE TABLE sup_fixes (
    person_id    TEXT NOT NULL REFERENCES sup_persons(id),
    at           BIGINT NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    accuracy_m   DOUBLE PRECISION NOT NULL DEFAULT 0,
    source       TEXT NOT NULL DEFAULT 'gps',
    violation    BIGINT NOT NULL DEFAULT 0,
    uncertain    BIGINT NOT NULL DEFAULT 0,
    late         BIGINT NOT NULL DEFAULT 0,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (person_id, at)
);

CREATE TABLE sup_leaves (
    id            TEXT PRIMARY KEY,
    no            TEXT NOT NULL UNIQUE,
    person_id     TEXT NOT NULL REFERENCES sup_persons(id),
    preset        TEXT NOT NULL,
    destination   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    from_ms       BIGINT NOT NULL,
    to_ms         BIGINT NOT NULL,
    -- 'pending', 'approved', 'refused', 'withdrawn'.
    status        TEXT NOT NULL DEFAULT 'pending',
    requested_by  TEXT NOT NULL,
    decided_by    TEXT,
    decided_name  TEXT,
    decided_at    BIGINT,
    note          TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL
, consent_by TEXT, consent_name TEXT, consent_at BIGINT, consent_note TEXT NOT NULL DEFAULT '');

CREATE INDEX sup_leaves_person ON sup_leaves(person_id, created_at);

CREATE INDEX sup_leaves_status ON sup_leaves(status);

CREATE TABLE sup_tasks (
    id            TEXT PRIMARY KEY,
    no            TEXT NOT NULL UNIQUE,
    person_id     TEXT NOT NULL REFERENCES sup_persons(id),
    -- 'flying' or 'scheduled'.
    kind          TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    open_at       BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    -- 'open', 'done', 'failed', 'missed'.
    status        TEXT NOT NULL DEFAULT 'open',
    done_at       BIGINT,
    lon           DOUBLE PRECISION,
    lat           DOUBLE PRECISION,
    face_score    DOUBLE PRECISION,
    liveness      BIGINT,
    photo_sm3     TEXT,
    result        TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_name  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE INDEX sup_tasks_person ON sup_tasks(person_id, due_at);

CREATE TABLE sup_stages (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES sup_persons(id),
    stage         TEXT NOT NULL,
    agency_id     TEXT NOT NULL REFERENCES departments(id),
    measure       TEXT NOT NULL,
    measure_from  TEXT NOT NULL,
    measure_to    TEXT NOT NULL,
    ended_at      BIGINT NOT NULL,
    handed_by     TEXT NOT NULL,
    handed_name   TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
, decider_id TEXT REFERENCES departments(id));

CREATE INDEX sup_stages_person ON sup_stages(person_id, ended_at);

CREATE TABLE sup_summons (
    id               TEXT PRIMARY KEY,
    no               TEXT NOT NULL UNIQUE,
    person_id        TEXT NOT NULL REFERENCES sup_persons(id),
    appear_at        BIGINT NOT NULL,
    place            TEXT NOT NULL,
    reason           TEXT NOT NULL,
    -- 'sent', 'acknowledged', 'appeared', 'absent'.
    status           TEXT NOT NULL DEFAULT 'sent',
    acknowledged_at  BIGINT,
    created_by       TEXT NOT NULL,
    created_name     TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE INDEX sup_summons_person ON sup_summons(person_id, appear_at);

CREATE TABLE sup_reports (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    -- 'info_change' or 'status'.
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_by     TEXT,
    read_at     BIGINT
, changed_at BIGINT, late_hours BIGINT NOT NULL DEFAULT 0);

CREATE INDEX sup_reports_person ON sup_reports(person_id, created_at);

CREATE TABLE dx_records (
    interface   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    data        TEXT NOT NULL,
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (interface, subject)
);

CREATE INDEX dx_records_subject ON dx_records(subject);

CREATE TABLE dx_calls (
    id              TEXT PRIMARY KEY,
    at              BIGINT NOT NULL,
    caller_id       TEXT NOT NULL,
    caller_name     TEXT NOT NULL,
    department      TEXT NOT NULL DEFAULT '',
    interface       TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    fields          TEXT NOT NULL,
    found           BIGINT NOT NULL,
    application_id  TEXT
);

CREATE INDEX dx_calls_at ON dx_calls(at);

CREATE INDEX dx_calls_interface ON dx_calls(interface, at);

CREATE TABLE sm2_keys (
    id          TEXT PRIMARY KEY,
    owner_id  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    secret_enc  TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    image       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
, owner_kind TEXT NOT NULL DEFAULT 'department');

CREATE TABLE licenses (
    number          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    type            TEXT NOT NULL,
    title           TEXT NOT NULL,
    holder_id       TEXT NOT NULL,
    holder_name     TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    content         TEXT NOT NULL,
    digest          TEXT NOT NULL,
    signature       TEXT,
    seal_id         TEXT REFERENCES sm2_keys(id),
    source          TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    valid_to        BIGINT,
    application_id  TEXT,
    revoked_at      BIGINT,
    revoked_reason  TEXT
, qr_payload TEXT);

CREATE INDEX licenses_holder ON licenses(holder_id, type);

CREATE TABLE svc_applications (
    id              TEXT PRIMARY KEY REFERENCES wf_instances(id),
    item            TEXT NOT NULL,
    department      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    subject_name    TEXT NOT NULL,
    applicant_id    TEXT NOT NULL,
    -- Field values by key, and for each sourced field the interface it came from.
    form            TEXT NOT NULL,
    sources         TEXT NOT NULL,
    -- License numbers by material.
    licenses        TEXT NOT NULL,
    one_click       BIGINT NOT NULL,
    -- Times returned for correction (一次性告知).
    returns         BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    submitted_at    BIGINT NOT NULL,
    decided_at      BIGINT,
    result_number   TEXT
, case_no TEXT);

CREATE INDEX svc_applications_item ON svc_applications(item, submitted_at);

CREATE INDEX svc_applications_dept ON svc_applications(department, status);

CREATE INDEX svc_applications_applicant ON svc_applications(applicant_id, submitted_at);

CREATE TABLE svc_uploads (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    material        TEXT NOT NULL,
    filename        TEXT NOT NULL,
    size            BIGINT NOT NULL,
    sm3             TEXT NOT NULL,
    content         BYTEA NOT NULL,
    uploaded_at     BIGINT NOT NULL
);

CREATE INDEX svc_uploads_app ON svc_uploads(application_id);

CREATE TABLE svc_checks (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    at              BIGINT NOT NULL,
    by_id           TEXT NOT NULL,
    by_name         TEXT NOT NULL,
    results         TEXT NOT NULL,
    passed          BIGINT NOT NULL,
    failed          BIGINT NOT NULL
);

CREATE INDEX svc_checks_app ON svc_checks(application_id, at);

CREATE TABLE svc_xrequests (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    from_dept       TEXT NOT NULL,
    to_dept         TEXT NOT NULL,
    question        TEXT NOT NULL,
    asked_by        TEXT NOT NULL,
    asked_by_name   TEXT NOT NULL,
    asked_at        BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    outcome         TEXT,
    answer          TEXT,
    answered_by     TEXT,
    answered_by_name TEXT,
    answered_at     BIGINT
, attachment_name TEXT, attachment_sm3 TEXT, attachment BYTEA);

CREATE INDEX svc_xrequests_to ON svc_xrequests(to_dept, answered_at);

CREATE INDEX svc_xrequests_app ON svc_xrequests(application_id);

CREATE TABLE svc_archive (
    application_id  TEXT PRIMARY KEY,
    archived_at     BIGINT NOT NULL,
    manifest        TEXT NOT NULL,
    digest          TEXT NOT NULL
, subject TEXT NOT NULL DEFAULT '', item TEXT NOT NULL DEFAULT '', approved BIGINT NOT NULL DEFAULT 0);

CREATE TABLE svc_item_settings (
    code        TEXT PRIMARY KEY,
    enabled     BIGINT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE svc_item_versions (
    code            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    -- The whole item as JSON (code, name, time limits, result, materials with their fields).
    definition      TEXT NOT NULL,
    note            TEXT NOT NULL,
    -- One line per change against the version before, as shown in the history.
    changes         TEXT NOT NULL,
    edited_by       TEXT NOT NULL,
    edited_by_name  TEXT NOT NULL,
    edited_at       BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TABLE svc_signatures (
    application_id  TEXT NOT NULL,
    material        TEXT NOT NULL,
    round           BIGINT NOT NULL,
    signer_id       TEXT NOT NULL,
    signer_name     TEXT NOT NULL,
    digest          TEXT NOT NULL,
    signature       TEXT NOT NULL,
    signed_at       BIGINT NOT NULL,
    PRIMARY KEY (application_id, material, round)
);

CREATE INDEX svc_archive_subject ON svc_archive(subject, item, archived_at);

CREATE FUNCTION svc_archive_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'svc_archive is append-only';
END;
$$;

CREATE TRIGGER svc_archive_no_update BEFORE UPDATE ON svc_archive
    FOR EACH ROW EXECUTE FUNCTION svc_archive_append_only();

CREATE TRIGGER svc_archive_no_delete BEFORE DELETE ON svc_archive
    FOR EACH ROW EXECUTE FUNCTION svc_archive_append_only();

CREATE TABLE dx_call_days (
    -- Days since 1970-01-01 in China time: (at + 8 h) / 1 day.
    day         BIGINT NOT NULL,
    interface   TEXT NOT NULL,
    calls       BIGINT NOT NULL,
    found       BIGINT NOT NULL,
    PRIMARY KEY (day, interface)
);

CREATE TABLE dx_rollup (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    upto    BIGINT NOT NULL
);

CREATE INDEX dx_calls_verify ON dx_calls(application_id) WHERE purpose = '一键核查';

CREATE INDEX sm2_keys_owner ON sm2_keys(owner_kind, owner_id);

CREATE UNIQUE INDEX sup_persons_open_card ON sup_persons(id_card_no) WHERE status IN ('active', 'expired');

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

CREATE TABLE wage_account_debits (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES wage_projects(id) ON DELETE CASCADE,
    on_date          TEXT NOT NULL,
    amount_fen       BIGINT NOT NULL,
    payee_name       TEXT NOT NULL,
    payee_id_card_no TEXT,
    payee_account    TEXT,
    cash             BIGINT NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES wage_workers(id) ON DELETE SET NULL,
    source           TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (source, external_id)
);

CREATE INDEX wage_account_debits_project ON wage_account_debits(project_id, on_date);

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

CREATE TABLE svc_stability_grants (
    id              TEXT PRIMARY KEY,
    year            BIGINT NOT NULL,
    uscc            TEXT NOT NULL,
    name            TEXT NOT NULL,
    insured         BIGINT NOT NULL,
    layoffs         BIGINT NOT NULL,
    layoff_rate_bp  BIGINT NOT NULL,
    premium_fen     BIGINT NOT NULL,
    rate_bp         BIGINT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    status          TEXT NOT NULL,
    identified_at   BIGINT NOT NULL,
    granted_at      BIGINT,
    granted_by      TEXT,
    granted_by_name TEXT,
    notice          TEXT,
    signature       TEXT,
    UNIQUE (year, uscc)
);

CREATE INDEX svc_stability_grants_status ON svc_stability_grants(year, status);

CREATE TABLE issued_documents (
    id            TEXT PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    department    TEXT NOT NULL,
    addressee_id  TEXT,
    source        TEXT NOT NULL,
    document      TEXT NOT NULL,
    seal_id       TEXT NOT NULL,
    payload       TEXT NOT NULL,
    issued_on     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE INDEX issued_documents_source ON issued_documents(source);

CREATE INDEX issued_documents_addressee ON issued_documents(addressee_id, created_at);

CREATE INDEX wage_complaints_stage ON wage_complaints(stage, received_on);

CREATE UNIQUE INDEX svc_applications_case_no ON svc_applications(case_no);

CREATE TABLE shipped_grants (
    role_code  TEXT NOT NULL,
    permission TEXT NOT NULL,
    shipped_at BIGINT NOT NULL,
    PRIMARY KEY (role_code, permission)
);

INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO dx_rollup (id, upto) VALUES (1, 0);
