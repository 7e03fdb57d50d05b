package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mtastorm/mtastorm/harness/repro"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// importCmd prints the signature of a customer's event log (DESIGN.md
// section 9): mtastorm import EVENTLOG [--json]. "-" reads standard input.
func importCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the signature as JSON")
	arg, ok := oneArg(fs, args, "event log", stderr)
	if !ok {
		return exitUsage
	}
	_, sig, format, code := loadEventLog(arg, stderr)
	if code != exitPassed {
		return code
	}
	if *asJSON {
		data, err := sig.JSON()
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: %v\n", err)
			return exitInfra
		}
		_, _ = stdout.Write(data)
		return exitPassed
	}
	fmt.Fprintf(stdout, "%s (%s)\n", arg, format)
	fmt.Fprint(stdout, sig.String())
	return exitPassed
}

// loadEventLog imports path ("-" = stdin) and computes its signature. A
// problem is printed and returned as an exit code (2 for bad input).
func loadEventLog(path string, stderr io.Writer) ([]eventlog.Record, repro.Signature, string, int) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: %v\n", err)
			return nil, repro.Signature{}, "", exitUsage
		}
		defer f.Close()
		r = f
	}
	recs, format, err := repro.ImportFormat(r, path)
	if err != nil { // a *repro.ImportError names the line
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return nil, repro.Signature{}, "", exitUsage
	}
	if len(recs) == 0 {
		fmt.Fprintf(stderr, "mtastorm: %s: no %s events in this %s log\n", path, eventlog.Source, format)
		return nil, repro.Signature{}, "", exitUsage
	}
	return recs, repro.NewSignature(recs), format, exitPassed
}
