// Package envknob is the one table of every CODEXGOV_* environment variable
// the binary reads. A variable that sets a flag is parsed exactly as the
// flag would be, so a value the flag refuses stops the command with a
// message naming the variable, the value and what is accepted, instead of
// being ignored. docs/configuration.md is checked against this table.
package envknob

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// Knob is one environment variable.
type Knob struct {
	Name string
	// Flag is the flag whose value the variable gives when the flag is not
	// on the command line; empty for a variable with no flag.
	Flag string
	// Commands lists the commands that read it.
	Commands []string
	// Accepts says what a valid value looks like.
	Accepts string
	// Default is the value when neither the flag nor the variable is set.
	Default string
	// Secret values are never printed: not in help, not in errors.
	Secret bool
	Doc    string
}

const (
	acceptsDuration = "a duration such as 500ms, 30s, 5m or 1h30m"
	acceptsBool     = "true or false (also 1, 0, t, f, TRUE, FALSE)"
)

var clients = []string{"admin", "mdm", "install", "login", "sync", "compliance"}

// Knobs is every CODEXGOV_* variable the binary reads, in the order
// docs/configuration.md lists them.
var Knobs = []Knob{
	{Name: "CODEXGOV_LISTEN", Flag: "listen", Commands: []string{"server"}, Accepts: "host:port", Default: "127.0.0.1:7700", Doc: "address the server listens on"},
	{Name: "CODEXGOV_DATA_DIR", Flag: "data-dir", Commands: []string{"server"}, Accepts: "a folder", Default: "./codexgov-data", Doc: "folder of the SQLite database, the master key and the dev TLS files"},
	{Name: "CODEXGOV_DATABASE", Flag: "database", Commands: []string{"server"}, Accepts: "postgres://… URL, or empty for SQLite", Secret: true, Doc: "PostgreSQL connection URL (it may hold a password)"},
	{Name: "CODEXGOV_MASTER_KEY_FILE", Flag: "master-key-file", Commands: []string{"server"}, Accepts: "a file path", Default: "DATA_DIR/master.key", Doc: "the 32-byte key that seals signing keys and secrets; every replica needs the same one"},
	{Name: "CODEXGOV_SYNC_INTERVAL", Flag: "sync-interval", Commands: []string{"server"}, Accepts: acceptsDuration, Default: "2s", Doc: "how often a replica checks the database for changes made by others"},
	{Name: "CODEXGOV_MAX_BODY_BYTES", Flag: "max-body-bytes", Commands: []string{"server"}, Accepts: "a whole number of bytes", Default: "589824", Doc: "largest request body accepted (twice the largest policy document, plus 64 KiB)"},
	{Name: "CODEXGOV_TLS_CERT", Flag: "tls-cert", Commands: []string{"server"}, Accepts: "a PEM file", Doc: "certificate chain to serve HTTPS with; reloaded on SIGHUP and when the file changes"},
	{Name: "CODEXGOV_TLS_KEY", Flag: "tls-key", Commands: []string{"server"}, Accepts: "a PEM file", Doc: "private key of CODEXGOV_TLS_CERT"},
	{Name: "CODEXGOV_DEV_TLS", Flag: "dev-tls", Commands: []string{"server"}, Accepts: acceptsBool, Default: "false", Doc: "development only: a local CA and certificate in DATA_DIR/dev-tls"},
	{Name: "CODEXGOV_OAUTH_ACCESS_TTL", Flag: "oauth-access-ttl", Commands: []string{"server"}, Accepts: acceptsDuration + ", from 5m to 24h", Default: "1h", Doc: "lifetime of the configuration server's access tokens"},
	{Name: "CODEXGOV_PUBLIC_URL", Flag: "public-url", Commands: []string{"server"}, Accepts: "an https:// URL, or empty", Doc: "external base URL (single sign-on redirects, SCIM locations)"},
	{Name: "CODEXGOV_DB_TIMEOUT", Flag: "db-timeout", Commands: []string{"server"}, Accepts: acceptsDuration + ", from 1s to 60s", Default: "5s", Doc: "how long a request waits for the database before it answers 503"},
	{Name: "CODEXGOV_DATABASE_MAX_CONNS", Flag: "database-max-conns", Commands: []string{"server"}, Accepts: "a whole number, 1 or more", Default: "16", Doc: "most PostgreSQL connections one replica opens; requests beyond them queue within CODEXGOV_DB_TIMEOUT"},
	{Name: "CODEXGOV_RATE_PER_ADDRESS", Flag: "rate-per-address", Commands: []string{"server"}, Accepts: "requests per second, 0 for no limit", Default: "20", Doc: "rate one client address may call the routes anyone can call (sign-in, device login, OAuth); 429 with Retry-After beyond it"},
	{Name: "CODEXGOV_RATE_PER_WORKSPACE", Flag: "rate-per-workspace", Commands: []string{"server"}, Accepts: "requests per second, 0 for no limit", Default: "100", Doc: "rate of those routes naming one workspace, from all addresses"},
	{Name: "CODEXGOV_RATE_PER_CREDENTIAL", Flag: "rate-per-credential", Commands: []string{"server"}, Accepts: "requests per second, 0 for no limit", Default: "200", Doc: "rate one API key, token or sign-in may call the server"},
	{Name: "CODEXGOV_OTLP_GRPC_ADDR", Flag: "otlp-grpc-addr", Commands: []string{"server"}, Accepts: "host:port, or empty", Doc: "also serve the OTLP/gRPC receiver there (TLS as the main listener)"},
	{Name: "CODEXGOV_METRICS_TOKEN_FILE", Flag: "metrics-token-file", Commands: []string{"server"}, Accepts: "a file holding a token of 16 or more characters, or empty", Doc: "when set, /metrics asks for Authorization: Bearer <the file's token> (Prometheus: authorization.credentials_file)"},
	{Name: "CODEXGOV_RECORD_INTERVAL", Flag: "record-interval", Commands: []string{"server"}, Accepts: acceptsDuration, Default: "2s", Doc: "how often bundle fetch records are written"},
	{Name: "CODEXGOV_LOG_LEVEL", Flag: "log-level", Commands: []string{"server"}, Accepts: "debug, info, warn or error", Default: "info", Doc: "least severe log level written"},
	{Name: "CODEXGOV_LOG_FORMAT", Flag: "log-format", Commands: []string{"server"}, Accepts: "text or json", Default: "text", Doc: "log line format"},
	{Name: "CODEXGOV_SERVER", Flag: "server", Commands: clients, Accepts: "the server's URL, such as https://codexgov.example.com", Default: "http://127.0.0.1:7700 (admin, mdm, login); the login credential's (sync)", Doc: "the codexgov server a command talks to"},
	{Name: "CODEXGOV_TOKEN", Flag: "token", Commands: []string{"admin", "mdm", "install", "compliance"}, Accepts: "an API key, cgk_…", Secret: true, Doc: "API key; without one, admin and mdm act as the person who ran codexgov login"},
	{Name: "CODEXGOV_WORKSPACE", Flag: "workspace", Commands: []string{"admin", "mdm", "install", "login", "compliance"}, Accepts: "a workspace id", Doc: "workspace the command acts in"},
	{Name: "CODEXGOV_ENROLL_TOKEN", Flag: "enroll-token", Commands: []string{"install", "sync"}, Accepts: "an enrollment token, cge_…", Secret: true, Doc: "the machine's enrollment token"},
	{Name: "CODEXGOV_CA", Flag: "ca", Commands: clients, Accepts: "a PEM file of CA certificates", Doc: "CA the server's certificate chains to, when it is private"},
	{Name: "CODEXGOV_SYNC_STATE", Flag: "state", Commands: []string{"sync"}, Accepts: "a folder", Default: "/var/lib/codexgov/sync", Doc: "pinned key set and last known good policy of codexgov sync"},
	{Name: "CODEXGOV_CONFIG_DIR", Commands: []string{"login", "logout", "admin", "mdm", "sync", "compliance"}, Accepts: "a folder", Default: "the user's config folder/codexgov", Doc: "where codexgov login keeps its credential file"},
}

