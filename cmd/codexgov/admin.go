package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/codexgov/codexgov/internal/envknob"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
)

// adminEnv is what every admin subcommand shares.
type adminEnv struct {
	server, token, workspace string
	// serverSet says --server or CODEXGOV_SERVER chose the server.
	serverSet bool
	json      bool
	// http trusts --ca.
	http *http.Client
	// files maps a request field to the file it came from, so that
	// diagnostics name the file.
	files map[string]string
}

// serverFlags defines --server, --token and --workspace with their
// variables.
func (e *adminEnv) serverFlags(fs *pflag.FlagSet, tokenUsage string) {
	fs.StringVar(&e.server, "server", "http://127.0.0.1:7700", "server URL")
	envknob.Bind(fs, "server", "CODEXGOV_SERVER")
	fs.StringVar(&e.token, "token", "", tokenUsage)
	envknob.Bind(fs, "token", "CODEXGOV_TOKEN")
	fs.StringVarP(&e.workspace, "workspace", "w", "", "workspace id")
	envknob.Bind(fs, "workspace", "CODEXGOV_WORKSPACE")
}

// client talks to the server with --token, or else as the person who ran
// codexgov login (refreshing the stored credential when needed).
func (e *adminEnv) client() *client.Client {
	if e.token == "" {
		if c := e.login(); c != nil {
			tok, err := accessToken(context.Background(), c)
			if err != nil {
				fmt.Fprintln(os.Stderr, "codexgov:", err)
			}
			return e.withHTTP(client.New(c.Server, tok))
		}
	}
	return e.withHTTP(client.New(e.server, e.token))
}

func (e *adminEnv) withHTTP(c *client.Client) *client.Client {
	if e.http != nil {
		c.HTTP = e.http
	}
	return c
}

// login is the stored codexgov login credential for this server, when no
// --token is given and no other --server was asked for.
func (e *adminEnv) login() *credential {
	if e.token != "" {
		return nil
	}
	c, err := loadCredential()
	if err != nil || (e.serverSet && strings.TrimSuffix(e.server, "/") != c.Server) {
		return nil
	}
	return c
}

func (e *adminEnv) ws() (string, error) {
	if e.workspace == "" {
		if c := e.login(); c != nil {
			e.workspace = c.Workspace
		}
	}
	if e.workspace == "" {
		return "", &exitError{code: 2, err: errors.New("no workspace: pass --workspace or set CODEXGOV_WORKSPACE")}
	}
	return e.workspace, nil
}

// show prints v as JSON with --json, or with human otherwise.
func (e *adminEnv) show(cmd *cobra.Command, v any, human func(w io.Writer)) error {
	out := cmd.OutOrStdout()
	if e.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	human(tw)
	return tw.Flush()
}

// readInput reads a file, or standard input for "-".
func readInput(cmd *cobra.Command, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(cmd.InOrStdin())
	}
	return os.ReadFile(file)
}

// unchanged passes err on, except codexgov.ErrNoChange: the change
// changed nothing, which it says on standard error, and succeeds.
func (e *adminEnv) unchanged(cmd *cobra.Command, err error) error {
	if errors.Is(err, codexgov.ErrNoChange) {
		fmt.Fprintln(cmd.ErrOrStderr(), "codexgov: nothing changed; no audit event was written")
		return nil
	}
	return err
}

// fail turns an API error into exit status 1 with every detail printed.
func (e *adminEnv) fail(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var ae *client.APIError
	if !errors.As(err, &ae) || e.json {
		return &exitError{code: 1, err: err}
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "codexgov: %s (%s, HTTP %d)\n", ae.Err.Message, ae.Err.Code, ae.StatusCode)
	for _, d := range ae.Err.Details {
		where := d.Field
		if f, ok := e.files[d.Field]; ok && d.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d", f, d.Line, d.Column)
		} else if d.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d", d.Field, d.Line, d.Column)
		}
		sev := d.Severity
		if sev == "" {
			sev = "error"
		}
		if where != "" {
			fmt.Fprintf(w, "%s: %s: %s\n", where, sev, d.Message)
		} else {
			fmt.Fprintf(w, "%s: %s\n", sev, d.Message)
		}
	}
	return &exitError{code: 1}
}

func newAdminCmd() *cobra.Command {
	e := &adminEnv{files: map[string]string{}}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a codexgov server: workspaces, directory, roles, policies, assignment, credentials, audit",
	}
	pf := cmd.PersistentFlags()
	e.serverFlags(pf, "API key; without one, the credential of codexgov login")
	pf.BoolVar(&e.json, "json", false, "print JSON (the API's own objects) instead of text")
	addCAFlag(cmd, true)
	cmd.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		e.serverSet = cmd.Flags().Changed("server") || envknob.FromEnv(cmd.Flags(), "server")
		e.http = serverHTTP(cmd.Context())
	}
	cmd.AddCommand(adminWhoAmI(e), adminWorkspaces(e), adminSettings(e), adminUsers(e), adminGroups(e), adminRoles(e), adminPolicies(e),
		adminAssignment(e), adminLookup(e), adminAPIKeys(e), adminAccessTokens(e), adminAudit(e), adminEvents(e), adminActivity(e), adminLegalHolds(e), adminBudgets(e), adminCompliance(e), adminAnalytics(e), adminSigningKeys(e),
		adminEnrollmentTokens(e), adminSignIns(e), adminDevices(e), adminIdentityProviders(e))
	addCompletions(cmd, e)
	return cmd
}

func adminWhoAmI(e *adminEnv) *cobra.Command {
	return leaf(e, "whoami", "Show who the credential in use is: its kind, id, workspace, identity and scopes", cobra.NoArgs, false, func(cmd *cobra.Command, _ string, _ []string) error {
		w, err := e.client().WhoAmI(cmd.Context())
		if err != nil {
			return err
		}
		return e.show(cmd, w, func(out io.Writer) {
			sc := make([]string, len(w.Scopes))
			for i, s := range w.Scopes {
				sc[i] = string(s)
			}
			ws := w.Workspace
			if ws == "" {
				ws = "(server)"
			}
			fmt.Fprintf(out, "ACTOR\tKIND\tWORKSPACE\tIDENTITY\tSCOPES\tEXPIRES\n%s\t%s\t%s\t%s\t%s\t%s\n", w.Actor, w.Kind, ws, w.Identity, strings.Join(sc, ","), when(w.ExpiresAt, "never"))
		})
	})
}

func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	c.AddCommand(subs...)
	return c
}

// leaf builds a subcommand that runs fn with the workspace (when needed).
func leaf(e *adminEnv, use, short string, args cobra.PositionalArgs, needWS bool, fn func(cmd *cobra.Command, ws string, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, a []string) error {
		w := ""
		if needWS {
			var err error
			if w, err = e.ws(); err != nil {
				return err
			}
		}
		return e.fail(cmd, fn(cmd, w, a))
	}}
}

func printWorkspaces(w io.Writer, ws ...codexgov.Workspace) {
	fmt.Fprintln(w, "ID\tNAME\tCREATED")
	for _, x := range ws {
		fmt.Fprintf(w, "%s\t%s\t%s\n", x.ID, x.Name, x.CreatedAt.Format("2006-01-02"))
	}
}

func adminWorkspaces(e *adminEnv) *cobra.Command {
	var name string
	create := leaf(e, "create ID", "Create a workspace (server key)", cobra.ExactArgs(1), false, func(cmd *cobra.Command, _ string, a []string) error {
		w, err := e.client().CreateWorkspace(cmd.Context(), a[0], name)
		if err != nil {
			return err
		}
		return e.show(cmd, w, func(out io.Writer) { printWorkspaces(out, *w) })
	})
	create.Flags().StringVar(&name, "name", "", "display name")
	return group("workspaces", "List and create workspaces",
		leaf(e, "list", "List workspaces", cobra.NoArgs, false, func(cmd *cobra.Command, _ string, _ []string) error {
			ws, err := e.client().Workspaces(cmd.Context())
			if err != nil {
				return err
			}
			return e.show(cmd, ws, func(out io.Writer) { printWorkspaces(out, ws...) })
		}),
		create,
		leaf(e, "get", "Show the workspace", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			w, err := e.client().Workspace(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, w, func(out io.Writer) { printWorkspaces(out, *w); printSettings(out, w.Settings) })
		}))
}

