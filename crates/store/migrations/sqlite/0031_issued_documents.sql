-- Documents a department issues (整改通知单, 告知函, …): frozen when issued, numbered in the
-- department's own yearly sequence per kind (发文字号), signed with its SM2 e-seal. The QR code
-- carries `payload`, which anyone holding the department's public key can verify offline.
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

-- 发文机关代字: the department's prefix in document numbers (亳人社 → 亳人社监整〔2026〕1号).
ALTER TABLE departments ADD COLUMN doc_prefix TEXT NOT NULL DEFAULT '';
