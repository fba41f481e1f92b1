-- The evaluation session, first part: which account each expert signs in with, and each member's
-- declaration of no conflict of interest (made before any bid is shown). Kept in step with
-- migrations/sqlite/0005_evaluation_session.sql.

CREATE TABLE expert_accounts (
    expert_id text NOT NULL,
    user_id   uuid NOT NULL,
    linked_at timestamptz NOT NULL,
    CONSTRAINT expert_accounts_pkey PRIMARY KEY (expert_id),
    CONSTRAINT expert_accounts_user_id_key UNIQUE (user_id),
    CONSTRAINT expert_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE evaluation_declarations (
    tender_id uuid NOT NULL,
    user_id   uuid NOT NULL,
    expert_id text NOT NULL,
    at        timestamptz NOT NULL,
    statement text NOT NULL,
    CONSTRAINT evaluation_declarations_pkey PRIMARY KEY (tender_id, user_id),
    CONSTRAINT evaluation_declarations_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT evaluation_declarations_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);
