-- One SM2 key store for the departments' e-seals and the applicants' signing keys: the two
-- tables had the same shape. Renaming `seals` keeps the reference from licenses.seal_id; the
-- private keys stay encrypted as they were (bound to the owner's code, which does not change).
ALTER TABLE seals RENAME TO sm2_keys;
ALTER TABLE sm2_keys RENAME COLUMN department TO owner_id;
ALTER TABLE sm2_keys ADD COLUMN owner_kind TEXT NOT NULL DEFAULT 'department';
INSERT INTO sm2_keys (id, owner_id, name, public_key, secret_enc, nonce, key_id, image, created_at, owner_kind)
    SELECT lower(hex(randomblob(16))), holder_id, name, public_key, secret_enc, nonce, key_id, image, created_at,
           holder_kind
    FROM signer_keys;
DROP TABLE signer_keys;
-- Owners are looked up by kind and code. (owner_id alone stays unique from the old seals
-- table: department codes, USCCs and ID numbers do not collide.)
CREATE INDEX sm2_keys_owner ON sm2_keys(owner_kind, owner_id);
