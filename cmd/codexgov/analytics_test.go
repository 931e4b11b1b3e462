package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// analyticsSession is one Codex session of the analytics test: who, from
// which originator, with which model, when, its prompts and its
// response.completed token counts (input, cached, output).
type analyticsSession struct {
	user, originator, model string
	daysAgo, prompts        int
	tokens                  [][3]int64
}

type counters struct {
	Threads                 int64 `json:"threads"`
	Turns                   int64 `json:"turns"`
	UncachedTextInputTokens int64 `json:"uncached_text_input_tokens"`
	CachedTextInputTokens   int64 `json:"cached_text_input_tokens"`
	TextOutputTokens        int64 `json:"text_output_tokens"`
	TextTotalTokens         int64 `json:"text_total_tokens"`
}

type usageRow struct {
	StartTime int64   `json:"start_time"`
	EndTime   int64   `json:"end_time"`
	UserID    *string `json:"user_id"`
	Actor     *struct {
		Type   string `json:"type"`
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	} `json:"actor"`
	Totals  counters `json:"totals"`
	Cost    float64  `json:"estimated_cost_usd"`
	Clients []struct {
		ClientID string `json:"client_id"`
		counters
	} `json:"clients"`
	Models []struct {
		Model string `json:"model"`
		counters
	} `json:"models"`
}

