-- Applicants' signing keys (电子签章 of an enterprise, 电子签名 of a person) and the signatures
-- made with them on applications. Like the department seals, the private key is SM4-GCM
-- encrypted under the master key file outside the database and never leaves the server.
CREATE TABLE signer_keys (
    -- The subject: a USCC (统一社会信用代码) or an ID number (公民身份号码).
    holder_id   TEXT PRIMARY KEY,
    holder_kind TEXT NOT NULL,
    name        TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    secret_enc  TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    image       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One row per sign material each time the applicant signs: at submission (round 0) and at
-- each resubmission after a return (1, 2 …). The digest is SM3 of the canonical content
-- (item, version, material, subject, the form values, the instant); the signature is SM2.
CREATE TABLE svc_signatures (
    application_id  TEXT NOT NULL,
    material        TEXT NOT NULL,
    round           INTEGER NOT NULL,
    signer_id       TEXT NOT NULL,
    signer_name     TEXT NOT NULL,
    digest          TEXT NOT NULL,
    signature       TEXT NOT NULL,
    signed_at       BIGINT NOT NULL,
    PRIMARY KEY (application_id, material, round)
);
