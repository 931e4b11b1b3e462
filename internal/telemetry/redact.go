package telemetry

import (
	"github.com/codexgov/codexgov"

	"regexp"
)

// Redacted replaces each secret a detector finds.
const Redacted = "[REDACTED:"

// detector finds one kind of secret; group, when set, is the part of the
// match that is the secret (the rest, such as "password=", stays).
type detector struct {
	kind  string
	re    *regexp.Regexp
	group int
}

// Detectors also match text that was JSON-escaped once (tool arguments
// are JSON): a quote may be preceded by a backslash, and a word may follow
// an escape such as \n.

// builtIn are the detectors every workspace gets: cloud keys, forge and
// chat tokens, private keys, JWTs, passwords in URLs, Authorization
// headers and generic key=/secret=/token= values.
var builtIn = []detector{
	{"private_key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`), 0},
	{"aws_access_key", regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b`), 0},
	{"aws_secret_key", regexp.MustCompile(`(?i)aws_?secret_?access_?key["'\s:=]+([A-Za-z0-9/+=]{40})\b`), 1},
	{"gcp_api_key", regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{35}\b`), 0},
	{"gcp_service_account_key", regexp.MustCompile(`\\?"private_key_id\\?"\s*:\s*\\?"([0-9a-f]{40})`), 1},
	{"azure_storage_key", regexp.MustCompile(`(?i)AccountKey=([A-Za-z0-9+/=]{86,88})`), 1},
	{"azure_client_secret", regexp.MustCompile(`\b[0-9A-Za-z_~.\-]{3}8Q~[0-9A-Za-z_~.\-]{31,34}\b`), 0},
	{"github_token", regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`), 0},
	{"gitlab_token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_\-]{20,}\b`), 0},
	{"slack_token", regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9\-]{10,}\b`), 0},
	{"slack_webhook", regexp.MustCompile(`https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+`), 0},
	{"jwt", regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\b`), 0},
	{"url_password", regexp.MustCompile(`\b[a-z][a-z0-9+.\-]*://[^\s:/@'"]+:([^\s@/'"]+)@`), 1},
	{"authorization_header", regexp.MustCompile(`(?i)authorization\s*[:=]\s*\\?["']?(?:bearer|basic|token)?\s*([A-Za-z0-9._~+/=\-]{8,})`), 1},
	{"generic_secret", regexp.MustCompile(`(?i)[a-z0-9_\-]*(?:api[_\-]?key|secret|token|passw(?:or)?d|pwd)[a-z0-9_\-]*\\?["']?\s*[:=]\s*\\?["']?([^\s"'&;,\[\\][^\s"'&;,\\]{5,})`), 1},
}

// Redactor removes secrets from text before it is stored.
type Redactor struct {
	detectors []detector
	// keepPrompts keeps prompt text (redacted): the workspace's telemetry
	// setting is "prompts".
	keepPrompts bool
}

// ForWorkspace is the redactor of a workspace's settings: the built-in
// detectors, its own patterns (already validated), and whether prompt
// text is kept.
func ForWorkspace(st codexgov.Settings) *Redactor {
	var custom []*regexp.Regexp
	for _, p := range st.TelemetryRedact {
		if re, err := regexp.Compile(p); err == nil {
			custom = append(custom, re)
		}
	}
	r := NewRedactor(custom)
	r.keepPrompts = st.Telemetry == codexgov.TelemetryPrompts
	return r
}

// NewRedactor returns the built-in detectors plus a workspace's own
// regular expressions (each whole match is a secret).
func NewRedactor(custom []*regexp.Regexp) *Redactor {
	r := &Redactor{detectors: append([]detector{}, builtIn...)}
	for _, re := range custom {
		r.detectors = append(r.detectors, detector{kind: "custom", re: re})
	}
	return r
}

// Redact returns s with every secret replaced by [REDACTED:kind], and how
// many were.
func (r *Redactor) Redact(s string) (string, int) {
	n := 0
	for _, d := range r.detectors {
		if !d.re.MatchString(s) {
			continue
		}
		s = d.re.ReplaceAllStringFunc(s, func(m string) string {
			n++
			if d.group == 0 {
				return Redacted + d.kind + "]"
			}
			sub := d.re.FindStringSubmatchIndex(m)
			if sub == nil || sub[2*d.group] < 0 {
				return Redacted + d.kind + "]"
			}
			return m[:sub[2*d.group]] + Redacted + d.kind + "]" + m[sub[2*d.group+1]:]
		})
	}
	return s, n
}
