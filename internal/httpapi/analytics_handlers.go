package httpapi

// The analytics surface: OpenAI's Analytics API (usage per day or week,
// per user or per workspace) served from the rollups the store keeps as
// telemetry is committed (docs/analytics.md).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// analyticsBase is the Analytics API's workspace path; {ws} is the
// workspace's UUID or ID.
const analyticsBase = "/v1/analytics/codex/workspaces/{ws}"

// UsagePage is the usage route's body (OpenAI's envelope).
type UsagePage struct {
	Object   string              `json:"object"`
	Data     []codexgov.UsageRow `json:"data"`
	HasMore  bool                `json:"has_more"`
	NextPage *string             `json:"next_page"`
}

// AnalyticsValidation is the 422 body of a bad parameter (OpenAI's, as
// FastAPI writes it).
type AnalyticsValidation struct {
	Detail []AnalyticsValidationDetail `json:"detail"`
}

// AnalyticsValidationDetail names one bad parameter.
type AnalyticsValidationDetail struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

func badQuery(name, msg string) error {
	return &codexgov.Error{Code: codexgov.EINVALID, Message: "invalid query parameter " + name, Details: []codexgov.Detail{{Field: "?" + name, Message: msg}}}
}

// writeAnalyticsError answers a bad parameter with 422 in OpenAI's shape,
// anything else as every route does.
func (s *Server) writeAnalyticsError(w http.ResponseWriter, r *http.Request, id string, err error) {
	var e *codexgov.Error
	if codexgov.ErrorCode(err) != codexgov.EINVALID || !errors.As(err, &e) {
		s.writeError(w, r, id, err)
		return
	}
	body := AnalyticsValidation{Detail: []AnalyticsValidationDetail{}}
	for _, d := range e.Details {
		loc := []string{"query", strings.TrimPrefix(d.Field, "?")}
		if !strings.HasPrefix(d.Field, "?") {
			loc = []string{"path", strings.TrimPrefix(d.Field, "/")}
		}
		body.Detail = append(body.Detail, AnalyticsValidationDetail{Loc: loc, Msg: d.Message, Type: "value_error"})
	}
	if len(body.Detail) == 0 {
		body.Detail = append(body.Detail, AnalyticsValidationDetail{Loc: []string{"query"}, Msg: codexgov.ErrorMessage(err), Type: "value_error"})
	}
	writeJSON(w, http.StatusUnprocessableEntity, body)
}

// usageCursor is a next_page: where the page ended, bound to the query it
// pages.
type usageCursor struct {
	Bucket   string `json:"b"`
	Identity string `json:"i"`
	Query    string `json:"q"`
}

// wantCSV says whether an analytics request asks for CSV: format=csv, or
// Accept: text/csv without a format.
func wantCSV(c *call) (bool, error) {
	switch v := c.r.URL.Query().Get("format"); v {
	case "":
		return strings.Contains(c.r.Header.Get("Accept"), "text/csv"), nil
	case "json":
		return false, nil
	case "csv":
		return true, nil
	default:
		return false, badQuery("format", "want json or csv, got "+strconv.Quote(v))
	}
}

// writeCSV starts a CSV answer: its type, and the next page's cursor in
// Codexgov-Next-Page.
func writeCSV(c *call, next *string) *csv.Writer {
	h := c.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	if next != nil {
		h.Set("Codexgov-Next-Page", *next)
	}
	return csv.NewWriter(c.w)
}

