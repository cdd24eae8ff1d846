-- 亳安码 (case 2): people under non-custodial measures, the agency holding each case, their
-- bound phone, fences, location fixes, raw violations, alarms, and each person's alarm state.
-- Instants are BIGINT Unix milliseconds; coordinates WGS-84 (the original kept when drawn in
-- another datum).

CREATE TABLE sup_persons (
    id                  TEXT PRIMARY KEY,
    id_card_no          TEXT NOT NULL,
    name                TEXT NOT NULL,
    phone               TEXT NOT NULL DEFAULT '',
    address             TEXT NOT NULL DEFAULT '',
    division_code       TEXT NOT NULL REFERENCES divisions(code),
    -- The agency (department) holding the case at its stage, and the responsible officer.
    agency_id           TEXT NOT NULL REFERENCES departments(id),
    stage               TEXT NOT NULL,
    measure             TEXT NOT NULL,
    measure_from        TEXT NOT NULL,
    measure_to          TEXT NOT NULL,
    officer_id          TEXT REFERENCES users(id),
    user_id             TEXT REFERENCES users(id),
    status              TEXT NOT NULL DEFAULT 'active',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX sup_persons_agency ON sup_persons(agency_id);
CREATE UNIQUE INDEX sup_persons_active_card ON sup_persons(id_card_no, status);

-- One active device per person; earlier ones are kept, revoked.
CREATE TABLE sup_devices (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    device_id   TEXT NOT NULL,
    token_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    bound_by    TEXT NOT NULL,
    bound_at    BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sup_devices_person ON sup_devices(person_id, status);

CREATE TABLE sup_fences (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES sup_persons(id),
    name         TEXT NOT NULL,
    -- 'allowed' or 'forbidden'; 'polygon', 'circle' or 'division'.
    rule         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- WGS-84: GeoJSON Polygon, or {"center":[lon,lat],"radius_m":r}, or {"division":"code"}.
    geometry     TEXT NOT NULL,
    datum        TEXT NOT NULL DEFAULT 'wgs84',
    original     TEXT,
    window_from  BIGINT,
    window_to    BIGINT,
    active       INTEGER NOT NULL DEFAULT 1,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX sup_fences_person ON sup_fences(person_id);

-- Fixes as the phone sent them (after datum conversion); a fix is its person and instant, so a
-- batch sent again adds nothing.
CREATE TABLE sup_fixes (
    person_id    TEXT NOT NULL REFERENCES sup_persons(id),
    at           BIGINT NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    lat          DOUBLE PRECISION NOT NULL,
    accuracy_m   DOUBLE PRECISION NOT NULL DEFAULT 0,
    source       TEXT NOT NULL DEFAULT 'gps',
    violation    INTEGER NOT NULL DEFAULT 0,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (person_id, at)
);

-- Every raw violation, recorded at once (疑似越界), whether or not it becomes an alarm.
CREATE TABLE sup_events (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES sup_persons(id),
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
-- One raw violation per fix: a fix sent twice records nothing new.
CREATE UNIQUE INDEX sup_events_fix ON sup_events(person_id, at, kind);

CREATE TABLE sup_alarms (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES sup_persons(id),
    kind             TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    at               BIGINT NOT NULL,
    -- 'open', 'acknowledged', 'explained', 'closed'.
    status           TEXT NOT NULL DEFAULT 'open',
    handled_by       TEXT,
    note             TEXT NOT NULL DEFAULT '',
    acknowledged_at  BIGINT,
    closed_at        BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX sup_alarms_person ON sup_alarms(person_id, status);

-- The hysteresis state (domain::supervision::Tracker), so a restart continues where it was.
CREATE TABLE sup_trackers (
    person_id  TEXT PRIMARY KEY REFERENCES sup_persons(id),
    last_ms    BIGINT NOT NULL,
    streak     INTEGER NOT NULL,
    since_ms   BIGINT,
    alarmed    INTEGER NOT NULL
);
