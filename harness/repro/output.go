package repro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Files a search writes.
const (
	FileScenario = "repro.yaml"
	FileSummary  = "summary.json"
	FileSpec     = "repro_test.go"
)

// Recovery of a repro scenario: a stalled sp0 responder is restarted (the
// KB workaround) once the candidate's own run would have ended, so that the
// verification sees everything that run logged first (a restart soon after
// the last heal cut off the third leak of a slow run, and its 1277); then
// everything must be delivered within recoveryWithin.
const recoveryWithin = 2 * time.Second

// restartAt is when the repro scenario of p restarts B: the end of p's own
// run.
func restartAt(p Plan) time.Duration { return p.Duration() }

// verifyDuration is the duration of the repro scenario of p: its anchor (the
// restart at the end of p's own run), the recovery bound, and a second to
// spare.
func verifyDuration(p Plan) time.Duration {
	return restartAt(p) + recoveryWithin + time.Second
}

var nameUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// scenarioName turns s into a valid scenario name ("repro" if nothing is left).
func scenarioName(s string) string {
	s = strings.Trim(nameUnsafe.ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if s == "" {
		return "repro"
	}
	if !strings.HasPrefix(s, "repro") {
		s = "repro-" + s
	}
	return s
}

func intp(n int) *int { return &n }

// ReproScenario turns a trial into the repro scenario: its plan, with a
// restart of B after the last heal when the run leaked KCBs (the KB
// workaround), recovery bounded, and expectations derived from the
// customer's signature and what the trial logged: min 1 for every
// catalogued ID of the customer's log the run logged too (at the MTA that
// logged it most), max 0 everywhere for every core ID neither logged, at
// least one KCB leaked at B when both show the leak, none anywhere when
// neither does. The customer's IDs it cannot expect are listed by
// unreproduced.
//
// Runs in others (hits of the same plan with other seeds) narrow the
// expectations to what every run logged.
func ReproScenario(name string, customer Signature, t Trial, others ...Trial) (*scenario.Scenario, error) {
	sc, err := t.Plan.Scenario(name)
	if err != nil {
		return nil, err
	}
	sc.Description = fmt.Sprintf("Reproduces a customer's event log (mtastorm repro): %s. Score %.3f.", t.Plan, t.Score)
	all := append([]Trial{t}, others...)
	every := func(f func(Trial) bool) bool {
		for _, o := range all {
			if !f(o) {
				return false
			}
		}
		return true
	}
	if t.Plan.Restart || !every(func(o Trial) bool { return o.Leaked == 0 }) {
		sc.Actions = []scenario.Action{{At: restartAt(t.Plan), Op: "restart", MTA: "B"}}
		sc.Description += " B leaks KCBs and stalls; restarting it (the KB workaround) lets the mail drain."
		if b, _ := kernel.LookupBuild(t.Plan.Mode); slices.Contains(b.Defects, kernel.KBQ229643) || slices.Contains(b.Defects, kernel.KBQ232602) {
			// The 5.5-sp2 defects stall the initiator: restart the senders too.
			for _, s := range t.Plan.senderNames() {
				sc.Actions = append(sc.Actions, scenario.Action{At: restartAt(t.Plan), Op: "restart", MTA: s})
			}
			sc.Description += " The senders stall too (a 5.5-sp2 initiator defect); they are restarted with it."
		}
	}
	sc.Duration = verifyDuration(t.Plan)
	sc.Expect.Recovery = &scenario.Recovery{Within: recoveryWithin, Delivered: "all", KCBs: "baseline"}
	sc.Expect.Events = nil
	for _, id := range compared(customer) {
		c := customer.Has(id)
		r := every(func(o Trial) bool { return o.Sig.Has(id) })
		none := every(func(o Trial) bool { return !o.Sig.Has(id) })
		switch {
		case c && r:
			sc.Expect.Events = append(sc.Expect.Events, scenario.EventExpect{MTA: topMTA(t.Events, id), ID: id, Min: intp(1)})
		case !c && none && slices.Contains(CoreIDs, id):
			sc.Expect.Events = append(sc.Expect.Events, scenario.EventExpect{MTA: "*", ID: id, Max: intp(0)})
		}
	}
	sc.Expect.Leaked = nil
	switch {
	case customer.Leak && every(func(o Trial) bool { return o.Leaked > 0 }):
		sc.Expect.Leaked = []scenario.LeakExpect{{MTA: "B", Min: intp(1)}}
	case !customer.Leak && every(func(o Trial) bool { return o.Leaked == 0 }):
		sc.Expect.Leaked = []scenario.LeakExpect{{MTA: "*", Max: intp(0)}}
	}
	return reload(sc)
}

// unreproduced lists the IDs of the customer's log that sc does not expect
// (no `min` of at least 1 for it), and why: not in the stub's catalogue, or
// not logged by every run the expectations were drawn from. With no
// scenario, every ID of the log is listed.
func unreproduced(customer Signature, sc *scenario.Scenario) []Unreproduced {
	out := []Unreproduced{}
	for _, id := range customer.Order {
		expected := false
		if sc != nil {
			for _, e := range sc.Expect.Events {
				if e.ID == id && e.Min != nil && *e.Min >= 1 {
					expected = true
				}
			}
		}
		switch {
		case expected:
		case !eventlog.Known(id):
			out = append(out, Unreproduced{ID: id, Why: "not modelled: the stub's event catalogue does not know it"})
		case sc == nil:
			out = append(out, Unreproduced{ID: id, Why: "no repro scenario was written"})
		default:
			out = append(out, Unreproduced{ID: id, Why: "not logged by every run the scenario was drawn from"})
		}
	}
	return out
}

// topMTA returns the MTA that logged id most often (B on a tie).
func topMTA(events map[string]map[string]int, id int) string {
	best, n := "B", -1
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if c := events[name][strconv.Itoa(id)]; c > n || c == n && name == "B" {
			best, n = name, c
		}
	}
	return best
}

