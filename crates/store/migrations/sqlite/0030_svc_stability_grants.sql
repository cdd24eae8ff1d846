-- 失业保险稳岗返还 granted without application (免申即享): the employers identified from the
-- social-insurance data for a policy year, and the grant — sealed notice and its SM2 signature —
-- when the department confirms it. One per employer and year.
CREATE TABLE svc_stability_grants (
    id              TEXT PRIMARY KEY,
    year            INTEGER NOT NULL,
    uscc            TEXT NOT NULL,
    name            TEXT NOT NULL,
    insured         INTEGER NOT NULL,
    layoffs         INTEGER NOT NULL,
    layoff_rate_bp  INTEGER NOT NULL,
    premium_fen     BIGINT NOT NULL,
    rate_bp         INTEGER NOT NULL,
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
