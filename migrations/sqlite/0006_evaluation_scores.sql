-- The evaluation session, second part: each tender's scoring scheme and the members' score sheets
-- (one per member and bid; sealed from the other members until all have submitted — the server
-- decides what it shows). Kept in step with migrations/postgres/0006_evaluation_scores.sql.

CREATE TABLE evaluation_schemes (
    tender_id TEXT NOT NULL,
    set_at    TEXT NOT NULL,
    doc       TEXT NOT NULL,
    CONSTRAINT evaluation_schemes_pkey PRIMARY KEY (tender_id),
    CONSTRAINT evaluation_schemes_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;

CREATE TABLE score_sheets (
    tender_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    bid_id       TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    doc          TEXT NOT NULL,
    CONSTRAINT score_sheets_pkey PRIMARY KEY (tender_id, user_id, bid_id),
    CONSTRAINT score_sheets_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT score_sheets_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;