// Candidate is one run as summary.json describes it.
type Candidate struct {
	Description string  `json:"description"`
	Family      string  `json:"family"`
	Variant     string  `json:"variant,omitempty"`
	Mode        string  `json:"mode"`
	KCBs        int     `json:"kcbs"`
	Senders     int     `json:"senders"`
	Messages    int     `json:"messages"`
	Seed        int64   `json:"seed"`
	Score       float64 `json:"score"`
	// Parts are the score's presence, order, counts and indicators.
	Parts [4]float64 `json:"score_parts"`
	// IDs are the catalogued IDs the run logged, ascending.
	IDs []int `json:"ids"`
	// MissingIDs are the catalogued IDs of the customer's log the run did
	// not log: a run that misses any scores below the threshold.
	MissingIDs []int                     `json:"missing_ids"`
	Leak       bool                      `json:"leak"`
	Leaked     int                       `json:"kcbs_leaked"`
	Delivered  int                       `json:"delivered"`
	Submitted  int                       `json:"submitted"`
	Seconds    float64                   `json:"seconds"`
	Events     map[string]map[string]int `json:"events,omitempty"`
	Faults     []string                  `json:"faults,omitempty"`
}

func candidateOf(customer Signature, t Trial) Candidate {
	c := Candidate{Description: t.Plan.String(), Family: t.Plan.Family, Variant: t.Plan.Variant, Mode: t.Plan.Mode,
		KCBs: t.Plan.KCBs, Senders: max(1, t.Plan.Senders), Messages: t.Plan.Messages, Seed: t.Plan.Seed, Score: t.Score,
		Parts: ScoreParts(customer, t.Sig), IDs: t.Sig.Modelled(), MissingIDs: Missing(customer, t.Sig), Leak: t.Sig.Leak,
		Leaked: t.Leaked, Delivered: t.Delivered, Submitted: t.Submitted, Seconds: round3(t.Seconds), Events: t.Events}
	for i, p := range c.Parts {
		c.Parts[i] = round3(p)
	}
	slices.Sort(c.IDs)
	if c.IDs == nil {
		c.IDs = []int{}
	}
	if c.MissingIDs == nil {
		c.MissingIDs = []int{}
	}
	for _, f := range t.Plan.Faults {
		c.Faults = append(c.Faults, describeFault(f))
	}
	return c
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func describeFault(f FaultPlan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s at %s", f.Type, f.Link, f.At)
	if f.Until > 0 {
		fmt.Fprintf(&b, " until %s", f.Until)
	}
	keys := make([]string, 0, len(f.Params))
	for k := range f.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, f.Params[k].Raw)
	}
	return b.String()
}

