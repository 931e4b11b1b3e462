-- +goose Up
-- A workspace's model gateway: its upstream (the key sealed with the
-- master key), whether delivered policies route Codex through it, and what
-- its records capture.
CREATE TABLE gateways (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id),
    base_url     TEXT NOT NULL,
    key_enc      TEXT NOT NULL,
    route        BOOLEAN NOT NULL,
    capture      TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- One record per model request through the gateway. content is the
-- sealed JSON of what the capture keeps (the new input items, the output
-- text, the tool calls), under the workspace's data key.
CREATE TABLE gateway_requests (
    workspace_id     TEXT NOT NULL,
    id               TEXT NOT NULL,
    time             BIGINT NOT NULL,
    identity         TEXT NOT NULL,
    credential       TEXT NOT NULL,
    device           TEXT NOT NULL,
    installation     TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    turn_id          TEXT NOT NULL,
    surface          TEXT NOT NULL,
    user_agent       TEXT NOT NULL,
    repos            TEXT NOT NULL,
    cwd              TEXT NOT NULL,
    model            TEXT NOT NULL,
    status           INTEGER NOT NULL,
    latency_ms       DOUBLE PRECISION NOT NULL,
    first_byte_ms    DOUBLE PRECISION NOT NULL,
    input_tokens     BIGINT NOT NULL,
    cached_tokens    BIGINT NOT NULL,
    output_tokens    BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    error            TEXT NOT NULL,
    capture          TEXT NOT NULL,
    input_from       INTEGER NOT NULL,
    content          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX gateway_requests_time ON gateway_requests (workspace_id, time);
CREATE INDEX gateway_requests_session ON gateway_requests (workspace_id, session_id, time);

-- How much of each session's history is recorded already: its first items
-- items, whose hash is prefix_hash. A request whose input starts with the
-- same items has only the rest kept.
CREATE TABLE gateway_sessions (
    workspace_id TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    items        INTEGER NOT NULL,
    prefix_hash  TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, session_id)
);

-- +goose Down
DROP TABLE gateway_sessions;
DROP TABLE gateway_requests;
DROP TABLE gateways;
