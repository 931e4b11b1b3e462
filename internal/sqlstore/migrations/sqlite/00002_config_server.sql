-- +goose Up
ALTER TABLE workspaces ADD COLUMN baseline_policy TEXT NOT NULL DEFAULT '';

CREATE TABLE enrollment_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,
    service      TEXT NOT NULL,
    groups_list  TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oauth_codes (
    hash         TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    email        TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    challenge    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    resource     TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE oauth_grants (
    id                    TEXT PRIMARY KEY,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id),
    email                 TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    scope                 TEXT NOT NULL,
    resource              TEXT NOT NULL,
    user_agent            TEXT NOT NULL,
    code_hash             TEXT NOT NULL,
    refresh_hash          TEXT NOT NULL UNIQUE,
    previous_refresh_hash TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    last_used_at          BIGINT NOT NULL,
    rotated_at            BIGINT NOT NULL DEFAULT 0,
    revoked_at            BIGINT NOT NULL DEFAULT 0,
    revoke_reason         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oauth_grants_code ON oauth_grants (code_hash);

-- Every refresh token a grant was ever issued, so that any rotated-out
-- token presented again is recognised as reuse.
CREATE TABLE oauth_refresh_tokens (
    hash      TEXT PRIMARY KEY,
    grant_id  TEXT NOT NULL REFERENCES oauth_grants (id),
    issued_at BIGINT NOT NULL
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE deliveries (
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id),
    device         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    identity       TEXT NOT NULL,
    policy         TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    bundle_hash    TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    first_fetch    BIGINT NOT NULL,
    last_fetch     BIGINT NOT NULL,
    fetches        BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, device)
);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_grants;
DROP TABLE oauth_codes;
DROP TABLE enrollment_tokens;
ALTER TABLE workspaces DROP COLUMN baseline_policy;
