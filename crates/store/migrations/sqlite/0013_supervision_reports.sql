-- What the person reports from the app: an information change (new phone number, address,
-- employer …) or a periodic status report (思想汇报、工作生活情况). Read by the holding agency.
CREATE TABLE sup_reports (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    -- 'info_change' or 'status'.
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_by     TEXT,
    read_at     BIGINT
);
CREATE INDEX sup_reports_person ON sup_reports(person_id, created_at);