// Summary is summary.json of a search.
type Summary struct {
	Reproduced bool `json:"reproduced"`
	// Reason says why the log was not reproduced ("" when it was).
	Reason  string  `json:"reason"`
	Score   float64 `json:"score"`
	Mode    string  `json:"mode"`
	HitRate float64 `json:"hit_rate"`
	// HitRuns is how many further seeds the hit rate was measured over
	// (0: not measured, and not reproduced); Hits how many of them hit.
	HitRuns int `json:"hit_runs"`
	Hits    int `json:"hits"`
	// MissingIDs are the catalogued IDs of the customer's log that the best
	// candidate's run did not log.
	MissingIDs []int `json:"missing_ids"`
	// NotModelled are the IDs of the customer's log that the stub's event
	// catalogue does not know.
	NotModelled []int `json:"not_modelled"`
	// Unreproduced are the IDs of the customer's log that repro.yaml has no
	// expectation for, and why.
	Unreproduced    []Unreproduced     `json:"unreproduced"`
	CandidatesTried int                `json:"candidates_tried"`
	Seconds         float64            `json:"seconds"`
	Threshold       float64            `json:"threshold"`
	ModeScores      map[string]float64 `json:"mode_scores"`
	// Log is the customer's event log as named on the command line.
	Log string `json:"log"`
	// Best is the best explored candidate, Final the one repro.yaml holds
	// (Best after shrinking).
	Best     Candidate       `json:"best"`
	Final    Candidate       `json:"final"`
	Shrinks  []string        `json:"shrinks"`
	Verified bool            `json:"verified"`
	Verdict  string          `json:"verdict"`
	Checks   []harness.Check `json:"checks"`
	Customer Signature       `json:"customer"`
	// Candidates are the explored candidates, best first (at most 12).
	Candidates []Candidate `json:"candidates"`
	// Launches are the runs the search launched, in order (times in
	// seconds from its start).
	Launches []LaunchJSON `json:"launches"`
}

// LaunchJSON is a Launch as summary.json holds it.
type LaunchJSON struct {
	Phase    string  `json:"phase"`
	Plan     string  `json:"plan"`
	Seed     int64   `json:"seed"`
	AtS      float64 `json:"at_s"`
	PlannedS float64 `json:"planned_s"`
}

// Summary returns the outcome as summary.json holds it; log names the
// customer's event log.
func (o *Outcome) Summary(log string) Summary {
	s := Summary{Reproduced: o.Reproduced, Reason: o.Reason, Score: o.Score, Mode: o.Mode, HitRate: round3(o.HitRate),
		HitRuns: o.HitRuns, Hits: o.Hits, MissingIDs: o.Missing, NotModelled: o.NotModelled, Unreproduced: o.Unreproduced,
		CandidatesTried: o.Tried, Seconds: round3(o.Elapsed.Seconds()), Threshold: Threshold, ModeScores: o.ModeScores, Log: log,
		Shrinks: o.Shrinks, Verified: o.Verified, Verdict: o.Verdict, Checks: o.Checks, Customer: o.Customer,
		Candidates: []Candidate{}, Launches: []LaunchJSON{}}
	if s.Shrinks == nil {
		s.Shrinks = []string{}
	}
	if s.MissingIDs == nil {
		s.MissingIDs = []int{}
	}
	if s.NotModelled == nil {
		s.NotModelled = []int{}
	}
	if s.Unreproduced == nil {
		s.Unreproduced = unreproduced(o.Customer, o.Scenario)
	}
	for _, l := range o.Launches {
		s.Launches = append(s.Launches, LaunchJSON{Phase: l.Phase, Plan: l.Plan, Seed: l.Seed,
			AtS: round3(l.At.Seconds()), PlannedS: round3(l.Planned.Seconds())})
	}
	if len(o.Trials) > 0 {
		s.Best, s.Final = candidateOf(o.Customer, o.Best), candidateOf(o.Customer, o.Final)
	}
	for i, t := range o.Trials {
		if i == 12 {
			break
		}
		s.Candidates = append(s.Candidates, candidateOf(o.Customer, t))
	}
	return s
}

