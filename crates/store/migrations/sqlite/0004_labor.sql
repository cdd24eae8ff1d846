-- Labor relations by grid (劳动关系网格化): how each employer came to be in its grid, and what
-- social insurance, labor inspection and arbitration report about it each month.

-- 'polygon' (coordinates in the grid), 'keyword' (address keyword), 'manual', or '' (not placed).
ALTER TABLE enterprises ADD COLUMN grid_method TEXT NOT NULL DEFAULT '';

-- 劳动用工月报: one row per employer and month (month TEXT 'YYYY-MM-01'). A later report for the
-- same month updates the columns it gives.
CREATE TABLE labor_monthly (
    uscc              TEXT NOT NULL,
    month             TEXT NOT NULL,
    employees         INTEGER NOT NULL DEFAULT 0,
    insured           INTEGER NOT NULL DEFAULT 0,
    consultations     INTEGER NOT NULL DEFAULT 0,
    complaints        INTEGER NOT NULL DEFAULT 0,
    disputes          INTEGER NOT NULL DEFAULT 0,
    collective_risks  INTEGER NOT NULL DEFAULT 0,
    source            TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (uscc, month)
);
CREATE INDEX labor_monthly_month ON labor_monthly(month);