func printSettings(w io.Writer, s codexgov.Settings) {
	fmt.Fprintln(w, "SETTING\tVALUE")
	fmt.Fprintf(w, "allow_codex_local\t%v\nallow_codex_cloud\t%v\nallow_access_tokens\t%v\nallow_device_code_login\t%v\nallow_agent_internet\t%v\nallow_jit_provisioning\t%v\ndefault_role\t%s\n",
		s.AllowCodexLocal, s.AllowCodexCloud, s.AllowAccessTokens, s.AllowDeviceCodeLogin, s.AllowAgentInternet, s.AllowJITProvisioning, s.DefaultRole)
	fmt.Fprintf(w, "telemetry\t%s\ntelemetry_drop_traces\t%v\n", s.Telemetry, s.TelemetryDropTraces)
	for _, p := range s.TelemetryRedact {
		fmt.Fprintf(w, "telemetry_redact\t%s\n", p)
	}
	fmt.Fprintf(w, "analytics_lookback_days\t%d\nanalytics_csv_emails\t%v\n", s.Lookback(), s.AnalyticsCSVEmails)
	for _, m := range slices.Sorted(maps.Keys(s.ModelPrices)) {
		p := s.ModelPrices[m]
		fmt.Fprintf(w, "model_price\t%s: input %g, cached input %g, output %g USD per 1M tokens\n", m, p.Input, p.CachedInput, p.Output)
	}
}

func adminSettings(e *adminEnv) *cobra.Command {
	var local, cloud, tokens, device, internet, jit, dropTraces, csvEmails bool
	var defaultRole, telemetryMode string
	var redact, prices []string
	var lookback int
	set := leaf(e, "set", "Change settings (only the flags given)", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		var u codexgov.SettingsUpdate
		f := cmd.Flags()
		pick := func(name string, v *bool, dst **bool) {
			if f.Changed(name) {
				*dst = v
			}
		}
		pick("allow-codex-local", &local, &u.AllowCodexLocal)
		pick("allow-codex-cloud", &cloud, &u.AllowCodexCloud)
		pick("allow-access-tokens", &tokens, &u.AllowAccessTokens)
		pick("allow-device-code-login", &device, &u.AllowDeviceCodeLogin)
		pick("allow-agent-internet", &internet, &u.AllowAgentInternet)
		pick("allow-jit-provisioning", &jit, &u.AllowJITProvisioning)
		if f.Changed("default-role") {
			u.DefaultRole = &defaultRole
		}
		if f.Changed("telemetry") {
			u.Telemetry = &telemetryMode
		}
		pick("telemetry-drop-traces", &dropTraces, &u.TelemetryDropTraces)
		pick("analytics-csv-emails", &csvEmails, &u.AnalyticsCSVEmails)
		if f.Changed("telemetry-redact") {
			patterns := []string{}
			for _, p := range redact {
				if p != "" {
					patterns = append(patterns, p)
				}
			}
			u.TelemetryRedact = &patterns
		}
		if f.Changed("analytics-lookback-days") {
			u.AnalyticsLookbackDays = &lookback
		}
		for _, p := range prices {
			model, v, ok := strings.Cut(p, "=")
			if !ok || model == "" {
				return &exitError{code: 2, err: fmt.Errorf("--model-price %q: want MODEL=INPUT,CACHED_INPUT,OUTPUT (US dollars per million tokens), or MODEL= to remove it", p)}
			}
			if u.ModelPrices == nil {
				u.ModelPrices = map[string]*codexgov.ModelPrice{}
			}
			if v == "" {
				u.ModelPrices[model] = nil
				continue
			}
			var mp codexgov.ModelPrice
			if n, err := fmt.Sscanf(v, "%g,%g,%g", &mp.Input, &mp.CachedInput, &mp.Output); err != nil || n != 3 {
				return &exitError{code: 2, err: fmt.Errorf("--model-price %q: want MODEL=INPUT,CACHED_INPUT,OUTPUT, three numbers (US dollars per million tokens)", p)}
			}
			u.ModelPrices[model] = &mp
		}
		s, err := e.client().UpdateSettings(cmd.Context(), ws, u)
		if err := e.unchanged(cmd, err); err != nil {
			return err
		}
		return e.show(cmd, s, func(out io.Writer) { printSettings(out, *s) })
	})
	f := set.Flags()
	f.BoolVar(&local, "allow-codex-local", true, "allow Codex CLI, IDE and app; --allow-codex-local=false turns it off")
	f.BoolVar(&cloud, "allow-codex-cloud", false, "allow Codex cloud; --allow-codex-cloud=false turns it off")
	f.BoolVar(&tokens, "allow-access-tokens", false, "allow access tokens; --allow-access-tokens=false turns it off")
	f.BoolVar(&device, "allow-device-code-login", false, "allow device-code login; --allow-device-code-login=false turns it off")
	f.BoolVar(&internet, "allow-agent-internet", false, "allow agent internet access; --allow-agent-internet=false turns it off")
	f.BoolVar(&jit, "allow-jit-provisioning", false, "create users at their first single sign-on; --allow-jit-provisioning=false turns it off")
	f.StringVar(&defaultRole, "default-role", "", "role of users with no role through a group")
	f.StringVar(&telemetryMode, "telemetry", "", "enforced telemetry export: off, metadata (events without prompt text) or prompts")
	f.BoolVar(&dropTraces, "telemetry-drop-traces", false, "keep no trace span summaries; --telemetry-drop-traces=false keeps them")
	f.BoolVar(&csvEmails, "analytics-csv-emails", false, "let the Analytics API's per-user CSV export carry users' emails; --analytics-csv-emails=false empties the column")
	f.IntVar(&lookback, "analytics-lookback-days", 0, "how far back an Analytics API query may start (default 90)")
	f.StringArrayVar(&prices, "model-price", nil, "MODEL=INPUT,CACHED_INPUT,OUTPUT in US dollars per million tokens, for estimated_cost_usd (repeatable; MODEL= removes)")
	f.StringArrayVar(&redact, "telemetry-redact", nil, "the workspace's own redaction pattern (RE2), repeatable; the flags given replace the list, --telemetry-redact '' empties it")
	return group("settings", "Show and change workspace settings",
		leaf(e, "get", "Show settings", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			s, err := e.client().Settings(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, s, func(out io.Writer) { printSettings(out, *s) })
		}), set)
}

func printUsers(w io.Writer, us ...codexgov.User) {
	fmt.Fprintln(w, "EMAIL\tNAME\tACTIVE\tGROUPS")
	for _, u := range us {
		fmt.Fprintf(w, "%s\t%s\t%v\t%s\n", u.Email, u.Name, u.Active, strings.Join(u.Groups, ","))
	}
}

func adminUsers(e *adminEnv) *cobra.Command {
	var name string
	add := leaf(e, "add EMAIL", "Add a user", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		u, err := e.client().CreateUser(cmd.Context(), ws, a[0], name)
		if err != nil {
			return err
		}
		return e.show(cmd, u, func(out io.Writer) { printUsers(out, *u) })
	})
	add.Flags().StringVar(&name, "name", "", "full name")
	setActive := func(use string, active bool) *cobra.Command {
		return leaf(e, use+" EMAIL", strings.ToUpper(use[:1])+use[1:]+" a user", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			u, err := e.client().UpdateUser(cmd.Context(), ws, a[0], codexgov.UserUpdate{Active: &active})
			if err != nil {
				return err
			}
			return e.show(cmd, u, func(out io.Writer) { printUsers(out, *u) })
		})
	}
	return group("users", "Manage users",
		leaf(e, "list", "List users", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			us, err := e.client().Users(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, us, func(out io.Writer) { printUsers(out, us...) })
		}),
		add,
		leaf(e, "get EMAIL", "Show a user", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			u, err := e.client().User(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, u, func(out io.Writer) { printUsers(out, *u) })
		}),
		setActive("deactivate", false), setActive("activate", true))
}

