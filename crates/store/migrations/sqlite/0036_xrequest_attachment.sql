-- A 跨部门协查 answer may carry one attachment (the certificate or record checked): its file
-- name, SM3 digest and content.
ALTER TABLE svc_xrequests ADD COLUMN attachment_name TEXT;
ALTER TABLE svc_xrequests ADD COLUMN attachment_sm3 TEXT;
ALTER TABLE svc_xrequests ADD COLUMN attachment BLOB;
