-- E-archive materials (电子档案) take a subject's archived, approved case of another item, so
-- the archive carries the subject, the item and whether a result was issued, indexed for that
-- look-up (the applications table has no subject index, and adding one would slow every
-- submission; archiving happens once per decided case).
ALTER TABLE svc_archive ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE svc_archive ADD COLUMN item TEXT NOT NULL DEFAULT '';
ALTER TABLE svc_archive ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;
UPDATE svc_archive SET
    subject = (SELECT a.subject FROM svc_applications a WHERE a.id = svc_archive.application_id),
    item = (SELECT a.item FROM svc_applications a WHERE a.id = svc_archive.application_id),
    approved = (SELECT CASE WHEN a.status = 'approved' THEN 1 ELSE 0 END FROM svc_applications a
                WHERE a.id = svc_archive.application_id)
WHERE EXISTS (SELECT 1 FROM svc_applications a WHERE a.id = svc_archive.application_id);
CREATE INDEX svc_archive_subject ON svc_archive(subject, item, archived_at);

-- The e-archive is append-only: an archived case is never changed or removed.
CREATE TRIGGER svc_archive_no_update BEFORE UPDATE ON svc_archive
BEGIN SELECT RAISE(ABORT, 'svc_archive is append-only'); END;
CREATE TRIGGER svc_archive_no_delete BEFORE DELETE ON svc_archive
BEGIN SELECT RAISE(ABORT, 'svc_archive is append-only'); END;
