-- +goose Up
-- Analytics API rollups, kept as telemetry is committed (in the same
-- transaction): per workspace, period ('day' or 'week'), bucket (the UTC
-- date the period starts; weeks start on Monday), identity ('*' for the
-- workspace), client and model ('*' for all). No API request reads the raw
-- events.
CREATE TABLE analytics_usage (
    workspace_id     TEXT NOT NULL,
    period           TEXT NOT NULL,
    bucket           TEXT NOT NULL,
    identity         TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    model            TEXT NOT NULL,
    threads          BIGINT NOT NULL,
    turns            BIGINT NOT NULL,
    input_tokens     BIGINT NOT NULL,
    cached_tokens    BIGINT NOT NULL,
    output_tokens    BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, period, bucket, identity, client_id, model)
);

-- A thread (Codex session) counts once per rollup row: the sessions each
-- row has counted.
CREATE TABLE analytics_threads (
    workspace_id TEXT NOT NULL,
    period       TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    identity     TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    model        TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, period, bucket, identity, client_id, model, session_id)
);

-- +goose Down
DROP TABLE analytics_threads;
DROP TABLE analytics_usage;
