package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `otelkit is the command line of the otelkit kit.

Usage:

	otelkit catalog [flags] [packages]
	otelkit audit verify [flags] [files or directories]

Commands:

	catalog   print the error catalog of a service's packages
	audit     verify the audit trail's hash chain and signed checkpoints

Run "otelkit catalog -h" for the flags of catalog.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code: 0 on
// success, 1 on failure (or missing translations), 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "catalog":
		return runCatalog(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "otelkit: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
