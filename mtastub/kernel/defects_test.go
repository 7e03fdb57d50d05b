package kernel_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// defectOutcome is what a defect script leaves observable.
type defectOutcome struct {
	States []kernel.State // KCBs 1..n at the observation point
	Leaked int
	Events []string // catalogue events up to the observation point (catTuple)
	Peer   []string // what the peer of interest received (peer.drain)
	Dials  int      // connections kernel A dialled to B by the observation point
	Queued int
	// Then the link is healthy again; Restarted tells whether the mail
	// (or an inbound association) needed a restart to move.
	Restarted bool
}

// catEvents are the event IDs the defect rows compare.
var catEvents = []int{eventlog.IDAssocError, eventlog.IDAssocErrorAnon, eventlog.IDStateCheck, eventlog.IDConnRefused,
	eventlog.IDLostConnections, eventlog.IDConnError, eventlog.IDInternalError, eventlog.IDNoControlBlocks}

// catTuple is tuple, with 9156's configured count.
func catTuple(r eventlog.Record) string {
	if r.ID == eventlog.IDNoControlBlocks {
		return fmt.Sprintf("9156 count=%d", r.Limit)
	}
	return tuple(r)
}

func (h *harness) catEvents() []string {
	synctest.Wait()
	var out []string
	for _, r := range h.log.Records() {
		if slices.Contains(catEvents, r.ID) {
			out = append(out, catTuple(r))
		}
	}
	return out
}

func observeDefect(h *harness, p *peer) defectOutcome {
	s := h.snap()
	o := defectOutcome{Leaked: s.Leaked, Queued: s.Queued, Events: h.catEvents()}
	if h.name != "B" {
		o.Dials = len(h.net.dialTimes("B"))
	}
	if p != nil {
		o.Peer = p.drain()
	}
	for _, b := range s.KCBs[1:] {
		o.States = append(o.States, b.State)
	}
	return o
}

func times(n int, s ...string) []string {
	var out []string
	for range n {
		out = append(out, s...)
	}
	return out
}

// deliverOut plays B for kernel A's next association on l: it accepts
// the message m1, and checks that A then has nothing queued.
func deliverOut(t *testing.T, h *harness, l *fakeListener) {
	t.Helper()
	p, _ := h.associateOut(l)
	tr := p.expect(minip1.KindTransfer)
	if tr.MsgID != "m1" {
		t.Fatalf("re-sent %q, want m1", tr.MsgID)
	}
	p.send(minip1.Unit{Kind: minip1.KindAck, Seq: tr.Seq, MsgID: tr.MsgID})
	s := h.snap()
	equal(t, "queued once delivered", s.Queued, 0)
	equal(t, "acked once delivered", s.Acked, 1)
}

// xferTimer is the transfer timer of a 1000-byte message.
const xferTimer = 500*time.Millisecond + 1000*time.Second/kernel.FloorRate

// defectRow is one defect of CATALOGUE.md C2 on the fake network: the
// build that has it and the build that fixed it run the same script.
type defectRow struct {
	kb                string
	defective, fixed  string // builds
	run               func(t *testing.T, v string, opts ...option) defectOutcome
	wantDef, wantFix  defectOutcome
	leakProbabilityOK bool // leak_probability 0 turns the defect off
}

