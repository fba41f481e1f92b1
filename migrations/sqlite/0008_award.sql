-- After the evaluation: one document per tender holding the candidates' publication, objections
-- and answers, the award notice, the contract record and the deposit refunds, with a version for
-- optimistic updates. Kept in step with migrations/postgres/0008_award.sql.

CREATE TABLE awards (
    tender_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    doc        TEXT NOT NULL,
    CONSTRAINT awards_pkey PRIMARY KEY (tender_id),
    CONSTRAINT awards_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
