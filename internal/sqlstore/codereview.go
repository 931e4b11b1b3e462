package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// PutGitHubIntegration sets a workspace's GitHub integration, audited;
// the secret arrives sealed.
func (s *DB) PutGitHubIntegration(ctx context.Context, ws string, reviewers []string, secretEnc []byte, apiURL string, tokenEnc []byte) (*codexgov.GitHubIntegration, error) {
	if len(reviewers) == 0 || len(reviewers) > 50 {
		return nil, invalid("/reviewers", "name 1 to 50 GitHub accounts whose reviews count (the Codex connector's bot, for example)")
	}
	clean := make([]string, 0, len(reviewers))
	for i, r := range reviewers {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" || len(r) > 100 || strings.ContainsAny(r, " /\\\"") {
			return nil, invalid("/reviewers/"+strconv.Itoa(i), "%q is not a GitHub login", reviewers[i])
		}
		clean = append(clean, r)
	}
	slices.Sort(clean)
	clean = slices.Compact(clean)
	g := &codexgov.GitHubIntegration{Workspace: ws, Reviewers: clean, HasSecret: true, SecretEnc: secretEnc, UpdatedAt: fromMicros(s.now()), APIURL: apiURL, HasToken: len(tokenEnc) > 0, TokenEnc: tokenEnc}
	err := s.audited(ctx, ws, "github_integration.put", "github_integration", false, func(tx *sql.Tx) (any, any, error) {
		if _, err := workspace(ctx, tx, ws); err != nil {
			return nil, nil, err
		}
		b, _ := json.Marshal(clean)
		if _, err := tx.ExecContext(ctx, `DELETE FROM github_integrations WHERE workspace_id = $1`, ws); err != nil {
			return nil, nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO github_integrations (workspace_id, reviewers, secret_enc, updated_at, api_url, token_enc) VALUES ($1, $2, $3, $4, $5, $6)`,
			ws, string(b), base64.StdEncoding.EncodeToString(secretEnc), g.UpdatedAt.UnixMicro(), apiURL, base64.StdEncoding.EncodeToString(tokenEnc))
		return nil, map[string]any{"reviewers": clean, "api_url": apiURL, "token": len(tokenEnc) > 0}, err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// GitHubIntegration returns a workspace's GitHub integration.
func (s *DB) GitHubIntegration(ctx context.Context, ws string) (*codexgov.GitHubIntegration, error) {
	g := &codexgov.GitHubIntegration{Workspace: ws}
	var reviewers, secret, token string
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT reviewers, secret_enc, updated_at, api_url, token_enc FROM github_integrations WHERE workspace_id = $1`, ws).Scan(&reviewers, &secret, &updated, &g.APIURL, &token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("workspace %q has no GitHub integration", ws)
	}
	if err != nil {
		return nil, dbError("github integration", err)
	}
	json.Unmarshal([]byte(reviewers), &g.Reviewers)
	g.SecretEnc, _ = base64.StdEncoding.DecodeString(secret)
	g.TokenEnc, _ = base64.StdEncoding.DecodeString(token)
	g.HasSecret, g.HasToken, g.UpdatedAt = len(g.SecretEnc) > 0, len(g.TokenEnc) > 0, fromMicros(updated)
	return g, nil
}

// CodeReviewExists reports whether a code-review event is stored.
func (s *DB) CodeReviewExists(ctx context.Context, ws, id string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM code_review_events WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&n)
	return n > 0, dbError("code reviews", err)
}