var defectRows = []defectRow{
	{
		// A slow link: no ACK within the transfer timer, twice. Both builds
		// log 1004 [3 20 1 4] and re-send on a new association; 5.5-sp2
		// keeps each timed-out KCB (state 3, no socket), so the pool is
		// gone after two and every open logs 9156 until a restart.
		kb: kernel.KBQ229643, defective: "5.5-sp2", fixed: "5.5-sp3", leakProbabilityOK: true,
		run: func(t *testing.T, v string, opts ...option) defectOutcome {
			n := newFakeNet()
			h := startKernel(t, n, "A", v, append([]option{withKCBs(3), withPeer("B", "B"), withStore(store.NewMemory())}, opts...)...)
			defer h.close()
			lb := n.listen("B")
			p1, _ := abortByTransferTimer(t, h, lb)
			p1.expect(minip1.KindAbort)
			time.Sleep(100 * time.Millisecond) // open_interval: the connector opens again
			p2, _ := h.associateOut(lb)
			p2.expect(minip1.KindTransfer)
			time.Sleep(xferTimer)
			p2.expect(minip1.KindAbort)
			time.Sleep(350 * time.Millisecond) // three more open_intervals
			o := observeDefect(h, p2)
			if o.Dials < 3 {
				h.restart()
				o.Restarted = true
			}
			deliverOut(t, h, lb) // the link is fast again
			return o
		},
		wantDef: defectOutcome{States: []kernel.State{A, A}, Leaked: 2,
			Events: append([]string{"1004 kcb=1 [3 20 1 4]", "1004 kcb=2 [3 20 1 4]"}, times(3, "9156 count=3")...),
			Peer:   []string{"EOF"}, Dials: 2, Queued: 1, Restarted: true},
		wantFix: defectOutcome{States: []kernel.State{T, I},
			Events: []string{"1004 kcb=1 [3 20 1 4]", "1004 kcb=1 [3 20 1 4]"},
			Peer:   []string{"EOF"}, Dials: 3, Queued: 1},
	},
	{
		// The path of an association with m1 unacknowledged ends (EOF) and
		// the link stays down for three open_intervals, then heals. 5.5-sp2
		// logs 2035, keeps the association without a socket and never dials
		// again: 4284 + 4287 each open_interval, before and after the heal,
		// until a restart. 5.5-sp3 aborts (1004 [3 20 1 1]) and retries:
		// each refused attempt logs 1004 [1 20 1 8], 4284 and 4287 (Q175354),
		// and the first attempt after the heal delivers.
		kb: kernel.KBQ232602, defective: "5.5-sp2", fixed: "5.5-sp3", leakProbabilityOK: true,
		run: func(t *testing.T, v string, opts ...option) defectOutcome {
			n := newFakeNet()
			h := startKernel(t, n, "A", v, append([]option{withKCBs(3), withPeer("B", "B"), withStore(store.NewMemory())}, opts...)...)
			defer h.close()
			lb := n.listen("B")
			h.submit("m1", 10)
			p1, _ := h.associateOut(lb)
			p1.expect(minip1.KindTransfer)
			n.setDown("B", true)
			p1.close()
			time.Sleep(350 * time.Millisecond)
			n.setDown("B", false)
			time.Sleep(230 * time.Millisecond) // two open_intervals after the heal
			o := observeDefect(h, nil)
			if o.Dials < 5 {
				h.restart()
				o.Restarted = true
			}
			deliverOut(t, h, lb)
			return o
		},
		wantDef: defectOutcome{States: []kernel.State{A, I}, Leaked: 1,
			Events: append([]string{"2035 kcb=1"}, times(5, "4284 kcb=1", "4287 kcb=1")...),
			Dials:  1, Queued: 1, Restarted: true},
		wantFix: defectOutcome{States: []kernel.State{T, I},
			Events: append([]string{"1004 kcb=1 [3 20 1 1]"}, times(3, "1004 kcb=1 [1 20 1 8]", "4284 kcb=1", "4287 kcb=1")...),
			Dials:  5, Queued: 1},
	},
	{
		// Two inbound associations whose TRANSFER arrives slower than the
		// reassembly timer, then a third connection. Both builds log 1004
		// [3 27 2 5] and ABORT; 5.5-sp3 keeps each KCB (state 3, no
		// socket), so the third connection is refused with 1277 (and 9156)
		// until a restart; 5.5-sp4 answers it with CC.
		kb: kernel.KBQ247419, defective: "5.5-sp3", fixed: "5.5-sp4", leakProbabilityOK: true,
		run: func(t *testing.T, v string, opts ...option) defectOutcome {
			h := startKernel(t, newFakeNet(), "B", v, append([]option{withKCBs(3)}, opts...)...)
			defer h.close()
			for _, calling := range []string{"A.1", "A.2"} {
				p := h.associateIn(calling)
				f := frame(transferUnit("m-"+calling, 1, []byte("hello")))
				if err := p.write(f[:5]); err != nil {
					t.Fatal(err)
				}
				time.Sleep(400 * time.Millisecond) // > reassembly
				equalSlice(t, "slow sender "+calling, p.drain(), []string{"ABORT r=3", "EOF"})
			}
			p3 := h.dialIn()
			p3.send(crUnit("A.3"))
			o := observeDefect(h, p3)
			if slices.Contains(o.Peer, "EOF") {
				h.restart()
				o.Restarted = true
				h.connectIn("A.4") // CC: the restarted pool takes it
			}
			return o
		},
		wantDef: defectOutcome{States: []kernel.State{A, A}, Leaked: 2,
			Events: []string{"1004 kcb=1 [3 27 2 5]", "1004 kcb=2 [3 27 2 5]", "1277 kcb=1", "9156 count=3"},
			Peer:   []string{"DR 0x81", "EOF"}, Restarted: true},
		wantFix: defectOutcome{States: []kernel.State{O, I},
			Events: []string{"1004 kcb=1 [3 27 2 5]", "1004 kcb=1 [3 27 2 5]"},
			Peer:   []string{"CC"}},
	},
}

