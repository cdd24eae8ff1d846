-- 办件编号 (受理号): every application gets the year's next number when it is written, shown on
-- its pages and documents and searchable. Existing applications are numbered in the order they
-- were submitted, per year (China time), and the series continues after them.
ALTER TABLE svc_applications ADD COLUMN case_no TEXT;
UPDATE svc_applications SET case_no = (
    SELECT printf('%s%07d', x.y, x.rn) FROM (
        SELECT id, strftime('%Y', submitted_at / 1000, 'unixepoch', '+8 hours') AS y,
               ROW_NUMBER() OVER (PARTITION BY strftime('%Y', submitted_at / 1000, 'unixepoch', '+8 hours')
                                  ORDER BY submitted_at, id) AS rn
        FROM svc_applications) x
    WHERE x.id = svc_applications.id);
INSERT INTO doc_numbers (kind, year, last)
    SELECT 'svc_case', CAST(strftime('%Y', submitted_at / 1000, 'unixepoch', '+8 hours') AS INTEGER), COUNT(*)
    FROM svc_applications GROUP BY 2
    ON CONFLICT (kind, year) DO UPDATE SET last = excluded.last;
CREATE UNIQUE INDEX svc_applications_case_no ON svc_applications(case_no);
