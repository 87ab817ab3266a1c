-- API keys and users: the same records as the SQLite store's schema version 3. Sets and grants
-- are JSON text (as in SQLite), times are seconds since the epoch. `seq` orders keys created in
-- the same second as they were inserted (SQLite's rowid).
-- Never edit a published migration: add the next one.
CREATE TABLE api_keys (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT,
    role         TEXT NOT NULL,
    digest       BYTEA NOT NULL UNIQUE,
    key_prefix   TEXT NOT NULL,
    workspaces   TEXT,
    created_by   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    surfaces     TEXT,
    attribution  TEXT,
    scopes       TEXT,
    expires_at   BIGINT,
    rotated_at   BIGINT
);

CREATE TABLE users (
    name          TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL,
    workspaces    TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    created_at    BIGINT NOT NULL
);