func rfc3339(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

func ints(v ...int64) []string {
	out := make([]string, len(v))
	for i, n := range v {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// analyticsUsage answers JSON, or CSV for format=csv or Accept: text/csv
// (the dashboard's exports), in long form: each row's totals on a line
// (breakdown "total", with the row's estimated cost), then a line per
// client ("client") and per model ("model", with that model's estimated
// cost); the next page's cursor in the Codexgov-Next-Page header.
func (s *Server) analyticsUsage(c *call) error {
	csvOut, err := wantCSV(c)
	if err != nil {
		return err
	}
	page, prices, err := s.usagePage(c)
	if err != nil {
		return err
	}
	if !csvOut {
		writeJSON(c.w, http.StatusOK, page)
		return nil
	}
	perUser := c.r.URL.Query().Get("group") != "workspace"
	emails := false
	if ws, ok := s.snap.Load().WorkspaceByRef(c.ws); ok {
		emails = ws.Settings.AnalyticsCSVEmails
	}
	w := writeCSV(c, page.NextPage)
	head := []string{"start_time", "end_time"}
	if perUser {
		head = append(head, "user_id", "email")
	}
	w.Write(append(head, "breakdown", "client_id", "model", "threads", "turns", "uncached_text_input_tokens", "cached_text_input_tokens", "text_output_tokens", "text_total_tokens", "estimated_cost_usd"))
	for _, r := range page.Data {
		lead := []string{rfc3339(r.StartTime), rfc3339(r.EndTime)}
		if perUser {
			id, email := "", ""
			if r.UserID != nil {
				id = *r.UserID
			}
			if r.Actor != nil && emails {
				email = r.Actor.Email
			}
			lead = append(lead, id, email)
		}
		line := func(kind, client, model string, n codexgov.UsageCounters, cost string) {
			l := append(slices.Clone(lead), kind, client, model)
			l = append(l, ints(n.Threads, n.Turns, n.UncachedTextInputTokens, n.CachedTextInputTokens, n.TextOutputTokens, n.TextTotalTokens)...)
			w.Write(append(l, cost))
		}
		line("total", "", "", r.Totals, strconv.FormatFloat(r.EstimatedCostUSD, 'f', -1, 64))
		for _, cl := range r.Clients {
			line("client", cl.ClientID, "", cl.UsageCounters, "")
		}
		for _, m := range r.Models {
			cost := ""
			if p, ok := prices[m.Model]; ok {
				cost = strconv.FormatFloat(modelCost(p, m.UsageCounters), 'f', -1, 64)
			}
			line("model", "", m.Model, m.UsageCounters, cost)
		}
	}
	w.Flush()
	return w.Error()
}

// modelCost is a model's estimated cost in US dollars, rounded to a
// millionth.
func modelCost(p codexgov.ModelPrice, n codexgov.UsageCounters) float64 {
	return math.Round(p.Cost(n.UncachedTextInputTokens, n.CachedTextInputTokens, n.TextOutputTokens)*1e6) / 1e6
}

// usagePage reads one page of the usage route, and the workspace's
// prices.
func (s *Server) usagePage(c *call) (*UsagePage, map[string]codexgov.ModelPrice, error) {
	w, err := s.analyticsWindow(c, true)
	if err != nil {
		return nil, nil, err
	}
	uq := codexgov.UsageQuery{Period: w.period, From: w.from, To: w.to, Limit: w.limit, Workspace: w.workspace, AfterBucket: w.cursor.Bucket, AfterIdent: w.cursor.Identity}
	step, shape, prices := w.step, w.shape, w.prices
	snap := s.snap.Load()
	// What was stored a moment ago counts: the workspace's queued rollup
	// deltas are applied first (no raw event is read).
	if err := s.store.DrainAnalytics(c.ctx, c.ws); err != nil {
		return nil, nil, err
	}
	rollups, more, err := s.store.AnalyticsUsage(c.ctx, c.ws, uq)
	if err != nil {
		return nil, nil, err
	}
	page := &UsagePage{Object: "page", Data: []codexgov.UsageRow{}, HasMore: more}
	var row *codexgov.UsageRow
	var lastBucket, lastIdent string
	for _, r := range rollups {
		if row == nil || r.Bucket != lastBucket || r.Identity != lastIdent {
			page.Data = append(page.Data, codexgov.UsageRow{Clients: []codexgov.UsageClient{}, Models: []codexgov.UsageModel{}})
			row = &page.Data[len(page.Data)-1]
			lastBucket, lastIdent = r.Bucket, r.Identity
			b, _ := time.Parse(time.DateOnly, r.Bucket)
			row.StartTime, row.EndTime = b.Unix(), b.Add(step).Unix()
			if r.Identity != "*" {
				kind, name, _ := strings.Cut(r.Identity, ":")
				id := r.Identity
				actor := &codexgov.UsageActor{Type: kind, UserID: id}
				if kind == "user" {
					if uid := snap.UserID(c.ws, name); uid != "" {
						id = uid
					}
					actor.UserID, actor.Email = id, name
				}
				row.UserID, row.Actor = &id, actor
			}
		}
		switch {
		case r.Client == "*" && r.Model == "*":
			row.Totals = r.UsageCounters
		case r.Model == "*":
			row.Clients = append(row.Clients, codexgov.UsageClient{ClientID: r.Client, UsageCounters: r.UsageCounters})
		case r.Client == "*":
			row.Models = append(row.Models, codexgov.UsageModel{Model: r.Model, UsageCounters: r.UsageCounters})
			if p, ok := prices[r.Model]; ok {
				row.EstimatedCostUSD += p.Cost(r.UncachedTextInputTokens, r.CachedTextInputTokens, r.TextOutputTokens)
			}
		}
	}
	for i := range page.Data {
		page.Data[i].EstimatedCostUSD = math.Round(page.Data[i].EstimatedCostUSD*1e6) / 1e6
	}
	if more && len(page.Data) > 0 {
		page.NextPage = nextPage(usageCursor{Bucket: lastBucket, Identity: lastIdent, Query: shape})
	}
	return page, prices, nil
}

// RunAnalytics applies the queued rollup deltas every interval until ctx
// ends, so that rollups stay current when nobody reads them.
func (s *Server) RunAnalytics(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := s.store.DrainAnalytics(dctx, "")
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("analytics: applying queued rollups failed; retried at the next interval", "err", err)
		}
	}
}

// analyticsWindow is an Analytics API query's window and paging: start_time
// and end_time (within the workspace's lookback), group_by, limit, the
// page cursor (bound to the query's shape) and, when perUser, group.
type analyticsWindow struct {
	period, from, to string
	step             time.Duration
	limit            int
	workspace        bool
	cursor           usageCursor
	shape            string
	prices           map[string]codexgov.ModelPrice
}

func (s *Server) analyticsWindow(c *call, perUser bool) (analyticsWindow, error) {
	var w analyticsWindow
	q := c.r.URL.Query()
	now := s.now().UTC()
	today := now.Truncate(24 * time.Hour)
	unix := func(name string, def time.Time) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, badQuery(name, "want Unix seconds (an integer), got "+strconv.Quote(v))
		}
		return time.Unix(n, 0).UTC(), nil
	}
	end, err := unix("end_time", today.AddDate(0, 0, 1))
	if err != nil {
		return w, err
	}
	start, err := unix("start_time", end.AddDate(0, 0, -30))
	if err != nil {
		return w, err
	}
	if !end.After(start) {
		return w, badQuery("end_time", "end_time must be after start_time")
	}
	snap := s.snap.Load()
	ws, _ := snap.WorkspaceByRef(c.ws)
	lookback := codexgov.DefaultLookbackDays
	var prices map[string]codexgov.ModelPrice
	if ws != nil {
		lookback, prices = ws.Settings.Lookback(), ws.Settings.ModelPrices
	}
	if oldest := today.AddDate(0, 0, -lookback); start.Before(oldest) {
		return w, badQuery("start_time", "start_time is more than "+strconv.Itoa(lookback)+" days ago, the workspace's lookback (the earliest is "+strconv.FormatInt(oldest.Unix(), 10)+")")
	}
	uq := &w
	uq.period, uq.limit = "day", 1000
	switch v := q.Get("group_by"); v {
	case "", "day":
	case "week":
		uq.period = "week"
	default:
		return w, badQuery("group_by", "want day or week, got "+strconv.Quote(v))
	}
	switch v := q.Get("group"); v {
	case "":
	case "workspace":
		if !perUser {
			return w, badQuery("group", "this route has workspace rows only")
		}
		uq.workspace = true
	default:
		return w, badQuery("group", "want workspace (one row per bucket for the whole workspace), got "+strconv.Quote(v))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 30000 {
			return w, badQuery("limit", "want an integer from 1 to 30000, got "+strconv.Quote(v))
		}
		uq.limit = n
	}
	step := 24 * time.Hour
	first := start.Truncate(24 * time.Hour)
	if uq.period == "week" {
		step = 7 * 24 * time.Hour
		first = first.AddDate(0, 0, -((int(first.Weekday()) + 6) % 7))
	}
	last := end.Add(-time.Second).Truncate(24 * time.Hour)
	if uq.period == "week" {
		last = last.AddDate(0, 0, -((int(last.Weekday()) + 6) % 7))
	}
	uq.from, uq.to = first.Format(time.DateOnly), last.Add(step).Format(time.DateOnly)
	sum := sha256.Sum256([]byte(uq.period + "|" + uq.from + "|" + uq.to + "|" + strconv.FormatBool(uq.workspace)))
	shape := hex.EncodeToString(sum[:8])
	if v := q.Get("page"); v != "" {
		var cur usageCursor
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Query != shape {
			return w, badQuery("page", "not a next_page of this query (same start_time, end_time, group_by and group)")
		}
		uq.cursor = cur
	}
	w.step, w.shape, w.prices = step, shape, prices
	return w, nil
}

