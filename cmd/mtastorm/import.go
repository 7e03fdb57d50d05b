package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/mtastorm/mtastorm/harness/repro"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// importCmd prints the signature of a customer's event log (DESIGN.md
// section 9, CATALOGUE.md C6): mtastorm import EVENTLOG [--json]. "-" reads
// standard input. The log is streamed: memory is bounded by the signature,
// not the log. A large file read from a terminal shows a progress bar on
// stderr.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the signature as JSON")
	arg, ok := oneArg(fs, args, "event log", stderr)
	if !ok {
		return exitUsage
	}
	if dryRun(ctx) {
		return exitPassed
	}
	sig, format, code := loadEventLog(arg, stderr)
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

// importProgressMin is the size from which reading a log shows a progress
// bar.
const importProgressMin = 8 << 20

// importProgressOK reports whether reading a log may draw a progress bar
// on w (a terminal, not CI); tests replace it.
var importProgressOK = showProgress

// loadEventLog streams path ("-" = stdin) into its signature. A problem is
// printed and returned as an exit code (2 for bad input). A file of
// importProgressMin bytes or more shows bytes read of the total on stderr
// when importProgressOK(stderr).
func loadEventLog(path string, stderr io.Writer) (repro.Signature, string, int) {
	var r io.Reader = os.Stdin
	finish := func() {}
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: %v\n", err)
			return repro.Signature{}, "", exitUsage
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() >= importProgressMin && importProgressOK(stderr) {
			bar := progressbar.NewOptions64(fi.Size(),
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("import "+path),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionClearOnFinish(),
			)
			pr := progressbar.NewReader(f, bar)
			r = &pr
			finish = func() { _ = bar.Finish() }
		}
	}
	sig, format, err := repro.ImportSignature(r, path)
	finish()
	if err != nil { // a *repro.ImportError names the line
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return repro.Signature{}, "", exitUsage
	}
	if sig.Events == 0 {
		fmt.Fprintf(stderr, "mtastorm: %s: no %s events in this %s log\n", path, eventlog.Source, format)
		return repro.Signature{}, "", exitUsage
	}
	return sig, format, exitPassed
}
