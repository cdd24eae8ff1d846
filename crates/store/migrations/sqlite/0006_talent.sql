-- Talent portrait (人才画像): people with their education, their employments (就业登记, from
-- social insurance or the employers) and the jobs employers post (岗位需求) with the applicants
-- they drew. Industry is the employer's, read from the registry at query time.

CREATE TABLE talent_people (
    id_card_no  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    education   TEXT NOT NULL,
    school      TEXT NOT NULL DEFAULT '',
    major       TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE talent_employments (
    id             TEXT PRIMARY KEY,
    id_card_no     TEXT NOT NULL,
    employer_uscc  TEXT NOT NULL,
    started_on     TEXT NOT NULL,
    ended_on       TEXT,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX talent_employments_employer ON talent_employments(employer_uscc);
CREATE INDEX talent_employments_person ON talent_employments(id_card_no);

CREATE TABLE job_postings (
    id             TEXT PRIMARY KEY,
    employer_uscc  TEXT NOT NULL,
    title          TEXT NOT NULL,
    education      TEXT NOT NULL DEFAULT '',
    openings       INTEGER NOT NULL,
    applicants     INTEGER NOT NULL DEFAULT 0,
    posted_on      TEXT NOT NULL,
    source         TEXT NOT NULL,
    external_id    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX job_postings_employer ON job_postings(employer_uscc);