// Lookup returns the knob named name.
func Lookup(name string) (Knob, bool) {
	i := slices.IndexFunc(Knobs, func(k Knob) bool { return k.Name == name })
	if i < 0 {
		return Knob{}, false
	}
	return Knobs[i], true
}

// Get returns a variable of the table that has no flag; it panics on a
// name outside the table, so none is read without being documented.
func Get(name string) string {
	if _, ok := Lookup(name); !ok {
		panic("envknob: " + name + " is not in the table")
	}
	return os.Getenv(name)
}

const (
	annotationKnob    = "codexgov/envknob"
	annotationFromEnv = "codexgov/envknob-set"
)

// Bind makes the variable name the flag's fallback and names it in the
// flag's help. The flag's own default stays what help shows, so a secret
// in the environment never appears there. It panics on a name outside the
// table or a flag that does not exist (a programming error, caught by
// tests that build every command).
func Bind(fs *pflag.FlagSet, flag, name string) {
	k, ok := Lookup(name)
	if !ok {
		panic("envknob: " + name + " is not in the table")
	}
	f := fs.Lookup(flag)
	if f == nil {
		panic("envknob: no flag --" + flag)
	}
	if k.Flag != flag {
		panic(fmt.Sprintf("envknob: %s is the variable of --%s, not --%s", name, k.Flag, flag))
	}
	if err := fs.SetAnnotation(flag, annotationKnob, []string{name}); err != nil {
		panic(err)
	}
	f.Usage += " [$" + name + "]"
}

// Apply sets every bound flag that is not on the command line from its
// variable, parsing the value as the flag would. An invalid value is an
// error naming the variable, the value (unless secret) and what is
// accepted.
func Apply(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []string
	fs.VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[annotationKnob]
		if len(names) == 0 || f.Changed {
			return
		}
		v, ok := lookup(names[0])
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			k, _ := Lookup(names[0])
			shown := fmt.Sprintf("%q", v)
			if k.Secret {
				shown = "(secret, not shown)"
			}
			errs = append(errs, fmt.Sprintf("%s=%s is not valid: want %s", k.Name, shown, k.Accepts))
			return
		}
		f.Annotations[annotationFromEnv] = []string{"true"}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// FromEnv reports whether Apply set the flag from its variable.
func FromEnv(fs *pflag.FlagSet, flag string) bool {
	f := fs.Lookup(flag)
	return f != nil && len(f.Annotations[annotationFromEnv]) > 0
}

// Enum is a flag value limited to a fixed set of words.
type Enum struct {
	Value   string
	Choices []string
}

// NewEnum returns an Enum holding def.
func NewEnum(def string, choices ...string) *Enum { return &Enum{Value: def, Choices: choices} }

func (e *Enum) String() string { return e.Value }
func (e *Enum) Type() string   { return "string" }

// Set accepts one of the choices.
func (e *Enum) Set(v string) error {
	if !slices.Contains(e.Choices, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(e.Choices, ", "))
	}
	e.Value = v
	return nil
}
