package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
			// readCSV asks for a route's CSV and returns its lines keyed by
			// their start date, the header checked.
			readCSV := func(path string, q url.Values, hdr map[string]string, head string) map[string][]string {
				code, body := call("GET", path+"?"+q.Encode(), ak.Secret, nil, hdr)
				lines, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
				if code != 200 || err != nil || len(lines) == 0 || strings.Join(lines[0], ",") != head {
					t.Fatalf("%s CSV: %d %v %s", path, code, err, body)
				}
				out := map[string][]string{}
				for _, l := range lines[1:] {
					at, err := time.Parse(time.RFC3339, l[0])
					if err != nil {
						t.Fatalf("%s CSV line %v: %v", path, l, err)
					}
					out[at.Format(time.DateOnly)] = l[2:]
				}
				return out
			}
			// A fake GitHub REST API serving the comments' reactions.
			reactions := map[string][]string{"/repos/acme/app/pulls/comments/501/reactions": {"+1", "+1", "heart"}, "/repos/acme/app/pulls/comments/502/reactions": {"-1"},
				"/repos/acme/app/issues/comments/503/reactions": {}}
			gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer ghp_fake_token" {
					http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
					return
				}
				list, ok := reactions[r.URL.Path]
				if !ok {
					http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
					return
				}
				var out []map[string]any
				for i, c := range list {
					out = append(out, map[string]any{"id": i + 1, "content": c, "user": map[string]any{"login": fmt.Sprintf("dev%d", i)}})
				}
				if out == nil {
					out = []map[string]any{}
				}
				json.NewEncoder(w).Encode(out)
			}))
			defer gh.Close()
			if code, body := call("PUT", "/api/v1/workspaces/acme/github", key, []byte(`{"webhook_secret":"`+secret+`","reviewers":["chatgpt-codex-connector[bot]"],"api_url":"`+gh.URL+`","token":"ghp_fake_token"}`), nil); code != 200 {
				t.Fatalf("PUT github: %d %s", code, body)
			}
			if code, body := call("GET", "/api/v1/workspaces/acme/github", key, nil, nil); code != 200 || strings.Contains(string(body), secret) || strings.Contains(string(body), "ghp_fake") || !strings.Contains(string(body), `"has_token": true`) {
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
			repo := map[string]any{"full_name": "acme/app"}
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
				d.payload["repository"] = repo
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
				// The same rows as CSV.
				q.Del("page")
				q.Set("limit", "100")
				q.Set("format", "csv")
				gotCSV := map[string]string{}
				for b, l := range readCSV("/v1/analytics/codex/workspaces/acme/code_reviews", q, nil, "start_time,end_time,pull_request_reviews,comments,p0,p1,p2") {
					gotCSV[b] = strings.Join(l, " ")
				}
				wantCSV := map[string]string{}
				for b, r := range want[period] {
					wantCSV[b] = fmt.Sprint(r.reviews, r.comments, r.p0, r.p1, r.p2)
				}
				if fmt.Sprint(gotCSV) != fmt.Sprint(wantCSV) {
					t.Errorf("code_reviews %s CSV: got %v, want %v", period, gotCSV, wantCSV)
				}
			}
			if code, body := call("GET", "/v1/analytics/codex/workspaces/acme/code_reviews?group=workspace", ak.Secret, nil, nil); code != 422 || !strings.Contains(string(body), `"group"`) {
				t.Errorf("group on code_reviews: %d %s", code, body)
			}

			// Reactions, read from the fake GitHub; replies from the webhook.
			if code, body := call("POST", "/api/v1/workspaces/acme/github/poll", key, nil, nil); code != 200 || !strings.Contains(string(body), `"comments_read": 3`) {
				t.Fatalf("poll: %d %s", code, body)
			}
			type resp struct{ replies, reactions, up, down, other, engaged, reacted, upvoted, downvoted, reactedOther, replied int64 }
			perComment := []struct {
				at                       time.Time
				replies, up, down, other int64
			}{{d3, 1, 2, 0, 1}, {d3, 0, 0, 1, 0}, {d1, 0, 0, 0, 0}}
			wantResp := map[string]map[string]resp{"day": {}, "week": {}}
			b2i := func(b bool) int64 {
				if b {
					return 1
				}
				return 0
			}
			for _, c := range perComment {
				for period, bucket := range map[string]string{"day": c.at.Format(time.DateOnly), "week": mondayOf(c.at).Format(time.DateOnly)} {
					r := wantResp[period][bucket]
					r.replies += c.replies
					r.reactions += c.up + c.down + c.other
					r.up, r.down, r.other = r.up+c.up, r.down+c.down, r.other+c.other
					r.engaged += b2i(c.replies+c.up+c.down+c.other > 0)
					r.reacted += b2i(c.up+c.down+c.other > 0)
					r.upvoted += b2i(c.up > 0)
					r.downvoted += b2i(c.down > 0)
					r.reactedOther += b2i(c.other > 0)
					r.replied += b2i(c.replies > 0)
					wantResp[period][bucket] = r
				}
			}
			for _, period := range []string{"day", "week"} {
				q := url.Values{"group_by": {period}, "start_time": {fmt.Sprint(today.AddDate(0, 0, -20).Unix())}}
				code, body := call("GET", "/v1/analytics/codex/workspaces/acme/code_review_responses?"+q.Encode(), ak.Secret, nil, nil)
				var page struct {
					Data []struct {
						StartTime       int64 `json:"start_time"`
						Replies         int64 `json:"replies"`
						Reactions       int64 `json:"reactions"`
						ReactionDetails struct {
							Upvotes, Downvotes, Other int64
						} `json:"reaction_details"`
						Details struct {
							Engaged      int64 `json:"engaged"`
							Reacted      int64 `json:"reacted"`
							Upvoted      int64 `json:"upvoted"`
							Downvoted    int64 `json:"downvoted"`
							ReactedOther int64 `json:"reacted_other"`
							Replied      int64 `json:"replied"`
						} `json:"comment_response_details"`
					} `json:"data"`
				}
				if code != 200 || json.Unmarshal(body, &page) != nil {
					t.Fatalf("code_review_responses %s: %d %s", period, code, body)
				}
				got := map[string]resp{}
				for _, r := range page.Data {
					got[time.Unix(r.StartTime, 0).UTC().Format(time.DateOnly)] = resp{r.Replies, r.Reactions, r.ReactionDetails.Upvotes, r.ReactionDetails.Downvotes, r.ReactionDetails.Other,
						r.Details.Engaged, r.Details.Reacted, r.Details.Upvoted, r.Details.Downvoted, r.Details.ReactedOther, r.Details.Replied}
				}
				if fmt.Sprint(got) != fmt.Sprint(wantResp[period]) {
					t.Errorf("code_review_responses %s: got %v, want %v", period, got, wantResp[period])
				}
				gotCSV := map[string]string{}
				for b, l := range readCSV("/v1/analytics/codex/workspaces/acme/code_review_responses", q, map[string]string{"Accept": "text/csv"},
					"start_time,end_time,replies,reactions,upvotes,downvotes,other,engaged,reacted,upvoted,downvoted,reacted_other,replied") {
					gotCSV[b] = strings.Join(l, " ")
				}
				wantCSV := map[string]string{}
				for b, r := range wantResp[period] {
					wantCSV[b] = fmt.Sprint(r.replies, r.reactions, r.up, r.down, r.other, r.engaged, r.reacted, r.upvoted, r.downvoted, r.reactedOther, r.replied)
				}
				if fmt.Sprint(gotCSV) != fmt.Sprint(wantCSV) {
					t.Errorf("code_review_responses %s CSV: got %v, want %v", period, gotCSV, wantCSV)
				}
			}
		})
	}
}
