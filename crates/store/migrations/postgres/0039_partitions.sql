-- The four large append-only tables are partitioned by month of `at` (PARTITION BY RANGE),
-- so that retention drops a month instead of deleting its rows one by one
-- (store::partitions). Each gets a DEFAULT partition, which takes whatever no month holds;
-- the server makes the months (the current one and those ahead) and moves rows out of the
-- default into them (`partitions::ensure`, at start and nightly). A unique key on a
-- partitioned table must contain the partition key: audit_log's key is (seq, at), dx_calls'
-- and sup_events' (id, at). The rows are copied as they are.

CREATE TABLE audit_log_parted (
    seq         BIGINT NOT NULL,
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
    hash        TEXT NOT NULL,
    PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);
CREATE TABLE audit_log_default PARTITION OF audit_log_parted DEFAULT;
INSERT INTO audit_log_parted SELECT * FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_parted RENAME TO audit_log;
ALTER INDEX audit_log_parted_pkey RENAME TO audit_log_pkey;
CREATE INDEX audit_log_seq ON audit_log(seq);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id);
CREATE INDEX audit_log_action ON audit_log(action);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Where the chain starts once its oldest months have been dropped: the last dropped record's
-- sequence number and hash (0 and '' while nothing has been dropped). Verification starts
-- from it (store::audit::verify).
CREATE TABLE audit_base (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_base (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE sup_fixes_parted (
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
) PARTITION BY RANGE (at);
CREATE TABLE sup_fixes_default PARTITION OF sup_fixes_parted DEFAULT;
INSERT INTO sup_fixes_parted SELECT * FROM sup_fixes;
DROP TABLE sup_fixes;
ALTER TABLE sup_fixes_parted RENAME TO sup_fixes;
ALTER INDEX sup_fixes_parted_pkey RENAME TO sup_fixes_pkey;

CREATE TABLE sup_events_parted (
    id          TEXT NOT NULL,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE sup_events_default PARTITION OF sup_events_parted DEFAULT;
INSERT INTO sup_events_parted SELECT * FROM sup_events;
DROP TABLE sup_events;
ALTER TABLE sup_events_parted RENAME TO sup_events;
ALTER INDEX sup_events_parted_pkey RENAME TO sup_events_pkey;
CREATE UNIQUE INDEX sup_events_fix ON sup_events(person_id, at, kind);

CREATE TABLE dx_calls_parted (
    id              TEXT NOT NULL,
    at              BIGINT NOT NULL,
    caller_id       TEXT NOT NULL,
    caller_name     TEXT NOT NULL,
    department      TEXT NOT NULL DEFAULT '',
    interface       TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    fields          TEXT NOT NULL,
    found           BIGINT NOT NULL,
    application_id  TEXT,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE dx_calls_default PARTITION OF dx_calls_parted DEFAULT;
INSERT INTO dx_calls_parted SELECT * FROM dx_calls;
DROP TABLE dx_calls;
ALTER TABLE dx_calls_parted RENAME TO dx_calls;
ALTER INDEX dx_calls_parted_pkey RENAME TO dx_calls_pkey;
CREATE INDEX dx_calls_at ON dx_calls(at);
CREATE INDEX dx_calls_interface ON dx_calls(interface, at);
CREATE INDEX dx_calls_verify ON dx_calls(application_id) WHERE purpose = '一键核查';

-- A fix-log batch is up to a megabyte, stored out of line (TOAST). PostgreSQL's default pglz
-- compression of it cost more CPU under the write lock than the bytes it saved; lz4 compresses
-- it as well, several times faster (10,000 persons over HTTP: 266,574 → 315,212 fixes/s).
-- A server built without lz4 keeps its default.
DO $$
BEGIN
    ALTER TABLE sup_fix_log ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 not available: sup_fix_log keeps the default compression';
END
$$;
