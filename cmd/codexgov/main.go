// Command codexgov is the codexgov control plane (`codexgov server`) and the
// admin and developer-machine tools around it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/codexgov/codexgov"
	"github.com/codexgov/codexgov/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a process exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// run executes the CLI and returns its exit status; tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	ran, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code := 2
	var ee *exitError
	if errors.As(err, &ee) {
		code, err = ee.code, ee.err
	}
	if err == nil {
		return code
	}
	if wantsJSON(ran) {
		printJSONError(stderr, err)
	} else {
		fmt.Fprintln(stderr, "codexgov:", err)
	}
	return code
}

// wantsJSON reports whether the command that ran was given --json: its
// errors are then JSON on standard error too, for scripts.
func wantsJSON(c *cobra.Command) bool {
	if c == nil {
		return false
	}
	f := c.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// printJSONError writes {"error": {...}}: the API's own error object when
// the server refused, else a code and message.
func printJSONError(w io.Writer, err error) {
	out := &codexgov.Error{Code: "cli", Message: err.Error()}
	var ae *client.APIError
	if errors.As(err, &ae) {
		out = ae.Err
	}
	body := map[string]any{"error": out}
	if ae != nil {
		body["status"] = ae.StatusCode
		if ae.RequestID != "" {
			body["request_id"] = ae.RequestID
		}
	}
	b, _ := json.Marshal(body)
	fmt.Fprintf(w, "%s\n", b)
}
