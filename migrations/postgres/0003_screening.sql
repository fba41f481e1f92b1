-- The anomaly engine's results and the supervisors' review of its alerts. Kept in step with
-- migrations/sqlite/0003_screening.sql (same tables, columns and constraint names).
-- Scores are stored as integers in thousandths (0..1000) so both backends filter and sort them alike;
-- the engine's full alert (evidence, figures, chart) is the JSON `doc`.

-- The latest screening of each tender: its price screens and classifier score (re-running replaces it).
CREATE TABLE tender_screenings (
    tender_id   uuid NOT NULL,
    at          timestamptz NOT NULL,
    score_milli bigint,
    doc         text NOT NULL,
    CONSTRAINT tender_screenings_pkey PRIMARY KEY (tender_id),
    CONSTRAINT tender_screenings_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);

-- Alerts. `fingerprint` (tender, indicator, bidders) makes re-running a screening a no-op for what
-- is already stored, whatever its review status. `status`: open, under_review, confirmed, dismissed.
CREATE TABLE alerts (
    id          uuid NOT NULL,
    fingerprint text NOT NULL,
    tender_id   uuid NOT NULL,
    family      text NOT NULL,
    indicator   text NOT NULL,
    score_milli bigint NOT NULL,
    status      text NOT NULL,
    version     bigint NOT NULL,
    raised_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    doc         text NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (id),
    CONSTRAINT alerts_fingerprint_key UNIQUE (fingerprint),
    CONSTRAINT alerts_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
CREATE INDEX alerts_queue_idx ON alerts (status, score_milli, raised_at);
CREATE INDEX alerts_tender_idx ON alerts (tender_id);

-- The bidders an alert names (organisation ids as text), for the queue's bidder filter.
CREATE TABLE alert_bidders (
    alert_id uuid NOT NULL,
    bidder   text NOT NULL,
    CONSTRAINT alert_bidders_pkey PRIMARY KEY (alert_id, bidder),
    CONSTRAINT alert_bidders_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
);
CREATE INDEX alert_bidders_bidder_idx ON alert_bidders (bidder);

-- Every review step, in order (the audit chain holds them too).
CREATE TABLE alert_reviews (
    alert_id    uuid NOT NULL,
    seq         bigint NOT NULL,
    at          timestamptz NOT NULL,
    actor       uuid,
    action      text NOT NULL,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    reason      text NOT NULL,
    CONSTRAINT alert_reviews_pkey PRIMARY KEY (alert_id, seq),
    CONSTRAINT alert_reviews_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
);

-- Bids marked for rejection in evaluation by a confirmed collusion alert.
CREATE TABLE bid_rejections (
    tender_id  uuid NOT NULL,
    bidder_org uuid NOT NULL,
    alert_id   uuid NOT NULL,
    ground     text NOT NULL,
    at         timestamptz NOT NULL,
    CONSTRAINT bid_rejections_pkey PRIMARY KEY (tender_id, bidder_org, alert_id),
    CONSTRAINT bid_rejections_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT bid_rejections_bidder_org_fkey FOREIGN KEY (bidder_org) REFERENCES orgs (id),
    CONSTRAINT bid_rejections_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
);

-- The market's credit records: what tenderees see when checking qualifications. A record may bar the
-- bidder from bidding until `barred_until`.
CREATE TABLE credit_records (
    id           uuid NOT NULL,
    org_id       uuid NOT NULL,
    tender_id    uuid,
    alert_id     uuid,
    kind         text NOT NULL,
    recorded_at  timestamptz NOT NULL,
    barred_until timestamptz,
    doc          text NOT NULL,
    CONSTRAINT credit_records_pkey PRIMARY KEY (id),
    CONSTRAINT credit_records_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id),
    CONSTRAINT credit_records_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT credit_records_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
);
CREATE INDEX credit_records_org_idx ON credit_records (org_id, recorded_at);
