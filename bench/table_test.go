package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// design11 is DESIGN.md section 11 (as revised for issue 18), figure by
// figure, copied by hand; the test below fails when Table drifts from it.
// scale_heap_ours_per_assoc is issue 18's ("our share ≤ 30 KB").
var design11 = []Spec{
	{Figure: "minip1_direct_vs_raw", Unit: "ratio", Target: ">= 0.5"},
	{Figure: "minip1_embedded_vs_direct", Unit: "ratio", Target: ">= toxiproxy_embedded_passthrough"},
	{Figure: "fault_call_speedup", Unit: "ratio", Target: ">= 5"},
	{Figure: "event_wake_p99", Unit: "ms", Target: "<= 1"},
	{Figure: "harness_overhead", Unit: "ratio", Target: "<= 1.2"},
	{Figure: "q152877_pair_wall", Unit: "s", Target: "<= 6"},
	{Figure: "scale_rss_per_assoc", Unit: "KB", Target: "<= 100"},
	{Figure: "scale_errors", Unit: "count", Target: "== 0"},
	{Figure: "scale_heap_ours_per_assoc", Unit: "KB", Target: "<= 30"},
	{Figure: "org200_overhead", Unit: "ratio", Target: "<= 1.2"},
	{Figure: "org200_lost", Unit: "count", Target: "== 0", Owner: "issue 17"},
	{Figure: "repro_candidates_per_min", Unit: "ratio", Target: ">= 8", Owner: "issue 14"},
	{Figure: "default_suite_wall", Unit: "s", Target: "<= 60"},
	{Figure: "readme_test_wall", Unit: "s", Target: "<= 180", Owner: "issue 12"},
}

func TestTableFollowsDesignSection11(t *testing.T) {
	if len(Table) != len(design11) {
		t.Errorf("Table has %d rows, DESIGN.md section 11 %d", len(Table), len(design11))
	}
	for _, want := range design11 {
		got, ok := SpecFor(want.Figure)
		if !ok || got.Figure != want.Figure {
			t.Errorf("%s: not in Table (found %+v)", want.Figure, got)
			continue
		}
		if got.Unit != want.Unit || got.Target != want.Target || got.Owner != want.Owner {
			t.Errorf("%s: Table says %s %q owner %q, DESIGN.md section 11 %s %q owner %q",
				want.Figure, got.Unit, got.Target, got.Owner, want.Unit, want.Target, want.Owner)
		}
		if got.Row == "" {
			t.Errorf("%s: no DESIGN.md row named", want.Figure)
		}
		if _, err := parseTarget(got.Target); err != nil {
			t.Errorf("%s: %v", want.Figure, err)
		}
	}
}

