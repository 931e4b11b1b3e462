package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

const budgetColumns = `id, workspace_id, scope, subject, unit, period, amount, created_at`

func scanBudget(row interface{ Scan(...any) error }) (*codexgov.GatewayBudget, error) {
	var b codexgov.GatewayBudget
	var created int64
	if err := row.Scan(&b.ID, &b.Workspace, &b.Scope, &b.Subject, &b.Unit, &b.Period, &b.Limit, &created); err != nil {
		return nil, err
	}
	b.CreatedAt = fromMicros(created)
	return &b, nil
}

// PutGatewayBudget creates a budget or replaces the limit of the one with
// the same scope, subject, unit and period, audited.
func (s *DB) PutGatewayBudget(ctx context.Context, b codexgov.GatewayBudget) (*codexgov.GatewayBudget, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	if b.Scope == "user" {
		b.Subject, _ = codexgov.NormalizeEmail("/subject", b.Subject)
	}
	var after *codexgov.GatewayBudget
	err := s.change(ctx, b.Workspace, "gateway_budget.put", "gateway_budget:"+b.Scope+":"+b.Subject, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, b.Workspace); err != nil {
			return nil, nil, err
		}
		before, err := scanBudget(tx.QueryRowContext(ctx, `SELECT `+budgetColumns+` FROM gateway_budgets WHERE workspace_id = $1 AND scope = $2 AND subject = $3 AND unit = $4 AND period = $5`,
			b.Workspace, b.Scope, b.Subject, b.Unit, b.Period))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			a := b
			a.ID, a.CreatedAt = codexgov.NewID("bud"), fromMicros(s.now())
			if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_budgets (`+budgetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				a.ID, a.Workspace, a.Scope, a.Subject, a.Unit, a.Period, a.Limit, micros(a.CreatedAt)); err != nil {
				return nil, nil, err
			}
			after = &a
			return nil, after, nil
		case err != nil:
			return nil, nil, err
		}
		if before.Limit == b.Limit {
			after = before
			return nil, nil, errUnchanged
		}
		a := *before
		a.Limit = b.Limit
		if _, err := tx.ExecContext(ctx, `UPDATE gateway_budgets SET amount = $1 WHERE workspace_id = $2 AND id = $3`, a.Limit, a.Workspace, a.ID); err != nil {
			return nil, nil, err
		}
		after = &a
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

// DeleteGatewayBudget removes a budget and its use.
func (s *DB) DeleteGatewayBudget(ctx context.Context, ws, id string) error {
	return s.change(ctx, ws, "gateway_budget.delete", "gateway_budget:"+id, func(tx *sql.Tx) (any, any, error) {
		before, err := scanBudget(tx.QueryRowContext(ctx, `SELECT `+budgetColumns+` FROM gateway_budgets WHERE workspace_id = $1 AND id = $2`, ws, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, notFound("budget %q not found", id)
		}
		if err != nil {
			return nil, nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gateway_budget_use WHERE workspace_id = $1 AND budget_id = $2`, ws, id); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM gateway_budgets WHERE workspace_id = $1 AND id = $2`, ws, id)
		return before, nil, err
	})
}

// GatewayBudgets lists the budgets with their current period's use.
func (s *DB) GatewayBudgets(ctx context.Context, ws string, now time.Time) ([]*codexgov.GatewayBudgetUse, error) {
	return inWorkspace(ctx, s, "gateway budgets", ws, func(q queryer) ([]*codexgov.GatewayBudgetUse, error) {
		rows, err := q.QueryContext(ctx, `SELECT `+budgetColumns+` FROM gateway_budgets WHERE workspace_id = $1 ORDER BY scope, subject, unit, period`, ws)
		if err != nil {
			return nil, err
		}
		var out []*codexgov.GatewayBudgetUse
		for rows.Next() {
			b, err := scanBudget(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, &codexgov.GatewayBudgetUse{GatewayBudget: *b, PeriodStart: b.PeriodStart(now)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, u := range out {
			err := q.QueryRowContext(ctx, `SELECT used, reserved FROM gateway_budget_use WHERE workspace_id = $1 AND budget_id = $2 AND period_start = $3`, ws, u.ID, u.PeriodStart).Scan(&u.Used, &u.Reserved)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
		}
		return out, nil
	})
}

// ReserveGatewayBudgets reserves the estimate on every budget of the
// person and their groups, in one transaction: each is one conditional
// UPDATE (used + reserved + amount <= limit), so concurrent requests
// never reserve past a limit on either database.
func (s *DB) ReserveGatewayBudgets(ctx context.Context, ws, email string, groups []string, now time.Time, estimate map[string]float64) (*codexgov.BudgetHold, error) {
	hold := &codexgov.BudgetHold{Workspace: ws}
	q := `SELECT ` + budgetColumns + ` FROM gateway_budgets WHERE workspace_id = $1 AND ((scope = 'user' AND subject = $2)`
	args := []any{ws, strings.ToLower(email)}
	if len(groups) > 0 {
		var ph []string
		for _, g := range groups {
			args = append(args, g)
			ph = append(ph, "$"+strconv.Itoa(len(args)))
		}
		q += ` OR (scope = 'group' AND subject IN (` + strings.Join(ph, ", ") + `))`
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("budget", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q+`) ORDER BY id`, args...)
	if err != nil {
		return nil, dbError("budget", err)
	}
	var budgets []*codexgov.GatewayBudget
	for rows.Next() {
		b, err := scanBudget(rows)
		if err != nil {
			rows.Close()
			return nil, dbError("budget", err)
		}
		budgets = append(budgets, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError("budget", err)
	}
	if len(budgets) == 0 {
		return hold, nil
	}
	for _, b := range budgets {
		amount, ok := estimate[b.Unit]
		if !ok {
			return nil, codexgov.Errorf(codexgov.EFORBIDDEN, "the %s budget of %s %s is in %s, and this request's cost in %s is not known (no price for its model): ask your administrator to set the model's price", b.Period, b.Scope, b.Subject, b.Unit, b.Unit)
		}
		start := b.PeriodStart(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO gateway_budget_use (workspace_id, budget_id, period_start, used, reserved) VALUES ($1, $2, $3, 0, 0) ON CONFLICT DO NOTHING`, ws, b.ID, start); err != nil {
			return nil, dbError("budget", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE gateway_budget_use SET reserved = reserved + $1 WHERE workspace_id = $2 AND budget_id = $3 AND period_start = $4 AND used + reserved + $1 <= $5`,
			amount, ws, b.ID, start, b.Limit)
		if err != nil {
			return nil, dbError("budget", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var used, reserved float64
			tx.QueryRowContext(ctx, `SELECT used, reserved FROM gateway_budget_use WHERE workspace_id = $1 AND budget_id = $2 AND period_start = $3`, ws, b.ID, start).Scan(&used, &reserved)
			who := "your"
			if b.Scope == "group" {
				who = "the group " + b.Subject + "'s"
			}
			return nil, &codexgov.Error{Code: codexgov.EFORBIDDEN, Message: fmt.Sprintf("this request (about %s %s) would exceed %s %s budget: %s of %s %s used since %s",
				budgetAmount(b.Unit, amount), b.Unit, who, budgetPeriodWord(b.Period), budgetAmount(b.Unit, used+reserved), budgetAmount(b.Unit, b.Limit), b.Unit, start)}
		}
		hold.Items = append(hold.Items, codexgov.BudgetHoldItem{Budget: b.ID, PeriodStart: start, Unit: b.Unit, Amount: amount})
	}
	if err := tx.Commit(); err != nil {
		return nil, commitError("budget", err)
	}
	return hold, nil
}

func budgetPeriodWord(p string) string {
	return map[string]string{"day": "daily", "week": "weekly", "month": "monthly"}[p]
}

func budgetAmount(unit string, v float64) string {
	if unit == codexgov.BudgetUSD {
		return fmt.Sprintf("%.2f", v)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// SettleGatewayBudgets replaces a hold's reservations by the real use.
func (s *DB) SettleGatewayBudgets(ctx context.Context, hold *codexgov.BudgetHold, actual map[string]float64) error {
	if hold == nil || len(hold.Items) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("budget", err)
	}
	defer tx.Rollback()
	for _, it := range hold.Items {
		if _, err := tx.ExecContext(ctx, `UPDATE gateway_budget_use SET reserved = reserved - $1, used = used + $2 WHERE workspace_id = $3 AND budget_id = $4 AND period_start = $5`,
			it.Amount, actual[it.Unit], hold.Workspace, it.Budget, it.PeriodStart); err != nil {
			return dbError("budget", err)
		}
	}
	return commitError("budget", tx.Commit())
}

// budgetSubjects are a workspace's budgeted subjects, "scope:subject".
func budgetSubjects(ctx context.Context, q queryer, ws string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT scope, subject FROM gateway_budgets WHERE workspace_id = $1 ORDER BY scope, subject`, ws)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var scope, subject string
		if err := rows.Scan(&scope, &subject); err != nil {
			return nil, err
		}
		out = append(out, scope+":"+subject)
	}
	return out, rows.Err()
}
