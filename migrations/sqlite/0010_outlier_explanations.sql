-- A member whose total on a bid strays from the others' (an outlier flag of the report) explains
-- it in writing; the report carries the explanations and cannot be signed without them.
-- Kept in step with migrations/postgres/0010_outlier_explanations.sql.

CREATE TABLE outlier_explanations (
    tender_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    bid_id    TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    doc          TEXT NOT NULL,
    CONSTRAINT outlier_explanations_pkey PRIMARY KEY (tender_id, user_id, bid_id),
    CONSTRAINT outlier_explanations_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT outlier_explanations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;
