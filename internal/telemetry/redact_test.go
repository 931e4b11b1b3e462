package telemetry

import (
	"regexp"
	"strings"
	"testing"

	"github.com/codexgov/codexgov/internal/testenv"
)

func TestRedactorFindsPlantedSecrets(t *testing.T) {
	if len(testenv.PlantedSecrets) != 20 {
		t.Fatalf("%d planted secrets, want 20", len(testenv.PlantedSecrets))
	}
	r := NewRedactor(nil)
	for _, p := range testenv.PlantedSecrets {
		got, n := r.Redact(p.Text)
		if strings.Contains(got, p.Secret) || n == 0 || !strings.Contains(got, Redacted) {
			t.Errorf("%q → %q (%d redactions): the secret survives", p.Text, got, n)
		}
	}
	// All twenty in one text, as a tool's output would carry them.
	var all []string
	for _, p := range testenv.PlantedSecrets {
		all = append(all, p.Text)
	}
	got, n := r.Redact(strings.Join(all, "\n"))
	for _, p := range testenv.PlantedSecrets {
		if strings.Contains(got, p.Secret) {
			t.Errorf("in one text, %q survives", p.Secret)
		}
	}
	if n < 20 {
		t.Errorf("%d redactions in the joined text, want at least 20", n)
	}
}

// Ordinary commands and prose stay as they are; a second pass finds
// nothing new.
func TestRedactorLeavesOrdinaryText(t *testing.T) {
	r := NewRedactor(nil)
	for _, s := range []string{
		`{"cmd":"ls -la /tmp","workdir":"/home/ann/src"}`,
		"git status && go test ./...",
		"Please refactor the token parser in lexer.go",
		"export PATH=/usr/local/bin:$PATH",
		`/bin/bash -lc 'echo hello > out.txt'`,
		"the password field must not be empty",
	} {
		if got, n := r.Redact(s); n != 0 || got != s {
			t.Errorf("%q → %q (%d)", s, got, n)
		}
	}
	once, _ := r.Redact(testenv.PlantedSecrets[17].Text)
	if twice, n := r.Redact(once); n != 0 || twice != once {
		t.Errorf("a second pass changed %q → %q (%d)", once, twice, n)
	}
	custom := NewRedactor([]*regexp.Regexp{regexp.MustCompile(`ACME-[0-9]{6}`)})
	if got, n := custom.Redact("ticket ACME-123456 leaked"); n != 1 || strings.Contains(got, "ACME-123456") {
		t.Errorf("custom pattern: %q (%d)", got, n)
	}
}
