package sqlstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/codexgov/codexgov"
)

// PutGateway creates or replaces a workspace's gateway, audited; an empty
// KeyEnc keeps the stored key (a new gateway needs one).
func (s *DB) PutGateway(ctx context.Context, g codexgov.Gateway) (*codexgov.Gateway, error) {
	if g.Capture == "" {
		g.Capture = codexgov.GatewayCaptureMetadata
	}
	if err := g.Check(); err != nil {
		return nil, err
	}
	var after *codexgov.Gateway
	err := s.change(ctx, g.Workspace, "gateway.put", "gateway", func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, g.Workspace); err != nil {
			return nil, nil, err
		}
		before, err := gateway(ctx, tx, g.Workspace)
		if err != nil && codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
			return nil, nil, err
		}
		a := g
		a.UpdatedAt = fromMicros(s.now())
		if len(a.KeyEnc) == 0 && before != nil {
			a.KeyEnc = before.KeyEnc
		}
		if len(a.KeyEnc) == 0 {
			return nil, nil, invalid("/api_key", "the upstream's API key is required for a new gateway")
		}
		a.KeySet = true
		models, _ := json.Marshal(a.Models)
		if a.Models == nil {
			models = []byte("{}")
		}
		if before != nil && before.BaseURL == a.BaseURL && string(before.KeyEnc) == string(a.KeyEnc) && before.Route == a.Route && before.Capture == a.Capture && modelsEqual(before.Models, a.Models) {
			after = before
			return nil, nil, errUnchanged
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gateways WHERE workspace_id = $1`, g.Workspace); err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateways (workspace_id, base_url, key_enc, route, capture, updated_at, allowed_models) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			a.Workspace, a.BaseURL, base64.StdEncoding.EncodeToString(a.KeyEnc), a.Route, a.Capture, a.UpdatedAt.UnixMicro(), string(models)); err != nil {
			return nil, nil, err
		}
		after = &a
		if before == nil {
			return nil, after, nil
		}
		return before, after, nil
	})
	if errors.Is(err, errUnchanged) {
		return after, codexgov.ErrNoChange
	}
	if err != nil {
		return nil, err
	}
	return after, nil
}

func gateway(ctx context.Context, q queryer, ws string) (*codexgov.Gateway, error) {
	var g codexgov.Gateway
	var enc, models string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT workspace_id, base_url, key_enc, route, capture, updated_at, allowed_models FROM gateways WHERE workspace_id = $1`, ws).
		Scan(&g.Workspace, &g.BaseURL, &enc, &g.Route, &g.Capture, &updated, &models)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("workspace %q has no model gateway", ws)
	}
	if err != nil {
		return nil, err
	}
	if g.KeyEnc, err = base64.StdEncoding.DecodeString(enc); err != nil {
		return nil, err
	}
	g.KeySet, g.UpdatedAt = len(g.KeyEnc) > 0, fromMicros(updated)
	if err := json.Unmarshal([]byte(models), &g.Models); err != nil {
		return nil, err
	}
	if len(g.Models) == 0 {
		g.Models = nil
	}
	return &g, nil
}

