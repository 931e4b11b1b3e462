package codexgov

import (
	"strings"
	"time"
)

// The Analytics API's client_id of each Codex originator: the one table
// both the Analytics and the Compliance API map surfaces with.
var originatorClients = map[string]string{
	"codex_cli_rs":          "CODEX_CLI",
	"codex_tui":             "CODEX_CLI",
	"codex_exec":            "CODEX_SERVICE_EXEC",
	"codex_vscode":          "CODEX_IDE_VSCODE",
	"codex_jetbrains":       "CODEX_IDE_JETBRAINS",
	"codex_chatgpt_desktop": "CODEX_DESKTOP_APP",
	"codex_sdk_ts":          "CODEX_SDK",
	"codex_github_action":   "CODEX_GITHUB_ACTION",
}

// AnalyticsUnknownClient is the client_id of an originator the table does
// not know (OpenAI's name).
const AnalyticsUnknownClient = "CODEX_UNKNOWN_DEFAULT"

// AnalyticsClientID maps Codex's originator to the Analytics API's
// client_id.
func AnalyticsClientID(originator string) string {
	if c, ok := originatorClients[strings.ToLower(originator)]; ok {
		return c
	}
	return AnalyticsUnknownClient
}

// KnownClientID maps an originator the table knows; ok is false otherwise.
func KnownClientID(originator string) (string, bool) {
	c, ok := originatorClients[strings.ToLower(originator)]
	return c, ok
}

// UsageCounters are the Analytics API's usage counters.
type UsageCounters struct {
	Threads                 int64 `json:"threads"`
	Turns                   int64 `json:"turns"`
	UncachedTextInputTokens int64 `json:"uncached_text_input_tokens"`
	CachedTextInputTokens   int64 `json:"cached_text_input_tokens"`
	TextOutputTokens        int64 `json:"text_output_tokens"`
	TextTotalTokens         int64 `json:"text_total_tokens"`
}

// UsageClient is one client's counters in a usage row.
type UsageClient struct {
	ClientID string `json:"client_id"`
	UsageCounters
}

// UsageModel is one model's counters in a usage row.
type UsageModel struct {
	Model string `json:"model"`
	UsageCounters
}

// UsageActor is who a per-user usage row is about.
type UsageActor struct {
	Type   string `json:"type"`
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
}

// UsageRow is one bucket (day or week) of one user's usage, or of the
// whole workspace's (UserID and Actor nil).
type UsageRow struct {
	StartTime int64         `json:"start_time"`
	EndTime   int64         `json:"end_time"`
	UserID    *string       `json:"user_id"`
	Actor     *UsageActor   `json:"actor"`
	Totals    UsageCounters `json:"totals"`
	Clients   []UsageClient `json:"clients"`
	Models    []UsageModel  `json:"models"`
	// EstimatedCostUSD is from the workspace's price table (there are no
	// credits).
	EstimatedCostUSD float64 `json:"estimated_cost_usd"`
}

// UsageRollup is one stored rollup row: a period ("day" or "week"), its
// bucket (the UTC date it starts), an identity ("*" for the workspace),
// a client and a model ("*" for all of them).
type UsageRollup struct {
	Period, Bucket, Identity, Client, Model string
	UsageCounters
	// ReasoningTokens are kept for the cost estimate.
	ReasoningTokens int64
}

// UsageQuery selects rollups: a period, buckets in [From, To) (UTC dates),
// per user (Workspace false) or per workspace, after a cursor
// (bucket, identity), at most Limit (bucket, identity) pairs.
type UsageQuery struct {
	Period      string
	From, To    string
	Workspace   bool
	AfterBucket string
	AfterIdent  string
	Limit       int
}

// AnalyticsRebuild is the body of POST …/analytics/rebuild.
type AnalyticsRebuild struct {
	// Since is a UTC date (YYYY-MM-DD): the rollups are recomputed from the
	// Monday of its week.
	Since string `json:"since"`
}

// AnalyticsRebuilt is what a rebuild did.
type AnalyticsRebuilt struct {
	From   string `json:"from"`
	Events int64  `json:"events"`
}