// without returns build's defect set without kb, as a variant.
func without(t *testing.T, build, kb string) string {
	t.Helper()
	b, ok := kernel.LookupBuild(build)
	if !ok {
		t.Fatalf("no build %q", build)
	}
	v := build + "+"
	for _, d := range b.Defects {
		if d != kb {
			v += d + "+"
		}
	}
	return v
}

// TestDefects runs each defect's script in the build that has it and in
// the build that fixed it, side by side: the outcomes differ, each as
// CATALOGUE.md C2 says. Then the defect is moved: into the fixed build
// (Config.OverrideDefects), which must then behave as the defective one,
// and out of the defective build, which must then behave as the fixed one.
// With leak_probability 0 the defective build behaves as the fixed one.
func TestDefects(t *testing.T) {
	for _, row := range defectRows {
		t.Run(row.kb, func(t *testing.T) {
			if reflect.DeepEqual(row.wantDef, row.wantFix) {
				t.Fatalf("the row expects the same outcome of both builds")
			}
			cases := []struct {
				name, v string
				opts    []option
				want    defectOutcome
			}{
				{"defective " + row.defective, row.defective, nil, row.wantDef},
				{"fixed " + row.fixed, row.fixed, nil, row.wantFix},
				{"moved into " + row.fixed, row.fixed + "+" + row.kb, nil, row.wantDef},
				{"moved out of " + row.defective, without(t, row.defective, row.kb), nil, row.wantFix},
			}
			if row.leakProbabilityOK {
				cases = append(cases, struct {
					name, v string
					opts    []option
					want    defectOutcome
				}{"leak_probability 0 in " + row.defective, row.defective, []option{withLeak(0)}, row.wantFix})
			}
			for _, tc := range cases {
				t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						if got := row.run(t, tc.v, tc.opts...); !reflect.DeepEqual(got, tc.want) {
							t.Errorf("%s outcome:\n got  %+v\n want %+v", tc.v, got, tc.want)
						}
					})
				})
			}
		})
	}
}

