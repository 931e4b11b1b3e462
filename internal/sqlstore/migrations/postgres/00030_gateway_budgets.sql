-- +goose Up
-- Budgets on what a person or a group spends through the gateway, and
-- each budget's use per period: used (settled) and reserved (requests in
-- flight). A reservation is one conditional UPDATE (used + reserved +
-- estimate <= limit), atomic on both databases.
CREATE TABLE gateway_budgets (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    id           TEXT NOT NULL,
    scope        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    unit         TEXT NOT NULL,
    period       TEXT NOT NULL,
    amount       DOUBLE PRECISION NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, scope, subject, unit, period)
);
CREATE TABLE gateway_budget_use (
    workspace_id TEXT NOT NULL,
    budget_id    TEXT NOT NULL,
    period_start TEXT NOT NULL,
    used         DOUBLE PRECISION NOT NULL,
    reserved     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (workspace_id, budget_id, period_start)
);

-- +goose Down
DROP TABLE gateway_budget_use;
DROP TABLE gateway_budgets;
