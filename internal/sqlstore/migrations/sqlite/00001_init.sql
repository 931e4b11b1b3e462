-- +goose Up
CREATE TABLE state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO state (id, version) VALUES (1, 0);

CREATE TABLE workspaces (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    allow_codex_local       BOOLEAN NOT NULL,
    allow_codex_cloud       BOOLEAN NOT NULL,
    allow_access_tokens     BOOLEAN NOT NULL,
    allow_device_code_login BOOLEAN NOT NULL,
    allow_agent_internet    BOOLEAN NOT NULL,
    default_role            TEXT NOT NULL,
    default_policy          TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    email        TEXT NOT NULL,
    name         TEXT NOT NULL,
    active       BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

CREATE TABLE roles (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE user_groups (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE group_members (
    workspace_id TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    email        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, group_name, email),
    FOREIGN KEY (workspace_id, group_name) REFERENCES user_groups (workspace_id, name) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, email) REFERENCES users (workspace_id, email)
);

CREATE TABLE group_roles (
    workspace_id TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    role_name    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, group_name, role_name),
    FOREIGN KEY (workspace_id, group_name) REFERENCES user_groups (workspace_id, name) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, role_name) REFERENCES roles (workspace_id, name)
);

CREATE TABLE policies (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    name            TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE policy_versions (
    workspace_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    requirements TEXT NOT NULL,
    defaults     TEXT NOT NULL,
    comment      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name, version),
    FOREIGN KEY (workspace_id, name) REFERENCES policies (workspace_id, name) ON DELETE CASCADE
);

CREATE TABLE assignment_rules (
    workspace_id TEXT NOT NULL,
    position     INTEGER NOT NULL,
    group_name   TEXT NOT NULL,
    policy_name  TEXT NOT NULL,
    PRIMARY KEY (workspace_id, position),
    FOREIGN KEY (workspace_id, group_name) REFERENCES user_groups (workspace_id, name),
    FOREIGN KEY (workspace_id, policy_name) REFERENCES policies (workspace_id, name)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    email        TEXT NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0,
    FOREIGN KEY (workspace_id, email) REFERENCES users (workspace_id, email)
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    private_enc TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before       TEXT NOT NULL,
    after        TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE access_tokens;
DROP TABLE api_keys;
DROP TABLE assignment_rules;
DROP TABLE policy_versions;
DROP TABLE policies;
DROP TABLE group_roles;
DROP TABLE group_members;
DROP TABLE user_groups;
DROP TABLE roles;
DROP TABLE users;
DROP TABLE workspaces;
DROP TABLE state;