// TestBenchmarksMDListsTheTable pins the table of BENCHMARKS.md's "Targets"
// section to Table: a row per figure, with its target and owner.
func TestBenchmarksMDListsTheTable(t *testing.T) {
	md, err := os.ReadFile("../BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(md), "\n## Targets\n")
	if !ok {
		t.Fatal("BENCHMARKS.md has no \"## Targets\" section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for line := range strings.Lines(section) {
		if f, ok := strings.CutPrefix(line, "| `"); ok {
			if name, rest, ok := strings.Cut(f, "`"); ok {
				rows[name] = rest
			}
		}
	}
	for _, s := range Table {
		row, ok := rows[s.Figure]
		if !ok {
			t.Errorf("BENCHMARKS.md has no row | `%s` |", s.Figure)
			continue
		}
		cells := strings.Split(row, "|")
		if len(cells) < 4 || strings.TrimSpace(cells[1]) != "`"+s.Target+"`" || strings.TrimSpace(cells[2]) != s.Owner {
			t.Errorf("BENCHMARKS.md row of %s: %q, want target `%s` and owner %q", s.Figure, row, s.Target, s.Owner)
		}
	}
}

func TestReadmeTestCommandIsTheReadmes(t *testing.T) {
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(md), "Run the tests")
	if !ok {
		t.Fatal(`README.md has no "Run the tests"`)
	}
	_, block, ok := strings.Cut(after, "```sh\n")
	if !ok {
		t.Fatal(`README.md: no sh block after "Run the tests"`)
	}
	block, _, _ = strings.Cut(block, "```")
	if got, want := strings.TrimSpace(block), strings.Join(ReadmeTestCommand, " "); got != want {
		t.Errorf("README.md's test command is %q, bench times %q", got, want)
	}
}

func TestMeasuredTakesTargetUnitAndOwnerFromTable(t *testing.T) {
	for _, c := range []struct {
		figure  string
		v       float64
		target  string
		unit    string
		owner   string
		met     bool
		comment string
	}{
		{"minip1_direct_vs_raw/64B", 0.62, ">= 0.5", "ratio", "", true, "a family member"},
		{"minip1_direct_vs_raw/1KiB", 0.49, ">= 0.5", "ratio", "", false, ""},
		{"minip1_direct_vs_raw/64KiB", 0.32, ">= 0.5", "ratio", "", false, "issue 12's zero-copy change landed: no owner"},
		{"fault_call_speedup/toxic_add", 5, ">= 5", "ratio", "", true, "the bound itself meets"},
		{"fault_call_speedup/enable", 4.9996, ">= 5", "ratio", "", true, "judged as shown, rounded to 0.001"},
		{"event_wake_p99", 1.2, "<= 1", "ms", "", false, ""},
		{"harness_overhead/q152877-sp0", 1.003, "<= 1.2", "ratio", "", true, ""},
		{"scale_errors", 1, "== 0", "count", "", false, ""},
		{"scale_heap_ours_per_assoc", 24.1, "<= 30", "KB", "", true, ""},
		{"readme_test_wall", 240, "<= 180", "s", "issue 12", false, ""},
	} {
		r := measured(c.figure, c.v, "d")
		if r.Err != "" || r.Target != c.target || r.Unit != c.unit || r.Owner != c.owner || r.Met != c.met || r.Value != round(c.v) || r.Detail != "d" {
			t.Errorf("%s %v (%s): %+v, want target %q unit %s owner %q met %v", c.figure, c.v, c.comment, r, c.target, c.unit, c.owner, c.met)
		}
	}
}

func TestSpecForPrefersAMembersRow(t *testing.T) {
	saved := Table
	t.Cleanup(func() { Table = saved })
	Table = append(slices.Clone(saved), Spec{Figure: "minip1_direct_vs_raw/64KiB", Unit: "ratio", Target: ">= 0.25", Owner: "issue 99"})
	if r := measured("minip1_direct_vs_raw/64KiB", 0.3, ""); r.Target != ">= 0.25" || r.Owner != "issue 99" || !r.Met {
		t.Errorf("member: %+v", r)
	}
	if r := measured("minip1_direct_vs_raw/1KiB", 0.3, ""); r.Target != ">= 0.5" || r.Owner != "" || r.Met {
		t.Errorf("another member: %+v", r)
	}
	if _, ok := SpecFor("minip1_direct_vs_raw_x"); ok {
		t.Error("a name that only starts like a family matched it")
	}
}

func TestMeasuredAgainstAnotherFigure(t *testing.T) {
	r := measuredAgainst("minip1_embedded_vs_direct/64B", 0.681, 0.5571, "via proxy")
	if r.Err != "" || r.Target != ">= 0.557" || !r.Met || !strings.Contains(r.Detail, "toxiproxy_embedded_passthrough") {
		t.Errorf("%+v", r)
	}
	if r := measuredAgainst("minip1_embedded_vs_direct/64KiB", 0.27, 0.282, ""); r.Met || r.Err != "" {
		t.Errorf("below the pass-through: %+v", r)
	}
	// A bound for a numeric target, or none for a figure target, is a bug.
	if r := measuredAgainst("event_wake_p99", 0.1, 1, ""); r.Err == "" {
		t.Errorf("bound given to a numeric target: %+v", r)
	}
	if r := measured("minip1_embedded_vs_direct/64B", 0.7, ""); r.Err == "" {
		t.Errorf("no bound for a figure target: %+v", r)
	}
}

func TestNothingUnmeasurableIsAZero(t *testing.T) {
	for _, r := range []Result{
		measured("no_such_figure", 1, ""),                      // no target: a bug, not a pass
		measured("fault_call_speedup/disable", math.NaN(), ""), // 0/0
		measured("fault_call_speedup/disable", math.Inf(1), ""),
		info("scale_cpu_per_assoc", math.NaN(), "ms", ""),
	} {
		if r.Err == "" || r.Met {
			t.Errorf("%s: %+v, want an error", r.Figure, r)
		}
	}
	// info cannot drop a target by mistake.
	if r := info("event_wake_p99", 3, "ms", ""); r.Target != "<= 1" || r.Met {
		t.Errorf("info on a figure with a target: %+v", r)
	}
	if !math.IsNaN(ratio(time.Millisecond, 0)) {
		t.Error("ratio over a zero duration is a number")
	}
}

// decode returns the JSON objects WriteJSON prints for rs.
func decode(t *testing.T, rs []Result) ([]map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got) != len(rs) {
		t.Fatalf("%d objects for %d results", len(got), len(rs))
	}
	return got, buf.String()
}

