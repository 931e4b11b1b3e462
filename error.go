package codexgov

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status in one place.
const (
	EINVALID      = "invalid"       // the input is wrong; Details say where
	ENOTFOUND     = "not_found"     // no such record (or another workspace's)
	ECONFLICT     = "conflict"      // already exists, or still in use
	EUNAUTHORIZED = "unauthorized"  // no valid credential
	EFORBIDDEN    = "forbidden"     // valid credential, not allowed
	EUNAVAILABLE  = "unavailable"   // a dependency (the database) is down
	ETOOLARGE     = "too_large"     // the request body is over the limit
	ETOOMANY      = "rate_limited"  // over a rate or a count limit; try again later
	EINTERNAL     = "internal"      // a bug or an unexpected failure
	EACCESSDENIED = "access_denied" // the user may not use this Codex surface
	EINVALIDGRANT = "invalid_grant" // an OAuth code or refresh token that is dead for good
)

// ErrNoChange comes back, with the object as it stands, from a change that
// would change nothing (settings set to the values they have, a second
// revoke): nothing was written, not even an audit event. Callers that only
// want the object treat it as success.
var ErrNoChange = errors.New("nothing changed")

// AccessDeniedMessage is what a user who may not use a Codex surface is
// told.
const AccessDeniedMessage = "Unauthorized. Contact your Codex administrator for access."

// Error is the one application error. Message is safe to show to the
// caller; Err, when set, is the underlying cause and is never shown.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
	// Op is the operation that failed, for logs.
	Op  string `json:"-"`
	Err error  `json:"-"`
}

// Detail locates one problem in the input: a JSON pointer or key path,
// and for documents a line and column.
type Detail struct {
	// Field is the JSON pointer of the request field (e.g. /requirements).
	Field string `json:"field,omitempty"`
	// Key is the dotted key path inside a TOML document.
	Key      string `json:"key,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message"`
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	for _, d := range e.Details {
		msg += "\n  " + d.String()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func (d Detail) String() string {
	where := d.Field
	if d.Line > 0 {
		where += fmt.Sprintf(":%d:%d", d.Line, d.Column)
	}
	if d.Key != "" {
		where += " (" + d.Key + ")"
	}
	if where == "" {
		return d.Message
	}
	return where + ": " + d.Message
}

// Errorf returns an Error with the code and a formatted safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's Error, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err: the Error's message, or a
// generic one for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
