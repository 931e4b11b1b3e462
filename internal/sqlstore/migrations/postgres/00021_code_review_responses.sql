-- +goose Up
-- Reactions and replies to reviewer comments (code_review_responses): one
-- row per reviewer comment with its buckets, its replies (counted as the
-- webhook delivers them) and its reactions (as last polled from GitHub's
-- REST API with the integration's token, sealed).
ALTER TABLE github_integrations ADD COLUMN api_url TEXT NOT NULL DEFAULT 'https://api.github.com';
ALTER TABLE github_integrations ADD COLUMN token_enc TEXT NOT NULL DEFAULT '';
CREATE TABLE code_review_comments (
    workspace_id  TEXT NOT NULL,
    id            TEXT NOT NULL,
    repo          TEXT NOT NULL,
    issue_comment BOOLEAN NOT NULL,
    day           TEXT NOT NULL,
    week          TEXT NOT NULL,
    at            BIGINT NOT NULL,
    replies       BIGINT NOT NULL,
    up            BIGINT NOT NULL,
    down          BIGINT NOT NULL,
    other         BIGINT NOT NULL,
    polled_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX code_review_comments_day ON code_review_comments (workspace_id, day);
CREATE INDEX code_review_comments_week ON code_review_comments (workspace_id, week);

-- +goose Down
DROP TABLE code_review_comments;
ALTER TABLE github_integrations DROP COLUMN token_enc;
ALTER TABLE github_integrations DROP COLUMN api_url;