func TestJSONShapes(t *testing.T) {
	rs := []Result{
		measured("readme_test_wall", 241.5, "`bash ci/test.sh`"),
		info("toxiproxy_embedded_passthrough/64B", 0.557, "ratio", "raw via proxy"),
		skipped("org200_lost", "count", "not built yet: issue 17"),
		failed("fault_call_speedup/disable", "ratio", errors.New("toxi: boom")),
		measured("fault_call_speedup/enable", 0, ""), // a measured 0 keeps its value
	}
	got, text := decode(t, rs)
	want := []map[string]any{
		{"figure": "readme_test_wall", "value": 241.5, "unit": "s", "target": "<= 180", "met": false, "owner": "issue 12", "detail": "`bash ci/test.sh`"},
		{"figure": "toxiproxy_embedded_passthrough/64B", "value": 0.557, "unit": "ratio", "detail": "raw via proxy"},
		{"figure": "org200_lost", "unit": "count", "target": "== 0", "owner": "issue 17", "skipped": true, "reason": "not built yet: issue 17"},
		{"figure": "fault_call_speedup/disable", "unit": "ratio", "target": ">= 5", "met": false, "error": "toxi: boom"},
		{"figure": "fault_call_speedup/enable", "value": 0.0, "unit": "ratio", "target": ">= 5", "met": false},
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("object %d: keys %v, want %v", i, got[i], want[i])
		}
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("object %d: %s = %#v, want %#v", i, k, got[i][k], v)
			}
		}
	}
	if strings.Contains(text, `\u003e`) {
		t.Errorf("targets HTML-escaped:\n%s", text)
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"no (issue 12)", "skipped (issue 17)", "not built yet", "ERROR", "toxi: boom"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestJudgeSortsForTheExitCode(t *testing.T) {
	rs := []Result{
		measured("minip1_direct_vs_raw/64B", 0.9, ""),
		measured("readme_test_wall", 200, ""),        // owned by issue 12
		measured("fault_call_speedup/enable", 3, ""), // owned by no one
		info("fault_actuation_speedup", 2.8, "ratio", ""),
		skipped("repro_candidates_per_min", "ratio", "issue 14"),
		failed("event_wake_p99", "ms", errors.New("x")),
	}
	v := Judge(rs)
	if v.Met != 1 || len(v.Missed) != 1 || v.Missed[0].Figure != "fault_call_speedup/enable" ||
		len(v.Owned) != 1 || v.Owned[0].Figure != "readme_test_wall" || len(v.Errors) != 1 || len(v.Skipped) != 1 {
		t.Errorf("%+v", v)
	}
	if !strings.Contains(v.String(), "readme_test_wall (issue 12)") {
		t.Errorf("summary %q", v.String())
	}
	if v := Judge(rs[:2]); len(v.Missed) != 0 || len(v.Owned) != 1 {
		t.Errorf("only an owned figure missed: %+v", v)
	}
}

// TestPendingFiguresAreSkipped runs the groups that measure nothing here:
// the rows other issues add, and the opt-in commands without their flag.
func TestPendingFiguresAreSkipped(t *testing.T) {
	rs := Run(context.Background(), Options{Only: []string{"suite", "readme"}})
	want := map[string]string{
		"default_suite_wall": "--suite",
		"readme_test_wall":   "--readme",
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(want), rs)
	}
	got, _ := decode(t, rs)
	for i, r := range rs {
		s, _ := SpecFor(r.Figure)
		if !r.Skipped || !strings.Contains(r.Reason, want[r.Figure]) || r.Target != s.Target || r.Owner != s.Owner || r.Unit != s.Unit {
			t.Errorf("%s: %+v, want skipped naming %q with Table's target", r.Figure, r, want[r.Figure])
		}
		if _, ok := got[i]["value"]; ok {
			t.Errorf("%s: a skipped figure has a value: %v", r.Figure, got[i])
		}
		if _, ok := got[i]["met"]; ok {
			t.Errorf("%s: a skipped figure is judged: %v", r.Figure, got[i])
		}
	}
	if v := Judge(rs); len(v.Missed)+len(v.Errors) != 0 {
		t.Errorf("skipped figures judged: %+v", v)
	}
}

