// Command patrol finds counterfeit listings on online marketplaces, explains
// why each suspect is suspect, and drafts takedown notices. Run `patrol
// --help` for the commands; `patrol demo` shows it working on a bundled demo
// marketplace.
//
// Exit codes: 0 success, 1 failure, 2 usage or configuration error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks for a graceful stop (the sweep is recorded as
	// interrupted and resumes next time); once it has arrived the handler
	// is removed, so a second signal kills the process at once. bbolt's
	// transactions keep the store intact either way.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "patrol: %v\n", err)
	}
	os.Exit(exitCode(err))
}

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks errors in how patrol was called (flags, arguments,
// config) so that main exits with 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) || isConfigError(err) {
		return exitUsage
	}
	return exitFailure
}

// run is the whole program, with its inputs and outputs passed in so that
// tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	root := newRootCmd(ctx, stdin, stdout, stderr)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
