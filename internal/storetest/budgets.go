package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexgov/codexgov"
)

// testGatewayBudgets: budgets are put (a second put of the same scope,
// subject, unit and period changes the limit), listed with their use,
// removed; a reservation takes every budget of the person and their
// groups or none; 64 concurrent requests at the boundary never reserve
// past a limit; settling replaces the estimate by the real use; periods
// start afresh.
func testGatewayBudgets(t *testing.T, s codexgov.Store) {
	ctx := codexgov.WithActor(context.Background(), codexgov.Actor{ID: "admin"})
	must(s.CreateWorkspace(ctx, "a", ""))
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC) // a Thursday
	for _, bad := range []codexgov.GatewayBudget{
		{Workspace: "a", Scope: "team", Subject: "eng", Unit: "tokens", Period: "day", Limit: 1},
		{Workspace: "a", Scope: "user", Subject: "not an email", Unit: "tokens", Period: "day", Limit: 1},
		{Workspace: "a", Scope: "group", Subject: "eng", Unit: "eur", Period: "day", Limit: 1},
		{Workspace: "a", Scope: "group", Subject: "eng", Unit: "tokens", Period: "year", Limit: 1},
		{Workspace: "a", Scope: "group", Subject: "eng", Unit: "tokens", Period: "day", Limit: 0},
	} {
		var e *codexgov.Error
		if _, err := s.PutGatewayBudget(ctx, bad); !errors.As(err, &e) || e.Code != codexgov.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	ann := must(s.PutGatewayBudget(ctx, codexgov.GatewayBudget{Workspace: "a", Scope: "user", Subject: "Ann@Example.com", Unit: "tokens", Period: "day", Limit: 10_000}))
	eng := must(s.PutGatewayBudget(ctx, codexgov.GatewayBudget{Workspace: "a", Scope: "group", Subject: "eng", Unit: "usd", Period: "month", Limit: 5}))
	if ann.Subject != "ann@example.com" || ann.ID == "" {
		t.Errorf("ann's budget: %+v", ann)
	}
	again, err := s.PutGatewayBudget(ctx, codexgov.GatewayBudget{Workspace: "a", Scope: "user", Subject: "ann@example.com", Unit: "tokens", Period: "day", Limit: 20_000})
	if err != nil || again.ID != ann.ID || again.Limit != 20_000 {
		t.Errorf("replace: %+v %v", again, err)
	}
	if _, err := s.PutGatewayBudget(ctx, *again); !errors.Is(err, codexgov.ErrNoChange) {
		t.Errorf("the same budget again: %v", err)
	}
	if evs := must(s.AuditEvents(ctx, "a", codexgov.AuditFilter{Limit: 1})); evs[0].Action != "gateway_budget.put" || evs[0].Actor != "admin" {
		t.Errorf("audit: %+v", evs[0])
	}

	// All or none: ann is in eng; a request without a USD estimate (an
	// unpriced model) reserves nothing on her token budget either.
	if _, err := s.ReserveGatewayBudgets(ctx, "a", "ann@example.com", []string{"eng"}, now, map[string]float64{"tokens": 100}); codexgov.ErrorCode(err) != codexgov.EFORBIDDEN || !strings.Contains(err.Error(), "not known") {
		t.Errorf("no USD estimate: %v", err)
	}
	use := func() map[string]*codexgov.GatewayBudgetUse {
		out := map[string]*codexgov.GatewayBudgetUse{}
		for _, u := range must(s.GatewayBudgets(ctx, "a", now)) {
			out[u.ID] = u
		}
		return out
	}
	if u := use(); u[ann.ID].Reserved != 0 || u[ann.ID].Used != 0 || u[eng.ID].PeriodStart != "2026-12-01" || u[ann.ID].PeriodStart != "2026-12-03" {
		t.Errorf("after a refused reservation: %+v %+v", u[ann.ID], u[eng.ID])
	}
	h, err := s.ReserveGatewayBudgets(ctx, "a", "ann@example.com", []string{"eng"}, now, map[string]float64{"tokens": 1000, "usd": 0.5})
	if err != nil || len(h.Items) != 2 {
		t.Fatalf("reserve: %+v %v", h, err)
	}
	if u := use(); u[ann.ID].Reserved != 1000 || u[eng.ID].Reserved != 0.5 {
		t.Errorf("reserved: %+v %+v", u[ann.ID], u[eng.ID])
	}
	if err := s.SettleGatewayBudgets(ctx, h, map[string]float64{"tokens": 700, "usd": 0.25}); err != nil {
		t.Fatal(err)
	}
	if u := use(); u[ann.ID].Reserved != 0 || u[ann.ID].Used != 700 || u[eng.ID].Used != 0.25 {
		t.Errorf("settled: %+v %+v", u[ann.ID], u[eng.ID])
	}
	// Bob, also in eng, shares the group's budget, not ann's.
	if _, err := s.ReserveGatewayBudgets(ctx, "a", "bob@example.com", []string{"eng"}, now, map[string]float64{"usd": 4.8}); codexgov.ErrorCode(err) != codexgov.EFORBIDDEN ||
		!strings.Contains(err.Error(), "would exceed the group eng's monthly budget: 0.25 of 5.00 usd used since 2026-12-01") {
		t.Errorf("bob over the group's budget: %v", err)
	}

	// 64 concurrent requests at the boundary of a fresh budget, each
	// reserving 1,000 tokens: using less than reserved (900) nothing goes
	// past the limit; using more (1,100) at most one estimate does.
	var cat *codexgov.GatewayBudget
	for _, actual := range []float64{900, 1100} {
		subject := map[float64]string{900: "cat@example.com", 1100: "dan@example.com"}[actual]
		b := must(s.PutGatewayBudget(ctx, codexgov.GatewayBudget{Workspace: "a", Scope: "user", Subject: subject, Unit: "tokens", Period: "week", Limit: 10_000}))
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted, refused := 0, 0
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := s.ReserveGatewayBudgets(ctx, "a", subject, nil, now, map[string]float64{"tokens": 1000})
				if err == nil {
					err = s.SettleGatewayBudgets(ctx, h, map[string]float64{"tokens": actual})
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					admitted++
				case codexgov.ErrorCode(err) == codexgov.EFORBIDDEN:
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		u := use()[b.ID]
		over := u.Used - b.Limit
		if admitted+refused != 64 || admitted < 9 || u.Used != float64(admitted)*actual || u.Reserved != 0 || over > 1000 || (actual < 1000 && over > 0) {
			t.Errorf("64 at once, using %g each: %d admitted, %d refused, used %g, reserved %g (limit %g)", actual, admitted, refused, u.Used, u.Reserved, b.Limit)
		}
		t.Logf("64 at once, using %g of 1,000 reserved: %d admitted, used %g of %g", actual, admitted, u.Used, b.Limit)
		if cat == nil {
			cat = b
		}
	}
	// The next period starts afresh.
	if _, err := s.ReserveGatewayBudgets(ctx, "a", "cat@example.com", nil, now.AddDate(0, 0, 7), map[string]float64{"tokens": 1000}); err != nil {
		t.Errorf("next week: %v", err)
	}
	if err := s.DeleteGatewayBudget(ctx, "a", cat.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := use()[cat.ID]; ok {
		t.Error("deleted budget still listed")
	}
	if err := s.DeleteGatewayBudget(ctx, "a", cat.ID); codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
}
