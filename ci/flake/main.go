// Command flake lists the failed specs of the runs under a folder: it reads
// DIR/run-*/ginkgo.json (Ginkgo JSON reports) and prints, per failed spec,
// the runs it failed in. ci/flake.sh calls it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type report struct {
	SuitePath   string `json:"SuitePath"`
	SpecReports []struct {
		ContainerHierarchyTexts []string `json:"ContainerHierarchyTexts"`
		LeafNodeText            string   `json:"LeafNodeText"`
		State                   string   `json:"State"`
	} `json:"SpecReports"`
	SuiteSucceeded bool `json:"SuiteSucceeded"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: flake DIR")
		os.Exit(2)
	}
	// ginkgo.json merges a run's suites; a run cut short leaves only the
	// per-suite reports (suites_events_ginkgo.json, ...).
	var files []string
	runs, _ := filepath.Glob(filepath.Join(os.Args[1], "run-*"))
	for _, run := range runs {
		if merged := filepath.Join(run, "ginkgo.json"); exists(merged) {
			files = append(files, merged)
			continue
		}
		per, _ := filepath.Glob(filepath.Join(run, "*_ginkgo.json"))
		files = append(files, per...)
	}
	failed := map[string][]string{}
	for _, f := range files {
		run := filepath.Base(filepath.Dir(f))
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "flake: %v\n", err)
			continue
		}
		var reports []report
		if err := json.Unmarshal(data, &reports); err != nil {
			fmt.Fprintf(os.Stderr, "flake: %s: %v\n", f, err)
			continue
		}
		for _, r := range reports {
			suiteFailed := !r.SuiteSucceeded
			any := false
			for _, s := range r.SpecReports {
				switch s.State {
				case "failed", "panicked", "interrupted", "aborted", "timedout":
					name := strings.TrimSpace(strings.Join(append(append([]string{}, s.ContainerHierarchyTexts...), s.LeafNodeText), " "))
					if name == "" {
						name = "(suite node)"
					}
					key := filepath.Base(r.SuitePath) + ": " + name
					failed[key] = append(failed[key], run)
					any = true
				}
			}
			if suiteFailed && !any {
				key := filepath.Base(r.SuitePath) + ": (suite failed outside any spec)"
				failed[key] = append(failed[key], run)
			}
		}
	}
	keys := make([]string, 0, len(failed))
	for k := range failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("flake: FAILED %s (in %s)\n", k, strings.Join(failed[k], ", "))
	}
	if len(keys) == 0 {
		fmt.Printf("flake: no failed spec in %d reports\n", len(files))
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
