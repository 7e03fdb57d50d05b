package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness"
)

const checkYAML = `version: 1
name: cli-check
seed: 7
mtas:
  - name: A
  - name: B
links:
  - {from: A, to: B}
traffic:
  - {from: A, to: B, messages: 40, size: 512B, rate: 100/s, start: 0s}
faults:
  - {at: 100ms, until: 400ms, link: A->B, type: refuse}
expect:
  events:
    - {mta: A, id: 1004, min: 1}
  recovery: {within: 30s, delivered: all}
duration: 20s
`

func TestCheck(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "cli-check.yaml")
	if err := os.WriteFile(file, []byte(checkYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "bundle")
	if code, _, stderr := cli(t, "run", file, "--out", dir, "--quiet"); code != exitPassed {
		t.Fatalf("run: code %d, stderr %s", code, stderr)
	}
	code, stdout, stderr := cli(t, "check", dir)
	if code != exitPassed || !strings.Contains(stdout, "verdict passed (cli-check, seed 7)") || !strings.Contains(stdout, "events A 1004") {
		t.Errorf("check: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}

	events := filepath.Join(dir, harness.FileEvents)
	data, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// Drop A's 1004 events: the check fails.
	var kept []string
	for _, l := range lines {
		if !(strings.Contains(l, `"mta":"A"`) && strings.Contains(l, `"id":1004,`)) {
			kept = append(kept, l)
		}
	}
	os.WriteFile(events, []byte(strings.Join(kept, "")), 0o644)
	code, stdout, _ = cli(t, "check", dir)
	if code != exitFailed || !strings.Contains(stdout, "failed   events A 1004") || !strings.Contains(readSummary(t, dir).Verdict, "failed") {
		t.Errorf("check after dropping events: code %d\n%s", code, stdout)
	}

	// A truncated line: bad input, named by file and line.
	lines[1] = lines[1][:len(lines[1])/3] + "\n"
	os.WriteFile(events, []byte(strings.Join(lines, "")), 0o644)
	code, _, stderr = cli(t, "check", dir)
	if code != exitUsage || !strings.Contains(stderr, events+":2:") {
		t.Errorf("truncated events.jsonl: code %d, stderr %q", code, stderr)
	}
}

func TestCheckUsage(t *testing.T) {
	if code, _, stderr := cli(t, "check"); code != exitUsage || !strings.Contains(stderr, "want one bundle folder") {
		t.Errorf("no folder: code %d, stderr %q", code, stderr)
	}
	if code, _, stderr := cli(t, "check", filepath.Join(t.TempDir(), "none")); code != exitUsage || !strings.Contains(stderr, "none") {
		t.Errorf("missing folder: code %d, stderr %q", code, stderr)
	}
	if code, _, stderr := cli(t, "check", t.TempDir()); code != exitUsage || !strings.Contains(stderr, harness.FileScenario) {
		t.Errorf("empty folder: code %d, stderr %q", code, stderr)
	}
}