func modelsEqual(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// Gateway returns a workspace's gateway, its key still sealed.
func (s *DB) Gateway(ctx context.Context, ws string) (*codexgov.Gateway, error) {
	return inWorkspace(ctx, s, "gateway", ws, func(q queryer) (*codexgov.Gateway, error) { return gateway(ctx, q, ws) })
}

// DeleteGateway removes a workspace's gateway: its requests are refused
// from then on (records stay, under retention).
func (s *DB) DeleteGateway(ctx context.Context, ws string) error {
	return s.change(ctx, ws, "gateway.delete", "gateway", func(tx *sql.Tx) (any, any, error) {
		before, err := gateway(ctx, tx, ws)
		if err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM gateways WHERE workspace_id = $1`, ws)
		return before, nil, err
	})
}

// gatewayContent is what a record's sealed content holds.
type gatewayContent struct {
	Input     []json.RawMessage          `json:"input,omitempty"`
	Output    string                     `json:"output,omitempty"`
	ToolCalls []codexgov.GatewayToolCall `json:"tool_calls,omitempty"`
}

// prefixHash is the hash of a history's items, each length-prefixed.
func prefixHash(items []json.RawMessage) string {
	h := sha256.New()
	var n [8]byte
	for _, it := range items {
		l := len(it)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(it)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func gatewayAAD(ws, id string) string { return "gateway request:" + ws + "/" + id }

// RecordGatewayRequest stores a record with the input items that its
// session's previous record did not have, in one transaction with the
// session's new state (the gateway writes records, not admins: not
// audited).
func (s *DB) RecordGatewayRequest(ctx context.Context, rec *codexgov.GatewayRecord, input []json.RawMessage) error {
	if rec.ID == "" {
		rec.ID = codexgov.NewID("gwr")
	}
	if rec.Time.IsZero() {
		rec.Time = fromMicros(s.now())
	}
	key, err := s.dataKeyFor(ctx, rec.Workspace)
	if err != nil {
		return dbError("gateway record", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("gateway record", err)
	}
	defer tx.Rollback()
	rec.InputFrom, rec.Input, rec.NewTurn = 0, nil, false
	if rec.Session != "" {
		var items int
		var hash, lastTurn string
		err := tx.QueryRowContext(ctx, `SELECT items, prefix_hash, last_turn FROM gateway_sessions WHERE workspace_id = $1 AND session_id = $2`, rec.Workspace, rec.Session).Scan(&items, &hash, &lastTurn)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return dbError("gateway record", err)
		case input != nil && items <= len(input) && prefixHash(input[:items]) == hash:
			rec.InputFrom = items
		}
		rec.NewTurn = rec.Turn != "" && rec.Turn != lastTurn
		if input != nil {
			items, hash = len(input), prefixHash(input)
		}
		if rec.Turn != "" {
			lastTurn = rec.Turn
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_sessions (workspace_id, session_id, items, prefix_hash, updated_at, last_turn) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (workspace_id, session_id) DO UPDATE SET items = excluded.items, prefix_hash = excluded.prefix_hash, updated_at = excluded.updated_at, last_turn = excluded.last_turn`,
			rec.Workspace, rec.Session, items, hash, micros(rec.Time), lastTurn); err != nil {
			return dbError("gateway record", err)
		}
	}
	if input != nil {
		rec.Input = input[rec.InputFrom:]
	}
	if repo := codexgov.RepositoryOf(rec.Repos); repo != "" {
		day := rec.Time.UTC().Format(time.DateOnly)
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_repo_usage (workspace_id, day, repository, requests, input_tokens, cached_tokens, output_tokens) VALUES ($1, $2, $3, 1, $4, $5, $6)
			ON CONFLICT (workspace_id, day, repository) DO UPDATE SET requests = gateway_repo_usage.requests + 1, input_tokens = gateway_repo_usage.input_tokens + excluded.input_tokens,
			cached_tokens = gateway_repo_usage.cached_tokens + excluded.cached_tokens, output_tokens = gateway_repo_usage.output_tokens + excluded.output_tokens`,
			rec.Workspace, day, repo, rec.InputTokens, rec.CachedTokens, rec.OutputTokens); err != nil {
			return dbError("gateway record", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_repo_people (workspace_id, day, repository, identity) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			rec.Workspace, day, repo, rec.Identity); err != nil {
			return dbError("gateway record", err)
		}
	}
	content, _ := json.Marshal(gatewayContent{Input: rec.Input, Output: rec.Output, ToolCalls: rec.ToolCalls})
	repos, _ := json.Marshal(rec.Repos)
	if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_requests (workspace_id, id, time, identity, credential, device, installation, session_id, turn_id, surface, user_agent, repos, cwd, model, status,
		latency_ms, first_byte_ms, input_tokens, cached_tokens, output_tokens, reasoning_tokens, error, capture, input_from, content)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`,
		rec.Workspace, rec.ID, micros(rec.Time), rec.Identity, rec.Credential, rec.Device, rec.Installation, rec.Session, rec.Turn, rec.Surface, rec.UserAgent, string(repos), rec.Cwd,
		rec.Model, rec.Status, rec.LatencyMS, rec.FirstByteMS, rec.InputTokens, rec.CachedTokens, rec.OutputTokens, rec.ReasoningTokens, rec.Error, rec.Capture, rec.InputFrom,
		sealText(key, string(content), gatewayAAD(rec.Workspace, rec.ID))); err != nil {
		return dbError("gateway record", err)
	}
	return commitError("gateway record", tx.Commit())
}

// GatewayRecords lists a workspace's records, newest first.
func (s *DB) GatewayRecords(ctx context.Context, ws string, f codexgov.GatewayFilter) ([]*codexgov.GatewayRecord, error) {
	query := `SELECT id, time, identity, credential, device, installation, session_id, turn_id, surface, user_agent, repos, cwd, model, status, latency_ms, first_byte_ms,
		input_tokens, cached_tokens, output_tokens, reasoning_tokens, error, capture, input_from, content FROM gateway_requests WHERE workspace_id = $1`
	args := []any{ws}
	if f.Session != "" {
		args = append(args, f.Session)
		query += ` AND session_id = $2`
	} else if f.Identity != "" {
		args = append(args, f.Identity)
		query += ` AND identity = $2`
	}
	if _, err := workspace(ctx, s.db, ws); err != nil {
		return nil, dbError("gateway records", err)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY time DESC, id DESC LIMIT `+telemetryLimit(f.Limit), args...)
	if err != nil {
		return nil, dbError("gateway records", err)
	}
	var recs []*codexgov.GatewayRecord
	var sealed []string
	for rows.Next() {
		r := codexgov.GatewayRecord{Workspace: ws}
		var at int64
		var repos, content string
		if err := rows.Scan(&r.ID, &at, &r.Identity, &r.Credential, &r.Device, &r.Installation, &r.Session, &r.Turn, &r.Surface, &r.UserAgent, &repos, &r.Cwd, &r.Model, &r.Status,
			&r.LatencyMS, &r.FirstByteMS, &r.InputTokens, &r.CachedTokens, &r.OutputTokens, &r.ReasoningTokens, &r.Error, &r.Capture, &r.InputFrom, &content); err != nil {
			rows.Close()
			return nil, dbError("gateway records", err)
		}
		r.Time = fromMicros(at)
		json.Unmarshal([]byte(repos), &r.Repos)
		recs, sealed = append(recs, &r), append(sealed, content)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("gateway records", err)
	}
	// Decrypted after the rows are closed: a data key may need a query.
	for i, r := range recs {
		plain, err := s.openText(ctx, sealed[i], gatewayAAD(ws, r.ID))
		if err != nil {
			return nil, codexgov.Errorf(codexgov.EINTERNAL, "gateway record %s: %v", r.ID, err)
		}
		var c gatewayContent
		if err := json.Unmarshal([]byte(plain), &c); err != nil {
			return nil, codexgov.Errorf(codexgov.EINTERNAL, "gateway record %s: %v", r.ID, err)
		}
		r.Input, r.Output, r.ToolCalls = c.Input, c.Output, c.ToolCalls
	}
	return recs, nil
}

// MintGatewayToken audits a gateway token's minting for an active user.
func (s *DB) MintGatewayToken(ctx context.Context, ws string, m codexgov.TelemetryTokenMint) error {
	email, err := codexgov.NormalizeEmail("/user", m.User)
	if err != nil {
		return err
	}
	return s.audited(ctx, ws, "gateway_token.mint", "user:"+email, false, func(tx *sql.Tx) (any, any, error) {
		if _, err := gateway(ctx, tx, ws); err != nil {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "workspace %q has no model gateway: set one up first (PUT …/gateway)", ws)
		}
		u, err := user(ctx, tx, ws, email)
		if err != nil {
			return nil, nil, err
		}
		if !u.Active {
			return nil, nil, codexgov.Errorf(codexgov.ECONFLICT, "user %q is deactivated: a gateway token for them would not be accepted", email)
		}
		return nil, map[string]string{"user": email, "device": m.Device}, nil
	})
}

// GatewayRepositories sums the per-day repository rows of [from, to).
func (s *DB) GatewayRepositories(ctx context.Context, ws, from, to string) ([]codexgov.RepositoryUsage, error) {
	return inWorkspace(ctx, s, "gateway repositories", ws, func(q queryer) ([]codexgov.RepositoryUsage, error) {
		rows, err := q.QueryContext(ctx, `SELECT u.repository, CAST(SUM(u.requests) AS BIGINT), CAST(SUM(u.input_tokens) AS BIGINT), CAST(SUM(u.cached_tokens) AS BIGINT), CAST(SUM(u.output_tokens) AS BIGINT),
			(SELECT COUNT(DISTINCT p.identity) FROM gateway_repo_people p WHERE p.workspace_id = $1 AND p.repository = u.repository AND p.day >= $2 AND p.day < $3)
			FROM gateway_repo_usage u WHERE u.workspace_id = $1 AND u.day >= $2 AND u.day < $3 GROUP BY u.repository`, ws, from, to)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []codexgov.RepositoryUsage{}
		for rows.Next() {
			var r codexgov.RepositoryUsage
			if err := rows.Scan(&r.Repository, &r.Requests, &r.InputTokens, &r.CachedTokens, &r.OutputTokens, &r.People); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		slices.SortFunc(out, func(a, b codexgov.RepositoryUsage) int {
			return cmp.Or(cmp.Compare(b.InputTokens+b.OutputTokens, a.InputTokens+a.OutputTokens), cmp.Compare(a.Repository, b.Repository))
		})
		return out, rows.Err()
	})
}
