-- Interface call counts per China-time day and interface, rolled up from dx_calls every night
-- (services.calls_rollup), so the shared-data page and the statistics add a few hundred rows
-- and count only the calls since the last roll-up, however many millions the log holds.
CREATE TABLE dx_call_days (
    -- Days since 1970-01-01 in China time: (at + 8 h) / 1 day.
    day         BIGINT NOT NULL,
    interface   TEXT NOT NULL,
    calls       BIGINT NOT NULL,
    found       BIGINT NOT NULL,
    PRIMARY KEY (day, interface)
);
-- dx_calls before `upto` (ms) are in dx_call_days.
CREATE TABLE dx_rollup (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    upto    BIGINT NOT NULL
);
INSERT INTO dx_rollup (id, upto) VALUES (1, 0);

-- One-click verification calls by application, for the per-item statistics; partial, so the
-- submission path (purpose 事项办理) pays nothing for it.
CREATE INDEX dx_calls_verify ON dx_calls(application_id) WHERE purpose = '一键核查';
