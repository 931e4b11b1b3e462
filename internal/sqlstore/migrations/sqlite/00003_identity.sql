-- +goose Up
ALTER TABLE workspaces ADD COLUMN allow_jit_provisioning BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE users ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile TEXT NOT NULL DEFAULT '';
UPDATE users SET id = 'usr_' || lower(hex(randomblob(10))) WHERE id = '';
CREATE UNIQUE INDEX users_id ON users (workspace_id, id);

ALTER TABLE user_groups ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE user_groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
UPDATE user_groups SET id = 'grp_' || lower(hex(randomblob(10))) WHERE id = '';
CREATE UNIQUE INDEX user_groups_id ON user_groups (workspace_id, id);

CREATE TABLE identity_providers (
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id),
    name              TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    client_secret_enc TEXT NOT NULL,
    allowed_domain    TEXT NOT NULL,
    groups_claim      TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE device_authorizations (
    device_hash  TEXT PRIMARY KEY,
    user_code    TEXT NOT NULL UNIQUE,
    client_id    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    email        TEXT NOT NULL,
    status       TEXT NOT NULL,
    interval_ms  BIGINT NOT NULL,
    user_agent   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_poll_at BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE device_authorizations;
DROP TABLE identity_providers;
DROP INDEX user_groups_id;
ALTER TABLE user_groups DROP COLUMN external_id;
ALTER TABLE user_groups DROP COLUMN id;
DROP INDEX users_id;
ALTER TABLE users DROP COLUMN profile;
ALTER TABLE users DROP COLUMN external_id;
ALTER TABLE users DROP COLUMN id;
ALTER TABLE workspaces DROP COLUMN allow_jit_provisioning;