// String is the outcome in a few lines, for a terminal. The first line is
// the diagnosis (the top KB, its title, the build and the service pack that
// fixes it), then up to three runner-ups (Diagnosis.Lines), then the
// verdict: "reproduced: …", or "NOT reproduced: " and why, naming the IDs
// no run logged and those the stub does not model.
func (o *Outcome) String() string {
	var b strings.Builder
	b.WriteString(o.Diagnose("").Lines(RunnerUps))
	if o.Reproduced {
		fmt.Fprintf(&b, "reproduced: score %.3f (threshold %.2f), mode %s\n", o.Score, Threshold, o.modeText())
	} else {
		fmt.Fprintf(&b, "NOT reproduced: %s\n", o.Reason)
		fmt.Fprintf(&b, "  best score %.3f (threshold %.2f), closest build %s\n", o.Score, Threshold, o.modeText())
	}
	hit := "not measured"
	if o.HitRuns > 0 {
		hit = fmt.Sprintf("%.2f (%d of %d further seeds)", o.HitRate, o.Hits, o.HitRuns)
	}
	var per []string
	for _, bi := range kernel.Builds() {
		if sc, ok := o.ModeScores[bi.ModeName()]; ok {
			per = append(per, fmt.Sprintf("%s %.3f", bi.ModeName(), sc))
		}
	}
	fmt.Fprintf(&b, "  hit rate %s, %d runs in %.1fs, best score per build: %s\n",
		hit, o.Tried, o.Elapsed.Seconds(), strings.Join(per, ", "))
	if len(o.Missing) > 0 {
		fmt.Fprintf(&b, "  missing: the best run did not log %s\n", idList(o.Missing))
	}
	if len(o.NotModelled) > 0 {
		fmt.Fprintf(&b, "  not modelled: %s (the stub's event catalogue does not know them)\n", idList(o.NotModelled))
	}
	if len(o.Trials) > 0 {
		fmt.Fprintf(&b, "  best:  %s\n", o.Best.Plan)
		if len(o.Shrinks) > 0 {
			fmt.Fprintf(&b, "  shrunk: %s\n", strings.Join(o.Shrinks, "; "))
		}
		for _, f := range o.Final.Plan.Faults {
			fmt.Fprintf(&b, "    fault: %s\n", describeFault(f))
		}
		fmt.Fprintf(&b, "  run logged: ids %v, leak %v, %d KCBs leaked, %d of %d delivered\n",
			o.Final.Sig.Modelled(), o.Final.Sig.Leak, o.Final.Leaked, o.Final.Delivered, o.Final.Submitted)
	}
	if o.Scenario != nil {
		fmt.Fprintf(&b, "  repro.yaml verification: %s\n", o.Verdict)
		for _, c := range o.Checks {
			if c.Verdict != harness.Passed {
				fmt.Fprintf(&b, "    %s: %s (%s)\n", c.Name, c.Verdict, c.Detail)
			}
		}
		for _, u := range o.Unreproduced {
			fmt.Fprintf(&b, "  repro.yaml does not reproduce %d: %s\n", u.ID, u.Why)
		}
	}
	return b.String()
}

// modeText explains the outcome's mode: the log's banner when it names the
// build (every hypothesis ran under it), else what the scores say.
func (o *Outcome) modeText() string {
	if o.Customer.Build != "" && o.Mode != "" {
		return o.Mode + " (the log's banner names it: every hypothesis ran under it)"
	}
	return modeText(o.Mode)
}

