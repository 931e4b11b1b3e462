-- +goose Up
-- The Analytics API's settings: how far back a query may start (0: 90
-- days), and the price table behind estimated_cost_usd (a JSON object:
-- model -> {"input","cached_input","output"} US dollars per million tokens).
ALTER TABLE workspaces ADD COLUMN analytics_lookback_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN model_prices TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE workspaces DROP COLUMN model_prices;
ALTER TABLE workspaces DROP COLUMN analytics_lookback_days;
