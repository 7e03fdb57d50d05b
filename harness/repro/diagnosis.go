package repro

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// FileDiagnosis is the ranked diagnosis a search writes (CATALOGUE.md C6).
const FileDiagnosis = "diagnosis.json"

// Kinds of a Hypothesis.
const (
	KindDefect    = "defect"
	KindCondition = "condition"
)

// conditionTitles are the network conditions of CATALOGUE.md C3.
var conditionTitles = map[string]string{
	"Q175354": "link down while mail is queued",
	"Q170056": "peer unreachable: connect refused",
	"Q169143": "connection reset by the network",
	"Q166602": "more concurrent associations than control blocks",
}

// Hypothesis is one ranked explanation of a customer's log: a KB entry of
// the catalogue, the build it was run under and the fault that made the
// run, with what its best run scored and explained.
type Hypothesis struct {
	// KB is the article ("Q229643"); Title its title, shortened.
	KB    string `json:"kb"`
	Title string `json:"title"`
	// Kind is "defect" (a build's bug, fixed in FixedIn) or "condition"
	// (network trouble any build logs; FixedIn is empty).
	Kind    string `json:"kind"`
	Build   string `json:"build"`
	FixedIn string `json:"fixed_in"`
	// Fault is the candidate that gave the hypothesis's best run.
	Fault string  `json:"fault"`
	Score float64 `json:"score"`
	// HitRate is Hits / HitRuns over further seeds (a hit is a run that
	// reproduces the log: at least Threshold, no catalogued ID missing);
	// HitRuns is 0 when the hypothesis's hit rate was not measured (only
	// the top and the runner-ups the CLI shows are), and NotMeasured then
	// says why when the search decided not to ("budget": the seeds did not
	// fit in what was left of it; "runs lost": infrastructure failures).
	HitRate     float64 `json:"hit_rate"`
	HitRuns     int     `json:"hit_runs"`
	NotMeasured string  `json:"hit_not_measured,omitempty"`
	// Explains are the customer's event IDs the best run logged too;
	// NotExplained those it did not (not-modelled IDs included); Missing
	// the catalogued ones among them (see Missing).
	Explains     []int `json:"explains"`
	NotExplained []int `json:"not_explained"`
	Missing      []int `json:"missing"`
}

// Diagnosis is diagnosis.json.
type Diagnosis struct {
	Log        string `json:"log"`
	Reproduced bool   `json:"reproduced"`
	Reason     string `json:"reason"`
	// Build is the build the log's banners name ("" without one).
	Build string `json:"log_build"`
	// Hypotheses are ranked: the search's chosen candidate first when it
	// reproduced the log, then by score (on a tie, a build without defects).
	Hypotheses []Hypothesis `json:"hypotheses"`
}

// familyDefect is the defect each family's fault triggers in a build that
// carries it (CATALOGUE.md C2); the other families make network conditions.
var familyDefect = map[string]string{FamilyCycle: kernel.KBQ152877, FamilyTruncate: kernel.KBQ152877,
	FamilyLatency: kernel.KBQ152877, FamilySlice: kernel.KBQ152877, FamilySlowLink: kernel.KBQ229643,
	FamilyDrop: kernel.KBQ232602, FamilySliceShort: kernel.KBQ247419}

// hypothesisOf names the KB entry a plan stands for: the defect its family
// triggers when its build carries it, else the network condition its faults
// make (CATALOGUE.md C3): a reset Q169143, more associations than KCBs
// Q166602, a refusal Q170056 when the log shows the refused connect (9215),
// any other link trouble Q175354. (drop-mid-transfer under a build without
// Q232602 is a refusal like the refuse family's.)
func hypothesisOf(p Plan, customer Signature) (kb, kind string) {
	b, _ := kernel.LookupBuild(p.Mode)
	if defect := familyDefect[p.Family]; defect != "" && slices.Contains(b.Defects, defect) {
		return defect, KindDefect
	}
	if p.Family == FamilyPressure {
		return "Q166602", KindCondition
	}
	fs := p.Faults
	if len(fs) == 0 { // a plan named by its family alone: the family's first variant
		if g := grid(p.Family); len(g) > 0 {
			fs = g[0].Faults
		}
	}
	has := func(typ string) bool {
		return slices.ContainsFunc(fs, func(f FaultPlan) bool { return f.Type == typ })
	}
	switch {
	case has(faults.TypeReset):
		return "Q169143", KindCondition
	case has(faults.TypeRefuse) && customer.Has(eventlog.IDConnectRefused):
		return "Q170056", KindCondition
	}
	return "Q175354", KindCondition
}

