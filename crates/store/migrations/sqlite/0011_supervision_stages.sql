-- A case's stages: each agency that held it, its measure and period, and when and by whom it
-- was handed on (公安 → 检察院 → 法院 → 司法局). The holding agency reads the earlier stages'
-- record (数据互通可查); an earlier agency no longer sees the person.
CREATE TABLE sup_stages (
    id            TEXT PRIMARY KEY,
    person_id     TEXT NOT NULL REFERENCES sup_persons(id),
    stage         TEXT NOT NULL,
    agency_id     TEXT NOT NULL REFERENCES departments(id),
    measure       TEXT NOT NULL,
    measure_from  TEXT NOT NULL,
    measure_to    TEXT NOT NULL,
    ended_at      BIGINT NOT NULL,
    handed_by     TEXT NOT NULL,
    handed_name   TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sup_stages_person ON sup_stages(person_id, ended_at);