// TestBuildEvents: with B refusing connections for 250ms (two failed
// opens while m1 is queued, Q175354/Q170056), a 5.5 build logs 4284 + 4287
// per failed attempt and its companions (9215, the banners with its
// number) without being asked; a 4.0 build logs neither 4284 nor 4287, and
// its companions only with extended events. 1004 comes in every build.
func TestBuildEvents(t *testing.T) {
	for _, tc := range []struct {
		build    string
		extended bool
		want     []string
		banner   string
	}{
		{"4.0", false, times(2, "1004 [1 20 1 8]"), ""},
		{"4.0-sp2", false, times(2, "1004 [1 20 1 8]"), ""},
		{"4.0-sp2", true, times(2, "9215", "1004 [1 20 1 8]"), "993.6"},
		{"4.0", true, times(2, "9215", "1004 [1 20 1 8]"), "838.10"},
		{"5.5-sp2", false, times(2, "9215", "1004 [1 20 1 8]", "4284", "4287"), "2448.4"},
		{"5.5-sp3", false, times(2, "9215", "1004 [1 20 1 8]", "4284", "4287"), "2650.24"},
		{"5.5-sp4", false, times(2, "9215", "1004 [1 20 1 8]", "4284", "4287"), "2653.23"},
		{"5.5-sp4", true, times(2, "9215", "1004 [1 20 1 8]", "4284", "4287"), "2653.23"},
	} {
		t.Run(fmt.Sprintf("%s/extended=%v", tc.build, tc.extended), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newFakeNet()
				opts := []option{withKCBs(3), withPeer("B", "B")}
				if tc.extended {
					opts = append(opts, withExtended())
				}
				h := startKernel(t, n, "A", tc.build, opts...)
				n.setDown("B", true)
				h.submit("m1", 10)
				time.Sleep(150 * time.Millisecond) // the first open and one retry
				var got []string
				for _, r := range h.log.Records() {
					switch r.ID {
					case eventlog.IDAssocError:
						got = append(got, fmt.Sprintf("1004 [%d %d %d %d]", r.State, r.Svc, r.Flavor, r.Reason))
					case eventlog.IDConnectRefused, eventlog.IDConnError, eventlog.IDInternalError:
						got = append(got, fmt.Sprint(r.ID))
						if r.ID != eventlog.IDConnectRefused && r.Entity != dnB {
							t.Errorf("%d names entity %q, want %q", r.ID, r.Entity, dnB)
						}
					}
				}
				equalSlice(t, "events of two refused opens", got, tc.want)
				h.close()
				var banners []string
				for _, r := range h.log.Records() {
					if r.ID == eventlog.IDStart || r.ID == eventlog.IDStop {
						banners = append(banners, fmt.Sprintf("%d %s", r.ID, r.Build))
						if !strings.Contains(r.Text, "(Build "+tc.banner+").") {
							t.Errorf("banner %q does not name build %s", r.Text, tc.banner)
						}
					}
				}
				want := []string{}
				if tc.banner != "" {
					want = []string{"9298 " + tc.banner, "9299 " + tc.banner}
				}
				equalSlice(t, "banners", append([]string{}, banners...), want)
			})
		})
	}
}

// TestNoIdleKCBCondition is Q166602/Q200259: more peers than control blocks
// and no defect. Every outbound open that finds no Idle KCB logs 9156 with
// the configured count (companions on: a 5.5 build, or extended events),
// nothing leaks, and the mail flows once a KCB is free.
func TestNoIdleKCBCondition(t *testing.T) {
	for _, build := range []string{"4.0-sp2", "5.5-sp4"} {
		t.Run(build, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newFakeNet()
				h := startKernel(t, n, "A", build, withKCBs(2), withPeer("B", "B"), withPeer("C", "C"), withExtended())
				defer h.close()
				lb, lc := n.listen("B"), n.listen("C")
				h.submit("m1", 10) // to B: takes the only KCB
				pb, _ := h.associateOut(lb)
				if err := h.k.Submit(t.Context(), storeMsg("c1", "C")); err != nil {
					t.Fatal(err)
				}
				time.Sleep(250 * time.Millisecond) // C's open and two retries find no KCB
				equalSlice(t, "9156", h.events(eventlog.IDNoControlBlocks), times(3, "9156 kcb=0"))
				for _, r := range h.log.Records() {
					if r.ID == eventlog.IDNoControlBlocks {
						equal(t, "9156 configured count", r.Limit, 2)
						equal(t, "9156 entity", r.Entity, eventlog.DN("", "", "C"))
					}
				}
				tr := pb.expect(minip1.KindTransfer)
				pb.send(minip1.Unit{Kind: minip1.KindAck, Seq: tr.Seq, MsgID: tr.MsgID})
				time.Sleep(time.Second) // lifetime: A releases B's association
				pb.expect(minip1.KindRelease)
				pb.send(minip1.Unit{Kind: minip1.KindReleaseConfirm})
				pc, _ := h.associateOut(lc) // the freed KCB goes to C
				trc := pc.expect(minip1.KindTransfer)
				equal(t, "C's message", trc.MsgID, "c1")
				equal(t, "leaked", h.snap().Leaked, 0)
			})
		})
	}
}

func storeMsg(id, to string) store.Message {
	return store.Message{ID: id, To: to, Payload: []byte("x")}
}
