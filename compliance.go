package codexgov

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"
)

// The Compliance API's event types (OpenAI's names).
const (
	ComplianceCodexLog    = "CODEX_LOG"
	ComplianceSecurityLog = "CODEX_SECURITY_LOG"
	ComplianceAuditLog    = "AUDIT_LOG"
	ComplianceAuthLog     = "AUTH_LOG"
)

// AuthActionPrefixes are the audited actions that are sign-ins and
// credentials: AUTH_LOG records rather than AUDIT_LOG.
var AuthActionPrefixes = []string{"oauth_grant.", "device_login.", "access_token.", "api_key.", "enrollment_token.", "telemetry_token.", "sso.", "login."}

// ComplianceEventTypes are the event types, in the order they are sealed.
var ComplianceEventTypes = []string{ComplianceCodexLog, ComplianceSecurityLog, ComplianceAuditLog, ComplianceAuthLog}

// ComplianceRecord is one line of a compliance log file, in OpenAI's
// envelope.
type ComplianceRecord struct {
	// EventID is a UUID, stable for the source event: delivery is at least
	// once and clients de-duplicate on it.
	EventID         string          `json:"event_id"`
	Type            string          `json:"type"`
	Timestamp       string          `json:"timestamp"` // ISO 8601, microseconds, UTC
	Principal       ComplianceID    `json:"principal"`
	Actor           ComplianceActor `json:"actor"`
	EventType       string          `json:"event_type"`
	ClientID        string          `json:"client_id"`
	WorkspaceID     string          `json:"workspace_id"`
	RequestMetadata RequestMetadata `json:"request_metadata"`
	EventDetails    map[string]any  `json:"event_details"`
}

// ComplianceID names a principal.
type ComplianceID struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// ComplianceActor is who acted.
type ComplianceActor struct {
	Type      string `json:"type"`
	UserID    string `json:"user_id,omitempty"`
	UserEmail string `json:"user_email,omitempty"`
}

// RequestMetadata is where a request came from, when known.
type RequestMetadata struct {
	ClientIP        string `json:"client_ip"`
	ClientUserAgent string `json:"client_user_agent"`
}