func printGroups(w io.Writer, gs ...codexgov.Group) {
	fmt.Fprintln(w, "GROUP\tROLES\tMEMBERS\tDESCRIPTION")
	for _, g := range gs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", g.Name, strings.Join(g.Roles, ","), strings.Join(g.Members, ","), g.Description)
	}
}

func adminGroups(e *adminEnv) *cobra.Command {
	var desc string
	create := leaf(e, "create NAME", "Create a group", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		g, err := e.client().CreateGroup(cmd.Context(), ws, a[0], desc)
		if err != nil {
			return err
		}
		return e.show(cmd, g, func(out io.Writer) { printGroups(out, *g) })
	})
	create.Flags().StringVar(&desc, "description", "", "what the group is for")
	edit := func(use, short string, fn func(c *client.Client, cmd *cobra.Command, ws, g, x string) (*codexgov.Group, error)) *cobra.Command {
		return leaf(e, use, short, cobra.MinimumNArgs(2), true, func(cmd *cobra.Command, ws string, a []string) error {
			var g *codexgov.Group
			for _, x := range a[1:] {
				var err error
				if g, err = fn(e.client(), cmd, ws, a[0], x); err != nil {
					return err
				}
			}
			return e.show(cmd, g, func(out io.Writer) { printGroups(out, *g) })
		})
	}
	return group("groups", "Manage groups, their members and roles",
		leaf(e, "list", "List groups", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			gs, err := e.client().Groups(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, gs, func(out io.Writer) { printGroups(out, gs...) })
		}),
		create,
		leaf(e, "get NAME", "Show a group", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			g, err := e.client().Group(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, g, func(out io.Writer) { printGroups(out, *g) })
		}),
		leaf(e, "delete NAME", "Delete a group", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			if err := e.client().DeleteGroup(cmd.Context(), ws, a[0]); err != nil {
				return err
			}
			return e.show(cmd, map[string]string{"deleted": a[0]}, func(out io.Writer) { fmt.Fprintf(out, "deleted group %s\n", a[0]) })
		}),
		edit("add-member GROUP EMAIL...", "Add users to a group", func(c *client.Client, cmd *cobra.Command, ws, g, x string) (*codexgov.Group, error) {
			return c.AddMember(cmd.Context(), ws, g, x)
		}),
		edit("remove-member GROUP EMAIL...", "Remove users from a group", func(c *client.Client, cmd *cobra.Command, ws, g, x string) (*codexgov.Group, error) {
			return c.RemoveMember(cmd.Context(), ws, g, x)
		}),
		edit("grant-role GROUP ROLE...", "Grant roles to a group", func(c *client.Client, cmd *cobra.Command, ws, g, x string) (*codexgov.Group, error) {
			return c.GrantRole(cmd.Context(), ws, g, x)
		}),
		edit("revoke-role GROUP ROLE...", "Revoke roles from a group", func(c *client.Client, cmd *cobra.Command, ws, g, x string) (*codexgov.Group, error) {
			return c.RevokeRole(cmd.Context(), ws, g, x)
		}))
}

func printRoles(w io.Writer, rs ...codexgov.Role) {
	fmt.Fprintln(w, "ROLE\tPERMISSIONS\tDESCRIPTION")
	for _, r := range rs {
		ps := make([]string, len(r.Permissions))
		for i, p := range r.Permissions {
			ps[i] = string(p)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, strings.Join(ps, ","), r.Description)
	}
}

func perms(ss []string) []codexgov.Permission {
	out := []codexgov.Permission{}
	for _, s := range ss {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, codexgov.Permission(p))
			}
		}
	}
	return out
}

func adminRoles(e *adminEnv) *cobra.Command {
	var desc string
	var ps []string
	allPerms := make([]string, 0, 8)
	for _, p := range codexgov.Permissions() {
		allPerms = append(allPerms, string(p))
	}
	permHelp := "permission (repeatable or comma-separated): " + strings.Join(allPerms, ", ")
	create := leaf(e, "create NAME", "Create a custom role", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		r, err := e.client().CreateRole(cmd.Context(), ws, codexgov.Role{Name: a[0], Description: desc, Permissions: perms(ps)})
		if err != nil {
			return err
		}
		return e.show(cmd, r, func(out io.Writer) { printRoles(out, *r) })
	})
	create.Flags().StringVar(&desc, "description", "", "what the role is for")
	create.Flags().StringSliceVarP(&ps, "permission", "p", nil, permHelp)
	update := leaf(e, "update NAME", "Change a role's permissions or description", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		var u codexgov.RoleUpdate
		if cmd.Flags().Changed("description") {
			u.Description = &desc
		}
		if cmd.Flags().Changed("permission") {
			p := perms(ps)
			u.Permissions = &p
		}
		r, err := e.client().UpdateRole(cmd.Context(), ws, a[0], u)
		if err != nil {
			return err
		}
		return e.show(cmd, r, func(out io.Writer) { printRoles(out, *r) })
	})
	update.Flags().StringVar(&desc, "description", "", "what the role is for")
	update.Flags().StringSliceVarP(&ps, "permission", "p", nil, permHelp+" (replaces the list)")
	return group("roles", "Manage custom roles",
		leaf(e, "list", "List roles", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			rs, err := e.client().Roles(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, rs, func(out io.Writer) { printRoles(out, rs...) })
		}),
		create,
		leaf(e, "get NAME", "Show a role", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			r, err := e.client().Role(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, r, func(out io.Writer) { printRoles(out, *r) })
		}),
		update,
		leaf(e, "delete NAME", "Delete a role", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			if err := e.client().DeleteRole(cmd.Context(), ws, a[0]); err != nil {
				return err
			}
			return e.show(cmd, map[string]string{"deleted": a[0]}, func(out io.Writer) { fmt.Fprintf(out, "deleted role %s\n", a[0]) })
		}))
}

func printPolicies(w io.Writer, ps ...codexgov.PolicyVersion) {
	fmt.Fprintln(w, "POLICY\tVERSION\tHASH\tCREATED\tBY\tCOMMENT")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", p.Name, p.Version, shortHash(p.Hash), p.CreatedAt.Format("2006-01-02 15:04:05"), p.CreatedBy, p.Comment)
	}
}

func shortHash(h string) string {
	if len(h) > 19 {
		return h[:19]
	}
	return h
}

