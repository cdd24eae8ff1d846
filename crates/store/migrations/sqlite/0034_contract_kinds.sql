-- The three kinds of labor contract (劳动合同法 art. 12), the task a task contract ends with
-- (art. 15) and the probation agreed (art. 19). Contracts made earlier keep term_kind NULL: their
-- seal covers the text without these.
ALTER TABLE wage_contracts ADD COLUMN term_kind TEXT;
ALTER TABLE wage_contracts ADD COLUMN task TEXT NOT NULL DEFAULT '';
ALTER TABLE wage_contracts ADD COLUMN probation_months INTEGER NOT NULL DEFAULT 0;