// mondayOf counts back to Monday, day by day (independent of the
// server's arithmetic).
func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// TestAnalyticsUsage, on both databases: known sessions go through the
// real OTLP endpoint; every usage row — day and week, per user and per
// workspace, totals, clients and models — equals what the test counts
// from the same sessions; pages of 2 rows return every row exactly once,
// in time order; a replayed export adds nothing; bad parameters are 422 in
// OpenAI's shape.
func TestAnalyticsUsage(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			m := &Main{DataDir: t.TempDir()}
			if backend == "postgres" {
				m.Database = testenv.PostgresSchema(t)
			}
			srvURL, key := startServer(t, m)
			admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
			admin.run(0, "workspaces", "create", "acme")
			admin.run(0, "settings", "set", "--telemetry", "metadata")
			tokens := map[string]string{}
			for _, u := range []string{"ann@acme.test", "bob@acme.test"} {
				admin.run(0, "users", "add", u)
				var tok struct {
					Secret string `json:"secret"`
				}
				admin.json(&tok, "enrollment-tokens", "issue", "--user", u, "--name", "box-"+u[:3])
				tokens[u] = tok.Secret
			}
			var ak struct {
				Secret string `json:"secret"`
			}
			admin.json(&ak, "api-keys", "create", "dash", "--scope", "analytics:read")

			sessions := []analyticsSession{
				{"ann@acme.test", "codex_cli_rs", "gpt-5.1-codex", 9, 2, [][3]int64{{1000, 200, 50}, {1500, 1000, 70}}},
				{"ann@acme.test", "codex_vscode", "gpt-5.1-codex", 9, 1, [][3]int64{{800, 0, 40}}},
				{"ann@acme.test", "codex_exec", "gpt-5-mini", 2, 3, [][3]int64{{300, 100, 10}, {400, 100, 20}, {500, 100, 30}}},
				{"bob@acme.test", "codex_cli_rs", "gpt-5-mini", 9, 1, [][3]int64{{100, 0, 5}}},
				{"bob@acme.test", "some_new_surface", "gpt-5.1-codex", 1, 2, [][3]int64{{700, 300, 60}}},
				{"bob@acme.test", "codex_cli_rs", "gpt-5.1-codex", 1, 1, nil},
			}
			clientOf := map[string]string{"codex_cli_rs": "CODEX_CLI", "codex_vscode": "CODEX_IDE_VSCODE", "codex_exec": "CODEX_SERVICE_EXEC", "some_new_surface": "CODEX_UNKNOWN_DEFAULT"}
			now := time.Now().UTC()
			today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			str := func(k, v string) map[string]any {
				return map[string]any{"key": k, "value": map[string]any{"stringValue": v}}
			}
			num := func(k string, v int64) map[string]any {
				return map[string]any{"key": k, "value": map[string]any{"intValue": fmt.Sprint(v)}}
			}
			type rkey struct{ period, bucket, identity, client, model string }
			want := map[rkey]*counters{}
			threads := map[rkey]map[string]bool{}
			add := func(k rkey, session string, c counters) {
				if want[k] == nil {
					want[k] = &counters{}
					threads[k] = map[string]bool{}
				}
				w := want[k]
				threads[k][session] = true
				w.Threads = int64(len(threads[k]))
				w.Turns += c.Turns
				w.UncachedTextInputTokens += c.UncachedTextInputTokens
				w.CachedTextInputTokens += c.CachedTextInputTokens
				w.TextOutputTokens += c.TextOutputTokens
				w.TextTotalTokens += c.TextTotalTokens
			}
			var bodies [][]byte
			for i, s := range sessions {
				session := fmt.Sprintf("sess-%d", i)
				at := today.AddDate(0, 0, -s.daysAgo).Add(10 * time.Hour)
				n := 0
				base := func(name string) []any {
					n++ // each record a second apart: distinct records
					return []any{str("event.name", name), str("conversation.id", session), str("originator", s.originator), str("model", s.model), str("event.timestamp", at.Add(time.Duration(n)*time.Second).Format(time.RFC3339Nano))}
				}
				var records []any
				var c []counters
				for range s.prompts {
					records = append(records, map[string]any{"attributes": append(base("codex.user_prompt"), num("prompt_length", 12))})
					c = append(c, counters{Turns: 1})
				}
				for _, tk := range s.tokens {
					records = append(records, map[string]any{"attributes": append(base("codex.sse_event"), str("event.kind", "response.completed"),
						num("input_token_count", tk[0]), num("cached_token_count", tk[1]), num("output_token_count", tk[2]), num("reasoning_token_count", 0))})
					c = append(c, counters{UncachedTextInputTokens: tk[0] - tk[1], CachedTextInputTokens: tk[1], TextOutputTokens: tk[2], TextTotalTokens: tk[0] + tk[2]})
				}
				body, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{"scopeLogs": []any{map[string]any{"logRecords": records}}}}})
				if code := postLogs(t, srvURL, tokens[s.user], body); code != 200 {
					t.Fatalf("OTLP export: %d", code)
				}
				bodies = append(bodies, body)
				client := clientOf[s.originator]
				for _, pb := range [][2]string{{"day", at.Format(time.DateOnly)}, {"week", mondayOf(at).Format(time.DateOnly)}} {
					for _, ident := range []string{"user:" + s.user, "*"} {
						for _, cm := range [][2]string{{"*", "*"}, {client, "*"}, {"*", s.model}} {
							for _, one := range append(c, counters{}) {
								add(rkey{pb[0], pb[1], ident, cm[0], cm[1]}, session, one)
							}
						}
					}
				}
			}
			// A replayed export (Codex retrying) counts once.
			if code := postLogs(t, srvURL, tokens["ann@acme.test"], bodies[0]); code != 200 {
				t.Fatalf("replay: %d", code)
			}

			admin.run(0, "settings", "set", "--model-price", "gpt-5.1-codex=1.25,0.125,10", "--model-price", "gpt-5-mini=0.25,0.025,2")
			price := map[string][3]float64{"gpt-5.1-codex": {1.25, 0.125, 10}, "gpt-5-mini": {0.25, 0.025, 2}}
			get := func(q url.Values) (int, []byte) {
				req, _ := http.NewRequest("GET", srvURL+"/v1/analytics/codex/workspaces/acme/usage?"+q.Encode(), nil)
				req.Header.Set("Authorization", "Bearer "+ak.Secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			start := today.AddDate(0, 0, -20)
			verifyAll := func() {
				for _, period := range []string{"day", "week"} {
					for _, workspace := range []bool{false, true} {
						q := url.Values{"start_time": {fmt.Sprint(start.Unix())}, "end_time": {fmt.Sprint(today.AddDate(0, 0, 1).Unix())}, "group_by": {period}, "limit": {"2"}}
						if workspace {
							q.Set("group", "workspace")
						}
						seen := map[string]bool{}
						lastStart := int64(0)
						pages := 0
						for {
							code, body := get(q)
							var page struct {
								Object   string     `json:"object"`
								Data     []usageRow `json:"data"`
								HasMore  bool       `json:"has_more"`
								NextPage *string    `json:"next_page"`
							}
							if code != 200 || json.Unmarshal(body, &page) != nil || page.Object != "page" || len(page.Data) > 2 {
								t.Fatalf("%s workspace=%v: %d %s", period, workspace, code, body)
							}
							pages++
							for _, r := range page.Data {
								ident := "*"
								if r.UserID != nil {
									if r.Actor == nil || r.Actor.Type != "user" || !strings.HasPrefix(*r.UserID, "usr_") || r.Actor.UserID != *r.UserID {
										t.Errorf("a per-user row's user: %+v", r)
										continue
									}
									ident = "user:" + r.Actor.Email
								} else if !workspace || r.Actor != nil {
									t.Errorf("a row without a user in a per-user query, or with an actor in a workspace one: %+v", r)
								}
								bucket := time.Unix(r.StartTime, 0).UTC().Format(time.DateOnly)
								id := bucket + " " + ident
								if seen[id] {
									t.Errorf("%s workspace=%v: row %s twice", period, workspace, id)
								}
								seen[id] = true
								if r.StartTime < lastStart {
									t.Errorf("%s workspace=%v: rows out of time order", period, workspace)
								}
								lastStart = r.StartTime
								check := func(what string, got counters, k rkey) {
									w := want[k]
									if w == nil || got != *w {
										t.Errorf("%s workspace=%v %s %s: got %+v, want %+v", period, workspace, id, what, got, w)
									}
								}
								check("totals", r.Totals, rkey{period, bucket, ident, "*", "*"})
								for _, c := range r.Clients {
									check("client "+c.ClientID, c.counters, rkey{period, bucket, ident, c.ClientID, "*"})
								}
								for _, mo := range r.Models {
									check("model "+mo.Model, mo.counters, rkey{period, bucket, ident, "*", mo.Model})
								}
								cost := 0.0
								for k, w := range want {
									if k.period == period && k.bucket == bucket && k.identity == ident && k.client == "*" && k.model != "*" {
										p := price[k.model]
										cost += (float64(w.UncachedTextInputTokens)*p[0] + float64(w.CachedTextInputTokens)*p[1] + float64(w.TextOutputTokens)*p[2]) / 1e6
									}
								}
								if d := r.Cost - cost; d > 1e-6 || d < -1e-6 || cost == 0 {
									t.Errorf("%s %s: estimated_cost_usd %v, want %v", period, id, r.Cost, cost)
								}
								nc, nm := 0, 0
								for k := range want {
									if k.period == period && k.bucket == bucket && k.identity == ident {
										if k.client != "*" {
											nc++
										}
										if k.model != "*" {
											nm++
										}
									}
								}
								if len(r.Clients) != nc || len(r.Models) != nm {
									t.Errorf("%s %s: %d clients and %d models, want %d and %d", period, id, len(r.Clients), len(r.Models), nc, nm)
								}
							}
							if !page.HasMore {
								if page.NextPage != nil {
									t.Errorf("the last page has a next_page")
								}
								break
							}
							q.Set("page", *page.NextPage)
						}
						n := 0
						for k := range want {
							if k.period == period && k.client == "*" && k.model == "*" && (k.identity == "*") == workspace {
								n++
							}
						}
						if len(seen) != n {
							t.Errorf("%s workspace=%v: %d rows over %d pages, want %d", period, workspace, len(seen), pages, n)
						}
					}
				}
			}
			verifyAll()

			// CSV: the same rows, one line each with its totals; emails only
			// once the workspace allows them.
			csvq := url.Values{"start_time": {fmt.Sprint(start.Unix())}, "format": {"csv"}}
			reqNo, _ := http.NewRequest("GET", srvURL+"/v1/analytics/codex/workspaces/acme/usage?"+csvq.Encode(), nil)
			reqNo.Header.Set("Authorization", "Bearer "+ak.Secret)
			if resp, err := http.DefaultClient.Do(reqNo); err != nil {
				t.Fatal(err)
			} else {
				lines, _ := csv.NewReader(resp.Body).ReadAll()
				resp.Body.Close()
				for _, l := range lines[1:] {
					if l[3] != "" {
						t.Fatalf("a per-user CSV line carries an email the workspace did not allow: %v", l)
					}
				}
			}
			admin.run(0, "settings", "set", "--analytics-csv-emails")
			for _, workspace := range []bool{false, true} {
				q := url.Values{"start_time": {fmt.Sprint(start.Unix())}}
				if workspace {
					q.Set("group", "workspace") // and Accept: text/csv
				} else {
					q.Set("format", "csv")
				}
				req, _ := http.NewRequest("GET", srvURL+"/v1/analytics/codex/workspaces/acme/usage?"+q.Encode(), nil)
				if workspace {
					req.Header.Set("Accept", "text/csv")
				}
				req.Header.Set("Authorization", "Bearer "+ak.Secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				lines, err := csv.NewReader(resp.Body).ReadAll()
				resp.Body.Close()
				if err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || len(lines) < 2 {
					t.Fatalf("CSV workspace=%v: %v %s %v", workspace, err, resp.Header.Get("Content-Type"), lines)
				}
				// Long form: per row its totals, then a line per client and
				// per model; every want row of the day period appears once.
				n := 0
				for k := range want {
					if k.period == "day" && (k.client == "*" || k.model == "*") && (k.identity == "*") == workspace {
						n++
					}
				}
				if len(lines)-1 != n {
					t.Errorf("CSV workspace=%v: %d lines, want %d", workspace, len(lines)-1, n)
				}
				col := 2
				if !workspace {
					col = 4
				}
				if got := fmt.Sprint(lines[0][col:]); got != "[breakdown client_id model threads turns uncached_text_input_tokens cached_text_input_tokens text_output_tokens text_total_tokens estimated_cost_usd]" {
					t.Errorf("CSV header %s", got)
				}
				kinds := map[string]int{}
				for _, l := range lines[1:] {
					at, _ := time.Parse(time.RFC3339, l[0])
					ident := "*"
					if !workspace {
						ident = "user:" + l[3]
					}
					client, model := "*", "*"
					switch l[col] {
					case "client":
						client = l[col+1]
					case "model":
						model = l[col+2]
					}
					kinds[l[col]]++
					w := want[rkey{"day", at.Format(time.DateOnly), ident, client, model}]
					got := fmt.Sprint(l[col+3 : col+9])
					if w == nil || got != fmt.Sprint([]string{fmt.Sprint(w.Threads), fmt.Sprint(w.Turns), fmt.Sprint(w.UncachedTextInputTokens), fmt.Sprint(w.CachedTextInputTokens), fmt.Sprint(w.TextOutputTokens), fmt.Sprint(w.TextTotalTokens)}) {
						t.Errorf("CSV line %v: want %+v", l, w)
					}
				}
				if kinds["total"] == 0 || kinds["client"] == 0 || kinds["model"] == 0 {
					t.Errorf("CSV workspace=%v: breakdown lines %v, want totals, clients and models", workspace, kinds)
				}
			}

			// Lost rollups come back from the raw events.
			driver, dsn := "sqlite", filepath.Join(m.DataDir, "codexgov.db")
			if m.Database != "" {
				driver, dsn = "pgx", m.Database
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range []string{`DELETE FROM analytics_usage`, `DELETE FROM analytics_threads`} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			var empty struct{ Data []usageRow }
			if code, body := get(url.Values{"group": {"workspace"}}); code != 200 || json.Unmarshal(body, &empty) != nil || len(empty.Data) != 0 {
				t.Fatalf("after the rollups were lost: %d %s", code, body)
			}
			out, _ := admin.run(0, "analytics", "rebuild", "--since", start.Format(time.DateOnly))
			if !strings.Contains(out, "rebuilt the usage rollups from "+mondayOf(start).Format(time.DateOnly)) {
				t.Fatalf("rebuild: %s", out)
			}
			verifyAll()

			// The lookback is the workspace's: 120 days lets a query start
			// 100 days ago, not 121.
			admin.run(0, "settings", "set", "--analytics-lookback-days", "120")
			if code, body := get(url.Values{"start_time": {fmt.Sprint(today.AddDate(0, 0, -100).Unix())}}); code != 200 {
				t.Errorf("100 days back with a 120-day lookback: %d %s", code, body)
			}
			if code, _ := get(url.Values{"start_time": {fmt.Sprint(today.AddDate(0, 0, -121).Unix())}}); code != 422 {
				t.Errorf("121 days back with a 120-day lookback: %d", code)
			}
			admin.run(0, "settings", "set", "--analytics-lookback-days", "0")
			// Bad parameters: 422 in OpenAI's shape, naming the parameter.
			for param, v := range map[string]string{"start_time": fmt.Sprint(today.AddDate(0, 0, -91).Unix()), "group_by": "month", "limit": "0", "end_time": "x", "page": "bm90LWEtY3Vyc29y"} {
				code, body := get(url.Values{param: {v}})
				var e struct {
					Detail []struct {
						Loc  []string `json:"loc"`
						Msg  string   `json:"msg"`
						Type string   `json:"type"`
					} `json:"detail"`
				}
				if code != 422 || json.Unmarshal(body, &e) != nil || len(e.Detail) != 1 || len(e.Detail[0].Loc) != 2 || e.Detail[0].Loc[1] != param || e.Detail[0].Msg == "" {
					t.Errorf("%s=%s: %d %s", param, v, code, body)
				}
			}
		})
	}
}
