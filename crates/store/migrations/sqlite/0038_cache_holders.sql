-- Which server process last held a writer-side in-memory cache (store::changes::claim): with
-- several processes on one database, a process whose cache another has held since drops it.
CREATE TABLE cache_holders (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    epoch  BIGINT NOT NULL
);
