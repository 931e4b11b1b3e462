// Package siem pushes sealed compliance records to SIEMs — Splunk's HTTP
// Event Collector, syslog over TLS (RFC 5424 messages, RFC 5425 framing),
// and HMAC-signed webhooks — at least once, from a durable cursor per sink
// and event type, with exponential backoff that honours Retry-After and a
// dead letter for batches a receiver refuses for good
// (docs/compliance.md).
package siem

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/codexgov/codexgov"
)

// SendError is a failed delivery: Permanent when the receiver refused
// the batch for good (it goes to the dead letters), else the batch is
// retried after RetryAfter (when the receiver said) or a backoff.
type SendError struct {
	Permanent  bool
	RetryAfter time.Duration
	Msg        string
}

func (e *SendError) Error() string { return e.Msg }

// Batch is records of one event type, in order, as sealed (JSON objects).
type Batch struct {
	EventType string
	// Delivery names the batch for the receiver's de-duplication:
	// SINK/FILE/LINE.
	Delivery string
	Records  []json.RawMessage
}

// Sender delivers batches to one sink.
type Sender interface {
	Send(ctx context.Context, b Batch) error
	Close() error
}

// NewSender builds the sender of a sink; secret is its opened secret.
func NewSender(k *codexgov.ComplianceSink, secret, workspaceUUID string) (Sender, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(k.CACert)) {
			return nil, errors.New("the sink's ca_cert is not a PEM bundle")
		}
		tlsConf.RootCAs = pool
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	switch k.Kind {
	case codexgov.SinkSplunkHEC:
		return &hec{url: strings.TrimSuffix(k.URL, "/") + "/services/collector/event", token: secret, hc: hc}, nil
	case codexgov.SinkWebhook:
		return &webhook{url: k.URL, secret: []byte(secret), hc: hc, sink: k.Name, workspace: workspaceUUID}, nil
	case codexgov.SinkSyslog:
		u, err := url.Parse(k.URL)
		if err != nil {
			return nil, err
		}
		tlsConf.ServerName = u.Hostname()
		host, _ := os.Hostname()
		if host == "" {
			host = "-"
		}
		return &syslog{addr: u.Host, tls: tlsConf, hostname: host}, nil
	}
	return nil, fmt.Errorf("unknown sink kind %q", k.Kind)
}

// classify turns an HTTP answer into nil or a SendError: 2xx delivered;
// 408, 429 and 5xx retried (after Retry-After when given); 401, 403 and
// 404 retried too (a token or URL to fix: nothing is dropped meanwhile);
// any other 4xx refuses the batch for good.
func classify(resp *http.Response, what string) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	msg := fmt.Sprintf("%s answered %s: %s", what, resp.Status, strings.TrimSpace(string(body)))
	e := &SendError{Msg: msg, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	switch {
	case resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500:
	case resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode == 404:
	default:
		e.Permanent = true
	}
	return e
}

// retryAfter reads Retry-After: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

func transport(err error) error {
	return &SendError{Msg: err.Error()}
}

// hec is Splunk's HTTP Event Collector: one request per batch, the events
// concatenated, "Authorization: Splunk TOKEN".
type hec struct {
	url, token string
	hc         *http.Client
}

