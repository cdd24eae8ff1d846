-- 一键申报: shared data (exchange), e-seals and e-licenses, service applications.

-- The newest record each source pushed for a subject (USCC or ID number), as JSON.
CREATE TABLE dx_records (
    interface   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    data        TEXT NOT NULL,
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (interface, subject)
);
-- An application reads all of its subject's records at once.
CREATE INDEX dx_records_subject ON dx_records(subject);

-- Every look-up: who, for what, about whom, which fields came back.
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
    found           INTEGER NOT NULL,
    application_id  TEXT
);
CREATE INDEX dx_calls_at ON dx_calls(at);
CREATE INDEX dx_calls_interface ON dx_calls(interface, at);

-- A department's e-seal: SM2 public key, the private key SM4-GCM encrypted under the master
-- key file (key_id names which), and the seal picture.
CREATE TABLE seals (
    id          TEXT PRIMARY KEY,
    department  TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    secret_enc  TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    image       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Licenses and sealed documents. Those issued here carry the SM3 digest of their canonical
-- content and the issuer's SM2 signature; those pushed from elsewhere name their source.
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
    seal_id         TEXT REFERENCES seals(id),
    source          TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    valid_to        BIGINT,
    application_id  TEXT,
    revoked_at      BIGINT,
    revoked_reason  TEXT
);
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
    one_click       INTEGER NOT NULL,
    -- Times returned for correction (一次性告知).
    returns         INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    submitted_at    BIGINT NOT NULL,
    decided_at      BIGINT,
    result_number   TEXT
);
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
    content         BLOB NOT NULL,
    uploaded_at     BIGINT NOT NULL
);
CREATE INDEX svc_uploads_app ON svc_uploads(application_id);

-- 一键核查 runs: each field against its source, with the result.
CREATE TABLE svc_checks (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL,
    at              BIGINT NOT NULL,
    by_id           TEXT NOT NULL,
    by_name         TEXT NOT NULL,
    results         TEXT NOT NULL,
    passed          INTEGER NOT NULL,
    failed          INTEGER NOT NULL
);
CREATE INDEX svc_checks_app ON svc_checks(application_id, at);

-- 跨部门证明协查 requests, with their own deadline.
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
);
CREATE INDEX svc_xrequests_to ON svc_xrequests(to_dept, answered_at);
CREATE INDEX svc_xrequests_app ON svc_xrequests(application_id);

-- 电子档案: a completed application's materials and result, with the SM3 of the manifest.
CREATE TABLE svc_archive (
    application_id  TEXT PRIMARY KEY,
    archived_at     BIGINT NOT NULL,
    manifest        TEXT NOT NULL,
    digest          TEXT NOT NULL
);

-- Administrators' changes to the item catalog of config/services/: an item suspended (暂停受理)
-- with the reason shown to applicants.
CREATE TABLE svc_item_settings (
    code        TEXT PRIMARY KEY,
    enabled     INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
