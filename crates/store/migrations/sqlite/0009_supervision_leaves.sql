-- 外出请假: a supervised person's leave request, decided by the agency holding the case. An
-- approval adds the preset's areas as allowed fences for the approved window only.
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
);
CREATE INDEX sup_leaves_person ON sup_leaves(person_id, created_at);
CREATE INDEX sup_leaves_status ON sup_leaves(status);