func adminPolicies(e *adminEnv) *cobra.Command {
	var reqFile, defFile, comment string
	var clearDefaults, dryRun bool
	var version, from, to int
	put := leaf(e, "put NAME (--requirements FILE | --defaults FILE)... [--clear-defaults] [--dry-run]", "Write a new policy version (validated as Codex 0.169.0 reads it)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		if reqFile == "" && defFile == "" && !clearDefaults {
			return &exitError{code: 2, err: errors.New("give --requirements FILE, --defaults FILE or both (- reads standard input); nothing to write")}
		}
		if defFile != "" && clearDefaults {
			return &exitError{code: 2, err: errors.New("--defaults and --clear-defaults exclude each other")}
		}
		if reqFile == "-" && defFile == "-" {
			return &exitError{code: 2, err: errors.New("only one of --requirements and --defaults can read standard input")}
		}
		in := codexgov.PolicyInput{Name: a[0], Comment: comment}
		read := func(file, field string, dst *string) error {
			b, err := readInput(cmd, file)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			*dst = string(b)
			e.files[field] = file
			if file == "-" {
				e.files[field] = "<stdin>"
			}
			return nil
		}
		c := e.client()
		// A document not given is kept from the current version: re-putting
		// the requirements does not drop the managed defaults.
		if reqFile == "" || (defFile == "" && !clearDefaults) {
			cur, err := c.Policy(cmd.Context(), ws, a[0], 0)
			if err != nil && codexgov.ErrorCode(err) != codexgov.ENOTFOUND {
				return err
			}
			if cur != nil {
				in.Requirements, in.Defaults = cur.Requirements, cur.Defaults
			}
		}
		if clearDefaults {
			in.Defaults = ""
		}
		if reqFile != "" {
			if err := read(reqFile, "/requirements", &in.Requirements); err != nil {
				return err
			}
		}
		if defFile != "" {
			if err := read(defFile, "/defaults", &in.Defaults); err != nil {
				return err
			}
		}
		warn := func(ws []codexgov.Detail) {
			for _, d := range ws {
				where := d.Field
				if f, ok := e.files[d.Field]; ok {
					where = f
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s:%d:%d: warning: %s\n", where, d.Line, d.Column, d.Message)
			}
		}
		if dryRun {
			d, err := c.DryRunPolicy(cmd.Context(), ws, in)
			if err != nil {
				return err
			}
			return e.show(cmd, d, func(out io.Writer) {
				warn(d.Warnings)
				if d.Unchanged {
					fmt.Fprintf(out, "%s: valid, and the same as version %d; nothing would be written (dry run)\n", a[0], d.Version-1)
					return
				}
				fmt.Fprintf(out, "%s: valid; would be version %d (%s). Nothing was stored (dry run).\n", a[0], d.Version, d.Hash)
				fmt.Fprint(out, d.Diff.Requirements, d.Diff.Defaults)
			})
		}
		p, err := c.PutPolicy(cmd.Context(), ws, in)
		if err != nil {
			return err
		}
		return e.show(cmd, p, func(out io.Writer) {
			printPolicies(out, *p)
			warn(p.Warnings)
		})
	})
	put.Flags().StringVar(&reqFile, "requirements", "", "requirements.toml to enforce (- for standard input); kept from the current version when absent")
	put.Flags().StringVar(&defFile, "defaults", "", "managed defaults, config.toml keys (- for standard input); kept from the current version when absent")
	put.Flags().BoolVar(&clearDefaults, "clear-defaults", false, "write the new version without managed defaults")
	put.Flags().BoolVar(&dryRun, "dry-run", false, "validate as a real write would and show the diff against the current version; store nothing")
	put.Flags().StringVar(&comment, "comment", "", "why this version")
	get := leaf(e, "get NAME", "Show a policy version", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		p, err := e.client().Policy(cmd.Context(), ws, a[0], version)
		if err != nil {
			return err
		}
		return e.show(cmd, p, func(out io.Writer) {
			printPolicies(out, *p)
			fmt.Fprintf(out, "\n# requirements.toml\n%s", p.Requirements)
			if p.Defaults != "" {
				fmt.Fprintf(out, "\n# managed defaults\n%s", p.Defaults)
			}
		})
	})
	get.Flags().IntVar(&version, "version", 0, "version (default: current)")
	diff := leaf(e, "diff NAME", "Diff two versions of a policy (exit 1 when they differ, 0 when identical)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		d, err := e.client().DiffPolicy(cmd.Context(), ws, a[0], from, to)
		if err != nil {
			return err
		}
		err = e.show(cmd, d, func(out io.Writer) {
			if d.Requirements == "" && d.Defaults == "" {
				fmt.Fprintf(out, "%s: versions %d and %d are identical\n", d.Policy, d.From, d.To)
			}
			fmt.Fprint(out, d.Requirements, d.Defaults)
		})
		// Like diff(1) and kubectl diff: 1 when the versions differ.
		if err == nil && (d.Requirements != "" || d.Defaults != "") {
			return &exitError{code: 1}
		}
		return err
	})
	diff.Flags().IntVar(&from, "from", 0, "older version (default: current-1)")
	diff.Flags().IntVar(&to, "to", 0, "newer version (default: current)")
	return group("policies", "Write, read, compare and delete policies",
		leaf(e, "list", "List policies", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ps, err := e.client().Policies(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ps, func(out io.Writer) { printPolicies(out, ps...) })
		}),
		put, get,
		leaf(e, "history NAME", "List a policy's versions", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			ps, err := e.client().PolicyHistory(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, ps, func(out io.Writer) { printPolicies(out, ps...) })
		}),
		diff,
		leaf(e, "delete NAME", "Delete a policy", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			if err := e.client().DeletePolicy(cmd.Context(), ws, a[0]); err != nil {
				return err
			}
			return e.show(cmd, map[string]string{"deleted": a[0]}, func(out io.Writer) { fmt.Fprintf(out, "deleted policy %s\n", a[0]) })
		}))
}

func printAssignment(w io.Writer, a *codexgov.Assignment) {
	fmt.Fprintln(w, "RULE\tGROUP\tPOLICY")
	for i, r := range a.Rules {
		fmt.Fprintf(w, "%d\t%s\t%s\n", i+1, r.Group, r.Policy)
	}
	def := a.Default
	if def == "" {
		def = "(none: no requirements)"
	}
	fmt.Fprintf(w, "default\t*\t%s\n", def)
	if a.Baseline != "" {
		fmt.Fprintf(w, "baseline\t(bootstrap file)\t%s\n", a.Baseline)
	}
}

func adminAssignment(e *adminEnv) *cobra.Command {
	var rules []string
	var def, baseline string
	set := leaf(e, "set --rule GROUP=POLICY... [--default POLICY] [--baseline POLICY]", "Replace the assignment (rules in order; first match wins)", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		a := codexgov.Assignment{Rules: []codexgov.Rule{}, Default: def, Baseline: baseline}
		for _, r := range rules {
			g, p, ok := strings.Cut(r, "=")
			if !ok || g == "" || p == "" {
				return &exitError{code: 2, err: fmt.Errorf("--rule %q: want GROUP=POLICY", r)}
			}
			a.Rules = append(a.Rules, codexgov.Rule{Group: g, Policy: p})
		}
		out, err := e.client().SetAssignment(cmd.Context(), ws, a)
		if err != nil {
			return err
		}
		return e.show(cmd, out, func(w io.Writer) { printAssignment(w, out) })
	})
	set.Flags().StringArrayVar(&rules, "rule", nil, "GROUP=POLICY, repeatable, in order")
	set.Flags().StringVar(&def, "default", "", "fallback policy for users no rule matches")
	set.Flags().StringVar(&baseline, "baseline", "", "policy whose requirements codexgov install writes into each machine's bootstrap file")
	return group("assignment", "Show and set which group gets which policy",
		leaf(e, "get", "Show the assignment", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			a, err := e.client().Assignment(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, a, func(w io.Writer) { printAssignment(w, a) })
		}), set)
}

func adminLookup(e *adminEnv) *cobra.Command {
	var user, grp string
	cmd := leaf(e, "lookup (--user EMAIL | --group NAME)", "Show which policy a user or group gets, and why", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		var l *codexgov.Lookup
		var err error
		if user != "" {
			l, err = e.client().LookupUser(cmd.Context(), ws, user)
		} else {
			l, err = e.client().LookupGroup(cmd.Context(), ws, grp)
		}
		if err != nil {
			return err
		}
		return e.show(cmd, l, func(w io.Writer) {
			who := "group " + l.Group
			if l.User != "" {
				who = "user " + l.User + " (groups: " + strings.Join(l.Groups, ", ") + ")"
			}
			fmt.Fprintf(w, "%s\n", who)
			for _, s := range l.Match.Skipped {
				fmt.Fprintf(w, "  rule %d (%s -> %s): skipped: %s\n", s.Rule, s.Group, s.Policy, s.Reason)
			}
			fmt.Fprintf(w, "  %s\n", l.Match.Reason)
			if l.Policy != nil {
				fmt.Fprintf(w, "policy\t%s version %d\nhash\t%s\nrequirements etag\t%s\n", l.Policy.Name, l.Policy.Version, l.Policy.Hash, l.RequirementsETag)
			} else {
				fmt.Fprintf(w, "policy\t(none)\n")
			}
			for _, s := range []codexgov.Surface{codexgov.SurfaceLocal, codexgov.SurfaceCloud} {
				if d, ok := l.Access[s]; ok {
					fmt.Fprintf(w, "codex %s\tallowed=%v (%s)\n", s, d.Allowed, d.Reason)
				}
			}
			if len(l.Devices) > 0 {
				fmt.Fprintln(w)
				printDevices(w, l.Devices)
			}
			if l.Policy != nil {
				fmt.Fprintf(w, "\n# requirements.toml\n%s", l.Policy.Requirements)
			}
		})
	})
	cmd.Flags().StringVar(&user, "user", "", "a user's email")
	cmd.Flags().StringVar(&grp, "group", "", "a group name")
	cmd.MarkFlagsMutuallyExclusive("user", "group")
	cmd.MarkFlagsOneRequired("user", "group")
	return cmd
}

