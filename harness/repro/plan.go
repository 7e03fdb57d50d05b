package repro

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Families are the scenario families the search tries, in their default
// order (Search reorders them by the customer's signature).
var Families = []string{FamilyCycle, FamilyRefuse, FamilyTruncate, FamilySlice, FamilyLatency, FamilyPressure, FamilyReset,
	FamilySlowLink, FamilyDrop, FamilySliceShort}

// Scenario families (DESIGN.md section 5, "Expected effects").
const (
	// FamilyCycle is link cycling with latency so handshakes straddle the
	// flaps: the Q152877 condition.
	FamilyCycle = "cycle+latency"
	// FamilyRefuse is a plain outage: the link refuses, then heals.
	FamilyRefuse = "refuse"
	// FamilyTruncate cuts every connection inside its BIND.
	FamilyTruncate = "truncate-inside-bind"
	// FamilySlice slices frames with a delay longer than the reassembly timer.
	FamilySlice = "slice-long"
	// FamilyLatency adds latency above the transfer timer.
	FamilyLatency = "latency-above-transfer"
	// FamilyPressure opens more simultaneous associations than B has KCBs.
	FamilyPressure = "pressure"
	// FamilyReset resets every connection opened while it lasts (TCP RST
	// from the network: KB Q169143).
	FamilyReset = "reset"
	// FamilySlowLink delays every ACK beyond the transfer timer for
	// seconds, with an open timer that lets handshakes through: the
	// Q229643 trigger (scenarios/kb/Q229643.yaml).
	FamilySlowLink = "slow-link"
	// FamilyDrop drops a busy link mid-transfer for a second: the Q232602
	// trigger (scenarios/kb/Q232602.yaml).
	FamilyDrop = "drop-mid-transfer"
	// FamilySliceShort slices BINDs and TRANSFERs into short pieces, each
	// delayed so a message outlasts the reassembly timer: the Q247419
	// trigger (scenarios/kb/Q247419.yaml).
	FamilySliceShort = "slice-short"
)

// FaultPlan is one fault of a Plan, at offsets from the run start.
type FaultPlan struct {
	// Type is the fault type (faults.Types).
	Type string
	// Link is the link the fault acts on ("A->B"); "" means every sender's link.
	Link string
	// At and Until bound the fault; Until 0 means the fault's own shape ends it.
	At, Until time.Duration
	// Params are the type's parameters.
	Params map[string]scenario.Value
}

// Plan is one candidate of the search: a generated scenario, small enough to
// shrink. Senders MTAs (A, or A1..An) each send to B through their own link.
type Plan struct {
	// Family names the scenario family.
	Family string
	// Variant describes the family's parameters, e.g. "down 150ms up 250ms ×8".
	Variant string
	// Mode is the kernel build of every MTA: sp0 or sp2 (the 4.0 builds,
	// by their aliases) or a 5.5 build by name (5.5-sp2, 5.5-sp3, 5.5-sp4).
	Mode string
	// Timers, when set, replaces the generated scenario's kernel timers
	// (Timers()): the KB families run with their templates' timers.
	Timers *scenario.Timers
	// KCBs is every MTA's pool size, listener included.
	KCBs int
	// Senders is the number of initiating MTAs (1 except for pressure).
	Senders int
	// Messages is how many messages each sender submits, from 0s.
	Messages int
	// Rate is the submission rate per second (0 = all at once).
	Rate float64
	// Faults is the fault plan.
	Faults []FaultPlan
	// Seed is the scenario seed.
	Seed int64
	// Extended turns on the stub's companion events (9156, 9215, 9221,
	// 1294, 9298/9299: extended_events in the scenario). The search sets it
	// when the customer's log holds any of them.
	Extended bool
	// Restart restarts B restartDelay after the last heal: the only way a
	// run logs 9299 (MTA stopped). The search sets it when the customer's
	// log holds 9299.
	Restart bool
}

// restartDelay is how long after the last heal a Restart plan restarts B.
const restartDelay = 300 * time.Millisecond

// Timers are the kernel timers of every generated scenario: the test-scale
// defaults with a short association lifetime (as scenarios/q152877-sp0.yaml).
func Timers() scenario.Timers {
	t := scenario.DefaultTimers()
	t.Lifetime = 300 * time.Millisecond
	return t
}

// settle is how long a generated run goes on after its last fault heals
// before a stalled run is cut short (the recovery bound of a candidate).
const settle = time.Second

// MaxDuration bounds the duration of every generated scenario.
const MaxDuration = 6 * time.Second

