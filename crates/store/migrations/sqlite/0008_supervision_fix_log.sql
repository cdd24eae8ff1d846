-- The fix log (see store::supervision::fixlog): an in-order batch of fixes is appended here as
-- one record and committed; a folder moves it into sup_fixes and sup_events. Writing a
-- 10,000-fix batch straight into sup_fixes dirtied a page per fix.
CREATE TABLE sup_fix_log (
    seq          INTEGER PRIMARY KEY,
    received_at  BIGINT NOT NULL,
    fixes        INTEGER NOT NULL,
    data         BLOB NOT NULL
);

-- sup_fixes keyed by (person, instant) alone, without a rowid: one B-tree per fix instead of
-- two. New columns: whether the fix was uncertain (too near an edge for its accuracy) and late
-- (not newer than the person's last fix when it came, so it never moved the state).
-- sup_trackers stays: the folder now saves the states there, not every upload.
CREATE TABLE sup_fixes_new (
    person_id    TEXT NOT NULL REFERENCES sup_persons(id),
    at           BIGINT NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    accuracy_m   DOUBLE PRECISION NOT NULL DEFAULT 0,
    source       TEXT NOT NULL DEFAULT 'gps',
    violation    INTEGER NOT NULL DEFAULT 0,
    uncertain    INTEGER NOT NULL DEFAULT 0,
    late         INTEGER NOT NULL DEFAULT 0,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (person_id, at)
) WITHOUT ROWID;
INSERT INTO sup_fixes_new (person_id, at, lon, lat, accuracy_m, source, violation, received_at)
    SELECT person_id, at, lon, lat, accuracy_m, source, violation, received_at FROM sup_fixes;
DROP TABLE sup_fixes;
ALTER TABLE sup_fixes_new RENAME TO sup_fixes;
