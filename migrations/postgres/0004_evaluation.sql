-- Online evaluation: the expert pool and each tender's committee draw. Kept in step with
-- migrations/sqlite/0004_evaluation.sql (same tables, columns and constraint names).

-- The expert pool, one JSON document per expert (`sealbid_domain::evaluation::experts::Expert`).
CREATE TABLE experts (
    id         text NOT NULL,
    updated_at timestamptz NOT NULL,
    doc        text NOT NULL,
    CONSTRAINT experts_pkey PRIMARY KEY (id)
);

-- A tender's evaluation-committee draw: the public part (seed inputs, pool digest, drawn ids) and
-- the private part (names, exclusions), kept apart so the names can stay hidden until the result.
CREATE TABLE committee_draws (
    tender_id   uuid NOT NULL,
    version     bigint NOT NULL,
    drawn_at    timestamptz NOT NULL,
    public_doc  text NOT NULL,
    private_doc text NOT NULL,
    CONSTRAINT committee_draws_pkey PRIMARY KEY (tender_id),
    CONSTRAINT committee_draws_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
