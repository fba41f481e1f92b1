-- Sealbid foundation schema, SQLite. Kept in step with migrations/postgres/0001_foundation.sql:
-- the same tables, columns and constraint names.
--
-- Types on SQLite (STRICT tables):
--   ids         TEXT, lower-case hyphenated UUID
--   timestamps  TEXT, RFC 3339 UTC with exactly six fractional digits, e.g.
--               2026-03-01T08:00:00.000000Z, so that text order is time order
--   booleans    INTEGER 0 or 1
--   documents   TEXT, the entity serialised with serde_json (read back with serde)
-- `search` columns hold the lower-cased (Unicode) text that listings match against, so that
-- case-insensitive search behaves the same on both backends.

CREATE TABLE halls (
    division TEXT NOT NULL,
    name     TEXT NOT NULL,
    CONSTRAINT halls_pkey PRIMARY KEY (division)
) STRICT;

CREATE TABLE orgs (
    id          TEXT NOT NULL,
    credit_code TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    hall        TEXT NOT NULL,
    search      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    CONSTRAINT orgs_pkey PRIMARY KEY (id),
    CONSTRAINT orgs_credit_code_key UNIQUE (credit_code)
) STRICT;
CREATE INDEX orgs_hall_idx ON orgs (hall);

CREATE TABLE users (
    id            TEXT NOT NULL,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    -- role names, comma-separated, e.g. "tenderee,bidder"
    roles         TEXT NOT NULL,
    org_id        TEXT,
    hall          TEXT NOT NULL,
    active        INTEGER NOT NULL,
    -- PHC string (argon2id)
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id),
    CONSTRAINT users_active_check CHECK (active IN (0, 1))
) STRICT;
CREATE INDEX users_org_id_idx ON users (org_id);
CREATE INDEX users_hall_idx ON users (hall);

CREATE TABLE sessions (
    -- lower-case hex SHA-256 of the token the client holds
    token_hash TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (token_hash),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE tenders (
    id           TEXT NOT NULL,
    code         TEXT NOT NULL,
    title        TEXT NOT NULL,
    search       TEXT NOT NULL,
    hall         TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    state        TEXT NOT NULL,
    version      INTEGER NOT NULL,
    bid_deadline TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT,
    -- the whole `Tender`; the columns above are copies for querying
    doc          TEXT NOT NULL,
    CONSTRAINT tenders_pkey PRIMARY KEY (id),
    CONSTRAINT tenders_code_key UNIQUE (code),
    CONSTRAINT tenders_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)
) STRICT;
CREATE INDEX tenders_hall_idx ON tenders (hall);
CREATE INDEX tenders_org_id_idx ON tenders (org_id);
CREATE INDEX tenders_state_deadline_idx ON tenders (state, bid_deadline);
CREATE INDEX tenders_created_idx ON tenders (created_at, id);

CREATE TABLE amendments (
    id        TEXT NOT NULL,
    tender_id TEXT NOT NULL,
    at        TEXT NOT NULL,
    doc       TEXT NOT NULL,
    CONSTRAINT amendments_pkey PRIMARY KEY (id),
    CONSTRAINT amendments_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
CREATE INDEX amendments_tender_idx ON amendments (tender_id, at);

CREATE TABLE questions (
    id        TEXT NOT NULL,
    tender_id TEXT NOT NULL,
    asked_at  TEXT NOT NULL,
    doc       TEXT NOT NULL,
    CONSTRAINT questions_pkey PRIMARY KEY (id),
    CONSTRAINT questions_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
) STRICT;
CREATE INDEX questions_tender_idx ON questions (tender_id, asked_at);

-- The hash-chained audit log. `event_json` is the exact text that was hashed: never re-encode it.
CREATE TABLE audit_log (
    seq         INTEGER NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    event_json  TEXT NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (seq)
) STRICT;
CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id, seq);

-- Append-only: the application never edits or removes a record. (Someone with raw access can drop
-- these triggers; the hash chain is what detects that, and `verify_audit` checks it.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