func TestActuationResults(t *testing.T) {
	us := time.Microsecond
	spread := func(a Act) []Act {
		var out []Act
		for i := range 5 {
			j := time.Duration(i-2) * us // around the median
			out = append(out, Act{Disable: a.Disable + j, Refused: a.Refused + j, Enable: a.Enable + j, ToxicAdd: a.ToxicAdd + j})
		}
		return out
	}
	// At a tick every call pays ~100µs more, alike: the figures with a
	// target are the calls back to back.
	emb := Actuations{Name: "embedded", Hot: spread(Act{Disable: 20 * us, Enable: 30 * us, ToxicAdd: 25 * us}),
		Acts: spread(Act{Disable: 120 * us, Refused: 50 * us, Enable: 130 * us, ToxicAdd: 125 * us})}
	api := Actuations{Name: "http", Hot: spread(Act{Disable: 160 * us, Enable: 120 * us, ToxicAdd: 250 * us}),
		Acts: spread(Act{Disable: 260 * us, Refused: 45 * us, Enable: 220 * us, ToxicAdd: 350 * us})}
	rs := actuationResults(emb, api, Actuations{}, "no toxiproxy-server")
	want := map[string]struct {
		v      float64
		target string
	}{
		"fault_call_speedup/disable":               {8, ">= 5"},
		"fault_call_speedup/enable":                {4, ">= 5"},
		"fault_call_speedup/toxic_add":             {10, ">= 5"},
		"fault_actuation_speedup":                  {305.0 / 170, ""},
		"fault_call_speedup_vs_external/disable":   {math.NaN(), ""},
		"fault_call_speedup_vs_external/enable":    {math.NaN(), ""},
		"fault_call_speedup_vs_external/toxic_add": {math.NaN(), ""},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d", len(rs), len(want))
	}
	for _, r := range rs {
		w, ok := want[r.Figure]
		switch {
		case !ok:
			t.Errorf("unexpected figure %s", r.Figure)
		case math.IsNaN(w.v):
			if !r.Skipped || r.Reason != "no toxiproxy-server" {
				t.Errorf("%s: %+v, want skipped", r.Figure, r)
			}
		case r.Value != round(w.v) || r.Target != w.target || r.Err != "" || r.Skipped:
			t.Errorf("%s: %+v, want %v target %q", r.Figure, r, round(w.v), w.target)
		}
	}
	if d := rs[0].Detail; !strings.Contains(d, "at a tick") || !strings.Contains(d, "2.17×") {
		t.Errorf("detail lacks the ratio at a tick (260/120): %s", d)
	}
	v := Judge(rs)
	if len(v.Missed) != 1 || v.Missed[0].Figure != "fault_call_speedup/enable" || v.Met != 2 {
		t.Errorf("judged %+v", v)
	}
	ext := Actuations{Name: "external", Hot: spread(Act{Disable: 300 * us, Enable: 300 * us, ToxicAdd: 300 * us})}
	for _, r := range actuationResults(emb, api, ext, "") {
		if strings.HasPrefix(r.Figure, "fault_call_speedup_vs_external/") && (r.Skipped || r.Target != "" || r.Value <= 1) {
			t.Errorf("with an external server: %+v", r)
		}
	}
	// No rounds: every ratio is an error, never a value of 0.
	for _, r := range actuationResults(Actuations{}, Actuations{}, Actuations{}, "x") {
		if !r.Skipped && r.Err == "" {
			t.Errorf("no rounds: %+v", r)
		}
	}
}

func TestScaleResultsSplitTheHeap(t *testing.T) {
	sc := ScaleConfig{Initiators: 50, Responders: 20}
	r := ScaleResult{Assocs: 1000, Want: 1000, HeapDelta: 149_300_000, CopyBufDelta: 125_000_000, CopyBufSamples: 3400,
		RSSDelta: 73_200_000, CPU: 580 * time.Millisecond}
	rs := scaleResults(sc, r)
	want := map[string]struct {
		v      float64
		target string
	}{
		"scale_rss_per_assoc":                    {73.2, "<= 100"},
		"scale_errors":                           {0, "== 0"},
		"scale_heap_per_assoc":                   {149.3, ""},
		"scale_heap_toxiproxy_copybuf_per_assoc": {125, ""},
		"scale_heap_ours_per_assoc":              {24.3, "<= 30"},
		"scale_cpu_per_assoc":                    {0.58, ""},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d", len(rs), len(want))
	}
	for _, x := range rs {
		w, ok := want[x.Figure]
		if !ok || x.Value != w.v || x.Target != w.target || x.Err != "" || x.Skipped || (w.target != "" && !x.Met) {
			t.Errorf("%s: %+v, want %v target %q met", x.Figure, x, w.v, w.target)
		}
	}
	// Our share regressing fails its target even though the total heap
	// has none.
	r.HeapDelta += 10_000_000
	for _, x := range scaleResults(sc, r) {
		if x.Figure == "scale_heap_ours_per_assoc" && (x.Met || x.Value != 34.3) {
			t.Errorf("ours +10 KB: %+v", x)
		}
	}
	// RSS that cannot be read is skipped with the reason, not 0.
	r.RSSErr = errors.New("no /proc")
	for _, x := range scaleResults(sc, r) {
		if x.Figure == "scale_rss_per_assoc" && (!x.Skipped || !strings.Contains(x.Reason, "no /proc")) {
			t.Errorf("RSS unreadable: %+v", x)
		}
	}
}
