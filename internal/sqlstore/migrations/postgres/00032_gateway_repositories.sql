-- +goose Up
-- The gateway's requests per day and repository (its origin remote, else
-- its first remote, else its root), kept as records are written, and the
-- people who worked in each (distinct over any window).
CREATE TABLE gateway_repo_usage (
    workspace_id  TEXT NOT NULL,
    day           TEXT NOT NULL,
    repository    TEXT NOT NULL,
    requests      BIGINT NOT NULL,
    input_tokens  BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, repository)
);
CREATE TABLE gateway_repo_people (
    workspace_id TEXT NOT NULL,
    day          TEXT NOT NULL,
    repository   TEXT NOT NULL,
    identity     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, day, repository, identity)
);

-- +goose Down
DROP TABLE gateway_repo_people;
DROP TABLE gateway_repo_usage;