// ranked returns the trial that stands for each hypothesis (KB entry and
// build) of trials, in their order, top first when it is set: the order
// diagnosis.json ranks them in.
func ranked(customer Signature, top *Trial, trials []Trial) []Trial {
	var out []Trial
	seen := map[string]bool{}
	add := func(t Trial) {
		kb, _ := hypothesisOf(t.Plan, customer)
		b, _ := kernel.LookupBuild(t.Plan.Mode)
		if k := kb + "|" + b.Name; !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	if top != nil {
		add(*top)
	}
	for _, t := range trials {
		add(t)
	}
	return out
}

// Diagnose ranks the outcome's hypotheses: one per KB entry and build, its
// best explored run.
func (o *Outcome) Diagnose(log string) Diagnosis {
	d := Diagnosis{Log: log, Reproduced: o.Reproduced, Reason: o.Reason, Build: o.Customer.Build, Hypotheses: []Hypothesis{}}
	var top *Trial
	if o.Reproduced {
		top = &o.Best
	}
	for _, t := range ranked(o.Customer, top, o.Trials) { // best first
		kb, kind := hypothesisOf(t.Plan, o.Customer)
		b, _ := kernel.LookupBuild(t.Plan.Mode)
		h := Hypothesis{KB: kb, Kind: kind, Build: b.Name, Fault: t.Plan.String(), Score: round3(t.Score),
			Explains: []int{}, NotExplained: []int{}, Missing: Missing(o.Customer, t.Sig)}
		if h.Missing == nil {
			h.Missing = []int{}
		}
		if df, ok := kernel.LookupDefect(kb); ok && kind == KindDefect {
			h.Title, h.FixedIn = df.Title, df.FixedIn
		} else {
			h.Title = conditionTitles[kb]
		}
		k := t.Plan.Key() + "|" + t.Plan.Mode
		if m, ok := o.hitRates[k]; ok {
			h.HitRuns = m.n
			if m.n > 0 {
				h.HitRate = round3(float64(m.hits) / float64(m.n))
			}
		}
		if h.HitRuns == 0 {
			h.NotMeasured = o.notMeasured[k]
		}
		for _, id := range o.Customer.Order {
			if t.Sig.Has(id) {
				h.Explains = append(h.Explains, id)
			} else {
				h.NotExplained = append(h.NotExplained, id)
			}
		}
		d.Hypotheses = append(d.Hypotheses, h)
	}
	return d
}

// Lines renders the diagnosis for a terminal: the first line names the top
// KB, its title, the build and the service pack that fixes it (for a log
// no hypothesis reproduces, it says so first and names the IDs the closest
// one did not produce); then up to n runner-ups with their scores, hit
// rates and the IDs they do not explain.
func (d Diagnosis) Lines(n int) string {
	if len(d.Hypotheses) == 0 {
		return fmt.Sprintf("diagnosis: NOT reproduced, no hypothesis ran: %s\n", d.Reason)
	}
	var b strings.Builder
	top := d.Hypotheses[0]
	if d.Reproduced {
		fmt.Fprintf(&b, "diagnosis: %s %s — %s; %s (reproduced, score %.3f, hit rate %s)\n",
			top.KB, top.Title, fixText(top), top.Fault, top.Score, hitText(top))
	} else {
		// No hypothesis reproduces the log: say so first, with the IDs the
		// closest one could not produce, then name it as a guess.
		could := ""
		if len(top.NotExplained) > 0 {
			could = fmt.Sprintf(": no hypothesis produced %s", idList(top.NotExplained))
		}
		fmt.Fprintf(&b, "diagnosis: NOT reproduced%s; closest %s %s — %s; %s (score %.3f, hit rate %s)\n",
			could, top.KB, top.Title, fixText(top), top.Fault, top.Score, hitText(top))
	}
	for i, h := range d.Hypotheses[1:] {
		if i == n {
			break
		}
		ne := ""
		if len(h.NotExplained) > 0 {
			ne = fmt.Sprintf(", does not explain %v", h.NotExplained)
		}
		fmt.Fprintf(&b, "  runner-up %d: %s %s on %s, score %.3f, hit rate %s%s\n", i+1, h.KB, h.Kind, h.Build, h.Score, hitText(h), ne)
	}
	return b.String()
}

func fixText(h Hypothesis) string {
	if h.Kind == KindDefect {
		return fmt.Sprintf("build %s, fixed in %s", h.Build, h.FixedIn)
	}
	return fmt.Sprintf("a network condition on build %s: no service pack fixes it", h.Build)
}

func hitText(h Hypothesis) string {
	if h.HitRuns == 0 {
		if h.NotMeasured != "" {
			return "not measured (" + h.NotMeasured + ")"
		}
		return "not measured"
	}
	return fmt.Sprintf("%.2f over %d", h.HitRate, h.HitRuns)
}
