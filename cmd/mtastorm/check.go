package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/mtastorm/mtastorm/harness"
)

// checkCmd re-judges a saved bundle from its files, prints the checks and
// the verdict, and rewrites the bundle's summary.json, junit.xml and
// report.html. Exit codes are those of run.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arg, ok := oneArg(fs, args, "bundle folder", stderr)
	if !ok {
		return exitUsage
	}
	if dryRun(ctx) {
		return exitPassed
	}
	res, err := harness.Judge(arg)
	if err != nil {
		return errorCode(err, stderr)
	}
	s := res.Summary
	for _, c := range s.Checks {
		fmt.Fprintf(stdout, "%-8s %-20s %s\n", c.Verdict, c.Name, c.Detail)
	}
	fmt.Fprintf(stdout, "verdict %s (%s, seed %d)\n", s.Verdict, s.Scenario, s.Seed)
	fmt.Fprintf(stdout, "bundle %s\n", res.Dir)
	return verdictCode(s.Verdict)
}