// RecordCodeReview stores a code-review event once (a redelivery adds
// nothing) and, when new, adds it to the day and week rollups in the same
// transaction. It reports whether it was new.
func (s *DB) RecordCodeReview(ctx context.Context, e codexgov.CodeReviewEvent) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, dbError("code reviews", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO code_review_events (workspace_id, id, kind, priority, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		e.Workspace, e.ID, e.Kind, e.Priority, e.At.UnixMicro())
	if err != nil {
		return false, dbError("code reviews", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	switch {
	case e.Kind == codexgov.CodeReviewComment:
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_review_comments (workspace_id, id, repo, issue_comment, day, week, at, replies, up, down, other, polled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, 0, 0) ON CONFLICT DO NOTHING`,
			e.Workspace, e.ID, e.Repo, e.IssueComment, dayBucket(e.At), weekBucket(e.At), e.At.UnixMicro()); err != nil {
			return false, dbError("code reviews", err)
		}
	case e.Kind == codexgov.CodeReviewReply && e.Parent != "":
		if _, err := tx.ExecContext(ctx, `UPDATE code_review_comments SET replies = replies + 1 WHERE workspace_id = $1 AND id = $2`, e.Workspace, e.Parent); err != nil {
			return false, dbError("code reviews", err)
		}
	}
	var d [6]int64 // reviews, comments, p0, p1, p2, replies
	switch e.Kind {
	case codexgov.CodeReviewReview:
		d[0] = 1
	case codexgov.CodeReviewComment:
		d[1] = 1
		switch e.Priority {
		case "p0":
			d[2] = 1
		case "p1":
			d[3] = 1
		case "p2":
			d[4] = 1
		}
	case codexgov.CodeReviewReply:
		d[5] = 1
	}
	for _, pb := range [][2]string{{"day", dayBucket(e.At)}, {"week", weekBucket(e.At)}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_review_rollups (workspace_id, period, bucket, reviews, comments, p0, p1, p2, replies) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (workspace_id, period, bucket) DO UPDATE SET reviews = code_review_rollups.reviews + excluded.reviews, comments = code_review_rollups.comments + excluded.comments,
			p0 = code_review_rollups.p0 + excluded.p0, p1 = code_review_rollups.p1 + excluded.p1, p2 = code_review_rollups.p2 + excluded.p2, replies = code_review_rollups.replies + excluded.replies`,
			e.Workspace, pb[0], pb[1], d[0], d[1], d[2], d[3], d[4], d[5]); err != nil {
			return false, dbError("code reviews", err)
		}
	}
	return true, commitError("code reviews", tx.Commit())
}

// CodeReviewRollups reads a page of a workspace's code-review rollups:
// buckets in [from, to) after the cursor, by bucket; more says whether
// buckets follow.
func (s *DB) CodeReviewRollups(ctx context.Context, ws, period, from, to, after string, limit int) ([]codexgov.CodeReviewRollup, bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT bucket, reviews, comments, p0, p1, p2, replies FROM code_review_rollups WHERE workspace_id = $1 AND period = $2 AND bucket >= $3 AND bucket < $4 AND bucket > $5
		ORDER BY bucket LIMIT `+strconv.Itoa(limit+1), ws, period, from, to, after)
	if err != nil {
		return nil, false, dbError("code reviews", err)
	}
	defer rows.Close()
	var out []codexgov.CodeReviewRollup
	for rows.Next() {
		var r codexgov.CodeReviewRollup
		if err := rows.Scan(&r.Bucket, &r.Reviews, &r.Comments, &r.P0, &r.P1, &r.P2, &r.Replies); err != nil {
			return nil, false, dbError("code reviews", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, dbError("code reviews", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// ReviewerComments lists the reviewer comments made since a time, whose
// reactions a poll reads, least recently polled first.
func (s *DB) ReviewerComments(ctx context.Context, ws string, since time.Time, limit int) ([]codexgov.ReviewerComment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, repo, issue_comment FROM code_review_comments WHERE workspace_id = $1 AND at >= $2 ORDER BY polled_at, id LIMIT `+strconv.Itoa(limit), ws, since.UnixMicro())
	if err != nil {
		return nil, dbError("code reviews", err)
	}
	defer rows.Close()
	var out []codexgov.ReviewerComment
	for rows.Next() {
		c := codexgov.ReviewerComment{Workspace: ws}
		if err := rows.Scan(&c.ID, &c.Repo, &c.IssueComment); err != nil {
			return nil, dbError("code reviews", err)
		}
		out = append(out, c)
	}
	return out, dbError("code reviews", rows.Err())
}

// SetCommentReactions records a reviewer comment's reactions as read now.
func (s *DB) SetCommentReactions(ctx context.Context, ws, id string, r codexgov.CommentReactions, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE code_review_comments SET up = $1, down = $2, other = $3, polled_at = $4 WHERE workspace_id = $5 AND id = $6`, r.Up, r.Down, r.Other, now.UnixMicro(), ws, id)
	return dbError("code reviews", err)
}

// CodeReviewResponses sums, per bucket in [from, to) after the cursor,
// the replies and reactions to the reviewer comments made in it, and
// counts the comments by response; more says whether buckets follow.
// It reads one row per reviewer comment (never raw telemetry).
func (s *DB) CodeReviewResponses(ctx context.Context, ws, period, from, to, after string, limit int) ([]codexgov.CodeReviewResponses, bool, error) {
	col := "day"
	if period == "week" {
		col = "week"
	}
	one := func(cond string) string { return `SUM(CASE WHEN ` + cond + ` THEN 1 ELSE 0 END)` }
	rows, err := s.db.QueryContext(ctx, `SELECT `+col+`, SUM(replies), SUM(up), SUM(down), SUM(other), `+one("replies > 0 OR up + down + other > 0")+`, `+one("up + down + other > 0")+`, `+one("up > 0")+`, `+one("down > 0")+`, `+one("other > 0")+`, `+one("replies > 0")+`
		FROM code_review_comments WHERE workspace_id = $1 AND `+col+` >= $2 AND `+col+` < $3 AND `+col+` > $4 GROUP BY `+col+` ORDER BY `+col+` LIMIT `+strconv.Itoa(limit+1), ws, from, to, after)
	if err != nil {
		return nil, false, dbError("code reviews", err)
	}
	defer rows.Close()
	var out []codexgov.CodeReviewResponses
	for rows.Next() {
		var r codexgov.CodeReviewResponses
		d, c := &r.ReactionDetails, &r.CommentResponseDetails
		if err := rows.Scan(&r.Bucket, &r.Replies, &d.Upvotes, &d.Downvotes, &d.Other, &c.Engaged, &c.Reacted, &c.Upvoted, &c.Downvoted, &c.ReactedOther, &c.Replied); err != nil {
			return nil, false, dbError("code reviews", err)
		}
		r.Reactions = d.Upvotes + d.Downvotes + d.Other
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, dbError("code reviews", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