func printKeys(w io.Writer, ks ...codexgov.APIKey) {
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tREVOKED")
	for _, k := range ks {
		sc := make([]string, len(k.Scopes))
		for i, s := range k.Scopes {
			sc[i] = string(s)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(sc, ","), when(k.CreatedAt, ""), when(k.ExpiresAt, "never"), when(k.LastUsedAt, "never"), when(k.RevokedAt, ""))
	}
}

func adminAPIKeys(e *adminEnv) *cobra.Command {
	var scopes []string
	var expiresIn string
	create := leaf(e, "create NAME --scope SCOPE... [--expires-in DURATION]", "Create an API key (the secret is shown once)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		var sc []codexgov.Scope
		for _, s := range scopes {
			sc = append(sc, codexgov.Scope(s))
		}
		k, err := e.client().CreateAPIKeyWith(cmd.Context(), ws, client.APIKeyRequest{Name: a[0], Scopes: sc, ExpiresIn: expiresIn})
		if err != nil {
			return err
		}
		return e.show(cmd, k, func(w io.Writer) {
			printKeys(w, *k)
			fmt.Fprintf(w, "\nsecret (shown only now): %s\n", k.Secret)
		})
	})
	create.Flags().StringSliceVar(&scopes, "scope", nil, "admin:read, admin:write, audit:read, credentials:write, scim")
	create.Flags().StringVar(&expiresIn, "expires-in", "", "lifetime, e.g. 2160h (default: no expiry)")
	return group("api-keys", "Manage the workspace's API keys",
		leaf(e, "list", "List API keys", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ks, err := e.client().APIKeys(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ks, func(w io.Writer) { printKeys(w, ks...) })
		}),
		create,
		leaf(e, "revoke ID", "Revoke an API key", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			k, err := e.client().RevokeAPIKey(cmd.Context(), ws, a[0])
			if err := e.unchanged(cmd, err); err != nil {
				return err
			}
			return e.show(cmd, k, func(w io.Writer) { printKeys(w, *k) })
		}))
}

func printTokens(w io.Writer, ts ...codexgov.AccessToken) {
	fmt.Fprintln(w, "ID\tUSER\tNAME\tEXPIRES\tREVOKED")
	for _, t := range ts {
		rev := ""
		if !t.RevokedAt.IsZero() {
			rev = t.RevokedAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Name, t.ExpiresAt.Format("2006-01-02 15:04"), rev)
	}
}

func adminAccessTokens(e *adminEnv) *cobra.Command {
	var name, expires string
	issue := leaf(e, "issue EMAIL", "Issue an access token to a user (the secret is shown once)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		t, err := e.client().CreateAccessToken(cmd.Context(), ws, a[0], name, expires)
		if err != nil {
			return err
		}
		return e.show(cmd, t, func(w io.Writer) {
			printTokens(w, *t)
			fmt.Fprintf(w, "\nsecret (shown only now): %s\n", t.Secret)
		})
	})
	issue.Flags().StringVar(&name, "name", "", "what the token is for")
	issue.Flags().StringVar(&expires, "expires-in", "", "lifetime, e.g. 720h (default 90 days, at most 366 days)")
	return group("access-tokens", "Issue and revoke users' access tokens",
		leaf(e, "list", "List access tokens", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ts, err := e.client().AccessTokens(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ts, func(w io.Writer) { printTokens(w, ts...) })
		}),
		issue,
		leaf(e, "revoke ID", "Revoke an access token", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			t, err := e.client().RevokeAccessToken(cmd.Context(), ws, a[0])
			if err := e.unchanged(cmd, err); err != nil {
				return err
			}
			return e.show(cmd, t, func(w io.Writer) { printTokens(w, *t) })
		}))
}

func adminAudit(e *adminEnv) *cobra.Command {
	var before int64
	var limit int
	cmd := leaf(e, "audit", "List audit events, newest first", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		p, err := e.client().AuditEvents(cmd.Context(), ws, before, limit)
		if err != nil {
			return err
		}
		return e.show(cmd, p, func(w io.Writer) {
			fmt.Fprintln(w, "ID\tTIME\tACTOR\tACTION\tTARGET\tREQUEST")
			for _, ev := range p.Events {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", ev.ID, ev.Time.Format("2006-01-02 15:04:05"), ev.Actor, ev.Action, ev.Target, ev.RequestID)
			}
			if p.Next != 0 {
				fmt.Fprintf(w, "\nmore: --before %d\n", p.Next)
			}
		})
	})
	cmd.Flags().Int64Var(&before, "before", 0, "cursor: events older than this id")
	cmd.Flags().IntVar(&limit, "limit", 50, "page size (1-1000)")
	return cmd
}

// sinceFlag reads --since: an RFC 3339 time, or a duration ago.
func sinceFlag(since string) (time.Time, error) {
	at, err := time.Parse(time.RFC3339, since)
	if err != nil {
		d, derr := time.ParseDuration(since)
		if derr != nil {
			return time.Time{}, &exitError{code: 2, err: fmt.Errorf("--since %q: want an RFC 3339 time or a duration such as 24h", since)}
		}
		at = time.Now().Add(-d)
	}
	return at.UTC(), nil
}

// followEvery is how often events --follow asks for new events.
var followEvery = 2 * time.Second

func adminEvents(e *adminEnv) *cobra.Command {
	var user, session, typ, since string
	var bypasses, follow bool
	cmd := leaf(e, "events", "List the Codex telemetry events the workspace's machines sent, newest first", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		q := url.Values{}
		if bypasses {
			typ = codexgov.TelemetryBypass
		}
		for k, v := range map[string]string{"user": user, "session": session, "type": typ} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if since != "" {
			at, err := sinceFlag(since)
			if err != nil {
				return err
			}
			q.Set("since", at.Format(time.RFC3339Nano))
		}
		if follow {
			return followEvents(cmd, e, ws, q)
		}
		evs, err := e.client().TelemetryEvents(cmd.Context(), ws, q)
		if err != nil {
			return err
		}
		return e.show(cmd, evs, func(w io.Writer) {
			fmt.Fprintln(w, eventsHeader)
			for _, ev := range evs {
				fmt.Fprintln(w, eventLine(ev))
			}
		})
	})
	cmd.Flags().StringVar(&user, "user", "", "only this user's events (email)")
	cmd.Flags().StringVar(&session, "session", "", "only this Codex session")
	cmd.Flags().StringVar(&typ, "type", "", "only this type: session_start, prompt, api_request, token_usage, tool_decision, tool_result, sandbox_outcome, bypass, other")
	cmd.Flags().StringVar(&since, "since", "", "only events since this RFC 3339 time, or this long ago (24h)")
	cmd.Flags().BoolVar(&bypasses, "bypasses", false, "only commands Codex ran that a forbidden or prompt rule would have caught, had Codex split them (--type bypass)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events as they arrive, oldest first (one JSON object per line with --json), until interrupted")
	return cmd
}

const eventsHeader = "TIME\tIDENTITY\tTYPE\tSESSION\tSURFACE\tMODEL\tDETAIL"

