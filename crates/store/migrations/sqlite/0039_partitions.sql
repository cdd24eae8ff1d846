-- PostgreSQL partitions its large append-only tables by month here (store::partitions); on
-- SQLite they stay whole and retention deletes rows. What both need: where the audit chain
-- starts once its oldest records have been dropped (always 0 on SQLite, which drops none).
CREATE TABLE audit_base (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_base (id, seq, hash) VALUES (1, 0, '');
