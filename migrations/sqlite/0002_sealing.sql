-- Sealed bids, the transparency log, deposits and the opening. Kept in step with
-- migrations/postgres/0002_sealing.sql (same tables, columns and constraint names).
-- Nothing here ever holds a plaintext bid or a deposit payer's details: envelopes are age files in
-- the blob store; rows hold their hashes, sizes and blob keys.

-- One row per tender that has a sealing committee: the committee seats, the signed sealing policy
-- once the tender is published, the closing checkpoint and the opening record (a JSON document).
CREATE TABLE tender_sealing (
    tender_id TEXT NOT NULL,
    version   INTEGER NOT NULL,
    doc       TEXT NOT NULL,
    CONSTRAINT tender_sealing_pkey PRIMARY KEY (tender_id),
    CONSTRAINT tender_sealing_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;

-- The append-only Merkle log (RFC 6962). `entry` is the exact leaf data (UTF-8 JSON); never re-encode.
CREATE TABLE log_entries (
    idx       INTEGER NOT NULL,
    tender_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    entry     TEXT NOT NULL,
    CONSTRAINT log_entries_pkey PRIMARY KEY (idx)
) STRICT;
CREATE INDEX log_entries_tender_idx ON log_entries (tender_id, idx);

-- Every complete subtree hash: (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  TEXT NOT NULL,
    CONSTRAINT log_nodes_pkey PRIMARY KEY (level, idx)
) STRICT;

CREATE TRIGGER log_entries_no_update BEFORE UPDATE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log entries are append-only');
END;
CREATE TRIGGER log_entries_no_delete BEFORE DELETE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log entries are append-only');
END;
CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes
BEGIN
    SELECT RAISE(ABORT, 'log nodes are append-only');
END;
CREATE TRIGGER log_nodes_no_delete BEFORE DELETE ON log_nodes
BEGIN
    SELECT RAISE(ABORT, 'log nodes are append-only');
END;

-- Sealed bids. `status`: active, replaced, withdrawn. Envelopes are listed in `doc` (kind, sha256,
-- size, blob key); the signed manifest is kept there exactly as the bidder sent it.
CREATE TABLE bids (
    id              TEXT NOT NULL,
    tender_id       TEXT NOT NULL,
    bidder_org      TEXT NOT NULL,
    status          TEXT NOT NULL,
    manifest_digest TEXT NOT NULL,
    log_index       INTEGER NOT NULL,
    submitted_at    TEXT NOT NULL,
    doc             TEXT NOT NULL,
    CONSTRAINT bids_pkey PRIMARY KEY (id),
    CONSTRAINT bids_manifest_digest_key UNIQUE (manifest_digest),
    CONSTRAINT bids_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT bids_bidder_org_fkey FOREIGN KEY (bidder_org) REFERENCES orgs (id)
) STRICT;
CREATE INDEX bids_tender_idx ON bids (tender_id, status, log_index);
CREATE INDEX bids_bidder_idx ON bids (tender_id, bidder_org, log_index);

-- A bid's random deposit reference (virtual sub-account), one per tender and bidder.
CREATE TABLE deposit_refs (
    reference  TEXT NOT NULL,
    tender_id  TEXT NOT NULL,
    bidder_org TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT deposit_refs_pkey PRIMARY KEY (reference),
    CONSTRAINT deposit_refs_tender_bidder_key UNIQUE (tender_id, bidder_org),
    CONSTRAINT deposit_refs_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id),
    CONSTRAINT deposit_refs_bidder_org_fkey FOREIGN KEY (bidder_org) REFERENCES orgs (id)
) STRICT;

-- "Reference R paid amount A": the payer's details are only in the sealed envelope named in `doc`.
CREATE TABLE deposit_payments (
    bank_txn_id TEXT NOT NULL,
    reference   TEXT NOT NULL,
    tender_id   TEXT NOT NULL,
    amount      TEXT NOT NULL,
    received_at TEXT NOT NULL,
    doc         TEXT NOT NULL,
    CONSTRAINT deposit_payments_pkey PRIMARY KEY (bank_txn_id),
    CONSTRAINT deposit_payments_reference_fkey FOREIGN KEY (reference) REFERENCES deposit_refs (reference)
) STRICT;
CREATE INDEX deposit_payments_tender_idx ON deposit_payments (tender_id, received_at);

-- The opening ceremony: each member's commitment, then its reveal.
CREATE TABLE opening_actions (
    tender_id    TEXT NOT NULL,
    member_index INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    at           TEXT NOT NULL,
    doc          TEXT NOT NULL,
    CONSTRAINT opening_actions_pkey PRIMARY KEY (tender_id, member_index, kind),
    CONSTRAINT opening_actions_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