// CodeReviewPage is the code_reviews route's body.
type CodeReviewPage struct {
	Object   string                   `json:"object"`
	Data     []codexgov.CodeReviewRow `json:"data"`
	HasMore  bool                     `json:"has_more"`
	NextPage *string                  `json:"next_page"`
}

// analyticsCodeReviews answers the workspace's code reviews per day or
// week, from the rollups the webhook keeps.
func (s *Server) analyticsCodeReviews(c *call) error {
	csvOut, err := wantCSV(c)
	if err != nil {
		return err
	}
	w, err := s.analyticsWindow(c, false)
	if err != nil {
		return err
	}
	rows, more, err := s.store.CodeReviewRollups(c.ctx, c.ws, w.period, w.from, w.to, w.cursor.Bucket, w.limit)
	if err != nil {
		return err
	}
	page := CodeReviewPage{Object: "page", Data: []codexgov.CodeReviewRow{}, HasMore: more}
	for _, r := range rows {
		b, _ := time.Parse(time.DateOnly, r.Bucket)
		page.Data = append(page.Data, codexgov.CodeReviewRow{StartTime: b.Unix(), EndTime: b.Add(w.step).Unix(), PullRequestReviews: r.Reviews, Comments: r.Comments,
			CommentDetails: codexgov.CommentDetails{P0: r.P0, P1: r.P1, P2: r.P2}})
	}
	if more && len(rows) > 0 {
		page.NextPage = nextPage(usageCursor{Bucket: rows[len(rows)-1].Bucket, Query: w.shape})
	}
	if !csvOut {
		writeJSON(c.w, http.StatusOK, page)
		return nil
	}
	cw := writeCSV(c, page.NextPage)
	cw.Write([]string{"start_time", "end_time", "pull_request_reviews", "comments", "p0", "p1", "p2"})
	for _, r := range page.Data {
		d := r.CommentDetails
		cw.Write(append([]string{rfc3339(r.StartTime), rfc3339(r.EndTime)}, ints(r.PullRequestReviews, r.Comments, d.P0, d.P1, d.P2)...))
	}
	cw.Flush()
	return cw.Error()
}