func (h *hec) Send(ctx context.Context, b Batch) error {
	var body bytes.Buffer
	for _, r := range b.Records {
		var head struct {
			Timestamp string `json:"timestamp"`
		}
		json.Unmarshal(r, &head)
		t, _ := time.Parse(time.RFC3339Nano, head.Timestamp)
		fmt.Fprintf(&body, `{"time":%d.%06d,"host":"codexgov","source":"codexgov","sourcetype":"codexgov:compliance:%s","event":`, t.Unix(), t.Nanosecond()/1000, strings.ToLower(b.EventType))
		body.Write(r)
		body.WriteString("}\n")
	}
	req, err := http.NewRequestWithContext(ctx, "POST", h.url, &body)
	if err != nil {
		return &SendError{Permanent: true, Msg: err.Error()}
	}
	req.Header.Set("Authorization", "Splunk "+h.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", "00000000-0000-4000-8000-"+fmt.Sprintf("%012x", hash48(b.Delivery)))
	resp, err := h.hc.Do(req)
	if err != nil {
		return transport(err)
	}
	defer resp.Body.Close()
	return classify(resp, "the HTTP Event Collector")
}

func (h *hec) Close() error { h.hc.CloseIdleConnections(); return nil }

func hash48(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	var n uint64
	for _, b := range sum[:6] {
		n = n<<8 | uint64(b)
	}
	return n
}

// webhook POSTs each batch as JSON, signed: Codexgov-Webhook-Signature is
// "t=UNIX,v1=HEX" with HEX the HMAC-SHA256, under the shared secret, of
// "UNIX.BODY".
type webhook struct {
	url             string
	secret          []byte
	hc              *http.Client
	sink, workspace string
}

// WebhookBody is a webhook delivery's JSON.
type WebhookBody struct {
	Sink        string            `json:"sink"`
	WorkspaceID string            `json:"workspace_id"`
	EventType   string            `json:"event_type"`
	Delivery    string            `json:"delivery"`
	Records     []json.RawMessage `json:"records"`
}

// Sign is a webhook body's Codexgov-Webhook-Signature header value.
func Sign(secret []byte, t time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	ts := strconv.FormatInt(t.Unix(), 10)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (w *webhook) Send(ctx context.Context, b Batch) error {
	body, _ := json.Marshal(WebhookBody{Sink: w.sink, WorkspaceID: w.workspace, EventType: b.EventType, Delivery: b.Delivery, Records: b.Records})
	req, err := http.NewRequestWithContext(ctx, "POST", w.url, bytes.NewReader(body))
	if err != nil {
		return &SendError{Permanent: true, Msg: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Codexgov-Webhook-Signature", Sign(w.secret, time.Now(), body))
	req.Header.Set("Codexgov-Delivery", b.Delivery)
	req.Header.Set("Idempotency-Key", b.Delivery)
	resp, err := w.hc.Do(req)
	if err != nil {
		return transport(err)
	}
	defer resp.Body.Close()
	return classify(resp, "the webhook")
}

func (w *webhook) Close() error { w.hc.CloseIdleConnections(); return nil }

// syslog writes RFC 5424 messages over TLS with RFC 5425's octet-counting
// framing ("LEN SP MSG"), one connection kept per sink. The message is
// the record's JSON; MSGID its event type; facility 13 (log audit),
// severity warning for CODEX_SECURITY_LOG, else informational.
type syslog struct {
	addr     string
	tls      *tls.Config
	hostname string
	conn     *tls.Conn
}

// SyslogMessage formats one record as an RFC 5424 message.
func SyslogMessage(hostname, eventType string, record []byte) []byte {
	var head struct {
		Timestamp string `json:"timestamp"`
	}
	json.Unmarshal(record, &head)
	ts := head.Timestamp
	if ts == "" {
		ts = "-"
	}
	sev := 6
	if eventType == codexgov.ComplianceSecurityLog {
		sev = 4
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s codexgov - %s - ", 13*8+sev, ts, hostname, eventType)
	b.Write(record)
	return b.Bytes()
}

func (s *syslog) Send(ctx context.Context, b Batch) error {
	if s.conn == nil {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: s.tls}
		c, err := d.DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return transport(fmt.Errorf("syslog %s: %w", s.addr, err))
		}
		s.conn = c.(*tls.Conn)
	}
	var frames bytes.Buffer
	for _, r := range b.Records {
		msg := SyslogMessage(s.hostname, b.EventType, r)
		frames.WriteString(strconv.Itoa(len(msg)))
		frames.WriteByte(' ')
		frames.Write(msg)
	}
	s.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.conn.Write(frames.Bytes()); err != nil {
		s.conn.Close()
		s.conn = nil
		return transport(fmt.Errorf("syslog %s: %w", s.addr, err))
	}
	return nil
}

func (s *syslog) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