// GitHubIntegration is a workspace's GitHub webhook for code-review
// analytics: the accounts whose reviews count (the Codex connector bot,
// say) and the webhook secret (sealed, never shown).
type GitHubIntegration struct {
	Workspace string    `json:"workspace"`
	Reviewers []string  `json:"reviewers"`
	HasSecret bool      `json:"has_secret"`
	SecretEnc []byte    `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
	// APIURL is GitHub's REST API (https://api.github.com, or an
	// Enterprise Server's https://HOST/api/v3); TokenEnc the sealed token
	// reactions are read with (GitHub sends no webhook for reactions).
	APIURL   string `json:"api_url"`
	HasToken bool   `json:"has_token"`
	TokenEnc []byte `json:"-"`
}

// GitHubIntegrationInput sets it: the secret GitHub signs deliveries
// with (X-Hub-Signature-256) and the reviewer logins.
type GitHubIntegrationInput struct {
	WebhookSecret string   `json:"webhook_secret"`
	Reviewers     []string `json:"reviewers"`
	// APIURL defaults to https://api.github.com; Token (read access to
	// the repositories' pull requests) enables reaction polling.
	APIURL string `json:"api_url,omitempty"`
	Token  string `json:"token,omitempty"`
}

// The kinds of code-review events.
const (
	CodeReviewReview  = "review"
	CodeReviewComment = "comment"
	CodeReviewReply   = "reply"
)

// CodeReviewEvent is one review, review comment or reply a webhook
// delivered; ID is unique per GitHub object ("comment:123").
type CodeReviewEvent struct {
	Workspace string
	ID        string
	Kind      string
	// Priority is "p0", "p1", "p2" or "" (a comment's).
	Priority string
	At       time.Time
	// A reviewer comment's repository ("owner/name") and whether it is a
	// review comment or a pull request's issue comment (where its
	// reactions are read); a reply's parent comment ID.
	Repo         string
	IssueComment bool
	Parent       string
}

// CommentReactions are a reviewer comment's reactions as last read.
type CommentReactions struct {
	Up, Down, Other int64
}

// ReviewerComment is a reviewer comment whose reactions are polled.
type ReviewerComment struct {
	Workspace, ID, Repo string
	IssueComment        bool
}

// CodeReviewResponseRow is a code_review_responses row (OpenAI's shape).
type CodeReviewResponseRow struct {
	StartTime              int64                  `json:"start_time"`
	EndTime                int64                  `json:"end_time"`
	Replies                int64                  `json:"replies"`
	Reactions              int64                  `json:"reactions"`
	ReactionDetails        ReactionDetails        `json:"reaction_details"`
	CommentResponseDetails CommentResponseDetails `json:"comment_response_details"`
}

// ReactionDetails counts reactions on reviewer comments.
type ReactionDetails struct {
	Upvotes   int64 `json:"upvotes"`
	Downvotes int64 `json:"downvotes"`
	Other     int64 `json:"other"`
}

// CommentResponseDetails counts reviewer comments by how developers
// responded.
type CommentResponseDetails struct {
	Engaged      int64 `json:"engaged"`
	Reacted      int64 `json:"reacted"`
	Upvoted      int64 `json:"upvoted"`
	Downvoted    int64 `json:"downvoted"`
	ReactedOther int64 `json:"reacted_other"`
	Replied      int64 `json:"replied"`
}

// CodeReviewResponses is one bucket's responses (the store's row).
type CodeReviewResponses struct {
	Bucket string
	CodeReviewResponseRow
}

// CodeReviewRollup is one bucket of a workspace's code-review counters.
type CodeReviewRollup struct {
	Bucket              string
	Reviews, Comments   int64
	P0, P1, P2, Replies int64
}

// CodeReviewRow is a code_reviews row (OpenAI's shape).
type CodeReviewRow struct {
	StartTime          int64          `json:"start_time"`
	EndTime            int64          `json:"end_time"`
	PullRequestReviews int64          `json:"pull_request_reviews"`
	Comments           int64          `json:"comments"`
	CommentDetails     CommentDetails `json:"comment_details"`
}

// CommentDetails counts comments by priority.
type CommentDetails struct {
	P0 int64 `json:"p0"`
	P1 int64 `json:"p1"`
	P2 int64 `json:"p2"`
}

// ActiveUsers is how many people used a client in a bucket (the
// dashboard's active users).
type ActiveUsers struct {
	Bucket, Client string
	Users          int64
}

// UserRank is one person's usage over a window: their totals, the
// buckets they were active in, and their longest run of consecutive
// active buckets.
type UserRank struct {
	Identity               string
	Threads, Turns, Tokens int64
	Active                 int64
	Streak                 int
}
