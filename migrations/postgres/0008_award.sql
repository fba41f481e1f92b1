-- After the evaluation: one document per tender holding the candidates' publication, objections
-- and answers, the award notice, the contract record and the deposit refunds, with a version for
-- optimistic updates. Kept in step with migrations/sqlite/0008_award.sql.

CREATE TABLE awards (
    tender_id  uuid NOT NULL,
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    doc        text NOT NULL,
    CONSTRAINT awards_pkey PRIMARY KEY (tender_id),
    CONSTRAINT awards_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
