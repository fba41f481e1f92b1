-- Sealbid foundation schema, PostgreSQL. Kept in step with migrations/sqlite/0001_foundation.sql:
-- the same tables, columns and constraint names.
--
-- Types on PostgreSQL: ids uuid, timestamps timestamptz (microseconds), booleans boolean,
-- documents text holding the entity serialised with serde_json (read back with serde; the store
-- never queries inside them, and text keeps both backends byte-for-byte alike).
-- `search` columns hold the lower-cased (Unicode) text that listings match against, so that
-- case-insensitive search behaves the same on both backends.

CREATE TABLE halls (
    division text NOT NULL,
    name     text NOT NULL,
    CONSTRAINT halls_pkey PRIMARY KEY (division)
);

CREATE TABLE orgs (
    id          uuid NOT NULL,
    credit_code text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    hall        text NOT NULL,
    search      text NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT orgs_pkey PRIMARY KEY (id),
    CONSTRAINT orgs_credit_code_key UNIQUE (credit_code)
);
CREATE INDEX orgs_hall_idx ON orgs (hall text_pattern_ops);

CREATE TABLE users (
    id            uuid NOT NULL,
    username      text NOT NULL,
    display_name  text NOT NULL,
    -- role names, comma-separated, e.g. "tenderee,bidder"
    roles         text NOT NULL,
    org_id        uuid,
    hall          text NOT NULL,
    active        boolean NOT NULL,
    -- PHC string (argon2id)
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id),
    CONSTRAINT users_active_check CHECK (active IN (false, true))
);
CREATE INDEX users_org_id_idx ON users (org_id);
CREATE INDEX users_hall_idx ON users (hall text_pattern_ops);

CREATE TABLE sessions (
    -- lower-case hex SHA-256 of the token the client holds
    token_hash text NOT NULL,
    user_id    uuid NOT NULL,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (token_hash),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE tenders (
    id           uuid NOT NULL,
    code         text NOT NULL,
    title        text NOT NULL,
    search       text NOT NULL,
    hall         text NOT NULL,
    org_id       uuid NOT NULL,
    state        text NOT NULL,
    version      bigint NOT NULL,
    bid_deadline timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz,
    -- the whole `Tender`; the columns above are copies for querying
    doc          text NOT NULL,
    CONSTRAINT tenders_pkey PRIMARY KEY (id),
    CONSTRAINT tenders_code_key UNIQUE (code),
    CONSTRAINT tenders_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)
);
CREATE INDEX tenders_hall_idx ON tenders (hall text_pattern_ops);
CREATE INDEX tenders_org_id_idx ON tenders (org_id);
CREATE INDEX tenders_state_deadline_idx ON tenders (state, bid_deadline);
CREATE INDEX tenders_created_idx ON tenders (created_at, id);

CREATE TABLE amendments (
    id        uuid NOT NULL,
    tender_id uuid NOT NULL,
    at        timestamptz NOT NULL,
    doc       text NOT NULL,
    CONSTRAINT amendments_pkey PRIMARY KEY (id),
    CONSTRAINT amendments_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
CREATE INDEX amendments_tender_idx ON amendments (tender_id, at);

CREATE TABLE questions (
    id        uuid NOT NULL,
    tender_id uuid NOT NULL,
    asked_at  timestamptz NOT NULL,
    doc       text NOT NULL,
    CONSTRAINT questions_pkey PRIMARY KEY (id),
    CONSTRAINT questions_tender_id_fkey FOREIGN KEY (tender_id) REFERENCES tenders (id)
);
CREATE INDEX questions_tender_idx ON questions (tender_id, asked_at);

-- The hash-chained audit log. `event_json` is the exact text that was hashed: text, never jsonb
-- (jsonb would reorder keys and change whitespace, breaking every hash).
CREATE TABLE audit_log (
    seq         bigint NOT NULL,
    prev_hash   text NOT NULL,
    hash        text NOT NULL,
    at          timestamptz NOT NULL,
    actor       uuid,
    action      text NOT NULL,
    entity_kind text NOT NULL,
    entity_id   text NOT NULL,
    event_json  text NOT NULL,
    CONSTRAINT audit_log_pkey PRIMARY KEY (seq)
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id, seq);

-- Append-only: the application never edits or removes a record. (Someone with raw access can drop
-- these triggers; the hash chain is what detects that, and `verify_audit` checks it.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
