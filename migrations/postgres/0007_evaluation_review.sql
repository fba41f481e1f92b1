-- The evaluation session, third part: the tenderee's representatives on the committee, each
-- member's qualification checklists, the session's time (and members' requests for more), and the
-- evaluation report with the members' signatures. Kept in step with
-- migrations/sqlite/0007_evaluation_review.sql.

CREATE TABLE evaluation_representatives (
    tender_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    seat         bigint NOT NULL,
    appointed_at timestamptz NOT NULL,
    CONSTRAINT evaluation_representatives_pkey PRIMARY KEY (tender_id, user_id),
    CONSTRAINT evaluation_representatives_seat_key UNIQUE (tender_id, seat),
    CONSTRAINT evaluation_representatives_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT evaluation_representatives_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE qualification_reviews (
    tender_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    bid_id       uuid NOT NULL,
    submitted_at timestamptz NOT NULL,
    doc          text NOT NULL,
    CONSTRAINT qualification_reviews_pkey PRIMARY KEY (tender_id, user_id, bid_id),
    CONSTRAINT qualification_reviews_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT qualification_reviews_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE evaluation_time (
    tender_id uuid NOT NULL,
    due_at    timestamptz NOT NULL,
    set_at    timestamptz NOT NULL,
    extended  bigint NOT NULL,
    CONSTRAINT evaluation_time_pkey PRIMARY KEY (tender_id),
    CONSTRAINT evaluation_time_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);

CREATE TABLE evaluation_time_requests (
    tender_id uuid NOT NULL,
    user_id   uuid NOT NULL,
    at        timestamptz NOT NULL,
    reason    text NOT NULL,
    CONSTRAINT evaluation_time_requests_pkey PRIMARY KEY (tender_id, user_id),
    CONSTRAINT evaluation_time_requests_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT evaluation_time_requests_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE evaluation_reports (
    tender_id   uuid NOT NULL,
    version     bigint NOT NULL,
    drawn_up_at timestamptz NOT NULL,
    body        text NOT NULL,
    signatures  text NOT NULL,
    logged      text,
    log_index   bigint,
    checkpoint  text,
    CONSTRAINT evaluation_reports_pkey PRIMARY KEY (tender_id),
    CONSTRAINT evaluation_reports_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