// modeText explains a mode in a few words.
func modeText(mode string) string {
	switch mode {
	case "":
		return "undecided (a build had no run)"
	case "either":
		return "either (both builds log this alike: not the sp0 defect)"
	case "sp0":
		return "sp0 (only the build before SP2 logs this: the KB Q152877 defect)"
	case "sp2":
		return "sp2 (the fixed build logs this; the sp0 build does not match as well)"
	}
	if b, ok := kernel.LookupBuild(mode); ok {
		if len(b.Defects) == 0 {
			return mode + " (a build without known defects logs this best)"
		}
		return mode + " (its defects " + strings.Join(b.Defects, ", ") + " log this; the builds that fix them do not match as well)"
	}
	return mode
}

// Write writes repro.yaml (when a scenario was found), summary.json and
// repro_test.go into dir; log names the customer's event log.
func (o *Outcome) Write(dir, log string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("repro: %w", err)
	}
	var sum bytes.Buffer
	enc := json.NewEncoder(&sum)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o.Summary(log)); err != nil {
		return fmt.Errorf("repro: summary: %w", err)
	}
	var diag bytes.Buffer
	enc = json.NewEncoder(&diag)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(o.Diagnose(log)); err != nil {
		return fmt.Errorf("repro: diagnosis: %w", err)
	}
	files := map[string][]byte{FileSummary: sum.Bytes(), FileDiagnosis: diag.Bytes()}
	if o.Scenario != nil {
		files[FileScenario] = o.YAML(log)
		spec, err := o.Spec(log)
		if err != nil {
			return err
		}
		files[FileSpec] = spec
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("repro: %w", err)
		}
	}
	return nil
}

// YAML returns repro.yaml: a comment header, then the scenario.
func (o *Outcome) YAML(log string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by mtastorm repro from %s.\n", filepath.Base(log))
	fmt.Fprintf(&b, "# Score %.3f, mode %s, hit rate %.2f over %d further seeds. Run it with: mtastorm run repro.yaml\n",
		o.Score, o.Mode, o.HitRate, o.HitRuns)
	if !o.Reproduced {
		fmt.Fprintf(&b, "# NOT a reproduction: %s.\n", o.Reason)
	}
	for _, u := range o.Unreproduced {
		fmt.Fprintf(&b, "# The customer's log has %d, which this scenario does not reproduce: %s.\n", u.ID, u.Why)
	}
	b.Write(o.Scenario.Raw)
	return b.Bytes()
}

var specTemplate = template.Must(template.New("spec").Parse(`// Code generated by mtastorm repro from {{.Log}}; edit as you like.

package regression_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/suites/suitekit"
)

// {{.Var}} is the scenario mtastorm repro found for {{.Log}}:
// {{.Plan}}, score {{printf "%.3f" .Score}}, mode {{.Mode}}, hit rate {{printf "%.2f" .HitRate}}: KB {{.KB}}.
const {{.Var}} = ` + "`" + `{{.YAML}}` + "`" + `

var _ = Describe("{{.Name}}", Label({{.Labels}}), func() {
	It("logs the customer's signature ({{.IDs}})", func(ctx SpecContext) {
		res := suitekit.Run(ctx, suitekit.Scenario("{{.Name}}.yaml", {{.Var}}))
{{range .Asserts}}
		{{.}}{{end}}
		Expect(res).To(suitekit.HaveDeliveredExactlyOnce())
		Expect(res).To(suitekit.HaveVerdict(harness.Passed), "every check of {{.Name}}.yaml")
	}, SpecTimeout(60*time.Second))
})
`))

