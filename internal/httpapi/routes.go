package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/codexgov/codexgov"
)

// Auth is how a route authenticates its caller. The first four are checked
// before the handler runs (Authenticates); the others by the handler, with
// the proof their protocol carries.
type Auth int

// The kinds of authentication.
const (
	Public      Auth = iota // no credential
	Client                  // a client credential: an access token, an enrollment token, a codexgov login
	Key                     // an API key with Route.Scope, or a person's login with that scope through their roles
	Any                     // any credential: an API key, an access token, an enrollment token, a person's login
	Session                 // the admin web session cookie, and on a POST its CSRF token and Origin
	ConfigToken             // the configuration server's OAuth access token (Bearer)
	PathToken               // an enrollment token in the path
	Protocol                // the protocol's own proof: a sealed request or state, PKCE, a device code, a refresh token
)

// Authenticates reports whether the route table checks the credential
// before the handler runs.
func (a Auth) Authenticates() bool { return a == Client || a == Key || a == Any }

var authNames = map[Auth]string{Public: "public", Client: "client", Key: "key", Any: "any", Session: "session", ConfigToken: "config-token", PathToken: "path-token", Protocol: "protocol"}

func (a Auth) String() string { return authNames[a] }

// Errors is the format a route's errors take.
type Errors int

// The error formats.
const (
	errorsUnset Errors = iota
	JSON               // the API's ErrorBody
	OAuth              // RFC 6749 §5.2 {"error","error_description"}
	SCIM               // RFC 7644 §3.12 SCIM error schema
	OTLP               // OTLP/HTTP: a google.rpc.Status in the request's encoding
	Page               // an HTML page
	Analytics          // the Analytics API's: 422 {"detail":[{"loc","msg","type"}]} for bad parameters, else the API's ErrorBody
)

var errorsNames = map[Errors]string{JSON: "json", OAuth: "oauth", SCIM: "scim", Page: "html", OTLP: "otlp", Analytics: "analytics"}

func (e Errors) String() string { return errorsNames[e] }

// The surfaces: each route belongs to one, and its handler lives in
// SURFACE_handlers.go (TestHandlersLiveWithTheirSurface).
const (
	SurfaceOps          = "ops"          // health, readiness, metrics, JWKS, OpenAPI
	SurfaceClient       = "client"       // what machines fetch and report
	SurfaceAdmin        = "admin"        // the admin REST API
	SurfaceConfigServer = "configserver" // Codex's configuration server: OAuth authorization server and bundles
	SurfaceDevice       = "device"       // RFC 8628 device login for codexgov login
	SurfaceSSO          = "sso"          // single sign-on through a workspace's identity provider
	SurfaceWeb          = "web"          // the admin web pages' sign-in and sign-out
	SurfaceConsole      = "console"      // the admin console's pages
	SurfaceSCIM         = "scim"         // SCIM 2.0 provisioning
	SurfaceTelemetry    = "telemetry"    // the OTLP/HTTP receiver Codex exports to
	SurfaceCompliance   = "compliance"   // the Compliance API in OpenAI's shape
	SurfaceAnalytics    = "analytics"    // the Analytics API in OpenAI's shape
	SurfaceGateway      = "gateway"      // the model gateway Codex's model requests go through
)

// Route is one entry of the route table.
type Route struct {
	Method  string
	Path    string
	Auth    Auth
	Scope   codexgov.Scope
	Summary string
	// Status is the success status (200 when 0).
	Status int
	// In and Out are the documented request and response bodies.
	In, Out any
	// Query lists the documented query parameters.
	Query []Param
	// Raw marks a route that writes its own non-JSON body.
	Raw bool
	// Stream marks a raw route whose body can outlast the request
	// deadline: its handler bounds each database read and each write.
	Stream bool
	// Surface is the part of the server the route belongs to.
	Surface string
	// Errors is the format of the route's errors. SCIM routes take the
	// workspace from their key.
	Errors Errors

	handle func(s *Server, c *call) (any, error)
	raw    func(s *Server, c *call) error
}

// Param is a documented query parameter.
type Param struct {
	Name, Description string
}

const ws = "/api/v1/workspaces/{ws}"

// Routes is the route table: everything the server answers.
func Routes() []Route {
	rts := routeTable()
	for i := range rts {
		if rts[i].paginated() {
			rts[i].Query = append(rts[i].Query, Param{"limit", fmt.Sprintf("page size, 1 to %d (default %d)", maxPage, maxPage)},
				Param{"after", "cursor: the " + NextCursorHeader + " header of the previous page"})
		}
	}
	return rts
}

// paginated reports whether the route lists records: a GET whose answer
// is an array is served a page at a time.
func (rt *Route) paginated() bool {
	return rt.Method == "GET" && rt.Out != nil && reflect.TypeOf(rt.Out).Kind() == reflect.Slice
}

