// Command labgen is ci/lab.sh's helper for running a scenario on standalone
// stub processes (README: "Running the lab across machines"):
//
//	labgen args SCENARIO MTA               the mtastub flags for that MTA, one per line
//	labgen scenario SCENARIO OUT MTA=URL…  SCENARIO with admin: URL for each MTA named, written to OUT
//	labgen compare [-leak] INPROC PROCS    compare two bundles' summary.json
//	labgen port                            a free loopback TCP port
//	labgen customerlog [-seed N] [-events N] OUT
//	                                       a large customer-style Event Viewer CSV
//	                                       (harness/repro/loggen) for measuring import
//
// compare fails unless both runs passed with the same checks, every MTA
// delivered and submitted the same, and each run shows a leak and 1277s
// (-leak) or neither (no -leak). It prints the numbers side by side.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/repro/loggen"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "labgen:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: labgen args|scenario|compare|port|customerlog ...")
	}
	switch args[0] {
	case "args":
		if len(args) != 3 {
			return errors.New("usage: labgen args SCENARIO MTA")
		}
		sc, err := scenario.Load(args[1])
		if err != nil {
			return err
		}
		i := slices.IndexFunc(sc.MTAs, func(m scenario.MTASpec) bool { return m.Name == args[2] })
		if i < 0 {
			return fmt.Errorf("%s has no MTA %s", args[1], args[2])
		}
		for _, a := range harness.StubArgs(sc.MTAs[i], sc.Seed) {
			fmt.Fprintln(out, a)
		}
		return nil
	case "scenario":
		if len(args) < 4 {
			return errors.New("usage: labgen scenario SCENARIO OUT MTA=URL...")
		}
		return remoteScenario(args[1], args[2], args[3:])
	case "port":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		fmt.Fprintln(out, ln.Addr().(*net.TCPAddr).Port)
		return nil
	case "compare":
		fs := flag.NewFlagSet("compare", flag.ContinueOnError)
		leak := fs.Bool("leak", false, "both runs must show a leaked KCB and event 1277")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 {
			return errors.New("usage: labgen compare [-leak] INPROC PROCS")
		}
		return compare(fs.Arg(0), fs.Arg(1), *leak, out)
	case "customerlog":
		return customerLog(args[1:], out)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// customerLog writes a generated customer-style log (loggen.Write) to the
// file named by its argument and prints what it holds.
func customerLog(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("customerlog", flag.ContinueOnError)
	seed := fs.Int64("seed", 1, "seed of every random choice")
	events := fs.Int("events", 392000, "rows to write (about 255 bytes each: 392000 ≈ 100 MB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: labgen customerlog [-seed N] [-events N] OUT")
	}
	f, err := os.Create(fs.Arg(0))
	if err != nil {
		return err
	}
	st, err := loggen.Write(f, loggen.Options{Seed: *seed, Events: *events})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %d rows, %d MSExchangeMTA events, %d restarts, %.1f MB\n",
		fs.Arg(0), st.Rows, st.MTAEvents(), st.Restarts, float64(st.Bytes)/1e6)
	return nil
}

// remoteScenario writes the scenario at in to out with admin: set for the
// MTAs named in pairs (MTA=URL).
func remoteScenario(in, out string, pairs []string) error {
	sc, err := scenario.Load(in)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		name, u, ok := strings.Cut(p, "=")
		i := slices.IndexFunc(sc.MTAs, func(m scenario.MTASpec) bool { return m.Name == name })
		if !ok || i < 0 {
			return fmt.Errorf("%q: want MTA=URL for an MTA of %s", p, in)
		}
		sc.MTAs[i].Admin = u
	}
	b, err := scenario.Marshal(sc)
	if err != nil {
		return err
	}
	if _, err := scenario.LoadBytes(out, b); err != nil {
		return fmt.Errorf("the generated scenario does not load: %w", err)
	}
	return os.WriteFile(out, b, 0o644)
}

func summary(dir string) (*harness.Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var s harness.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &s, nil
}

// compare checks the processes' run against the in-process one.
func compare(inDir, prDir string, leak bool, out io.Writer) error {
	in, err := summary(inDir)
	if err != nil {
		return err
	}
	pr, err := summary(prDir)
	if err != nil {
		return err
	}
	var bad []string
	fmt.Fprintf(out, "%-10s %-12s %-12s\n", "", "in-process", "processes")
	fmt.Fprintf(out, "%-10s %-12s %-12s\n", "verdict", in.Verdict, pr.Verdict)
	fmt.Fprintf(out, "%-10s %-12.1f %-12.1f\n", "wall s", in.DurationS, pr.DurationS)
	if in.Verdict != "passed" || pr.Verdict != "passed" {
		bad = append(bad, fmt.Sprintf("verdicts %s (in-process) and %s (processes); want both passed", in.Verdict, pr.Verdict))
	}
	for i, c := range in.Checks {
		if i >= len(pr.Checks) || pr.Checks[i].Name != c.Name || pr.Checks[i].Verdict != c.Verdict {
			bad = append(bad, fmt.Sprintf("check %s: %s in-process, not so in processes (%+v)", c.Name, c.Verdict, pr.Checks))
		}
	}
	if len(in.Checks) != len(pr.Checks) {
		bad = append(bad, fmt.Sprintf("%d checks in-process, %d in processes", len(in.Checks), len(pr.Checks)))
	}
	names := make([]string, 0, len(in.MTAs))
	for n := range in.MTAs {
		names = append(names, n)
	}
	slices.Sort(names)
	shows, either := map[string]bool{}, map[string]bool{}
	for _, n := range names {
		a, b := in.MTAs[n], pr.MTAs[n]
		if b == nil {
			bad = append(bad, "MTA "+n+" missing from the processes' run")
			continue
		}
		fmt.Fprintf(out, "%-10s %-12s %-12s\n", n+" mode", a.Mode, b.Mode)
		fmt.Fprintf(out, "%-10s %-12d %-12d\n", n+" subm.", a.Submitted, b.Submitted)
		fmt.Fprintf(out, "%-10s %-12d %-12d\n", n+" deliv.", a.Delivered, b.Delivered)
		fmt.Fprintf(out, "%-10s %-12d %-12d\n", n+" leaked", a.KCBsLeaked, b.KCBsLeaked)
		fmt.Fprintf(out, "%-10s %-24s %-24s\n", n+" events", events(a.Events), events(b.Events))
		if a.Mode != b.Mode || a.Submitted != b.Submitted || a.Delivered != b.Delivered {
			bad = append(bad, fmt.Sprintf("MTA %s: mode/submitted/delivered %s/%d/%d in-process, %s/%d/%d in processes",
				n, a.Mode, a.Submitted, a.Delivered, b.Mode, b.Submitted, b.Delivered))
		}
		for run, m := range map[string]*harness.MTASummary{"in-process": a, "processes": b} {
			if m.KCBsLeaked > 0 && m.Events["1277"] > 0 {
				shows[run] = true // a leak and its refusals
			}
			if m.KCBsLeaked > 0 || m.Events["1277"] > 0 {
				either[run] = true
			}
		}
	}
	for _, run := range []string{"in-process", "processes"} {
		if leak && !shows[run] {
			bad = append(bad, run+": no MTA shows both a leaked KCB and event 1277")
		}
		if !leak && either[run] {
			bad = append(bad, run+": a KCB leaked or event 1277 was written; want neither")
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func events(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}