// Spec returns the Ginkgo regression spec (package regression_test) that
// embeds repro.yaml and asserts the customer's signature with suitekit's
// matchers; drop it into suites/regression/.
func (o *Outcome) Spec(log string) ([]byte, error) {
	sc := o.Scenario
	kb, _ := hypothesisOf(o.Final.Plan, o.Customer)
	labels := []string{`"repro"`, `"speed:fast"`, strconv.Quote("mode:" + o.Final.Plan.Mode), strconv.Quote("fault:" + o.Final.Plan.Family), strconv.Quote("kb:" + kb)}
	var asserts, ids []string
	for _, e := range sc.Expect.Events {
		m := fmt.Sprintf("suitekit.HaveEmitted(%s)", eventName(e.ID))
		if e.MTA != "*" {
			m += fmt.Sprintf(".From(%q)", e.MTA)
		}
		switch {
		case e.Min != nil && *e.Min == 1 && e.Max == nil:
			labels = append(labels, strconv.Quote(fmt.Sprintf("event:%d", e.ID)))
			ids = append(ids, strconv.Itoa(e.ID))
			asserts = append(asserts, fmt.Sprintf("Expect(res).To(%s, %q)", m, fmt.Sprintf("the customer's log shows %d", e.ID)))
		case e.Max != nil && *e.Max == 0 && e.Min == nil:
			asserts = append(asserts, fmt.Sprintf("Expect(res).NotTo(%s, %q)", m, fmt.Sprintf("the customer's log has no %d", e.ID)))
		}
	}
	for _, l := range sc.Expect.Leaked {
		switch {
		case l.Min != nil && l.MTA != "*":
			asserts = append(asserts, fmt.Sprintf("Expect(res).NotTo(suitekit.HaveNoLeakedKCBs().At(%q), %q)",
				l.MTA, "the leak of KB Q152877: KCBs left OpenPending"))
		case l.Max != nil && *l.Max == 0 && l.MTA == "*":
			asserts = append(asserts, `Expect(res).To(suitekit.HaveNoLeakedKCBs(), "the customer's log shows no leak")`)
		}
	}
	yaml := string(o.YAML(log))
	if strings.Contains(yaml, "`") {
		return nil, fmt.Errorf("repro: spec: the scenario holds a backquote")
	}
	v := "repro" + camel(strings.TrimPrefix(sc.Name, "repro"))
	data := map[string]any{
		"Log": filepath.Base(log), "Var": v, "KB": kb, "Plan": o.Final.Plan.String(), "Score": o.Score, "Mode": o.Mode,
		"HitRate": o.HitRate, "YAML": "\n" + yaml, "Name": sc.Name, "Labels": strings.Join(labels, ", "),
		"Asserts": asserts, "IDs": strings.Join(ids, ", "),
	}
	var b bytes.Buffer
	if err := specTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("repro: spec: %w", err)
	}
	out := b.String()
	src, err := format.Source([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("repro: spec: %w", err)
	}
	return src, nil
}

// eventNames are the eventlog constants of the catalogued IDs.
var eventNames = map[int]string{
	eventlog.IDAssocError: "IDAssocError", eventlog.IDAssocErrorAnon: "IDAssocErrorAnon",
	eventlog.IDStateCheck: "IDStateCheck", eventlog.IDConnRefused: "IDConnRefused",
	eventlog.IDNoControlBlocks: "IDNoControlBlocks", eventlog.IDConnectRefused: "IDConnectRefused",
	eventlog.IDConnReset: "IDConnReset", eventlog.IDAbnormalEnd: "IDAbnormalEnd",
	eventlog.IDStart: "IDStart", eventlog.IDStop: "IDStop",
}

// eventName is the Go expression of an event ID in the generated spec: the
// eventlog constant of a catalogued ID, else the number.
func eventName(id int) string {
	if n, ok := eventNames[id]; ok {
		return "eventlog." + n
	}
	return strconv.Itoa(id)
}

// idDescriptions say in a few words what an ID means; the not-modelled ones
// are those CATALOGUE.md C2 names.
var idDescriptions = map[int]string{
	eventlog.IDAssocError: "association error", eventlog.IDAssocErrorAnon: "association error, entity unknown",
	eventlog.IDStateCheck: "state check failure", eventlog.IDConnRefused: "inbound connection refused",
	eventlog.IDNoControlBlocks: "no free control blocks", eventlog.IDConnectRefused: "connect refused, sockets error 10061",
	eventlog.IDConnReset: "connection reset, sockets error 10054", eventlog.IDAbnormalEnd: "association ended abnormally",
	eventlog.IDStart: "MTA started", eventlog.IDStop: "MTA stopped",
	1209: "invalid LPI, Q232602", 9318: "RPC communications error, Q170056", 37: "Q169716",
	1290: "Q196381", 289: "Q196381", 1293: "Q196381",
}

// idDescription says in a few words what id means ("" if unknown).
func idDescription(id int) string { return idDescriptions[id] }

// camel turns "-q152877.csv" into "Q152877Csv".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= '0' && r <= '9' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}
