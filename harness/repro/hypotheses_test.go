package repro

import (
	"slices"
	"testing"
)

// A 9298/9299 banner names the build ("Build 2448.4" is 5.5-sp2); a log
// without one has no build.
func TestSignatureBuildFromBanner(t *testing.T) {
	for file, want := range map[string]string{
		"runs/lab/slow-link-5.5-sp2.jsonl":   "5.5-sp2",
		"runs/lab/slice-short-5.5-sp3.jsonl": "5.5-sp3",
		"runs/lab/refuse-5.5-sp4.jsonl":      "5.5-sp4",
		"runs/lab/refuse-sp0.jsonl":          "4.0",
		"runs/lab/refuse-sp2.jsonl":          "4.0-sp2",
		"q152877-paris.csv":                  "",
	} {
		if got := sigOf(t, file).Build; got != want {
			t.Errorf("%s: build %q, want %q", file, got, want)
		}
	}
}

// Without a banner the hypotheses span the catalogue: every build, each KB
// family under its defective build and the one that fixes it. With one,
// every hypothesis runs under the banner's build.
func TestCandidatesLearnTheBuilds(t *testing.T) {
	byFamily := map[string][]string{}
	for _, p := range Candidates(sigOf(t, "q152877-paris.csv"), 1) {
		if !slices.Contains(byFamily[p.Family], p.Mode) {
			byFamily[p.Family] = append(byFamily[p.Family], p.Mode)
		}
	}
	for fam, want := range map[string][]string{
		FamilySlowLink:   {"5.5-sp2", "5.5-sp3"},
		FamilyDrop:       {"5.5-sp2", "5.5-sp3"},
		FamilySliceShort: {"5.5-sp3", "5.5-sp4"},
		FamilyRefuse:     {"sp0", "sp2", "5.5-sp4"},
		FamilyCycle:      {"sp0", "sp2"},
	} {
		got := slices.Clone(byFamily[fam])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s runs under %v, want %v", fam, got, want)
		}
	}
	customer := sigOf(t, "runs/lab/drop-mid-transfer-5.5-sp2.jsonl")
	if customer.Build != "5.5-sp2" {
		t.Fatalf("build %q", customer.Build)
	}
	cands := Candidates(customer, 1)
	fams := map[string]bool{}
	for _, p := range cands {
		fams[p.Family] = true
		if p.Mode != "5.5-sp2" {
			t.Fatalf("banner 5.5-sp2: candidate %s", p)
		}
		sc, err := p.Scenario("cand")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sc.MTAs {
			if m.BuildName() != "5.5-sp2" {
				t.Fatalf("%s: MTA %s runs %s", p, m.Name, m.BuildName())
			}
		}
	}
	if len(fams) != len(Families) {
		t.Errorf("banner 5.5-sp2: %d families, want every one (%d)", len(fams), len(Families))
	}
	// Ordered by what the signature predicts: 2035 is Q232602's.
	if cands[0].Family != FamilyDrop {
		t.Errorf("a 5.5-sp2 log with 2035: first candidate %s, want %s", cands[0], FamilyDrop)
	}
}

// The mode is the build whose best run beats every other build's by more
// than the margin, "either" when the runner-up lies within it.
func TestDecideModeOverBuilds(t *testing.T) {
	for _, c := range []struct {
		scores map[string]float64
		want   string
	}{
		{map[string]float64{"5.5-sp2": 0.95, "5.5-sp3": 0.5}, "5.5-sp2"},
		{map[string]float64{"5.5-sp2": 0.95, "5.5-sp3": 0.9}, "either"},
		{map[string]float64{"sp0": 0.5, "sp2": 0.55, "5.5-sp4": 0.9}, "5.5-sp4"},
		{map[string]float64{"sp0": 0.85, "sp2": 0.5, "5.5-sp4": 0.8}, "either"},
		{map[string]float64{"5.5-sp3": 0.9}, ""},
	} {
		if got := decideMode(c.scores); got != c.want {
			t.Errorf("%v: mode %q, want %q", c.scores, got, c.want)
		}
	}
}
