-- 传讯通知: the agency summons the person to appear at a time and place; the person
-- acknowledges (app or own page); the officer records whether they appeared.
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
