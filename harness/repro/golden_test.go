package repro

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/*.signature.json from the current import")

// goldenLogs returns every event log under testdata (customer exports and
// lab events.jsonl, in oos/ and runs/ too), relative to testdata, sorted.
func goldenLogs(t *testing.T) []string {
	t.Helper()
	var logs []string
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p == filepath.Join("testdata", "golden") {
			return filepath.SkipDir
		}
		switch filepath.Ext(p) {
		case ".csv", ".txt", ".jsonl":
			rel, _ := filepath.Rel("testdata", p)
			logs = append(logs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatal("no event logs under testdata")
	}
	return logs
}

// goldenPath is testdata/golden/<log with / as __>.signature.json.
func goldenPath(log string) string {
	return filepath.Join("testdata", "golden", strings.ReplaceAll(log, "/", "__")+".signature.json")
}

// TestSignatureGolden compares the signature of every testdata log with the
// one recorded in testdata/golden before import streamed.
func TestSignatureGolden(t *testing.T) {
	for _, log := range goldenLogs(t) {
		t.Run(log, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", log))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, _, err := ImportFormat(f, log)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewSignature(recs).JSON()
			if err != nil {
				t.Fatal(err)
			}
			if *updateGolden {
				if err := os.WriteFile(goldenPath(log), got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath(log))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("signature differs from %s:\n got %s\nwant %s", goldenPath(log), got, want)
			}
		})
	}
}
