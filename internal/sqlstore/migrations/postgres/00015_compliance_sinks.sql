-- +goose Up
-- SIEM sinks: each pushes a workspace's sealed compliance records at least
-- once, from a durable cursor per event type ({"TYPE":{"seq":N,"line":L}}).
-- A lease keeps one replica delivering a sink at a time.
CREATE TABLE compliance_sinks (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    url               TEXT NOT NULL,
    event_types       TEXT NOT NULL,
    secret_enc        TEXT NOT NULL,
    ca_cert           TEXT NOT NULL,
    cursor            TEXT NOT NULL,
    paused            BOOLEAN NOT NULL,
    attempts          INTEGER NOT NULL,
    next_attempt      BIGINT NOT NULL,
    last_error        TEXT NOT NULL,
    last_error_at     BIGINT NOT NULL,
    last_delivered_at BIGINT NOT NULL,
    delivered         BIGINT NOT NULL,
    dead_letters      BIGINT NOT NULL,
    lease_owner       TEXT NOT NULL,
    lease_until       BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Batches a receiver refused for good: the cursor moved past them.
CREATE TABLE compliance_dead_letters (
    sink_id    TEXT NOT NULL,
    event_type TEXT NOT NULL,
    file_id    TEXT NOT NULL,
    line       BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    error      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sink_id, file_id, line)
);

-- +goose Down
DROP TABLE compliance_dead_letters;
DROP TABLE compliance_sinks;