func eventLine(ev codexgov.TelemetryEvent) string {
	detail := ""
	for _, k := range []string{"tool_name", "decision", "success", "total_tokens", "status", "prompt_length", "hidden_command", "rule", "form"} {
		if v, ok := ev.Data[k]; ok {
			detail += fmt.Sprintf("%s=%v ", k, v)
		}
	}
	if ev.ClaimMismatch {
		detail += "CLAIMS " + ev.ClaimEmail
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", ev.Time.Format("2006-01-02 15:04:05"), ev.Identity, ev.Type, ev.Session, ev.Surface, ev.Model, strings.TrimSpace(detail))
}

// followEvents prints events as they arrive: it asks for those since the
// newest it has seen (a second's overlap, and each printed once by ID),
// oldest first, until the command's context ends (Ctrl-C).
func followEvents(cmd *cobra.Command, e *adminEnv, ws string, q url.Values) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	seen := map[string]time.Time{}
	var newest time.Time
	if !e.json {
		fmt.Fprintln(out, strings.ReplaceAll(eventsHeader, "\t", "  "))
	}
	for {
		evs, err := e.client().TelemetryEvents(ctx, ws, q)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for i := len(evs) - 1; i >= 0; i-- {
			ev := evs[i]
			if _, ok := seen[ev.ID]; ok {
				continue
			}
			seen[ev.ID] = ev.Time
			if ev.Time.After(newest) {
				newest = ev.Time
			}
			if e.json {
				b, _ := json.Marshal(ev)
				fmt.Fprintf(out, "%s\n", b)
			} else {
				fmt.Fprintln(out, strings.ReplaceAll(eventLine(ev), "\t", "  "))
			}
		}
		if !newest.IsZero() {
			from := newest.Add(-time.Second)
			q.Set("since", from.Format(time.RFC3339Nano))
			for id, at := range seen {
				if at.Before(from) {
					delete(seen, id)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followEvery):
		}
	}
}

func adminActivity(e *adminEnv) *cobra.Command {
	var user, since string
	var bypasses bool
	cmd := leaf(e, "activity", "Recent Codex sessions per user from telemetry: surface, model, tokens, tools, approvals, denials, bypasses", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		q := url.Values{}
		if user != "" {
			q.Set("user", user)
		}
		at, err := sinceFlag(since)
		if err != nil {
			return err
		}
		q.Set("since", at.Format(time.RFC3339Nano))
		if bypasses {
			q.Set("type", codexgov.TelemetryBypass)
			evs, err := e.client().TelemetryEvents(cmd.Context(), ws, q)
			if err != nil {
				return err
			}
			return e.show(cmd, evs, func(w io.Writer) {
				fmt.Fprintln(w, "TIME\tIDENTITY\tDEVICE\tSESSION\tRULE\tFORM\tCOMMAND")
				for _, ev := range evs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v\t%v\n", ev.Time.Format("2006-01-02 15:04:05"), ev.Identity, ev.Device, ev.Session, ev.Data["rule"], ev.Data["form"], ev.Data["command"])
				}
			})
		}
		ss, err := e.client().TelemetryActivity(cmd.Context(), ws, q)
		if err != nil {
			return err
		}
		return e.show(cmd, ss, func(w io.Writer) {
			fmt.Fprintln(w, "LAST\tIDENTITY\tDEVICE\tSESSION\tSURFACE\tMODEL\tPROMPTS\tTOKENS\tTOOLS\tAPPROVED\tDENIED\tBYPASSES")
			for _, a := range ss {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d %s\t%d\t%d\t%d\n", a.Last.Format("2006-01-02 15:04"), a.Identity, a.Device, a.Session, a.Surface, a.Model,
					a.Prompts, a.Tokens, a.ToolCalls, strings.Join(a.Tools, ","), a.Approvals, a.Denials, a.Bypasses)
			}
		})
	})
	cmd.Flags().StringVar(&user, "user", "", "only this user's sessions (email)")
	cmd.Flags().StringVar(&since, "since", "168h", "sessions with events since this RFC 3339 time, or this long ago")
	cmd.Flags().BoolVar(&bypasses, "bypasses", false, "list the commands that slipped past policy instead: user, machine, session, rule, form and command")
	return cmd
}

func printSigningKeys(w io.Writer, ks ...codexgov.SigningKey) {
	fmt.Fprintln(w, "KID\tACTIVE\tCREATED\tRETIRED")
	for _, k := range ks {
		ret := ""
		if !k.RetiredAt.IsZero() {
			ret = k.RetiredAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%v\t%s\t%s\n", k.KID, k.Active, k.CreatedAt.Format("2006-01-02 15:04"), ret)
	}
}

func adminSigningKeys(e *adminEnv) *cobra.Command {
	var force bool
	retire := leaf(e, "retire KID [--force]", "Stop publishing an inactive key (refused while sync machines trust only it)", cobra.ExactArgs(1), false, func(cmd *cobra.Command, _ string, a []string) error {
		k, err := e.client().RetireSigningKey(cmd.Context(), a[0], force)
		if err := e.unchanged(cmd, err); err != nil {
			return err
		}
		return e.show(cmd, k, func(w io.Writer) { printSigningKeys(w, *k) })
	})
	retire.Flags().BoolVar(&force, "force", false, "retire even while sync machines trust only this key (they will refuse every policy until re-pinned with codexgov sync --repin)")
	return group("signing-keys", "Rotate and retire the keys that sign distributed policies (server key)",
		leaf(e, "list", "List signing keys", cobra.NoArgs, false, func(cmd *cobra.Command, _ string, _ []string) error {
			ks, err := e.client().SigningKeys(cmd.Context())
			if err != nil {
				return err
			}
			return e.show(cmd, ks, func(w io.Writer) { printSigningKeys(w, ks...) })
		}),
		leaf(e, "rotate", "Add a new active key; the old one stays published", cobra.NoArgs, false, func(cmd *cobra.Command, _ string, _ []string) error {
			k, err := e.client().RotateSigningKey(cmd.Context())
			if err != nil {
				return err
			}
			return e.show(cmd, k, func(w io.Writer) { printSigningKeys(w, *k) })
		}),
		retire)
}

func printEnrollmentTokens(w io.Writer, ts ...codexgov.EnrollmentToken) {
	fmt.Fprintln(w, "ID\tIDENTITY\tGROUPS\tNAME\tEXPIRES\tLAST USED\tREVOKED")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Identity(), strings.Join(t.Groups, ","), t.Name, when(t.ExpiresAt, "never"), when(t.LastUsedAt, "never"), when(t.RevokedAt, ""))
	}
}

// when formats a time for a table, or says none for the zero time.
func when(t time.Time, none string) string {
	if t.IsZero() {
		return none
	}
	return t.Format("2006-01-02 15:04")
}

func adminEnrollmentTokens(e *adminEnv) *cobra.Command {
	var r client.EnrollmentTokenRequest
	issue := leaf(e, "issue (--user EMAIL | --service NAME --group GROUP...)", "Issue a device enrollment token (the secret is shown once)", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		t, err := e.client().CreateEnrollmentToken(cmd.Context(), ws, r)
		if err != nil {
			return err
		}
		return e.show(cmd, t, func(w io.Writer) {
			printEnrollmentTokens(w, *t)
			fmt.Fprintf(w, "\nsecret (shown only now): %s\non the machine, as root: codexgov install --server URL --enroll-token %s\n", t.Secret, t.Secret)
		})
	})
	issue.Flags().StringVar(&r.User, "user", "", "the user the machine belongs to")
	issue.Flags().StringVar(&r.Service, "service", "", "a service identity's name (CI runners, devboxes)")
	issue.Flags().StringSliceVar(&r.Groups, "group", nil, "a service identity's groups: they choose its policy and roles")
	issue.Flags().StringVar(&r.Name, "name", "", "which machine or fleet holds the token")
	issue.Flags().StringVar(&r.ExpiresIn, "expires-in", "", "lifetime, e.g. 8760h, or never (default: a year)")
	issue.MarkFlagsMutuallyExclusive("user", "service")
	issue.MarkFlagsOneRequired("user", "service")
	return group("enrollment-tokens", "Issue and revoke device enrollment tokens (configuration server, enrollment mode)",
		leaf(e, "list", "List enrollment tokens", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ts, err := e.client().EnrollmentTokens(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ts, func(w io.Writer) { printEnrollmentTokens(w, ts...) })
		}),
		issue,
		leaf(e, "revoke ID", "Revoke an enrollment token: the machine's Codex fails closed once its cache expires", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			t, err := e.client().RevokeEnrollmentToken(cmd.Context(), ws, a[0])
			if err := e.unchanged(cmd, err); err != nil {
				return err
			}
			return e.show(cmd, t, func(w io.Writer) { printEnrollmentTokens(w, *t) })
		}))
}

