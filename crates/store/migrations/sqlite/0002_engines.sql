-- Runtime of the engines: workflow instances and their tasks, notifications, alerts, scores.

CREATE TABLE wf_instances (
    id             TEXT PRIMARY KEY,
    def_id         TEXT NOT NULL,
    def_version    INTEGER NOT NULL,
    title          TEXT NOT NULL,
    applicant_id   TEXT NOT NULL REFERENCES users(id),
    applicant_name TEXT NOT NULL,
    status         TEXT NOT NULL,
    -- Facts the routes read (JSON), and the engine's state (JSON of domain::workflow::Instance).
    facts          TEXT NOT NULL,
    state          TEXT NOT NULL,
    version        INTEGER NOT NULL,
    started_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    finished_at    BIGINT
);
CREATE INDEX wf_instances_applicant ON wf_instances(applicant_id);
CREATE INDEX wf_instances_def ON wf_instances(def_id, started_at);

-- One row per task, kept in step with the state, so inboxes are a query.
CREATE TABLE wf_tasks (
    instance_id  TEXT NOT NULL REFERENCES wf_instances(id) ON DELETE CASCADE,
    task_no      INTEGER NOT NULL,
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
    overdue      INTEGER NOT NULL DEFAULT 0,
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
    cleared       INTEGER NOT NULL DEFAULT 0,
    -- The facts that triggered it (JSON list of {text, value}), and the lifecycle (JSON).
    facts         TEXT NOT NULL,
    state         TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    closed_at     BIGINT
);
-- One open alert per subject and indicator, enforced by the database too.
CREATE UNIQUE INDEX alerts_one_open ON alerts(indicator, subject_type, subject_id) WHERE status <> 'closed';
CREATE INDEX alerts_status ON alerts(status, level);
CREATE INDEX alerts_division ON alerts(division_code);

-- Yearly sequence numbers of issued documents (告知函, 整改通知单).
CREATE TABLE doc_numbers (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
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
    points        INTEGER NOT NULL,
    color         TEXT NOT NULL,
    contributions TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX score_history_subject ON score_history(score_id, subject_type, subject_id, at);
