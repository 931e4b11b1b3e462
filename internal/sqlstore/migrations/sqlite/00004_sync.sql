-- +goose Up
CREATE TABLE sync_machines (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id),
    machine_id     TEXT NOT NULL,
    identity       TEXT NOT NULL,
    credential     TEXT NOT NULL,
    hostname       TEXT NOT NULL,
    os             TEXT NOT NULL,
    arch           TEXT NOT NULL,
    agent_version  TEXT NOT NULL,
    codex_version  TEXT NOT NULL,
    applied_hash   TEXT NOT NULL,
    policy         TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    result         TEXT NOT NULL,
    error          TEXT NOT NULL,
    first_report   BIGINT NOT NULL,
    last_report    BIGINT NOT NULL,
    last_applied   BIGINT NOT NULL,
    reports        BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, machine_id)
);

-- +goose Down
DROP TABLE sync_machines;
