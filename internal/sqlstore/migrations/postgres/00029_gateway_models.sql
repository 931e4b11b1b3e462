-- +goose Up
-- The models each group may use through the gateway (JSON: group -> names;
-- '{}' restricts nobody).
ALTER TABLE gateways ADD COLUMN allowed_models TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE gateways DROP COLUMN allowed_models;
