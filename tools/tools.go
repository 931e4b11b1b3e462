//go:build tools

// Package tools pins the versions of the developer tools `make` runs.
package tools

import (
	_ "honnef.co/go/tools/cmd/staticcheck"
)
