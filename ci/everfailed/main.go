// Command everfailed reads Ginkgo JSON reports of repeated runs (the
// nightly's) and lists every spec that failed in any of them: how many runs
// it failed of how many it ran, its labels, location and first failure
// message. It ends with the line "N specs, N runs, N ever failed" and exits
// 1 when a spec ever failed, a suite failed (e.g. in BeforeSuite), or no
// spec passed in any report, so an empty nightly cannot pass.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// spec is one spec's record across reports.
type spec struct {
	name, location, labels string
	runs, failed           int
	firstFailure           string
	failedIn               []string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: everfailed GINKGO_JSON_REPORT...")
		os.Exit(2)
	}
	specs := map[string]*spec{}
	passed, suitesFailed := 0, 0
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "everfailed:", err)
			os.Exit(2)
		}
		var reports []types.Report
		if err := json.Unmarshal(data, &reports); err != nil {
			fmt.Fprintf(os.Stderr, "everfailed: %s: %v\n", file, err)
			os.Exit(2)
		}
		for _, r := range reports {
			if !r.SuiteSucceeded {
				suitesFailed++
				fmt.Printf("suite %s failed in %s\n", r.SuitePath, file)
			}
			for _, s := range r.SpecReports {
				if s.State == types.SpecStateSkipped || s.State == types.SpecStatePending {
					continue
				}
				name := s.FullText()
				if s.LeafNodeType != types.NodeTypeIt {
					name = "[" + s.LeafNodeType.String() + "] " + r.SuiteDescription + " " + s.LeafNodeLocation.String()
				}
				key := r.SuitePath + "\x00" + name
				sp := specs[key]
				if sp == nil {
					sp = &spec{name: name, location: s.LeafNodeLocation.String(), labels: strings.Join(s.Labels(), ", ")}
					specs[key] = sp
				}
				sp.runs++
				switch {
				case s.State == types.SpecStatePassed:
					passed++
				case s.State.Is(types.SpecStateFailureStates):
					sp.failed++
					sp.failedIn = append(sp.failedIn, file)
					if sp.firstFailure == "" {
						sp.firstFailure = firstLines(s.Failure.Message, 6)
					}
				}
			}
		}
	}
	var ever []*spec
	for _, sp := range specs {
		if sp.failed > 0 {
			ever = append(ever, sp)
		}
	}
	sort.Slice(ever, func(i, j int) bool {
		if ever[i].failed != ever[j].failed {
			return ever[i].failed > ever[j].failed
		}
		return ever[i].name < ever[j].name
	})
	for _, sp := range ever {
		fmt.Printf("FAILED %d of %d runs: %s [%s]\n  at %s\n  in %s\n  first failure:\n%s\n",
			sp.failed, sp.runs, sp.name, sp.labels, sp.location, strings.Join(sp.failedIn, " "), indent(sp.firstFailure, "    "))
	}
	fmt.Printf("%d specs, %d reports, %d ever failed\n", len(specs), len(os.Args)-1, len(ever))
	if len(ever) > 0 || suitesFailed > 0 || passed == 0 {
		os.Exit(1)
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