// priorityRE finds a review comment's priority: the Codex connector
// writes a P0/P1/P2 badge at its start.
var priorityRE = regexp.MustCompile(`\bP([0-2])\b`)

// githubWebhook takes GitHub's deliveries for code-review analytics,
// checked against X-Hub-Signature-256: reviews submitted and comments
// made by the workspace's reviewer accounts (with their P0/P1/P2), and
// replies by anyone else in a reviewer comment's thread. A redelivery
// counts once.
func (s *Server) githubWebhook(c *call) error {
	w, ok := s.snap.Load().WorkspaceByRef(c.path("ws"))
	if !ok {
		return codexgov.Errorf(codexgov.ENOTFOUND, "no such workspace")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, 5<<20))
	if err != nil {
		return codexgov.Errorf(codexgov.ETOOLARGE, "a GitHub delivery is at most 5 MiB")
	}
	g, err := s.store.GitHubIntegration(c.r.Context(), w.ID)
	if err != nil {
		return err
	}
	secret, err := s.keys.OpenSecret(githubAAD(w.ID), g.SecretEnc)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := c.r.Header.Get("X-Hub-Signature-256"); !hmac.Equal([]byte(got), []byte(want)) {
		return codexgov.Errorf(codexgov.EUNAUTHORIZED, "X-Hub-Signature-256 does not match the workspace's webhook secret")
	}
	var d struct {
		Action string `json:"action"`
		Review *struct {
			ID          int64     `json:"id"`
			SubmittedAt time.Time `json:"submitted_at"`
			User        struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"review"`
		Comment *struct {
			ID          int64     `json:"id"`
			InReplyToID int64     `json:"in_reply_to_id"`
			Body        string    `json:"body"`
			CreatedAt   time.Time `json:"created_at"`
			User        struct {
				Login string `json:"login"`
			} `json:"user"`
		} `json:"comment"`
		Issue *struct {
			PullRequest *json.RawMessage `json:"pull_request"`
		} `json:"issue"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	event := c.r.Header.Get("X-GitHub-Event")
	if event == "ping" {
		writeJSON(c.w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return codexgov.Errorf(codexgov.EINVALID, "the %s delivery is not JSON: %v", event, err)
	}
	reviewer := func(login string) bool { return slices.Contains(g.Reviewers, strings.ToLower(login)) }
	var e *codexgov.CodeReviewEvent
	switch {
	case event == "pull_request_review" && d.Action == "submitted" && d.Review != nil && reviewer(d.Review.User.Login):
		e = &codexgov.CodeReviewEvent{ID: fmt.Sprintf("review:%d", d.Review.ID), Kind: codexgov.CodeReviewReview, At: d.Review.SubmittedAt}
	case (event == "pull_request_review_comment" || event == "issue_comment") && d.Action == "created" && d.Comment != nil:
		if event == "issue_comment" && (d.Issue == nil || d.Issue.PullRequest == nil) {
			break // a comment on an issue, not a pull request
		}
		if reviewer(d.Comment.User.Login) {
			e = &codexgov.CodeReviewEvent{ID: fmt.Sprintf("comment:%d", d.Comment.ID), Kind: codexgov.CodeReviewComment, At: d.Comment.CreatedAt,
				Repo: d.Repository.FullName, IssueComment: event == "issue_comment"}
			if m := priorityRE.FindStringSubmatch(d.Comment.Body); m != nil {
				e.Priority = "p" + m[1]
			}
		} else if d.Comment.InReplyToID != 0 {
			parent, err := s.store.CodeReviewExists(c.r.Context(), w.ID, fmt.Sprintf("comment:%d", d.Comment.InReplyToID))
			if err != nil {
				return err
			}
			if parent {
				e = &codexgov.CodeReviewEvent{ID: fmt.Sprintf("reply:%d", d.Comment.ID), Kind: codexgov.CodeReviewReply, At: d.Comment.CreatedAt,
					Parent: fmt.Sprintf("comment:%d", d.Comment.InReplyToID)}
			}
		}
	}
	if e == nil {
		writeJSON(c.w, http.StatusOK, map[string]string{"status": "ignored"})
		return nil
	}
	e.Workspace = w.ID
	if e.At.IsZero() {
		e.At = s.now()
	}
	fresh, err := s.store.RecordCodeReview(c.r.Context(), *e)
	if err != nil {
		return err
	}
	status := "recorded"
	if !fresh {
		status = "duplicate"
	}
	writeJSON(c.w, http.StatusOK, map[string]string{"status": status, "kind": e.Kind})
	return nil
}

func githubAAD(ws string) string { return "github:" + ws }

// CodeReviewResponsePage is the code_review_responses route's body.
type CodeReviewResponsePage struct {
	Object   string                           `json:"object"`
	Data     []codexgov.CodeReviewResponseRow `json:"data"`
	HasMore  bool                             `json:"has_more"`
	NextPage *string                          `json:"next_page"`
}

// analyticsCodeReviewResponses answers how developers responded to the
// reviewer comments made in each bucket: replies (from the webhook) and
// reactions (as last polled).
func (s *Server) analyticsCodeReviewResponses(c *call) error {
	csvOut, err := wantCSV(c)
	if err != nil {
		return err
	}
	w, err := s.analyticsWindow(c, false)
	if err != nil {
		return err
	}
	rows, more, err := s.store.CodeReviewResponses(c.ctx, c.ws, w.period, w.from, w.to, w.cursor.Bucket, w.limit)
	if err != nil {
		return err
	}
	page := CodeReviewResponsePage{Object: "page", Data: []codexgov.CodeReviewResponseRow{}, HasMore: more}
	for _, r := range rows {
		b, _ := time.Parse(time.DateOnly, r.Bucket)
		row := r.CodeReviewResponseRow
		row.StartTime, row.EndTime = b.Unix(), b.Add(w.step).Unix()
		page.Data = append(page.Data, row)
	}
	if more && len(rows) > 0 {
		page.NextPage = nextPage(usageCursor{Bucket: rows[len(rows)-1].Bucket, Query: w.shape})
	}
	if !csvOut {
		writeJSON(c.w, http.StatusOK, page)
		return nil
	}
	cw := writeCSV(c, page.NextPage)
	cw.Write([]string{"start_time", "end_time", "replies", "reactions", "upvotes", "downvotes", "other", "engaged", "reacted", "upvoted", "downvoted", "reacted_other", "replied"})
	for _, r := range page.Data {
		x, d := r.ReactionDetails, r.CommentResponseDetails
		cw.Write(append([]string{rfc3339(r.StartTime), rfc3339(r.EndTime)}, ints(r.Replies, r.Reactions, x.Upvotes, x.Downvotes, x.Other, d.Engaged, d.Reacted, d.Upvoted, d.Downvoted, d.ReactedOther, d.Replied)...))
	}
	cw.Flush()
	return cw.Error()
}

// reactionsWindow is how long after it is made a reviewer comment's
// reactions are still read.
const reactionsWindow = 30 * 24 * time.Hour

// PollReactions reads, from GitHub's REST API with the integration's
// token, the reactions on a workspace's reviewer comments of the last 30
// days (least recently read first, at most max), and records them. It
// returns how many comments it read.
func (s *Server) PollReactions(ctx context.Context, ws string, max int) (int, error) {
	g, err := s.store.GitHubIntegration(ctx, ws)
	if err != nil {
		return 0, err
	}
	if !g.HasToken {
		return 0, codexgov.Errorf(codexgov.ECONFLICT, "the GitHub integration has no token: reactions cannot be read (GitHub sends no webhook for them); set one with PUT …/github")
	}
	token, err := s.keys.OpenSecret(githubTokenAAD(ws), g.TokenEnc)
	if err != nil {
		return 0, err
	}
	comments, err := s.store.ReviewerComments(ctx, ws, s.now().Add(-reactionsWindow), max)
	if err != nil {
		return 0, err
	}
	read := 0
	for _, cm := range comments {
		id := strings.TrimPrefix(cm.ID, "comment:")
		kind := "pulls"
		if cm.IssueComment {
			kind = "issues"
		}
		var r codexgov.CommentReactions
		for page := 1; page <= 10; page++ {
			u := strings.TrimSuffix(g.APIURL, "/") + "/repos/" + cm.Repo + "/" + kind + "/comments/" + id + "/reactions?per_page=100&page=" + strconv.Itoa(page)
			req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
			if err != nil {
				return read, err
			}
			req.Header.Set("Accept", "application/vnd.github+json")
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
			resp, err := s.github.Do(req)
			if err != nil {
				return read, fmt.Errorf("GitHub %s: %w", u, err)
			}
			var reactions []struct {
				Content string `json:"content"`
			}
			err = json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&reactions)
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				break // deleted
			}
			if resp.StatusCode != http.StatusOK || err != nil {
				return read, fmt.Errorf("GitHub %s answered %s", u, resp.Status)
			}
			for _, x := range reactions {
				switch x.Content {
				case "+1":
					r.Up++
				case "-1":
					r.Down++
				default:
					r.Other++
				}
			}
			if len(reactions) < 100 {
				break
			}
		}
		if err := s.store.SetCommentReactions(ctx, ws, cm.ID, r, s.now()); err != nil {
			return read, err
		}
		read++
	}
	return read, nil
}

func githubTokenAAD(ws string) string { return "github-token:" + ws }

// RunReactionPolls reads every integration's reactions every interval.
func (s *Server) RunReactionPolls(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, w := range s.snap.Load().Workspaces() {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			_, err := s.PollReactions(pctx, w.ID, 1000)
			cancel()
			if err != nil && codexgov.ErrorCode(err) != codexgov.ENOTFOUND && codexgov.ErrorCode(err) != codexgov.ECONFLICT && ctx.Err() == nil {
				s.log.Warn("code reviews: reading reactions failed; retried at the next interval", "workspace", w.ID, "err", err)
			}
		}
	}
}

// nextPage encodes a page cursor as the opaque next_page.
func nextPage(c usageCursor) *string {
	raw, _ := json.Marshal(c)
	next := base64.RawURLEncoding.EncodeToString(raw)
	return &next
}
