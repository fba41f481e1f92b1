-- The expert pool as it was when a tender's committee was drawn: a member who declines is
-- replaced from the same pool (its digest is in the draw), whatever the pool has become since.
-- Kept in step with migrations/sqlite/0009_draw_pool.sql.

CREATE TABLE draw_pools (
    tender_id   uuid NOT NULL,
    pool_digest text NOT NULL,
    doc         text NOT NULL,
    CONSTRAINT draw_pools_pkey PRIMARY KEY (tender_id),
    CONSTRAINT draw_pools_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
