-- The QR payload printed on an e-license (YSDOC1|number|issuer|issued on|SM3|SM2 signature), so
-- a paper copy verifies offline with the issuing department's public key. Licenses issued
-- before this are signed on first view.
ALTER TABLE licenses ADD COLUMN qr_payload TEXT;