func printSignIns(w io.Writer, gs ...codexgov.OAuthGrant) {
	fmt.Fprintln(w, "ID\tUSER\tCREATED\tLAST USED\tREVOKED")
	for _, g := range gs {
		rev := ""
		if !g.RevokedAt.IsZero() {
			rev = g.RevokedAt.Format("2006-01-02 15:04") + " (" + g.RevokeReason + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", g.ID, g.User, g.CreatedAt.Format("2006-01-02 15:04"), g.LastUsedAt.Format("2006-01-02 15:04"), rev)
	}
}

func adminSignIns(e *adminEnv) *cobra.Command {
	return group("sign-ins", "List and revoke Codex sign-ins to the configuration server (OAuth mode)",
		leaf(e, "list", "List sign-ins", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			gs, err := e.client().OAuthGrants(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, gs, func(w io.Writer) { printSignIns(w, gs...) })
		}),
		leaf(e, "revoke ID", "Revoke a sign-in: its tokens stop working and the user must sign in again", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			g, err := e.client().RevokeOAuthGrant(cmd.Context(), ws, a[0])
			if err := e.unchanged(cmd, err); err != nil {
				return err
			}
			return e.show(cmd, g, func(w io.Writer) { printSignIns(w, *g) })
		}))
}

func printDevices(w io.Writer, ds []codexgov.DeviceStatus) {
	fmt.Fprintln(w, "DEVICE\tKIND\tIDENTITY\tLAST FETCH\tRECEIVED\tSHOULD HAVE\tSTATE\tHOST\tLAST SYNC")
	ver := func(p string, v int, hash string) string {
		switch {
		case hash == codexgov.DeliveryDenied:
			return "(denied)"
		case hash == "":
			return "-"
		case p == "":
			return "(no policy)"
		}
		return fmt.Sprintf("%s v%d", p, v)
	}
	for _, d := range ds {
		last := "never"
		if !d.LastFetch.IsZero() {
			last = d.LastFetch.Format("2006-01-02 15:04:05")
		}
		// A sync machine says which machine it is and how its last run
		// went; the native configuration server's devices do not.
		host, result := "-", "-"
		if d.Sync != nil {
			host, result = d.Sync.Hostname, d.Sync.Result
			if d.Sync.Error != "" {
				result += ": " + d.Sync.Error
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Device, d.Kind, d.Identity, last, ver(d.Policy, d.PolicyVersion, d.BundleHash),
			ver(d.Expected.Policy, d.Expected.PolicyVersion, d.Expected.BundleHash), d.State, host, result)
	}
}

func adminDevices(e *adminEnv) *cobra.Command {
	var f client.DeviceFilter
	cmd := leaf(e, "devices [--drifted] [--stale-after 72h]", "Proof of delivery: what each device received and what it should have", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		ds, err := e.client().Devices(cmd.Context(), ws, f)
		if err != nil {
			return err
		}
		return e.show(cmd, ds, func(w io.Writer) { printDevices(w, ds) })
	})
	cmd.Flags().BoolVar(&f.Drifted, "drifted", false, "only devices that are pending or stale")
	cmd.Flags().DurationVar(&f.StaleAfter, "stale-after", 0, "a device with no fetch for longer is stale (server default 72h)")
	cmd.Flags().StringVar(&f.Identity, "identity", "", "only this identity: user:EMAIL or service:NAME")
	return cmd
}

func adminIdentityProviders(e *adminEnv) *cobra.Command {
	var display, issuer, clientID, secretFile, domain, groupsClaim string
	printIdPs := func(out io.Writer, ps ...codexgov.IdentityProvider) {
		fmt.Fprintln(out, "NAME\tISSUER\tCLIENT ID\tDOMAIN\tGROUPS CLAIM")
		for _, p := range ps {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Issuer, p.ClientID, p.AllowedDomain, p.GroupsClaim)
		}
	}
	set := leaf(e, "set NAME", "Create or replace an OIDC identity provider (the secret is read from a file and stored encrypted)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		body := map[string]string{"display_name": display, "issuer": issuer, "client_id": clientID, "allowed_domain": domain, "groups_claim": groupsClaim}
		if secretFile != "" {
			b, err := os.ReadFile(secretFile)
			if err != nil {
				return err
			}
			body["client_secret"] = strings.TrimSpace(string(b))
		}
		p, err := e.client().PutIdentityProvider(cmd.Context(), ws, a[0], body)
		if err != nil {
			return err
		}
		return e.show(cmd, p, func(out io.Writer) { printIdPs(out, *p) })
	})
	f := set.Flags()
	f.StringVar(&display, "display-name", "", "label of the sign-in button")
	f.StringVar(&issuer, "issuer", "", "issuer URL (its /.well-known/openid-configuration is read)")
	f.StringVar(&clientID, "client-id", "", "client id the provider issued")
	f.StringVar(&secretFile, "client-secret-file", "", "file holding the client secret (required when creating)")
	f.StringVar(&domain, "allowed-domain", "", "the email domain whose people may sign in")
	f.StringVar(&groupsClaim, "groups-claim", "", "ID token claim with the user's groups (synchronised at sign-in)")
	return group("identity-providers", "Single sign-on providers (OIDC)",
		leaf(e, "list", "List identity providers", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ps, err := e.client().IdentityProviders(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ps, func(out io.Writer) { printIdPs(out, ps...) })
		}),
		set,
		leaf(e, "delete NAME", "Remove an identity provider", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			return e.client().DeleteIdentityProvider(cmd.Context(), ws, a[0])
		}))
}

func printHolds(w io.Writer, hs ...codexgov.LegalHold) {
	fmt.Fprintln(w, "ID\tON\tREASON\tBY\tSET\tRELEASED")
	for _, h := range hs {
		on := "the whole workspace"
		if h.User != "" {
			on = h.User
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, on, h.Reason, h.CreatedBy, h.CreatedAt.Format("2006-01-02 15:04"), when(h.ReleasedAt, ""))
	}
}

func adminLegalHolds(e *adminEnv) *cobra.Command {
	var user, reason string
	set := leaf(e, "set --reason TEXT [--user EMAIL]", "Set a legal hold: the user's (or the whole workspace's) records never expire while it is active", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		h, err := e.client().CreateLegalHold(cmd.Context(), ws, codexgov.LegalHoldInput{User: user, Reason: reason})
		if err != nil {
			return err
		}
		return e.show(cmd, h, func(w io.Writer) { printHolds(w, *h) })
	})
	set.Flags().StringVar(&user, "user", "", "the user held (default: the whole workspace)")
	set.Flags().StringVar(&reason, "reason", "", "the matter the hold is for")
	return group("legal-holds", "Legal holds: records they cover never expire",
		leaf(e, "list", "List legal holds, active first", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			hs, err := e.client().LegalHolds(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, hs, func(w io.Writer) { printHolds(w, hs...) })
		}),
		set,
		leaf(e, "release ID", "Release a legal hold", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			h, err := e.client().ReleaseLegalHold(cmd.Context(), ws, a[0])
			if err := e.unchanged(cmd, err); err != nil {
				return err
			}
			return e.show(cmd, h, func(w io.Writer) { printHolds(w, *h) })
		}))
}

func printErasure(w io.Writer, r *codexgov.ErasureResult) {
	fmt.Fprintf(w, "deleted %d raw events; re-sealed %d files\n", r.DeletedEvents, len(r.Files))
	for _, f := range r.Files {
		fmt.Fprintf(w, "  %s %s → %s (%d records removed)\n", f.EventType, f.ID, f.ReplacedBy, f.Removed)
	}
}

func printSinks(w io.Writer, ks ...*codexgov.ComplianceSink) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tURL\tDELIVERED\tLAG\tDEAD LETTERS\tSTATE\tLAST ERROR")
	for _, k := range ks {
		lag := "-"
		if k.Lag != nil {
			lag = fmt.Sprintf("%d records", k.Lag.Records)
			if k.Lag.Records > 0 {
				lag += fmt.Sprintf(" (%s)", (time.Duration(k.Lag.Seconds) * time.Second).String())
			}
		}
		state := "delivering"
		switch {
		case k.Paused:
			state = "paused"
		case k.Attempts > 0:
			state = fmt.Sprintf("retrying (%d failed, next %s)", k.Attempts, k.NextAttempt.Format(time.RFC3339))
		}
		last := "-"
		if k.LastError != "" {
			last = k.LastErrorAt.Format(time.RFC3339) + " " + k.LastError
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", k.Name, k.Kind, k.URL, k.Delivered, lag, k.DeadLetters, state, last)
	}
	tw.Flush()
}

