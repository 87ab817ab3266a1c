-- The audit trail (PostgresAuditSink): one row per event, the whole event as JSON plus the
-- columns one searches by. Never a secret: events carry none.
CREATE TABLE audit_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    action         TEXT NOT NULL,
    reason         TEXT,
    subject        TEXT,
    credential_id  TEXT,
    correlation_id TEXT,
    event          JSONB NOT NULL
);

CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_correlation_id ON audit_events (correlation_id);
