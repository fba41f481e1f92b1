-- The anomaly engine's results and the supervisors' review of its alerts. Kept in step with
-- migrations/postgres/0003_screening.sql (same tables, columns and constraint names).
-- Scores are stored as integers in thousandths (0..1000) so both backends filter and sort them alike;
-- the engine's full alert (evidence, figures, chart) is the JSON `doc`.

-- The latest screening of each tender: its price screens and classifier score (re-running replaces it).
CREATE TABLE tender_screenings (
    tender_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    score_milli INTEGER,
    doc         TEXT NOT NULL,
    CONSTRAINT tender_screenings_pkey PRIMARY KEY (tender_id),
    CONSTRAINT tender_screenings_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;

-- Alerts. `fingerprint` (tender, indicator, bidders) makes re-running a screening a no-op for what
-- is already stored, whatever its review status. `status`: open, under_review, confirmed, dismissed.
CREATE TABLE alerts (
    id          TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    tender_id   TEXT NOT NULL,
    family      TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    score_milli INTEGER NOT NULL,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    raised_at   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    doc         TEXT NOT NULL,
    CONSTRAINT alerts_pkey PRIMARY KEY (id),
    CONSTRAINT alerts_fingerprint_key UNIQUE (fingerprint),
    CONSTRAINT alerts_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
CREATE INDEX alerts_queue_idx ON alerts (status, score_milli, raised_at);
CREATE INDEX alerts_tender_idx ON alerts (tender_id);

-- The bidders an alert names (organisation ids as text), for the queue's bidder filter.
CREATE TABLE alert_bidders (
    alert_id TEXT NOT NULL,
    bidder   TEXT NOT NULL,
    CONSTRAINT alert_bidders_pkey PRIMARY KEY (alert_id, bidder),
    CONSTRAINT alert_bidders_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
) STRICT;
CREATE INDEX alert_bidders_bidder_idx ON alert_bidders (bidder);

-- Every review step, in order (the audit chain holds them too).
CREATE TABLE alert_reviews (
    alert_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    CONSTRAINT alert_reviews_pkey PRIMARY KEY (alert_id, seq),
    CONSTRAINT alert_reviews_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
) STRICT;

-- Bids marked for rejection in evaluation by a confirmed collusion alert.
CREATE TABLE bid_rejections (
    tender_id  TEXT NOT NULL,
    bidder_org TEXT NOT NULL,
    alert_id   TEXT NOT NULL,
    ground     TEXT NOT NULL,
    at         TEXT NOT NULL,
    CONSTRAINT bid_rejections_pkey PRIMARY KEY (tender_id, bidder_org, alert_id),
    CONSTRAINT bid_rejections_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT bid_rejections_bidder_org_fkey FOREIGN KEY (bidder_org) REFERENCES orgs (id),
    CONSTRAINT bid_rejections_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
) STRICT;

-- The market's credit records: what tenderees see when checking qualifications. A record may bar the
-- bidder from bidding until `barred_until`.
CREATE TABLE credit_records (
    id           TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    tender_id    TEXT,
    alert_id     TEXT,
    kind         TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    barred_until TEXT,
    doc          TEXT NOT NULL,
    CONSTRAINT credit_records_pkey PRIMARY KEY (id),
    CONSTRAINT credit_records_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id),
    CONSTRAINT credit_records_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT credit_records_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts (id)
) STRICT;
CREATE INDEX credit_records_org_idx ON credit_records (org_id, recorded_at);