func adminSinks(e *adminEnv) *cobra.Command {
	var in codexgov.SinkInput
	var secretFile, caFile string
	add := leaf(e, "add NAME --kind splunk_hec|syslog|webhook --url URL", "Add a SIEM sink: sealed records are pushed to it at least once, from the oldest kept", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
		in.Name = a[0]
		if secretFile != "" {
			b, err := readInput(cmd, secretFile)
			if err != nil {
				return fmt.Errorf("--secret-file: %w", err)
			}
			in.Secret = strings.TrimSpace(string(b))
		}
		if caFile != "" {
			b, err := os.ReadFile(caFile)
			if err != nil {
				return fmt.Errorf("--ca-file: %w", err)
			}
			in.CACert = string(b)
		}
		k, err := e.client().CreateComplianceSink(cmd.Context(), ws, in)
		if err != nil {
			return err
		}
		return e.show(cmd, k, func(w io.Writer) { printSinks(w, k) })
	})
	add.Flags().StringVar(&in.Kind, "kind", "", "splunk_hec, syslog (RFC 5425, tls://HOST:PORT) or webhook (HMAC-SHA256 signed)")
	add.Flags().StringVar(&in.URL, "url", "", "the HEC base URL (https://splunk:8088), tls://HOST:PORT, or the webhook URL")
	add.Flags().StringVar(&secretFile, "secret-file", "", "file (or - for stdin) holding the HEC token or the webhook's shared secret")
	add.Flags().StringVar(&caFile, "ca-file", "", "PEM CA bundle the receiver's certificate is checked against (default: the system's)")
	add.Flags().StringSliceVar(&in.EventTypes, "event-type", nil, "event types to push (repeatable; default all four)")
	return group("sinks", "SIEM sinks: Splunk HEC, syslog over TLS, signed webhooks",
		leaf(e, "list", "List sinks with what each delivered, its lag, dead letters and last error", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
			ks, err := e.client().ComplianceSinks(cmd.Context(), ws)
			if err != nil {
				return err
			}
			return e.show(cmd, ks, func(w io.Writer) { printSinks(w, ks...) })
		}),
		add,
		leaf(e, "remove NAME", "Remove a sink and its dead letters", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			k, err := e.client().DeleteComplianceSink(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, k, func(w io.Writer) { fmt.Fprintf(w, "removed sink %s\n", k.Name) })
		}),
		leaf(e, "rewind NAME", "Deliver every kept record to a sink again (receivers de-duplicate on event_id)", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			k, err := e.client().RewindComplianceSink(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, k, func(w io.Writer) { fmt.Fprintf(w, "sink %s starts again from the oldest kept record\n", k.Name) })
		}),
		leaf(e, "dead-letters NAME", "The batches a sink's receiver refused for good", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			ds, err := e.client().ComplianceSinkDeadLetters(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, ds, func(w io.Writer) {
				for _, d := range ds {
					fmt.Fprintf(w, "%s %s %s line %d: %d records: %s\n", d.CreatedAt.Format(time.RFC3339), d.EventType, d.File, d.Line, d.Count, d.Error)
				}
			})
		}))
}

func adminCompliance(e *adminEnv) *cobra.Command {
	return group("compliance", "Compliance records: SIEM sinks, deletion and erasure",
		adminSinks(e),
		leaf(e, "delete-task ID", "Delete a Codex session's records; the sealed files holding them are re-sealed as new links of their chains", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			r, err := e.client().DeleteCodexTask(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, r, func(w io.Writer) { printErasure(w, r) })
		}),
		leaf(e, "erase-user EMAIL", "Erase a person's Codex, security and sign-in records (the admin changes they made stay); files re-sealed", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			r, err := e.client().EraseUser(cmd.Context(), ws, a[0])
			if err != nil {
				return err
			}
			return e.show(cmd, r, func(w io.Writer) { printErasure(w, r) })
		}))
}

func adminAnalytics(e *adminEnv) *cobra.Command {
	var since string
	rebuild := leaf(e, "rebuild --since YYYY-MM-DD", "Recompute the Analytics API's usage rollups from the raw events, from the Monday of that week on", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		if since == "" {
			return &exitError{code: 2, err: fmt.Errorf("--since is required: a date, YYYY-MM-DD (UTC)")}
		}
		r, err := e.client().RebuildAnalytics(cmd.Context(), ws, since)
		if err != nil {
			return err
		}
		return e.show(cmd, r, func(w io.Writer) {
			fmt.Fprintf(w, "rebuilt the usage rollups from %s: %d events read\n", r.From, r.Events)
		})
	})
	rebuild.Flags().StringVar(&since, "since", "", "first date (UTC) to recompute")
	return group("analytics", "The Analytics API's rollups", rebuild)
}

func printBudgets(w io.Writer, bs ...codexgov.GatewayBudgetUse) {
	fmt.Fprintln(w, "ID\tON\tPER\tUNIT\tUSED\tRESERVED\tLIMIT\tLEFT\tSINCE")
	amount := func(unit string, v float64) string {
		if unit == codexgov.BudgetUSD {
			return fmt.Sprintf("%.2f", v)
		}
		return fmt.Sprintf("%.0f", v)
	}
	for _, b := range bs {
		fmt.Fprintf(w, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Scope, b.Subject, b.Period, b.Unit, amount(b.Unit, b.Used), amount(b.Unit, b.Reserved),
			amount(b.Unit, b.Limit), amount(b.Unit, max(0, b.Limit-b.Used-b.Reserved)), b.PeriodStart)
	}
}

func adminBudgets(e *adminEnv) *cobra.Command {
	var user, grp, per string
	var tokens, usd float64
	set := leaf(e, "set (--user EMAIL | --group NAME) (--tokens N | --usd N) [--per day|week|month]", "Set a budget on what a person, or a group together, spends through the model gateway", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		b := codexgov.GatewayBudget{Period: per}
		switch {
		case (user == "") == (grp == ""):
			return errors.New("give one of --user and --group")
		case user != "":
			b.Scope, b.Subject = "user", user
		default:
			b.Scope, b.Subject = "group", grp
		}
		switch {
		case (tokens > 0) == (usd > 0):
			return errors.New("give one of --tokens and --usd")
		case tokens > 0:
			b.Unit, b.Limit = codexgov.BudgetTokens, tokens
		default:
			b.Unit, b.Limit = codexgov.BudgetUSD, usd
		}
		got, err := e.client().PutGatewayBudget(cmd.Context(), ws, b)
		if err != nil {
			return err
		}
		return e.show(cmd, got, func(w io.Writer) { printBudgets(w, codexgov.GatewayBudgetUse{GatewayBudget: *got}) })
	})
	f := set.Flags()
	f.StringVar(&user, "user", "", "the person the budget is for")
	f.StringVar(&grp, "group", "", "the group the budget is for (its members together)")
	f.Float64Var(&tokens, "tokens", 0, "limit in tokens (input and output)")
	f.Float64Var(&usd, "usd", 0, "limit in estimated USD (the analytics price table)")
	f.StringVar(&per, "per", "day", "period: day, week (from Monday) or month, UTC")
	list := leaf(e, "list", "Each budget with its use in the current period (used, reserved by requests in flight) against its limit", cobra.NoArgs, true, func(cmd *cobra.Command, ws string, _ []string) error {
		bs, err := e.client().GatewayBudgets(cmd.Context(), ws)
		if err != nil {
			return err
		}
		return e.show(cmd, bs, func(w io.Writer) { printBudgets(w, bs...) })
	})
	g := group("budgets", "Model gateway budgets: use against each limit (budgets alone lists them)", list, set,
		leaf(e, "delete ID", "Remove a budget", cobra.ExactArgs(1), true, func(cmd *cobra.Command, ws string, a []string) error {
			return e.client().DeleteGatewayBudget(cmd.Context(), ws, a[0])
		}))
	g.Args, g.RunE = cobra.NoArgs, list.RunE
	return g
}
