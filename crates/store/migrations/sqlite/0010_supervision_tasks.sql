-- Check-in tasks (打卡任务): scheduled or random "flying" (飞行打卡), each with a deadline. The
-- phone answers with its location, the face-match score and liveness flag its verifier
-- reported, and the SM3 digest of the photo (the photo itself stays on the phone's side).
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
    liveness      INTEGER,
    photo_sm3     TEXT,
    result        TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_name  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX sup_tasks_person ON sup_tasks(person_id, due_at);
