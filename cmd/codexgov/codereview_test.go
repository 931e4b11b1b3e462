package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codexgov/codexgov/internal/testenv"
)

// TestCodeReviewAnalytics, on both databases: a fake GitHub delivers
// signed webhooks — reviews and comments by the reviewer account (with
// P0/P1/P2 badges), by others, on issues, a reply, a redelivery, a bad
// signature — and the code_reviews rows, day and week, equal the test's
// own counts.
func TestCodeReviewAnalytics(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			m := &Main{DataDir: t.TempDir()}
			if backend == "postgres" {
				m.Database = testenv.PostgresSchema(t)
			}
			srvURL, key := startServer(t, m)
			admin := cli{t: t, server: srvURL, token: key, ws: "acme"}
			admin.run(0, "workspaces", "create", "acme")
			var ak struct {
				Secret string `json:"secret"`
			}
			admin.json(&ak, "api-keys", "create", "dash", "--scope", "analytics:read")
			secret := "9f1c2b7d8e3a4f5061728394a5b6c7d8"
			call := func(method, path, bearer string, body []byte, hdr map[string]string) (int, []byte) {
				req, _ := http.NewRequest(method, srvURL+path, bytes.NewReader(body))
				if bearer != "" {
					req.Header.Set("Authorization", "Bearer "+bearer)
				}
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			if code, body := call("PUT", "/api/v1/workspaces/acme/github", key, []byte(`{"webhook_secret":"`+secret+`","reviewers":["chatgpt-codex-connector[bot]"]}`), nil); code != 200 {
				t.Fatalf("PUT github: %d %s", code, body)
			}
			if code, body := call("GET", "/api/v1/workspaces/acme/github", key, nil, nil); code != 200 || strings.Contains(string(body), secret) || !strings.Contains(string(body), `"has_secret": true`) {
				t.Fatalf("GET github: %d %s", code, body)
			}
			deliver := func(event string, payload any, sign string) (int, string) {
				b, _ := json.Marshal(payload)
				mac := hmac.New(sha256.New, []byte(sign))
				mac.Write(b)
				code, body := call("POST", "/webhooks/github/acme", "", b, map[string]string{"X-GitHub-Event": event, "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "Content-Type": "application/json"})
				return code, string(body)
			}
			now := time.Now().UTC()
			today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
			bot, alice := map[string]any{"login": "chatgpt-codex-connector[bot]"}, map[string]any{"login": "alice"}
			d3, d1 := today.AddDate(0, 0, -3).Add(9*time.Hour), today.AddDate(0, 0, -1).Add(15*time.Hour)
			type delivery struct {
				event   string
				payload map[string]any
				want    string // recorded, ignored, duplicate
			}
			p1 := map[string]any{"action": "created", "comment": map[string]any{"id": 501, "body": "![P1 Badge](https://img.shields.io/badge/P1-orange?style=flat) Handle the nil map", "created_at": d3, "user": bot}}
			deliveries := []delivery{
				{"ping", map[string]any{"zen": "Keep it logically awesome."}, ""},
				{"pull_request_review", map[string]any{"action": "submitted", "review": map[string]any{"id": 11, "submitted_at": d3, "user": bot}}, "recorded"},
				{"pull_request_review", map[string]any{"action": "submitted", "review": map[string]any{"id": 12, "submitted_at": d3, "user": alice}}, "ignored"},
				{"pull_request_review_comment", p1, "recorded"},
				{"pull_request_review_comment", map[string]any{"action": "created", "comment": map[string]any{"id": 502, "body": "**P0** SQL built from user input", "created_at": d3, "user": bot}}, "recorded"},
				{"issue_comment", map[string]any{"action": "created", "issue": map[string]any{"number": 7, "pull_request": map[string]any{"url": "x"}}, "comment": map[string]any{"id": 503, "body": "P2: a nit", "created_at": d1, "user": bot}}, "recorded"},
				{"issue_comment", map[string]any{"action": "created", "issue": map[string]any{"number": 8}, "comment": map[string]any{"id": 504, "body": "P1 on an issue", "created_at": d1, "user": bot}}, "ignored"},
				{"pull_request_review_comment", map[string]any{"action": "created", "comment": map[string]any{"id": 505, "in_reply_to_id": 501, "body": "fixed, thanks", "created_at": d1, "user": alice}}, "recorded"},
				{"pull_request_review_comment", map[string]any{"action": "created", "comment": map[string]any{"id": 506, "in_reply_to_id": 999, "body": "unrelated thread", "created_at": d1, "user": alice}}, "ignored"},
				{"pull_request_review_comment", p1, "duplicate"},
			}
			for _, d := range deliveries {
				code, body := deliver(d.event, d.payload, secret)
				if code != 200 || (d.want != "" && !strings.Contains(body, `"`+d.want+`"`)) {
					t.Fatalf("%s delivery: %d %s, want %s", d.event, code, body, d.want)
				}
			}
			if code, _ := deliver("pull_request_review", deliveries[1].payload, "not-the-secret-at-all"); code != 401 {
				t.Fatalf("a delivery signed with another secret: %d, want 401", code)
			}
			if code, _ := call("POST", "/webhooks/github/nope", "", []byte(`{}`), nil); code != 404 {
				t.Fatalf("a webhook for no workspace: %d, want 404", code)
			}
			// The test's own counts: day d3 has 1 review, 2 comments (P1,
			// P0); day d1 has 1 comment (P2).
			type row struct{ reviews, comments, p0, p1, p2 int64 }
			want := map[string]map[string]row{
				"day":  {d3.Format(time.DateOnly): {1, 2, 1, 1, 0}, d1.Format(time.DateOnly): {0, 1, 0, 0, 1}},
				"week": {},
			}
			for day, r := range want["day"] {
				at, _ := time.Parse(time.DateOnly, day)
				monday := mondayOf(at).Format(time.DateOnly)
				w := want["week"][monday]
				w.reviews, w.comments, w.p0, w.p1, w.p2 = w.reviews+r.reviews, w.comments+r.comments, w.p0+r.p0, w.p1+r.p1, w.p2+r.p2
				want["week"][monday] = w
			}
			for _, period := range []string{"day", "week"} {
				q := url.Values{"group_by": {period}, "limit": {"1"}, "start_time": {fmt.Sprint(today.AddDate(0, 0, -20).Unix())}}
				got := map[string]row{}
				for {
					code, body := call("GET", "/v1/analytics/codex/workspaces/acme/code_reviews?"+q.Encode(), ak.Secret, nil, nil)
					var page struct {
						Data []struct {
							StartTime          int64 `json:"start_time"`
							PullRequestReviews int64 `json:"pull_request_reviews"`
							Comments           int64 `json:"comments"`
							CommentDetails     struct {
								P0, P1, P2 int64
							} `json:"comment_details"`
						} `json:"data"`
						HasMore  bool    `json:"has_more"`
						NextPage *string `json:"next_page"`
					}
					if code != 200 || json.Unmarshal(body, &page) != nil {
						t.Fatalf("code_reviews %s: %d %s", period, code, body)
					}
					for _, r := range page.Data {
						b := time.Unix(r.StartTime, 0).UTC().Format(time.DateOnly)
						if _, dup := got[b]; dup {
							t.Errorf("%s: bucket %s twice", period, b)
						}
						got[b] = row{r.PullRequestReviews, r.Comments, r.CommentDetails.P0, r.CommentDetails.P1, r.CommentDetails.P2}
					}
					if !page.HasMore {
						break
					}
					q.Set("page", *page.NextPage)
				}
				if fmt.Sprint(got) != fmt.Sprint(want[period]) {
					t.Errorf("code_reviews %s: got %v, want %v", period, got, want[period])
				}
			}
			if code, body := call("GET", "/v1/analytics/codex/workspaces/acme/code_reviews?group=workspace", ak.Secret, nil, nil); code != 422 || !strings.Contains(string(body), `"group"`) {
				t.Errorf("group on code_reviews: %d %s", code, body)
			}
		})
	}
}
