-- A member whose total on a bid strays from the others' (an outlier flag of the report) explains
-- it in writing; the report carries the explanations and cannot be signed without them.
-- Kept in step with migrations/sqlite/0010_outlier_explanations.sql.

CREATE TABLE outlier_explanations (
    tender_id uuid NOT NULL,
    user_id   uuid NOT NULL,
    bid_id    uuid NOT NULL,
    submitted_at timestamptz NOT NULL,
    doc          text NOT NULL,
    CONSTRAINT outlier_explanations_pkey PRIMARY KEY (tender_id, user_id, bid_id),
    CONSTRAINT outlier_explanations_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT outlier_explanations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);