// String describes the plan in one line.
func (p Plan) String() string {
	s := fmt.Sprintf("%s %s kcbs=%d", p.Family, p.Mode, p.KCBs)
	switch {
	case p.Variant != "":
		s += " (" + p.Variant + ")"
	case len(p.Faults) > 0:
		var fs []string
		for _, f := range p.Faults {
			fs = append(fs, fmt.Sprintf("%s %s–%s", f.Type, f.At, f.end()))
		}
		s += " (" + strings.Join(fs, ", ") + ")"
	}
	if p.Senders > 1 {
		s += fmt.Sprintf(" senders=%d", p.Senders)
	}
	if p.Extended {
		s += " +companions"
	}
	if p.Restart {
		s += " +restart"
	}
	return s
}

// Key identifies the plan's shape without its mode and seed: a candidate
// and its twin in the other build share a key.
func (p Plan) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|%d|%g|%v|%v", p.Family, p.KCBs, p.Senders, p.Messages, p.Rate, p.Extended, p.Restart)
	if p.Timers != nil {
		fmt.Fprintf(&b, "|timers %+v", *p.Timers)
	}
	for _, f := range p.Faults {
		fmt.Fprintf(&b, "|%s %s %s-%s", f.Type, f.Link, f.At, f.Until)
		keys := make([]string, 0, len(f.Params))
		for k := range f.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := f.Params[k]
			fmt.Fprintf(&b, " %s=%s%v", k, v.Raw, v.Strings)
		}
	}
	return b.String()
}

// WithMode returns a copy of p in the other build.
func (p Plan) WithMode(mode string) Plan {
	q := p.clone()
	q.Mode = mode
	return q
}

func (p Plan) clone() Plan {
	q := p
	if p.Timers != nil {
		t := *p.Timers
		q.Timers = &t
	}
	q.Faults = make([]FaultPlan, len(p.Faults))
	for i, f := range p.Faults {
		g := f
		g.Params = make(map[string]scenario.Value, len(f.Params))
		for k, v := range f.Params {
			g.Params[k] = v
		}
		q.Faults[i] = g
	}
	return q
}

// senderNames returns the senders' names: A, or A1..An.
func (p Plan) senderNames() []string {
	if p.Senders <= 1 {
		return []string{"A"}
	}
	out := make([]string, p.Senders)
	for i := range out {
		out[i] = fmt.Sprintf("A%d", i+1)
	}
	return out
}

// end returns when the fault heals: Until, or the end of a cycle train.
func (f FaultPlan) end() time.Duration {
	if f.Until > 0 {
		return f.Until
	}
	if f.Type == faults.TypeCycle {
		n := time.Duration(f.Params["count"].Int)
		return f.At + n*(f.Params["down"].Duration+f.Params["up"].Duration) - f.Params["up"].Duration
	}
	return f.At
}

// LastHeal returns when the plan's last fault heals (0 with no fault).
func (p Plan) LastHeal() time.Duration {
	var end time.Duration
	for _, f := range p.Faults {
		end = max(end, f.end())
	}
	return end
}

// Duration returns the scenario duration of the plan: the last heal plus
// the settling time, at least 2s, at most MaxDuration.
func (p Plan) Duration() time.Duration {
	d := p.LastHeal() + settle + 500*time.Millisecond
	if p.Faults == nil {
		d = 3 * time.Second
	}
	return min(max(d, 2*time.Second), MaxDuration)
}

// Scenario renders the plan as a validated scenario named name. Its
// expectations bound only recovery (so a stalled run ends settle after the
// last heal); Search adds the customer's expectations to the final one.
func (p Plan) Scenario(name string) (*scenario.Scenario, error) {
	b, ok := kernel.LookupBuild(p.Mode)
	if !ok {
		return nil, fmt.Errorf("repro: plan %s: unknown build %q", p, p.Mode)
	}
	timers := Timers()
	if p.Timers != nil {
		timers = *p.Timers
	}
	sc := &scenario.Scenario{
		Version:     1,
		Name:        name,
		Description: "Generated by mtastorm repro: " + p.String() + ".",
		Seed:        p.Seed,
		Defaults: scenario.MTASpec{Mode: b.Alias, Build: b.Name, KCBs: p.KCBs, Org: scenario.DefaultOrg, Site: scenario.DefaultSite,
			Timers: timers, LeakProbability: scenario.DefaultLeakProbability, Window: scenario.DefaultWindow,
			ExtendedEvents: p.Extended},
		Duration: p.Duration(),
	}
	senders := p.senderNames()
	for _, s := range senders {
		sc.MTAs = append(sc.MTAs, mta(sc.Defaults, s))
		sc.Links = append(sc.Links, scenario.Link{From: s, To: "B"})
		sc.Traffic = append(sc.Traffic, scenario.Traffic{From: s, To: "B", Messages: p.Messages, Size: 1024, Rate: p.Rate})
	}
	sc.MTAs = append(sc.MTAs, mta(sc.Defaults, "B"))
	for _, f := range p.Faults {
		links := []string{f.Link}
		if f.Link == "" {
			links = links[:0]
			for _, s := range senders {
				links = append(links, s+"->B")
			}
		}
		for _, l := range links {
			from, to, _ := scenario.ParseLink(l)
			sc.Faults = append(sc.Faults, scenario.Fault{At: f.At, Until: f.Until, Link: l, From: from, To: to, Type: f.Type, Params: f.Params})
		}
	}
	if p.Restart {
		sc.Actions = []scenario.Action{{At: p.LastHeal() + restartDelay, Op: "restart", MTA: "B"}}
	}
	sc.Expect.Recovery = &scenario.Recovery{Within: settle, Delivered: "all", KCBs: "baseline"}
	return reload(sc)
}

