-- Rotation with a grace period (the SQLite store's schema version 4): the previous secret's
-- digest, accepted until `previous_expires_at` (seconds since the epoch). NULL: no previous
-- secret is kept.
-- Never edit a published migration: add the next one.
ALTER TABLE api_keys ADD COLUMN previous_digest BYTEA;
ALTER TABLE api_keys ADD COLUMN previous_expires_at BIGINT;

CREATE INDEX api_keys_previous_digest ON api_keys (previous_digest);
