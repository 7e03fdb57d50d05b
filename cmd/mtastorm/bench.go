package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/bench"
)

// benchRun is bench.Run; tests replace it.
var benchRun = bench.Run

// benchCmd measures the figures of DESIGN.md section 11 and prints them next
// to their targets: a table, or with --json one JSON array. It exits 1 when
// a measured figure missed a target that no open issue owns (bench.Table),
// else 3 when a measurement failed, else 0; skipped figures (not measured
// here) and missed figures owned by an open issue are reported, not failing.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print a JSON array, one object per figure")
	quick := fs.Bool("quick", false, "shorter measurements (fewer rounds)")
	suite := fs.Bool("suite", false, "also time the default suite (bash ci/test.sh ./suites/...), slow")
	readme := fs.Bool("readme", false, "also time the README test command ("+strings.Join(bench.ReadmeTestCommand, " ")+"), slower")
	root := fs.String("root", ".", "repository root (scenarios/, ci/, bin/)")
	server := fs.String("toxiproxy-server", "", "toxiproxy-server binary for the external figures (default ROOT/bin/toxiproxy-server, else on PATH, else this binary's `toxiproxy` command)")
	only := fs.String("only", "", "comma-separated groups to run: "+strings.Join(bench.Groups(), ","))
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "mtastorm bench: unexpected argument %q\n%s", pos[0], usage)
		return exitUsage
	}
	opts := bench.Options{Quick: *quick, Suite: *suite, Readme: *readme, Root: *root, Progress: stderr}
	if *only != "" {
		for _, g := range strings.Split(*only, ",") {
			if !contains(bench.Groups(), g) {
				fmt.Fprintf(stderr, "mtastorm bench: unknown group %q (want %s)\n", g, strings.Join(bench.Groups(), ","))
				return exitUsage
			}
			opts.Only = append(opts.Only, g)
		}
	}
	if *suite {
		opts.Only = appendMissing(opts.Only, "suite")
	}
	if *readme {
		opts.Only = appendMissing(opts.Only, "readme")
	}
	if dryRun(ctx) {
		return exitPassed
	}
	switch {
	case *server != "":
		opts.ToxiproxyServer = []string{*server}
	default:
		opts.ToxiproxyServer = bench.FindToxiproxyServer(*root)
		if opts.ToxiproxyServer == nil {
			if self, err := os.Executable(); err == nil && filepath.Base(self) == "mtastorm" {
				opts.ToxiproxyServer = []string{self, "toxiproxy"}
			}
		}
	}
	start := time.Now()
	results := benchRun(ctx, opts)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "mtastorm bench: interrupted: %v\n", ctx.Err())
		return exitInfra
	}
	v := bench.Judge(results)
	if *asJSON {
		if err := bench.WriteJSON(stdout, results); err != nil {
			fmt.Fprintf(stderr, "mtastorm bench: %v\n", err)
			return exitInfra
		}
		fmt.Fprintf(stderr, "mtastorm bench: %s\n", v)
	} else {
		_ = bench.WriteTable(stdout, results)
		fmt.Fprintf(stdout, "\n%d figures in %.1fs: %s\n", len(results), time.Since(start).Seconds(), v)
	}
	switch {
	case len(v.Missed) > 0:
		return exitFailed
	case len(v.Errors) > 0:
		return exitInfra
	}
	return exitPassed
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// appendMissing appends s unless list is empty (everything runs) or has it.
func appendMissing(list []string, s string) []string {
	if len(list) == 0 || contains(list, s) {
		return list
	}
	return append(list, s)
}
