// Command count reads a Ginkgo JSON report and prints the closing line CI
// reads: "N passed, N failed, N skipped". It exits 1 when a suite failed or
// no spec ran, so an empty run cannot pass.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/onsi/ginkgo/v2/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: count GINKGO_JSON_REPORT")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "count:", err)
		os.Exit(2)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		fmt.Fprintf(os.Stderr, "count: %s: %v\n", os.Args[1], err)
		os.Exit(2)
	}
	passed, failed, skipped := 0, 0, 0
	ok := true
	for _, r := range reports {
		if !r.SuiteSucceeded {
			ok = false
			fmt.Fprintf(os.Stderr, "count: suite %s failed\n", r.SuitePath)
		}
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				if s.State.Is(types.SpecStateFailureStates) {
					failed++ // a failed BeforeSuite or AfterSuite counts too
				}
				continue
			}
			switch {
			case s.State == types.SpecStatePassed:
				passed++
			case s.State.Is(types.SpecStateFailureStates):
				failed++
			default:
				skipped++
			}
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if !ok || failed > 0 || passed == 0 {
		os.Exit(1)
	}
}