// mta returns the defaults as the spec of the MTA called name (Marshal
// writes a zero leak probability, so every field is set).
func mta(def scenario.MTASpec, name string) scenario.MTASpec {
	def.Name = name
	return def
}

// reload marshals sc and loads it back, so the scenario is exactly what a
// file would give (defaults filled in, Raw set).
func reload(sc *scenario.Scenario) (*scenario.Scenario, error) {
	raw, err := scenario.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("repro: render %s: %w", sc.Name, err)
	}
	out, err := scenario.LoadBytes(sc.Name+".yaml", raw)
	if err != nil {
		return nil, fmt.Errorf("repro: render %s: %w", sc.Name, err)
	}
	return out, nil
}

// bindCutBytes is the truncate point inside the first BIND of a connection
// from A to B (built-in defaults): the CR and the BIND minus one byte.
func bindCutBytes(from string) int64 {
	spec := scenario.BuiltinDefaults()
	spec.Name = from
	n, err := harness.CutInsideBind(spec, "B")
	if err != nil {
		return 60 // never: both units are valid
	}
	return n
}

// faultStart is when every generated fault starts: after traffic has flowed.
const faultStart = 500 * time.Millisecond

func dur(d time.Duration) scenario.Value { return scenario.DurationValue(d) }

// grid returns the family's parameter variants as plans without mode, pool
// size and seed.
func grid(family string) []Plan {
	base := Plan{Family: family, Senders: 1, Messages: 150, Rate: 100}
	var out []Plan
	add := func(variant string, faults ...FaultPlan) {
		p := base.clone()
		p.Variant, p.Faults = variant, faults
		out = append(out, p)
	}
	switch family {
	case FamilyCycle:
		for _, c := range []struct {
			down, up, lat time.Duration
			n             int64
		}{
			// As scenarios/q152877-sp0.yaml: a CC comes back well inside the
			// up phase, the BIND is in flight when the link drops.
			{150 * time.Millisecond, 250 * time.Millisecond, 90 * time.Millisecond, 6},
			{100 * time.Millisecond, 200 * time.Millisecond, 150 * time.Millisecond, 8},
		} {
			cyc := FaultPlan{Type: faults.TypeCycle, Link: "A->B", At: faultStart, Params: map[string]scenario.Value{
				"down": dur(c.down), "up": dur(c.up), "count": scenario.IntValue(c.n), "jitter": dur(0)}}
			lat := FaultPlan{Type: faults.TypeLatency, Link: "A->B", At: faultStart, Until: cyc.end(), Params: map[string]scenario.Value{
				"latency": dur(c.lat), "jitter": dur(0), "stream": scenario.StringValue("both")}}
			add(fmt.Sprintf("down %s up %s ×%d, latency %s", c.down, c.up, c.n, c.lat), lat, cyc)
		}
	case FamilyRefuse:
		for _, d := range []time.Duration{600 * time.Millisecond, 1500 * time.Millisecond} {
			add("for "+d.String(), FaultPlan{Type: faults.TypeRefuse, Link: "A->B", At: faultStart, Until: faultStart + d, Params: map[string]scenario.Value{}})
		}
	case FamilyTruncate:
		n := bindCutBytes("A")
		for _, d := range []time.Duration{1500 * time.Millisecond, 800 * time.Millisecond} {
			add(fmt.Sprintf("bytes %d for %s", n, d), FaultPlan{Type: faults.TypeTruncate, Link: "A->B", At: faultStart, Until: faultStart + d,
				Params: map[string]scenario.Value{"bytes": scenario.SizeValue(n), "stream": scenario.StringValue("up")}})
		}
	case FamilySlice:
		for _, d := range []time.Duration{400 * time.Millisecond, 250 * time.Millisecond} {
			add("delay "+d.String(), FaultPlan{Type: faults.TypeSlice, Link: "A->B", At: faultStart, Until: faultStart + 1500*time.Millisecond,
				Params: map[string]scenario.Value{"average_size": scenario.IntValue(64), "size_variation": scenario.IntValue(0),
					"delay": dur(d), "stream": scenario.StringValue("up")}})
		}
	case FamilyLatency:
		for _, d := range []time.Duration{600 * time.Millisecond, 700 * time.Millisecond} {
			add("latency "+d.String(), FaultPlan{Type: faults.TypeLatency, Link: "A->B", At: faultStart, Until: faultStart + 1500*time.Millisecond,
				Params: map[string]scenario.Value{"latency": dur(d), "jitter": dur(0), "stream": scenario.StringValue("down")}})
		}
	case FamilyReset:
		// Toxiproxy resets only connections opened after the toxic (see
		// faults/reset.go): the short association lifetime makes A reopen.
		for _, d := range []time.Duration{1000 * time.Millisecond, 600 * time.Millisecond} {
			add("for "+d.String(), FaultPlan{Type: "reset", Link: "A->B", At: faultStart, Until: faultStart + d,
				Params: map[string]scenario.Value{"timeout": dur(0), "stream": scenario.StringValue("both")}})
		}
	case FamilySlowLink:
		// As scenarios/kb/Q229643.yaml: every ACK later than the transfer
		// timer (300ms) for seconds; the open timer (1.5s) lets every
		// handshake through.
		t := Timers()
		t.Open, t.Transfer = 1500*time.Millisecond, 300*time.Millisecond
		for _, d := range []time.Duration{500 * time.Millisecond, 400 * time.Millisecond} {
			p := base.clone()
			p.Variant, p.Timers, p.Messages, p.Rate = "ack latency "+d.String(), &t, 80, 20
			p.Faults = []FaultPlan{{Type: faults.TypeLatency, Link: "A->B", At: faultStart, Until: faultStart + 4*time.Second,
				Params: map[string]scenario.Value{"latency": dur(d), "jitter": dur(0), "stream": scenario.StringValue("down")}}}
			out = append(out, p)
		}
	case FamilyDrop:
		// As scenarios/kb/Q232602.yaml: a busy link (100ms of latency,
		// associations that live 1s) refuses for a second mid-transfer.
		t := Timers()
		t.Transfer, t.Lifetime = 500*time.Millisecond, time.Second
		for _, d := range []time.Duration{time.Second, 600 * time.Millisecond} {
			p := base.clone()
			p.Variant, p.Timers, p.Rate = "refuse "+d.String()+" mid-transfer", &t, 40
			p.Faults = []FaultPlan{
				{Type: faults.TypeLatency, Link: "A->B", At: faultStart, Until: faultStart + d + 1500*time.Millisecond,
					Params: map[string]scenario.Value{"latency": dur(100 * time.Millisecond), "jitter": dur(0), "stream": scenario.StringValue("down")}},
				{Type: faults.TypeRefuse, Link: "A->B", At: faultStart + 500*time.Millisecond, Until: faultStart + 500*time.Millisecond + d, Params: map[string]scenario.Value{}},
			}
			out = append(out, p)
		}
	case FamilySliceShort:
		// As scenarios/kb/Q247419.yaml: 100-byte slices 40ms apart, so a
		// TRANSFER outlasts the reassembly timer (300ms; transfer 1s).
		t := Timers()
		t.Transfer = time.Second
		for _, d := range []time.Duration{40 * time.Millisecond, 60 * time.Millisecond} {
			p := base.clone()
			p.Variant, p.Timers, p.Rate = "100B slices every "+d.String(), &t, 50
			p.Faults = []FaultPlan{{Type: faults.TypeSlice, Link: "A->B", At: faultStart, Until: faultStart + 2200*time.Millisecond,
				Params: map[string]scenario.Value{"average_size": scenario.IntValue(100), "size_variation": scenario.IntValue(0),
					"delay": dur(d), "stream": scenario.StringValue("up")}}}
			out = append(out, p)
		}
	case FamilyPressure:
		for _, n := range []int{6, 10} {
			p := base.clone()
			p.Variant, p.Senders, p.Messages, p.Rate = fmt.Sprintf("%d senders", n), n, 10, 0
			out = append(out, p)
		}
	}
	return out
}
