-- +goose Up
-- Codex metrics: the latest value of each series per device and day (its
-- counters are cumulative, so the last one of a day is the day's).
CREATE TABLE telemetry_metrics (
    workspace_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    credential   TEXT NOT NULL,
    identity     TEXT NOT NULL,
    device       TEXT NOT NULL,
    name         TEXT NOT NULL,
    attributes   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    count        BIGINT NOT NULL,
    sum          DOUBLE PRECISION NOT NULL,
    time         BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, credential, name, attributes)
);

-- Trace span summaries (never the span bodies), each once.
CREATE TABLE telemetry_spans (
    workspace_id TEXT NOT NULL,
    trace_id     TEXT NOT NULL,
    span_id      TEXT NOT NULL,
    parent_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    start        BIGINT NOT NULL,
    duration_us  BIGINT NOT NULL,
    status       TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    identity     TEXT NOT NULL,
    credential   TEXT NOT NULL,
    device       TEXT NOT NULL,
    PRIMARY KEY (workspace_id, trace_id, span_id)
);

-- +goose Down
DROP TABLE telemetry_spans;
DROP TABLE telemetry_metrics;
