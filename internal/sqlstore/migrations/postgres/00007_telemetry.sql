-- +goose Up
-- Codex telemetry events (OTLP logs), append-only: one row per event,
-- stamped from the credential that sent it; a replayed event (same
-- event_id) is not stored twice.
CREATE TABLE telemetry_events (
    workspace_id   TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    time           BIGINT NOT NULL,
    received_at    BIGINT NOT NULL,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    surface        TEXT NOT NULL,
    model          TEXT NOT NULL,
    identity       TEXT NOT NULL,
    credential     TEXT NOT NULL,
    device         TEXT NOT NULL,
    host           TEXT NOT NULL,
    claim_email    TEXT NOT NULL,
    claim_mismatch BOOLEAN NOT NULL,
    data           TEXT NOT NULL,
    attributes     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, event_id)
);
CREATE INDEX telemetry_events_time ON telemetry_events (workspace_id, time);

-- +goose Down
DROP TABLE telemetry_events;