func routeTable() []Route {
	return []Route{
		{Method: "GET", Path: "/healthz", Auth: Public, Surface: SurfaceOps, Errors: JSON, Summary: "Liveness and database reachability", Out: Health{}, handle: (*Server).health},
		{Method: "GET", Path: "/readyz", Auth: Public, Surface: SurfaceOps, Errors: JSON, Summary: "Readiness for a load balancer: 503 while the server drains on shutdown", Out: Health{}, Raw: true, raw: (*Server).ready},
		{Method: "GET", Path: "/metrics", Auth: Public, Surface: SurfaceOps, Errors: JSON, Summary: "Prometheus metrics", Raw: true, raw: (*Server).metrics},
		{Method: "GET", Path: "/.well-known/jwks.json", Auth: Public, Surface: SurfaceOps, Errors: JSON, Summary: "Public keys that verify distributed documents", Raw: true, raw: (*Server).jwks},
		{Method: "GET", Path: "/api/v1/openapi.json", Auth: Public, Surface: SurfaceOps, Errors: JSON, Summary: "This API's OpenAPI 3.1 document", Raw: true, raw: (*Server).openapi},

		{Method: "GET", Path: "/api/v1/client/requirements", Auth: Client, Surface: SurfaceClient, Errors: JSON, Summary: "The caller's effective requirements.toml (ETag, detached JWS)", Raw: true, raw: (*Server).clientRequirements},
		{Method: "GET", Path: "/api/v1/client/defaults", Auth: Client, Surface: SurfaceClient, Errors: JSON, Summary: "The caller's managed defaults (managed_config.toml)", Raw: true, raw: (*Server).clientDefaults},
		{Method: "POST", Path: "/api/v1/client/sync-reports", Auth: Client, Surface: SurfaceClient, Errors: JSON, Status: 204, Summary: "codexgov sync reports a run: machine, Codex version, applied policy hash, result (feeds the devices list)", In: codexgov.SyncReport{}, handle: (*Server).syncReport},
		{Method: "GET", Path: complianceBase + "/logs", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Summary: "List sealed compliance log files by end_time (OpenAI's Compliance API)",
			Query: []Param{{"event_type", "required, repeatable: CODEX_LOG, CODEX_SECURITY_LOG, AUDIT_LOG, AUTH_LOG"}, {"after", "required: files whose end_time is later (ISO 8601 with a time zone)"}, {"before", "files whose end_time is earlier"}, {"limit", "1 to 100 (default 100)"},
				{"include_replaced", "codexgov's own: true lists files replaced after a deletion too (their manifests keep the chain; their bodies are gone)"}},
			Out: ComplianceLogList{}, handle: (*Server).complianceLogs},
		{Method: "GET", Path: complianceBase + "/logs/{file}", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Status: 307, Summary: "Redirect (307) to a signed URL that serves the file's JSON Lines for a minute, with no bearer token",
			Raw: true, raw: (*Server).complianceLog},
		{Method: "GET", Path: complianceBase + "/logs/{file}/manifest", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Summary: "A file's signed manifest (codexgov's own: the chain that compliance verify checks)",
			Out: ComplianceManifest{}, handle: (*Server).complianceManifest},
		{Method: "GET", Path: complianceBase + "/max_event_time", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Summary: "The latest sealed event time per event type",
			Query: []Param{{"event_type", "required, repeatable"}}, Out: ComplianceMaxEventTime{}, handle: (*Server).complianceMaxEventTime},
		{Method: "GET", Path: complianceBase + "/codex_tasks", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Summary: "Codex sessions seen by telemetry, most recently updated first; the title is the first prompt, or (redacted) when prompts are not kept",
			Query: []Param{{"limit", "1 to 30 (default 30)"}, {"cursor", "the previous page's cursor"}}, Out: codexgov.TaskPage{}, handle: (*Server).codexTasks},
		{Method: "GET", Path: complianceBase + "/codex_tasks/{task}", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceRead, Summary: "One Codex session", Out: codexgov.CodexTask{}, handle: (*Server).codexTask},
		{Method: "DELETE", Path: complianceBase + "/codex_tasks/{task}", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceDelete, Summary: "Delete a Codex session's records: raw events, and every sealed file holding them re-sealed as a new link of its chain (409 under a legal hold)",
			Out: codexgov.ErasureResult{}, handle: (*Server).deleteCodexTask},
		{Method: "DELETE", Path: complianceBase + "/users/{user}/records", Auth: Key, Surface: SurfaceCompliance, Errors: JSON, Scope: codexgov.ScopeComplianceDelete, Summary: "Erase a person's records (codexgov's own): their Codex, security and sign-in records, raw and sealed (files re-sealed); the admin changes they made stay (409 under a legal hold)",
			Out: codexgov.ErasureResult{}, handle: (*Server).eraseUser},
		{Method: "GET", Path: analyticsBase + "/usage", Auth: Key, Surface: SurfaceAnalytics, Errors: Analytics, Scope: codexgov.ScopeAnalyticsRead, Summary: "Codex usage per user (or per workspace with group=workspace) per day or week, from rollups kept as telemetry is stored (OpenAI's Analytics API)",
			Query: []Param{{"start_time", "Unix seconds, inclusive (default: 30 days before the end)"}, {"end_time", "Unix seconds, exclusive (default: the end of today, UTC)"}, {"group_by", "day (default) or week"},
				{"limit", "1 to 30000 rows (default 1000)"}, {"page", "the previous page's next_page"}, {"group", "workspace: one workspace row per bucket"}, {"format", "csv (or Accept: text/csv): per row a line of totals, then one per client and per model (column breakdown); the next page in Codexgov-Next-Page"}},
			Out: UsagePage{}, Raw: true, raw: (*Server).analyticsUsage},
		{Method: "GET", Path: analyticsBase + "/code_reviews", Auth: Key, Surface: SurfaceAnalytics, Errors: Analytics, Scope: codexgov.ScopeAnalyticsRead, Summary: "Code reviews by the workspace's reviewer accounts per day or week: pull request reviews, comments, and comments by priority (from the GitHub webhook)",
			Query: []Param{{"start_time", "Unix seconds, inclusive"}, {"end_time", "Unix seconds, exclusive"}, {"group_by", "day or week"}, {"limit", "1 to 30000"}, {"page", "the previous page's next_page"},
				{"format", "csv (or Accept: text/csv): one line per row, the next page in Codexgov-Next-Page"}},
			Out: CodeReviewPage{}, Raw: true, raw: (*Server).analyticsCodeReviews},
		{Method: "GET", Path: analyticsBase + "/code_review_responses", Auth: Key, Surface: SurfaceAnalytics, Errors: Analytics, Scope: codexgov.ScopeAnalyticsRead, Summary: "How developers responded to the reviewer comments made each day or week: replies (webhook) and reactions (polled from GitHub)",
			Query: []Param{{"start_time", "Unix seconds, inclusive"}, {"end_time", "Unix seconds, exclusive"}, {"group_by", "day or week"}, {"limit", "1 to 30000"}, {"page", "the previous page's next_page"},
				{"format", "csv (or Accept: text/csv): one line per row, the next page in Codexgov-Next-Page"}},
			Out: CodeReviewResponsePage{}, Raw: true, raw: (*Server).analyticsCodeReviewResponses},
		{Method: "POST", Path: "/webhooks/github/{ws}", Auth: Protocol, Surface: SurfaceAnalytics, Errors: JSON, Summary: "GitHub's webhook for code-review analytics (pull_request_review, pull_request_review_comment, issue_comment), checked against X-Hub-Signature-256",
			Raw: true, raw: (*Server).githubWebhook},
		{Method: "GET", Path: "/v1/compliance/download/{token}", Auth: PathToken, Surface: SurfaceCompliance, Errors: JSON, Summary: "A compliance log file's JSON Lines, at the signed URL the list route redirects to (valid one minute)",
			Raw: true, Stream: true, raw: (*Server).complianceDownload},
		{Method: "POST", Path: "/gateway/v1/responses", Auth: Protocol, Surface: SurfaceGateway, Errors: JSON, Summary: "The model gateway: a Responses API request from Codex (zstd, gzip or plain), its gateway token naming the person, relayed to the workspace's upstream and streamed back event by event; recorded as the workspace captures", Raw: true, Stream: true, raw: (*Server).gatewayResponses},
		{Method: "GET", Path: "/gateway/v1/models", Auth: Public, Surface: SurfaceGateway, Errors: JSON, Summary: "The model gateway's model list, as Codex asks for it (none added)", Raw: true, raw: (*Server).gatewayModels},
		{Method: "POST", Path: "/gateway/v1/analytics/codex/turn-costs", Auth: Public, Surface: SurfaceGateway, Errors: JSON, Summary: "Codex's turn-cost report to its provider, taken and not kept (the gateway's records have the usage)", Raw: true, raw: (*Server).gatewayTurnCosts},
		{Method: "POST", Path: "/v1/logs", Auth: Client, Surface: SurfaceTelemetry, Errors: OTLP, Summary: "OTLP/HTTP logs from Codex (protobuf or JSON, gzip or not): stamped from the credential, normalised and stored before the answer", Raw: true, raw: (*Server).otlpLogs},
		{Method: "POST", Path: "/v1/metrics", Auth: Client, Surface: SurfaceTelemetry, Errors: OTLP, Summary: "OTLP/HTTP metrics from Codex: the latest value of each series kept per device and day", Raw: true, raw: (*Server).otlpMetrics},
		{Method: "POST", Path: "/v1/traces", Auth: Client, Surface: SurfaceTelemetry, Errors: OTLP, Summary: "OTLP/HTTP traces from Codex: span summaries kept (names, ids, times, status, session), not the span bodies", Raw: true, raw: (*Server).otlpTraces},
		{Method: "GET", Path: "/api/v1/client/access", Auth: Client, Surface: SurfaceClient, Errors: JSON, Summary: "The caller's access decision per Codex surface", Out: ClientAccess{}, handle: (*Server).clientAccess},

		{Method: "GET", Path: configBase + "/codex/config/bundle", Auth: ConfigToken, Surface: SurfaceConfigServer, Errors: JSON, Summary: "Codex's configuration bundle for an OAuth sign-in (Authorization: Bearer <access token from the token endpoint>)", Raw: true, raw: (*Server).oauthBundle},
		{Method: "GET", Path: configBase + "/oauth/authorize", Auth: Public, Surface: SurfaceConfigServer, Errors: Page, Summary: "OAuth authorization endpoint (code + PKCE S256, loopback redirect): the sign-in page", Raw: true, raw: (*Server).oauthAuthorize},
		{Method: "POST", Path: configBase + "/oauth/sign-in/{method}", Auth: Protocol, Surface: SurfaceConfigServer, Errors: Page, Summary: "Complete the sign-in page with one sign-in method (access-token) or deny", Raw: true, raw: (*Server).oauthSignIn},
		{Method: "POST", Path: configBase + "/oauth/token", Auth: Protocol, Surface: SurfaceConfigServer, Errors: OAuth, Summary: "OAuth token endpoint: authorization_code (PKCE) and refresh_token grants, public client", Raw: true, raw: (*Server).oauthToken},
		{Method: "GET", Path: enrollBase + "/codex/config/bundle", Auth: PathToken, Surface: SurfaceConfigServer, Errors: JSON, Summary: "Codex's configuration bundle for an enrollment token (the token is in the path)", Raw: true, raw: (*Server).enrollBundle},
		{Method: "GET", Path: enrollBase + "/install", Auth: PathToken, Surface: SurfaceConfigServer, Errors: JSON, Summary: "What codexgov install writes for an enrollment token", Out: codexgov.Bootstrap{}, handle: (*Server).installEnroll},

		{Method: "POST", Path: "/oauth/device/code", Auth: Protocol, Surface: SurfaceDevice, Errors: OAuth, Summary: "RFC 8628 device authorization for codexgov login (client_id codexgov-cli; optional workspace)", Raw: true, raw: (*Server).deviceCode},
		{Method: "POST", Path: "/oauth/token", Auth: Protocol, Surface: SurfaceDevice, Errors: OAuth, Summary: "codexgov login's token endpoint: device_code and refresh_token grants", Raw: true, raw: (*Server).globalToken},
		{Method: "POST", Path: "/oauth/revoke", Auth: Protocol, Surface: SurfaceDevice, Errors: OAuth, Summary: "RFC 7009 revocation of codexgov login's refresh token (codexgov logout)", Raw: true, raw: (*Server).revokeToken},
		{Method: "GET", Path: "/device", Auth: Public, Surface: SurfaceDevice, Errors: Page, Summary: "Device verification page: enter the code codexgov login shows", Raw: true, raw: (*Server).devicePage},
		{Method: "POST", Path: "/device", Auth: Protocol, Surface: SurfaceDevice, Errors: Page, Summary: "Device verification page: sign in to approve a code", Raw: true, raw: (*Server).deviceSignIn},
		{Method: "GET", Path: "/device/sso", Auth: Protocol, Surface: SurfaceDevice, Errors: Page, Summary: "Device verification page: single sign-on through a workspace's provider", Raw: true, raw: (*Server).deviceSSO},
		{Method: "POST", Path: "/device/approve", Auth: Protocol, Surface: SurfaceDevice, Errors: Page, Summary: "Device verification page: approve or deny with an access token", Raw: true, raw: (*Server).deviceApprove},
		{Method: "POST", Path: "/device/decide", Auth: Protocol, Surface: SurfaceDevice, Errors: Page, Summary: "Device verification page: approve or deny after single sign-on", Raw: true, raw: (*Server).deviceDecide},
		{Method: "GET", Path: "/sso/start", Auth: Protocol, Surface: SurfaceSSO, Errors: Page, Summary: "Single sign-on: go to the workspace's identity provider", Raw: true, raw: (*Server).ssoStart},
		{Method: "GET", Path: "/sso/callback", Auth: Protocol, Surface: SurfaceSSO, Errors: Page, Summary: "Single sign-on: the identity provider's redirect URI (register https://HOST/sso/callback)", Raw: true, raw: (*Server).ssoCallback},
		{Method: "GET", Path: "/ui/{ws}/sign-in", Auth: Public, Surface: SurfaceWeb, Errors: Page, Summary: "Admin web sign-in (single sign-on)", Raw: true, raw: (*Server).adminSignIn},
		{Method: "GET", Path: "/{$}", Auth: Public, Surface: SurfaceConsole, Errors: Page, Summary: "The server's root: sends the browser to the console", Raw: true, raw: (*Server).consoleRoot},
		{Method: "GET", Path: "/ui/{$}", Auth: Public, Surface: SurfaceConsole, Errors: Page, Summary: "Console: which workspace to sign in to", Raw: true, raw: (*Server).consoleStart},
		{Method: "GET", Path: "/assets/{file}", Auth: Public, Surface: SurfaceConsole, Errors: Page, Summary: "Console: its embedded scripts and stylesheet (htmx, uPlot, its own), cached by content", Raw: true, raw: (*Server).consoleAsset},
		{Method: "GET", Path: "/ui/{ws}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: overview (users, devices, telemetry freshness, last changes)", Raw: true, raw: (*Server).consoleOverview},
		{Method: "GET", Path: "/ui/{ws}/users", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: users, searched and paged", Raw: true, raw: (*Server).consoleUsers},
		{Method: "POST", Path: "/ui/{ws}/users/{email}/active", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: activate or deactivate a user (not SCIM-managed ones)", Raw: true, raw: (*Server).consoleUserActive},
		{Method: "GET", Path: "/ui/{ws}/groups", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: groups", Raw: true, raw: (*Server).consoleGroups},
		{Method: "POST", Path: "/ui/{ws}/groups", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: create a group", Raw: true, raw: (*Server).consoleGroupCreate},
		{Method: "POST", Path: "/ui/{ws}/groups/{group}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: delete a group, add or remove a member (not of SCIM-managed groups), grant or revoke a role", Raw: true, raw: (*Server).consoleGroupChange},
		{Method: "GET", Path: "/ui/{ws}/roles", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: roles, their permissions in words", Raw: true, raw: (*Server).consoleRoles},
		{Method: "POST", Path: "/ui/{ws}/roles", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: create a custom role", Raw: true, raw: (*Server).consoleRoleCreate},
		{Method: "POST", Path: "/ui/{ws}/roles/{role}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: save a role's description and permissions, or delete it", Raw: true, raw: (*Server).consoleRoleChange},
		{Method: "GET", Path: "/ui/{ws}/policies", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: policies", Raw: true, raw: (*Server).consolePolicies},
		{Method: "GET", Path: "/ui/{ws}/policies/{policy}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: a policy's editor, history, diff and preview", Raw: true, raw: (*Server).consolePolicy},
		{Method: "POST", Path: "/ui/{ws}/policies/{policy}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: save a policy version with a comment, over the version it was made from", Raw: true, raw: (*Server).consolePolicySave},
		{Method: "POST", Path: "/ui/{ws}/policies/{policy}/lint", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: the editor's diagnostics for the text as typed (nothing stored)", Raw: true, raw: (*Server).consolePolicyLint},
		{Method: "GET", Path: "/ui/{ws}/assignment", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: the assignment's ordered rules with who each selects", Raw: true, raw: (*Server).consoleAssignment},
		{Method: "POST", Path: "/ui/{ws}/assignment/move", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: move a rule up or down, over the assignment it was made from", Raw: true, raw: (*Server).consoleAssignmentMove},
		{Method: "GET", Path: "/ui/{ws}/lookup", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: which policy a user or group gets, and why", Raw: true, raw: (*Server).consoleLookup},
		{Method: "GET", Path: "/ui/{ws}/devices", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: devices and their delivery state", Raw: true, raw: (*Server).consoleDevices},
		{Method: "GET", Path: "/ui/{ws}/activity", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: recent Codex sessions, tools and decisions", Raw: true, raw: (*Server).consoleActivity},
		{Method: "GET", Path: "/ui/{ws}/activity/{session}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: one Codex session's events, with its prompts where the workspace keeps them", Raw: true, raw: (*Server).consoleSession},
		{Method: "GET", Path: "/ui/{ws}/analytics", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: the analytics dashboard", Raw: true, raw: (*Server).consoleAnalytics},
		{Method: "GET", Path: "/ui/{ws}/analytics/export", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: the Analytics API's CSV or JSON for the dashboard's range", Raw: true, raw: (*Server).consoleAnalyticsExport},
		{Method: "GET", Path: "/ui/{ws}/compliance", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: sealed files, retention, legal holds, SIEM sinks and their lag", Raw: true, raw: (*Server).consoleCompliance},
		{Method: "GET", Path: "/ui/{ws}/audit", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: the audit log, filtered, with CSV and JSON export", Raw: true, raw: (*Server).consoleAudit},
		{Method: "GET", Path: "/ui/{ws}/credentials", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: API keys, access tokens, enrollment tokens", Raw: true, raw: (*Server).consoleCredentials},
		{Method: "POST", Path: "/ui/{ws}/credentials/{kind}", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: issue a credential; its secret is shown once", Raw: true, raw: (*Server).consoleCredentialCreate},
		{Method: "POST", Path: "/ui/{ws}/credentials/{kind}/{id}/revoke", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: revoke a credential", Raw: true, raw: (*Server).consoleCredentialRevoke},
		{Method: "GET", Path: "/ui/{ws}/settings", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: settings, retention, identity providers", Raw: true, raw: (*Server).consoleSettings},
		{Method: "POST", Path: "/ui/{ws}/settings", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: save the settings (toggles, telemetry, default role, lookback, retention)", Raw: true, raw: (*Server).consoleSettingsSave},
		{Method: "POST", Path: "/ui/{ws}/identity-providers", Auth: Session, Surface: SurfaceConsole, Errors: Page, Summary: "Console: create, replace or remove an identity provider (the client secret is stored encrypted and never shown)", Raw: true, raw: (*Server).consoleIdentityProvider},
		{Method: "POST", Path: "/ui/{ws}/sign-out", Auth: Session, Surface: SurfaceWeb, Errors: Page, Summary: "Admin web page: sign out (session cookie and CSRF token)", Raw: true, raw: (*Server).adminSignOut},

		{Method: "GET", Path: scimBase + "/ServiceProviderConfig", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: what this service provider supports", raw: (*Server).scimServiceProviderConfig},
		{Method: "GET", Path: scimBase + "/ResourceTypes", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: resource types (User, Group)", raw: (*Server).scimResourceTypes},
		{Method: "GET", Path: scimBase + "/ResourceTypes/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: one resource type (User or Group), the meta.location the list publishes", raw: (*Server).scimResourceTypes},
		{Method: "GET", Path: scimBase + "/Schemas", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: schemas", raw: (*Server).scimSchemas},
		{Method: "GET", Path: scimBase + "/Schemas/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: one schema", raw: (*Server).scimSchemas},
		{Method: "GET", Path: scimBase + "/Users", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: list users (filter, startIndex, count, attributes, excludedAttributes)", raw: (*Server).scimListUsers},
		{Method: "POST", Path: scimBase + "/Users", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Status: 201, Summary: "SCIM: provision a user (userName is the email)", raw: (*Server).scimCreateUser},
		{Method: "GET", Path: scimBase + "/Users/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: get a user", raw: (*Server).scimGetUser},
		{Method: "PUT", Path: scimBase + "/Users/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: replace a user", raw: (*Server).scimReplaceUser},
		{Method: "PATCH", Path: scimBase + "/Users/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: patch a user (active=false deactivates)", raw: (*Server).scimPatchUser},
		{Method: "DELETE", Path: scimBase + "/Users/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Status: 204, Summary: "SCIM: delete a user: memberships removed, credentials revoked, the audit trail kept; the userName can be provisioned again", raw: (*Server).scimDeleteUser},
		{Method: "GET", Path: scimBase + "/Groups", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: list groups", raw: (*Server).scimListGroups},
		{Method: "POST", Path: scimBase + "/Groups", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Status: 201, Summary: "SCIM: create a group", raw: (*Server).scimCreateGroup},
		{Method: "GET", Path: scimBase + "/Groups/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: get a group", raw: (*Server).scimGetGroup},
		{Method: "PUT", Path: scimBase + "/Groups/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: replace a group", raw: (*Server).scimReplaceGroup},
		{Method: "PATCH", Path: scimBase + "/Groups/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Summary: "SCIM: patch a group's members (add, remove, replace)", raw: (*Server).scimPatchGroup},
		{Method: "DELETE", Path: scimBase + "/Groups/{id}", Auth: Key, Surface: SurfaceSCIM, Errors: SCIM, Scope: codexgov.ScopeSCIM, Status: 204, Summary: "SCIM: delete a group no assignment rule uses", raw: (*Server).scimDeleteGroup},

		{Method: "GET", Path: "/api/v1/whoami", Auth: Any, Surface: SurfaceAdmin, Errors: JSON, Summary: "Who the credential is: its kind, id, workspace, identity and scopes", Out: codexgov.WhoAmI{}, handle: (*Server).whoami},
		{Method: "GET", Path: "/api/v1/workspaces", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List the workspaces the key can see", Out: []codexgov.Workspace{}, handle: (*Server).listWorkspaces},
		{Method: "POST", Path: "/api/v1/workspaces", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeServerAdmin, Status: 201, Summary: "Create a workspace", In: CreateWorkspace{}, Out: codexgov.Workspace{}, handle: (*Server).createWorkspace},
		{Method: "GET", Path: ws, Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get a workspace", Out: codexgov.Workspace{}, handle: (*Server).getWorkspace},
		{Method: "GET", Path: ws + "/settings", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get the workspace settings", Out: codexgov.Settings{}, handle: (*Server).getSettings},
		{Method: "PATCH", Path: ws + "/settings", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Change workspace settings", In: codexgov.SettingsUpdate{}, Out: codexgov.Settings{}, handle: (*Server).updateSettings},

		{Method: "GET", Path: ws + "/users", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List users", Out: []codexgov.User{}, handle: (*Server).listUsers},
		{Method: "POST", Path: ws + "/users", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 201, Summary: "Add a user", In: CreateUser{}, Out: codexgov.User{}, handle: (*Server).createUser},
		{Method: "GET", Path: ws + "/users/{email}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get a user", Out: codexgov.User{}, handle: (*Server).getUser},
		{Method: "PATCH", Path: ws + "/users/{email}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Rename, deactivate or reactivate a user", In: codexgov.UserUpdate{}, Out: codexgov.User{}, handle: (*Server).updateUser},

		{Method: "GET", Path: ws + "/groups", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List groups", Out: []codexgov.Group{}, handle: (*Server).listGroups},
		{Method: "POST", Path: ws + "/groups", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 201, Summary: "Create a group", In: CreateGroup{}, Out: codexgov.Group{}, handle: (*Server).createGroup},
		{Method: "GET", Path: ws + "/groups/{group}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get a group with its members and roles", Out: codexgov.Group{}, handle: (*Server).getGroup},
		{Method: "DELETE", Path: ws + "/groups/{group}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Delete a group no assignment rule uses", handle: (*Server).deleteGroup},
		{Method: "PUT", Path: ws + "/groups/{group}/members/{email}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Add a member", Out: codexgov.Group{}, handle: (*Server).addMember},
		{Method: "DELETE", Path: ws + "/groups/{group}/members/{email}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Remove a member", Out: codexgov.Group{}, handle: (*Server).removeMember},
		{Method: "PUT", Path: ws + "/groups/{group}/roles/{role}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Grant a role to a group", Out: codexgov.Group{}, handle: (*Server).grantRole},
		{Method: "DELETE", Path: ws + "/groups/{group}/roles/{role}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Revoke a role from a group", Out: codexgov.Group{}, handle: (*Server).revokeRole},

		{Method: "GET", Path: ws + "/roles", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List roles", Out: []codexgov.Role{}, handle: (*Server).listRoles},
		{Method: "POST", Path: ws + "/roles", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 201, Summary: "Create a custom role", In: CreateRole{}, Out: codexgov.Role{}, handle: (*Server).createRole},
		{Method: "GET", Path: ws + "/roles/{role}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get a role", Out: codexgov.Role{}, handle: (*Server).getRole},
		{Method: "PATCH", Path: ws + "/roles/{role}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Change a role's description or permissions", In: codexgov.RoleUpdate{}, Out: codexgov.Role{}, handle: (*Server).updateRole},
		{Method: "DELETE", Path: ws + "/roles/{role}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Delete a role no group holds", handle: (*Server).deleteRole},

		{Method: "GET", Path: ws + "/policies", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List policies (current versions)", Out: []codexgov.PolicyVersion{}, handle: (*Server).listPolicies},
		{Method: "PUT", Path: ws + "/policies/{policy}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Query: []Param{{"dry_run", "true: validate and diff against the current version, store nothing (the answer is a PolicyDryRun)"}}, Summary: "Write a new version of a policy (validated as Codex 0.169.0 reads it)", In: PutPolicy{}, Out: codexgov.PolicyVersion{}, handle: (*Server).putPolicy},
		{Method: "GET", Path: ws + "/policies/{policy}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get a policy version", Query: []Param{{"version", "version number; the current one when absent"}}, Out: codexgov.PolicyVersion{}, handle: (*Server).getPolicy},
		{Method: "DELETE", Path: ws + "/policies/{policy}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Delete a policy the assignment does not use", handle: (*Server).deletePolicy},
		{Method: "GET", Path: ws + "/policies/{policy}/versions", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "A policy's history, oldest first", Out: []codexgov.PolicyVersion{}, handle: (*Server).policyHistory},
		{Method: "GET", Path: ws + "/policies/{policy}/diff", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Unified diff between two versions", Query: []Param{{"from", "older version (default: current-1)"}, {"to", "newer version (default: current)"}}, Out: codexgov.PolicyDiff{}, handle: (*Server).policyDiff},

		{Method: "GET", Path: ws + "/assignment", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "The ordered group-to-policy rules and the default policy", Out: codexgov.Assignment{}, handle: (*Server).getAssignment},
		{Method: "PUT", Path: ws + "/assignment", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Replace the assignment", In: codexgov.Assignment{}, Out: codexgov.Assignment{}, handle: (*Server).setAssignment},
		{Method: "GET", Path: ws + "/lookup", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Which policy a user or group gets, and why", Query: []Param{{"user", "a user's email"}, {"group", "a group name"}}, Out: codexgov.Lookup{}, handle: (*Server).lookup},

		{Method: "GET", Path: ws + "/api-keys", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "List API keys (no secrets)", Out: []codexgov.APIKey{}, handle: (*Server).listAPIKeys},
		{Method: "POST", Path: ws + "/api-keys", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Status: 201, Summary: "Create an API key; the secret is in this response only", In: CreateAPIKey{}, Out: codexgov.APIKey{}, handle: (*Server).createAPIKey},
		{Method: "DELETE", Path: ws + "/api-keys/{id}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "Revoke an API key", Out: codexgov.APIKey{}, handle: (*Server).revokeAPIKey},
		{Method: "GET", Path: ws + "/access-tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "List access tokens (no secrets)", Out: []codexgov.AccessToken{}, handle: (*Server).listAccessTokens},
		{Method: "POST", Path: ws + "/access-tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Status: 201, Summary: "Issue an access token to a user; the secret is in this response only", In: CreateAccessToken{}, Out: codexgov.AccessToken{}, handle: (*Server).createAccessToken},
		{Method: "DELETE", Path: ws + "/access-tokens/{id}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "Revoke an access token", Out: codexgov.AccessToken{}, handle: (*Server).revokeAccessToken},

		{Method: "GET", Path: ws + "/enrollment-tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "List enrollment tokens (no secrets)", Out: []codexgov.EnrollmentToken{}, handle: (*Server).listEnrollmentTokens},
		{Method: "POST", Path: ws + "/enrollment-tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Status: 201, Summary: "Issue an enrollment token to a user or a service identity; the secret is in this response only", In: CreateEnrollmentToken{}, Out: codexgov.EnrollmentToken{}, handle: (*Server).createEnrollmentToken},
		{Method: "DELETE", Path: ws + "/enrollment-tokens/{id}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "Revoke an enrollment token: the machine's Codex fails closed at its next fetch", Out: codexgov.EnrollmentToken{}, handle: (*Server).revokeEnrollmentToken},
		{Method: "GET", Path: ws + "/oauth-grants", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "List Codex sign-ins to the configuration server", Out: []codexgov.OAuthGrant{}, handle: (*Server).listOAuthGrants},
		{Method: "DELETE", Path: ws + "/oauth-grants/{id}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Summary: "Revoke a sign-in: its refresh token and access tokens stop working", Out: codexgov.OAuthGrant{}, handle: (*Server).revokeOAuthGrant},
		{Method: "GET", Path: ws + "/devices", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Proof of delivery: each device's last fetch, the version it got, the version it should have, and its state", Query: []Param{{"drifted", "true: only devices not current"}, {"stale_after", "a device with no fetch for longer is stale (default 72h)"}, {"identity", "only this identity (user:EMAIL or service:NAME)"}}, Out: []codexgov.DeviceStatus{}, handle: (*Server).listDevices},
		{Method: "GET", Path: ws + "/install", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "What codexgov install writes for OAuth mode", Out: codexgov.Bootstrap{}, handle: (*Server).installOAuth},

		{Method: "GET", Path: ws + "/identity-providers", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List single sign-on identity providers (no secrets)", Out: []codexgov.IdentityProvider{}, handle: (*Server).listIdentityProviders},
		{Method: "GET", Path: ws + "/identity-providers/{idp}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "Get an identity provider (no secret)", Out: codexgov.IdentityProvider{}, handle: (*Server).getIdentityProvider},
		{Method: "PUT", Path: ws + "/identity-providers/{idp}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Create or replace an OIDC identity provider (the client secret is stored encrypted)", In: PutIdentityProvider{}, Out: codexgov.IdentityProvider{}, handle: (*Server).putIdentityProvider},
		{Method: "DELETE", Path: ws + "/identity-providers/{idp}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Remove an identity provider", handle: (*Server).deleteIdentityProvider},

		{Method: "GET", Path: ws + "/audit-events", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "Audit events, newest first", Query: []Param{{"before", "cursor: return events older than this id"}, {"limit", "page size, 1 to 1000 (default 100)"}}, Out: codexgov.AuditPage{}, handle: (*Server).auditEvents},

		{Method: "GET", Path: ws + "/telemetry-events", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "Codex telemetry events received from the workspace's machines, newest first",
			Query: []Param{{"user", "only this user's (email)"}, {"identity", "only this identity (user:EMAIL or service:NAME)"}, {"session", "only this Codex session (conversation.id)"}, {"type", "only this type (session_start, prompt, api_request, token_usage, tool_decision, tool_result, sandbox_outcome, bypass, security, other)"}, {"since", "RFC 3339 time: events at or after it"}, {"until", "RFC 3339 time: events before it"}},
			Out:   []codexgov.TelemetryEvent{}, handle: (*Server).telemetryEvents},
		{Method: "GET", Path: ws + "/legal-holds", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "List legal holds, active first", Out: []codexgov.LegalHold{}, handle: (*Server).listLegalHolds},
		{Method: "POST", Path: ws + "/legal-holds", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 201, Summary: "Set a legal hold on a user (user) or the whole workspace: their records never expire while it is active",
			In: codexgov.LegalHoldInput{}, Out: codexgov.LegalHold{}, handle: (*Server).createLegalHold},
		{Method: "DELETE", Path: ws + "/legal-holds/{hold}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Release a legal hold (kept, with when it was released)", Out: codexgov.LegalHold{}, handle: (*Server).releaseLegalHold},
		{Method: "GET", Path: ws + "/compliance-sinks", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "List SIEM sinks with their cursor, lag, last error and dead letters", Out: []codexgov.ComplianceSink{}, handle: (*Server).listSinks},
		{Method: "POST", Path: ws + "/compliance-sinks", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 201, Summary: "Add a SIEM sink (splunk_hec, syslog over TLS, or a signed webhook): sealed records are pushed to it at least once, from the oldest kept",
			In: codexgov.SinkInput{}, Out: codexgov.ComplianceSink{}, handle: (*Server).createSink},
		{Method: "DELETE", Path: ws + "/compliance-sinks/{sink}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Remove a SIEM sink and its dead letters", Out: codexgov.ComplianceSink{}, handle: (*Server).deleteSink},
		{Method: "POST", Path: ws + "/compliance-sinks/{sink}/rewind", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Deliver every kept record to a sink again (its receiver de-duplicates on event_id), clearing its backoff", Out: codexgov.ComplianceSink{}, handle: (*Server).rewindSink},
		{Method: "GET", Path: ws + "/compliance-sinks/{sink}/dead-letters", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "The batches a sink's receiver refused for good, newest first", Out: []codexgov.DeadLetter{}, handle: (*Server).sinkDeadLetters},
		{Method: "POST", Path: ws + "/analytics/rebuild", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Recompute the Analytics API's usage rollups from the raw events, from the Monday of since's week on (audited)",
			In: codexgov.AnalyticsRebuild{}, Out: codexgov.AnalyticsRebuilt{}, handle: (*Server).rebuildAnalytics},
		{Method: "GET", Path: ws + "/github", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "The GitHub integration for code-review analytics (reviewer accounts; the secret is never shown)", Out: codexgov.GitHubIntegration{}, handle: (*Server).getGitHubIntegration},
		{Method: "PUT", Path: ws + "/github", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Set the GitHub integration: the webhook secret (sealed) and the reviewer accounts whose reviews count",
			In: codexgov.GitHubIntegrationInput{}, Out: codexgov.GitHubIntegration{}, handle: (*Server).putGitHubIntegration},
		{Method: "POST", Path: ws + "/github/poll", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Read the reviewer comments' reactions from GitHub now (the server also does every 15 minutes)", handle: (*Server).pollReactions},
		{Method: "GET", Path: ws + "/gateway", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "The model gateway: upstream base URL, whether a key is set (never the key), routing and capture", Out: codexgov.Gateway{}, handle: (*Server).getGateway},
		{Method: "PUT", Path: ws + "/gateway", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Create or replace the model gateway (the upstream key is sealed with the master key and never shown again)", In: PutGateway{}, Out: codexgov.Gateway{}, handle: (*Server).putGateway},
		{Method: "DELETE", Path: ws + "/gateway", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Remove the model gateway: model requests through it are refused", handle: (*Server).deleteGateway},
		{Method: "POST", Path: ws + "/gateway/tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Status: 201, Summary: "Mint an active user's gateway token, optionally naming the machine (valid while the user is active)", In: codexgov.TelemetryTokenMint{}, Out: codexgov.GatewayToken{}, handle: (*Server).mintGatewayToken},
		{Method: "GET", Path: ws + "/gateway/requests", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "The model gateway's request records, newest first (?session=, ?user=, ?limit= up to 1000): who, device, session, turn, repository, model, status, latency, tokens, and the content the capture keeps", Out: []codexgov.GatewayRecord{}, handle: (*Server).listGatewayRequests},
		{Method: "GET", Path: ws + "/gateway/repositories", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAnalyticsRead, Summary: "The model gateway's use per repository over days [start, end) (YYYY-MM-DD; default the last 30 days, at most the analytics lookback): requests, distinct people, tokens", Out: []codexgov.RepositoryUsage{}, handle: (*Server).gatewayRepositories},
		{Method: "GET", Path: ws + "/gateway/budgets", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminRead, Summary: "The model gateway's budgets with their use in the current period (used, and reserved by requests in flight)", Out: []codexgov.GatewayBudgetUse{}, handle: (*Server).listGatewayBudgets},
		{Method: "PUT", Path: ws + "/gateway/budgets", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Summary: "Set a budget (per user or group, tokens or USD, per day, week or month); the same scope, subject, unit and period again changes its limit", In: codexgov.GatewayBudget{}, Out: codexgov.GatewayBudget{}, handle: (*Server).putGatewayBudget},
		{Method: "DELETE", Path: ws + "/gateway/budgets/{budget}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAdminWrite, Status: 204, Summary: "Remove a budget", handle: (*Server).deleteGatewayBudget},
		{Method: "POST", Path: ws + "/telemetry-tokens", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeCredentialsWrite, Status: 201, Summary: "Mint a telemetry token (scope telemetry:write) for an active user, optionally naming the machine, with the [otel] block that carries it (for an MDM profile); valid while the user is active",
			In: codexgov.TelemetryTokenMint{}, Out: codexgov.TelemetryToken{}, handle: (*Server).mintTelemetryToken},
		{Method: "GET", Path: ws + "/telemetry-activity", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "Codex sessions from their telemetry, most recent first: user, machine, surface, model, prompts, tokens, tools, approvals, denials, bypasses",
			Query: []Param{{"user", "only this user's sessions (email)"}, {"identity", "only this identity (user:EMAIL or service:NAME)"}, {"since", "sessions with events at or after this RFC 3339 time"}, {"until", "sessions with events before this RFC 3339 time"}},
			Out:   []codexgov.SessionActivity{}, handle: (*Server).telemetryActivity},
		{Method: "GET", Path: ws + "/telemetry-metrics", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "Codex metric series of one day: the latest value per device",
			Query: []Param{{"day", "YYYY-MM-DD (UTC; default today)"}}, Out: []codexgov.TelemetryMetric{}, handle: (*Server).telemetryMetrics},
		{Method: "GET", Path: ws + "/telemetry-traces/{trace}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeAuditRead, Summary: "Span summaries of one Codex trace, by start",
			Out: []codexgov.TelemetrySpan{}, handle: (*Server).telemetrySpans},
		{Method: "GET", Path: "/api/v1/signing-keys", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeServerAdmin, Summary: "List signing keys", Out: []codexgov.SigningKey{}, handle: (*Server).listSigningKeys},
		{Method: "POST", Path: "/api/v1/signing-keys", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeServerAdmin, Status: 201, Summary: "Rotate: add a new active signing key (the old one stays published)", Out: codexgov.SigningKey{}, handle: (*Server).rotateSigningKey},
		{Method: "DELETE", Path: "/api/v1/signing-keys/{kid}", Auth: Key, Surface: SurfaceAdmin, Errors: JSON, Scope: codexgov.ScopeServerAdmin, Query: []Param{{"force", "true: retire even while sync machines trust only this key"}}, Summary: "Retire an inactive signing key (stop publishing it)", Out: codexgov.SigningKey{}, handle: (*Server).retireSigningKey},
	}
}

// withDeadline gives a request its deadline: the database timeout (single
// sign-on also waits for the identity provider).
func (s *Server) withDeadline(rt *Route, next http.Handler) http.Handler {
	d := s.dbTimeout
	if rt.Surface == SurfaceSSO {
		d += ssoGrace
	}
	if rt.Stream {
		return next // the handler gives each read and write its own
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) handler(rt Route) http.Handler {
	return s.withDeadline(&rt, s.routeHandler(rt))
}

// admit runs the checks every route makes before its handler: the path,
// the Host, then the credential.
func (s *Server) admit(c *call, params []string) error {
	if err := checkPath(c.r, params); err != nil {
		return err
	}
	if err := s.checkHost(c.r, c.route.Surface); err != nil {
		return err
	}
	return s.authorize(c)
}

func (s *Server) routeHandler(rt Route) http.Handler {
	params := pathParams(rt.Path)
	switch rt.Errors {
	case SCIM:
		return s.rawHandler(rt, params, s.writeSCIMError)
	case Page:
		return s.rawHandler(rt, params, s.writePageError)
	case OTLP:
		return s.rawHandler(rt, params, s.writeOTLPError)
	}
	write := s.writeError
	if rt.Errors == Analytics {
		write = s.writeAnalyticsError
	}
	return s.handlerFuncWith(write, func(w http.ResponseWriter, r *http.Request) error {
		c := &call{w: w, r: r, s: s, route: &rt}
		if err := s.admit(c, params); err != nil {
			s.noteRefused(c, err)
			return err
		}
		if rt.raw != nil {
			err := rt.raw(s, c)
			s.noteRefused(c, err)
			return err
		}
		out, err := rt.handle(s, c)
		if err != nil {
			s.noteRefused(c, err)
			return err
		}
		if rt.paginated() {
			if out, err = paginate(c, out); err != nil {
				return err
			}
		}
		status := rt.Status
		if status == 0 {
			status = http.StatusOK
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return nil
		}
		writeJSON(w, status, out)
		return nil
	})
}

// rawHandler serves a route that writes its own answer and its errors in
// its own format (SCIM, HTML pages, OTLP).
func (s *Server) rawHandler(rt Route, params []string, writeErr func(http.ResponseWriter, *http.Request, string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header()["X-Request-Id"] = []string{id}
		c := &call{w: w, r: r, s: s, route: &rt}
		err := s.admit(c, params)
		if err == nil {
			err = rt.raw(s, c)
		}
		if err != nil {
			s.noteRefused(c, err)
			writeErr(w, r, id, err)
		}
	})
}
