// Command everfailed reads Ginkgo JSON reports of repeated or sharded runs
// (the nightly's) and lists every spec that failed in any of them: how many
// runs it failed of how many it ran, its labels, location, the reports (and
// shards) it failed in, and its first failure message. It ends with the
// line "N specs, N reports[, N of N shards], N ever failed" and exits 1 when a
// spec ever failed, a suite failed (e.g. in BeforeSuite), no spec passed in
// any report (so an empty nightly cannot pass), or a shard or one of its
// reports is missing; 2 on bad usage or an unreadable report.
//
//	everfailed REPORT.json...   reports of one process (ci/nightly.sh's own check)
//	everfailed DIR...           the merge of a sharded nightly: DIRs hold shard-I-of-N folders
//
// With folders, every shard-I-of-N folder under the DIRs is one shard's
// results (ci/nightly.sh writes $MTASTORM_ARTIFACTS/nightly/shard-I-of-N, a
// Kubernetes soak pod /results/shard-I-of-N): its Ginkgo reports are the
// files named soak.json and ginkgo.json in it, and a file "expected" in it
// lists (one relative path a line) the reports the shard meant to write.
// Every shard 0..N-1 must be there exactly once, with every expected
// report; a missing shard or report is named (MISSING) and fails the
// merge, a duplicated shard is an error. A failure names its shard
// ("shard 2/4") wherever a path component of its report is a shard folder.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mtastorm/mtastorm/internal/shard"
)

// reportNames are the file names of Ginkgo reports inside a shard folder.
var reportNames = map[string]bool{"soak.json": true, "ginkgo.json": true}

// expectedFile lists, in a shard folder, the reports the shard meant to write.
const expectedFile = "expected"

// spec is one spec's record across reports.
type spec struct {
	name, location, labels string
	runs, failed           int
	firstFailure           string
	failedIn               []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command without its process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: everfailed GINKGO_JSON_REPORT... | everfailed SHARDS_DIR...")
		return 2
	}
	files, present, count, problems, err := inputs(args)
	if err != nil {
		fmt.Fprintln(stderr, "everfailed:", err)
		return 2
	}
	specs := map[string]*spec{}
	passed, suitesFailed := 0, 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "everfailed:", err)
			return 2
		}
		var reports []types.Report
		if err := json.Unmarshal(data, &reports); err != nil {
			fmt.Fprintf(stderr, "everfailed: %s: %v\n", file, err)
			return 2
		}
		where := origin(file)
		for _, r := range reports {
			if !r.SuiteSucceeded {
				suitesFailed++
				fmt.Fprintf(stdout, "suite %s failed in %s\n", r.SuitePath, where)
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
					sp.failedIn = append(sp.failedIn, where)
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
		fmt.Fprintf(stdout, "FAILED %d of %d runs: %s [%s]\n  at %s\n  in %s\n  first failure:\n%s\n",
			sp.failed, sp.runs, sp.name, sp.labels, sp.location, strings.Join(sp.failedIn, "; "), indent(sp.firstFailure, "    "))
	}
	for _, p := range problems {
		fmt.Fprintf(stdout, "MISSING %s\n", p)
	}
	shards := ""
	if count > 0 {
		shards = fmt.Sprintf(", %d of %d shards", present, count)
	}
	fmt.Fprintf(stdout, "%d specs, %d reports%s, %d ever failed\n", len(specs), len(files), shards, len(ever))
	if len(ever) > 0 || suitesFailed > 0 || passed == 0 || len(problems) > 0 {
		return 1
	}
	return 0
}

// inputs turns the arguments into report files. Files are taken as they
// are (count is 0). Folders are searched for shard folders: present of
// count shards were found, and problems name each missing shard or report.
// Mixing files and folders is an error.
func inputs(args []string) (files []string, present, count int, problems []string, err error) {
	var dirs []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, 0, 0, nil, err
		}
		if st.IsDir() {
			dirs = append(dirs, a)
		} else {
			files = append(files, a)
		}
	}
	if len(dirs) == 0 {
		return files, 0, 0, nil, nil
	}
	if len(files) > 0 {
		return nil, 0, 0, nil, fmt.Errorf("give report files or shard folders, not both (files %v, folders %v)", files, dirs)
	}
	found := map[shard.Shard][]string{} // shard -> its folders
	for _, d := range dirs {
		n := 0
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !e.IsDir() {
				return nil
			}
			sh, perr := shard.ParseDir(e.Name())
			if perr != nil {
				return nil
			}
			found[sh] = append(found[sh], path)
			n++
			return filepath.SkipDir
		})
		if err != nil {
			return nil, 0, 0, nil, err
		}
		if n == 0 {
			return nil, 0, 0, nil, fmt.Errorf("%s: no shard-I-of-N folder in it", d)
		}
	}
	for sh, paths := range found {
		if count != 0 && sh.Count != count {
			return nil, 0, 0, nil, fmt.Errorf("shards of different counts: %d and %d (%s)", count, sh.Count, paths[0])
		}
		count = sh.Count
	}
	for i := range count {
		sh := shard.Shard{Index: i, Count: count}
		paths := found[sh]
		switch {
		case len(paths) == 0:
			problems = append(problems, fmt.Sprintf("shard %v: no %s folder under %s (the shard did not run or its reports were not collected)", sh, sh.Dir(), strings.Join(dirs, " ")))
			continue
		case len(paths) > 1:
			return nil, 0, 0, nil, fmt.Errorf("shard %v: %d folders: %s", sh, len(paths), strings.Join(paths, " "))
		}
		rs, missing, err := shardReports(paths[0])
		if err != nil {
			return nil, 0, 0, nil, err
		}
		for _, m := range missing {
			problems = append(problems, fmt.Sprintf("shard %v: report %s (the run did not finish)", sh, m))
		}
		if len(rs) == 0 && len(missing) == 0 {
			problems = append(problems, fmt.Sprintf("shard %v: no soak.json or ginkgo.json in %s", sh, paths[0]))
		}
		files = append(files, rs...)
		present++
	}
	return files, present, count, problems, nil
}

// shardReports lists the Ginkgo reports in one shard folder, and those its
// expected file names that are not there (or are empty).
func shardReports(dir string) (files, missing []string, err error) {
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && reportNames[e.Name()] {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(filepath.Join(dir, expectedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return files, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rel := strings.TrimSpace(sc.Text())
		if rel == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, rel)); err != nil || st.Size() == 0 {
			missing = append(missing, filepath.Join(dir, rel))
		}
	}
	return files, missing, sc.Err()
}

// origin names a report for a reader: its path, after its shard when a
// path component is a shard folder.
func origin(file string) string {
	for _, part := range strings.Split(filepath.ToSlash(file), "/") {
		if sh, err := shard.ParseDir(part); err == nil {
			return fmt.Sprintf("shard %v (%s)", sh, file)
		}
	}
	return file
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
