-- The evaluation session, third part: the tenderee's representatives on the committee, each
-- member's qualification checklists, the session's time (and members' requests for more), and the
-- evaluation report with the members' signatures. Kept in step with
-- migrations/postgres/0007_evaluation_review.sql.

CREATE TABLE evaluation_representatives (
    tender_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    seat         INTEGER NOT NULL,
    appointed_at TEXT NOT NULL,
    CONSTRAINT evaluation_representatives_pkey PRIMARY KEY (tender_id, user_id),
    CONSTRAINT evaluation_representatives_seat_key UNIQUE (tender_id, seat),
    CONSTRAINT evaluation_representatives_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT evaluation_representatives_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;

CREATE TABLE qualification_reviews (
    tender_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    bid_id       TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    doc          TEXT NOT NULL,
    CONSTRAINT qualification_reviews_pkey PRIMARY KEY (tender_id, user_id, bid_id),
    CONSTRAINT qualification_reviews_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT qualification_reviews_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;

CREATE TABLE evaluation_time (
    tender_id TEXT NOT NULL,
    due_at    TEXT NOT NULL,
    set_at    TEXT NOT NULL,
    extended  INTEGER NOT NULL,
    CONSTRAINT evaluation_time_pkey PRIMARY KEY (tender_id),
    CONSTRAINT evaluation_time_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;

CREATE TABLE evaluation_time_requests (
    tender_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    at        TEXT NOT NULL,
    reason    TEXT NOT NULL,
    CONSTRAINT evaluation_time_requests_pkey PRIMARY KEY (tender_id, user_id),
    CONSTRAINT evaluation_time_requests_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT evaluation_time_requests_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
) STRICT;

CREATE TABLE evaluation_reports (
    tender_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    drawn_up_at TEXT NOT NULL,
    body        TEXT NOT NULL,
    signatures  TEXT NOT NULL,
    logged      TEXT,
    log_index   INTEGER,
    checkpoint  TEXT,
    CONSTRAINT evaluation_reports_pkey PRIMARY KEY (tender_id),
    CONSTRAINT evaluation_reports_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
