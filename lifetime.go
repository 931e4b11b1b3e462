package codexgov

import (
	"fmt"
	"time"
)

// Lifetime is how long a kind of credential lives when its issuer asks
// for nothing, and the longest it may live. Zero Default means no expiry
// unless one is asked for; zero Max means no bound.
type Lifetime struct {
	Default, Max time.Duration
	// Never is the word that asks for no expiry ("" when the kind must
	// expire).
	Never string
}

// The credential lifetimes, in one place.
var (
	// AccessTokenLifetime: 90 days, at most 366.
	AccessTokenLifetime = Lifetime{Default: 90 * 24 * time.Hour, Max: 366 * 24 * time.Hour}
	// EnrollmentTokenLifetime: a year by default, renewable; "never" for a
	// machine that cannot be re-enrolled.
	EnrollmentTokenLifetime = Lifetime{Default: 365 * 24 * time.Hour, Never: "never"}
	// APIKeyLifetime: no expiry unless asked (automation keys are rotated
	// by their owners).
	APIKeyLifetime = Lifetime{Never: "never"}
)

// ExpiresAt turns an issuer's expires_in (a Go duration, "", or the Never
// word) into an expiry time, zero for none. field is the request's JSON
// pointer for the error.
func (l Lifetime) ExpiresAt(field, expiresIn string, now time.Time) (time.Time, error) {
	if expiresIn == "" {
		if l.Default == 0 {
			return time.Time{}, nil
		}
		return now.Add(l.Default), nil
	}
	if l.Never != "" && expiresIn == l.Never {
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(expiresIn)
	if err != nil || d <= 0 || (l.Max > 0 && d > l.Max) {
		want := `a duration such as "720h", above zero`
		if l.Max > 0 {
			want += fmt.Sprintf(" and at most %s (%d days)", durationHours(l.Max), int(l.Max/(24*time.Hour)))
		}
		if l.Never != "" {
			want += fmt.Sprintf(", or %q for no expiry", l.Never)
		}
		return time.Time{}, &Error{Code: EINVALID, Message: "invalid expiry", Details: []Detail{{Field: field, Message: "want " + want}}}
	}
	return now.Add(d), nil
}

func durationHours(d time.Duration) string { return fmt.Sprintf("%dh", int(d/time.Hour)) }
