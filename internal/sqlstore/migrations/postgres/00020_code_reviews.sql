-- +goose Up
-- Code-review analytics from GitHub webhooks: each workspace's integration
-- (the reviewer accounts; the webhook secret, sealed), the reviews,
-- comments and replies delivered (each GitHub object once), and their
-- rollups per period and bucket, kept as each is stored.
CREATE TABLE github_integrations (
    workspace_id TEXT PRIMARY KEY,
    reviewers    TEXT NOT NULL,
    secret_enc   TEXT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE TABLE code_review_events (
    workspace_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    priority     TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE code_review_rollups (
    workspace_id TEXT NOT NULL,
    period       TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    reviews      BIGINT NOT NULL,
    comments     BIGINT NOT NULL,
    p0           BIGINT NOT NULL,
    p1           BIGINT NOT NULL,
    p2           BIGINT NOT NULL,
    replies      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, period, bucket)
);

-- +goose Down
DROP TABLE code_review_rollups;
DROP TABLE code_review_events;
DROP TABLE github_integrations;
