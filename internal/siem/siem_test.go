package siem

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSyslogMessage: an RFC 5424 message — PRI (facility 13, log audit;
// warning for security records), version 1, the record's timestamp, the
// host, APP-NAME codexgov, no PROCID, the event type as MSGID, no
// structured data, the record as MSG.
func TestSyslogMessage(t *testing.T) {
	rec := []byte(`{"event_id":"e1","timestamp":"2026-12-03T10:00:00.000001Z","event_type":"CODEX_SECURITY_LOG"}`)
	got := string(SyslogMessage("build-7", "CODEX_SECURITY_LOG", rec))
	want := `<108>1 2026-12-03T10:00:00.000001Z build-7 codexgov - CODEX_SECURITY_LOG - ` + string(rec)
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := string(SyslogMessage("h", "AUDIT_LOG", []byte(`{}`))); !strings.HasPrefix(got, "<110>1 - h codexgov - AUDIT_LOG - ") {
		t.Fatalf("a record without a timestamp: %s", got)
	}
}

// TestBackoff: Retry-After wins (bounded by the maximum); otherwise 1 s
// doubling per failure, ±20%, at most the maximum.
func TestBackoff(t *testing.T) {
	if got := Backoff(3, 7*time.Second, time.Minute); got != 7*time.Second {
		t.Fatalf("Retry-After 7s: %s", got)
	}
	if got := Backoff(1, time.Hour, time.Minute); got != time.Minute {
		t.Fatalf("Retry-After past the maximum: %s", got)
	}
	for n, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 30: time.Minute} {
		for range 50 {
			got := Backoff(n, 0, time.Minute)
			if got < base*8/10 || got > base*12/10 {
				t.Fatalf("attempt %d: %s, want %s ±20%%", n, got, base)
			}
		}
	}
}

// TestClassify: which answers retry and which dead-letter.
func TestClassify(t *testing.T) {
	for code, permanent := range map[int]bool{400: true, 413: true, 422: true, 401: false, 403: false, 404: false, 408: false, 429: false, 500: false, 503: false} {
		resp := &http.Response{StatusCode: code, Status: http.StatusText(code), Header: http.Header{"Retry-After": {"3"}}, Body: http.NoBody}
		err := classify(resp, "x")
		se, ok := err.(*SendError)
		if !ok || se.Permanent != permanent || se.RetryAfter != 3*time.Second {
			t.Errorf("%d: %#v, want permanent %v with Retry-After 3s", code, err, permanent)
		}
	}
	if err := classify(&http.Response{StatusCode: 204, Body: http.NoBody}, "x"); err != nil {
		t.Errorf("204: %v", err)
	}
}

// TestSign: the webhook signature is HMAC-SHA256 over "UNIX.BODY",
// hex (a known vector, computed with openssl dgst -sha256 -hmac).
func TestSign(t *testing.T) {
	got := Sign([]byte("secret"), time.Unix(1700000000, 0), []byte(`{"a":1}`))
	want := "t=1700000000,v1=" + opensslHMAC
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// opensslHMAC is printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret.
const opensslHMAC = "49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