// ComplianceFile is one sealed, immutable log file: the records of one
// workspace and event type that arrived in one interval.
type ComplianceFile struct {
	ID        string    `json:"id"`
	Workspace string    `json:"-"`
	EventType string    `json:"event_type"`
	EndTime   time.Time `json:"end_time"`
	FileName  string    `json:"file_name"`
	FileSize  int64     `json:"file_size"`
	SHA256    string    `json:"file_sha256"`
	// The manifest's fields: Seq numbers the workspace's files of the
	// type from 1; StartTime is the earliest record's arrival; PrevHash is
	// the previous manifest's SHA-256 ("" for the first).
	Seq        int64     `json:"-"`
	StartTime  time.Time `json:"-"`
	EventCount int64     `json:"-"`
	// MaxEventTime is the latest record timestamp in the file.
	MaxEventTime time.Time `json:"-"`
	PrevHash     string    `json:"-"`
	// Manifest is the signed manifest (canonical JSON) and Signature its
	// detached JWS.
	Manifest  []byte `json:"-"`
	Signature string `json:"-"`
	// Cursor is where the file's sources end (the next file starts after
	// it).
	Cursor string `json:"-"`
	// Actors are the users whose records the file holds, "\nEMAIL\n…\n":
	// a user's legal hold keeps the files that name them.
	Actors string `json:"-"`
	// Replaces is the file this one replaced after a deletion, and
	// ReplacedBy the file that replaced this one: a replaced file keeps
	// its manifest (its link in the chain) but no body, and is listed only
	// when asked for.
	Replaces   string `json:"replaces,omitempty"`
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Erasure removes records: a Codex task's (Session), or a person's (User,
// an email: their Codex, security and sign-in records; the admin changes
// they made stay in the audit). Owner is whose legal hold blocks it.
type Erasure struct {
	Session string
	User    string
	Owner   string
}

// ErasureResult is what an erasure removed and which files it re-sealed.
type ErasureResult struct {
	DeletedEvents int64          `json:"deleted_events"`
	Files         []ReplacedFile `json:"replaced_files"`
}

// ReplacedFile is a sealed file an erasure replaced.
type ReplacedFile struct {
	ID         string `json:"id"`
	EventType  string `json:"event_type"`
	ReplacedBy string `json:"replaced_by"`
	Removed    int64  `json:"removed_records"`
}

// ComplianceReplacement is one file an erasure re-seals: the new file and
// its body, replacing Old.
type ComplianceReplacement struct {
	Old, New *ComplianceFile
	Body     []byte
}

// ComplianceFilter lists files of some event types whose end_time is
// after After (and before Before when set), by end_time.
type ComplianceFilter struct {
	EventTypes    []string
	After, Before time.Time
	Limit         int
	// IncludeReplaced lists files replaced after a deletion too (codexgov's
	// own parameter: pull needs their manifests to follow the chain).
	IncludeReplaced bool
}

// LegalHold keeps records from expiring: a user's (User set) or a whole
// workspace's, with its reason, until released. Setting and releasing one
// is audited.
type LegalHold struct {
	ID         string    `json:"id"`
	Workspace  string    `json:"workspace"`
	User       string    `json:"user,omitempty"` // "" holds the whole workspace
	Reason     string    `json:"reason"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ReleasedAt time.Time `json:"released_at,omitzero"`
}

// LegalHoldInput sets a hold.
type LegalHoldInput struct {
	User   string `json:"user,omitempty"`
	Reason string `json:"reason"`
}

// Expired counts what a retention run removed.
type Expired struct {
	Files      int64 `json:"files"`
	Events     int64 `json:"events"`
	Partitions int64 `json:"partitions"`
}

// CodexTask is a Codex session as the Compliance API's codex_tasks show
// it: seen by telemetry (or, later, the gateway).
type CodexTask struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	CreatedByID string `json:"created_by_id"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
	// Identity is who ran it (codexgov's own field).
	Identity string `json:"identity"`
}

// TaskPage is a page of tasks, most recently updated first.
type TaskPage struct {
	Data    []*CodexTask `json:"data"`
	HasMore bool         `json:"has_more"`
	Cursor  *string      `json:"cursor"`
}

// The SIEM sink kinds.
const (
	SinkSplunkHEC = "splunk_hec"
	SinkSyslog    = "syslog"
	SinkWebhook   = "webhook"
)

// ComplianceSink pushes a workspace's sealed compliance records to a SIEM,
// at least once, from a durable cursor per event type.
type ComplianceSink struct {
	ID         string   `json:"id"`
	Workspace  string   `json:"workspace"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	// SecretEnc is the HEC token or the webhook's HMAC secret, sealed
	// with the master key; never shown.
	SecretEnc []byte `json:"-"`
	HasSecret bool   `json:"has_secret"`
	// CACert is a PEM CA bundle the receiver's certificate is checked
	// against (the system's roots when empty).
	CACert string `json:"ca_cert,omitempty"`
	// Cursor is, per event type, the next record to deliver.
	Cursor          map[string]SinkCursor `json:"cursor"`
	Paused          bool                  `json:"paused"`
	Attempts        int                   `json:"attempts"`
	NextAttempt     time.Time             `json:"next_attempt_at,omitzero"`
	LastError       string                `json:"last_error,omitempty"`
	LastErrorAt     time.Time             `json:"last_error_at,omitzero"`
	LastDeliveredAt time.Time             `json:"last_delivered_at,omitzero"`
	Delivered       int64                 `json:"delivered"`
	DeadLetters     int64                 `json:"dead_letters"`
	CreatedAt       time.Time             `json:"created_at"`
	// Lag is what is sealed and not yet delivered (filled when listed).
	Lag *SinkLag `json:"lag,omitempty"`
}

// SinkCursor is where a sink's delivery of one event type stands: every
// record of the files before Seq, and the first Line records of file Seq,
// are delivered.
type SinkCursor struct {
	Seq  int64 `json:"seq"`
	Line int64 `json:"line"`
}

// SinkLag is a sink's backlog: sealed records not yet delivered, and the
// end_time of the oldest file holding some.
type SinkLag struct {
	Records int64     `json:"records"`
	Oldest  time.Time `json:"oldest_end_time,omitzero"`
	Seconds float64   `json:"seconds"`
}

// SinkInput creates a sink.
type SinkInput struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	URL        string   `json:"url"`
	Secret     string   `json:"secret,omitempty"`
	CACert     string   `json:"ca_cert,omitempty"`
	EventTypes []string `json:"event_types,omitempty"`
}

// DeadLetter is a batch a sink's receiver refused for good (a 4xx other
// than 408 and 429): kept here, skipped by the cursor.
type DeadLetter struct {
	Sink      string    `json:"sink"`
	EventType string    `json:"event_type"`
	File      string    `json:"file_id"`
	Line      int64     `json:"line"`
	Count     int64     `json:"count"`
	Error     string    `json:"error"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a sink's input and fills its defaults: every event type
// when none is named. Errors name the field and say what is valid.
func (in *SinkInput) Validate() error {
	if err := CheckName("/name", in.Name); err != nil {
		return err
	}
	if len(in.EventTypes) == 0 {
		in.EventTypes = slices.Clone(ComplianceEventTypes)
	}
	for i, t := range in.EventTypes {
		if !slices.Contains(ComplianceEventTypes, t) {
			return Invalid(fmt.Sprintf("/event_types/%d", i), fmt.Sprintf("%q is not an event type; want CODEX_LOG, CODEX_SECURITY_LOG, AUDIT_LOG or AUTH_LOG", t))
		}
	}
	u, err := url.Parse(in.URL)
	if err != nil || u.Host == "" {
		return Invalid("/url", fmt.Sprintf("%q is not a URL", in.URL))
	}
	loopback := u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()
	switch in.Kind {
	case SinkSplunkHEC, SinkWebhook:
		if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
			return Invalid("/url", "want an https:// URL (http:// only to a loopback address): the records and the "+map[string]string{SinkSplunkHEC: "HEC token", SinkWebhook: "signature"}[in.Kind]+" travel in it")
		}
		if in.Secret == "" || len(in.Secret) > 1024 {
			what := "the HEC token Splunk issued for this input"
			if in.Kind == SinkWebhook {
				what = "the shared secret the receiver checks the HMAC-SHA256 signature with (32 characters or more)"
			}
			return Invalid("/secret", "required: "+what+" (at most 1024 characters)")
		}
		if in.Kind == SinkWebhook && len(in.Secret) < 32 {
			return Invalid("/secret", "a webhook secret needs 32 characters or more (for example: openssl rand -hex 32)")
		}
	case SinkSyslog:
		if u.Scheme != "tls" || u.Port() == "" || u.Path != "" {
			return Invalid("/url", "want tls://HOST:PORT (RFC 5425: syslog over TLS, usually port 6514)")
		}
		if in.Secret != "" {
			return Invalid("/secret", "a syslog sink takes no secret: the receiver is checked by its certificate")
		}
	default:
		return Invalid("/kind", fmt.Sprintf("%q is not a sink kind; want splunk_hec, syslog or webhook", in.Kind))
	}
	if in.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(in.CACert)) {
			return Invalid("/ca_cert", "not a PEM certificate bundle")
		}
	}
	return nil
}

// Invalid is an EINVALID error naming one field (a JSON pointer).
func Invalid(field, msg string) error {
	return &Error{Code: EINVALID, Message: msg, Details: []Detail{{Field: field, Message: msg}}}
}
