package cutat

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/mtastorm/mtastorm/minip1"
)

// failAfter bounds a blocking step so that a bug fails the test instead of
// hanging it; it is never a guess at how long something takes.
const failAfter = 10 * time.Second

func frame(t *testing.T, u minip1.Unit) []byte {
	t.Helper()
	b, err := minip1.AppendFrame(nil, &u, 0)
	if err != nil {
		t.Fatalf("AppendFrame(%v): %v", u.Kind, err)
	}
	return b
}

func crFrame(t *testing.T) []byte {
	return frame(t, minip1.Unit{Kind: minip1.KindCR, SrcRef: 0x1234, TPDUSize: 13, CallingTSAP: "MTA-A", CalledTSAP: "MTA-B"})
}

func ccFrame(t *testing.T) []byte {
	return frame(t, minip1.Unit{Kind: minip1.KindCC, DstRef: 0x1234, SrcRef: 0x5678, TPDUSize: 13})
}

func bindFrame(t *testing.T, id uint32) []byte {
	return frame(t, minip1.Unit{Kind: minip1.KindBind, MTAName: "c=US;o=Site;cn=MTA-A", Password: "pw", AssocID: id, Window: 4})
}

func transferFrame(t *testing.T, seq uint32, payload []byte) []byte {
	return frame(t, minip1.Unit{Kind: minip1.KindTransfer, Seq: seq, Flags: minip1.FlagLast, MsgID: "m1", Payload: payload, Total: uint32(len(payload))})
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// result is what came out of one run of the toxic.
type result struct {
	out    []byte
	closed bool // the stub was closed
}

// pipe runs tox on a fresh stub over chunks. With eof, the input ends with
// the nil chunk Toxiproxy sends at end of stream; without, the toxic must
// cut on its own or the test fails.
func pipe(t *testing.T, tox *Toxic, chunks [][]byte, eof bool) result {
	t.Helper()
	in := make(chan *stream.StreamChunk, len(chunks)+1)
	out := make(chan *stream.StreamChunk, len(chunks)+1)
	stub := toxics.NewToxicStub(in, out)
	stub.State = tox.NewState()
	for _, c := range chunks {
		in <- &stream.StreamChunk{Data: c, Timestamp: time.Now()}
	}
	if eof {
		in <- nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tox.Pipe(stub)
	}()
	select {
	case <-done:
	case <-time.After(failAfter):
		close(in) // unblocks Pipe (it reads nil and closes), so no goroutine leaks
		<-done
		t.Fatalf("toxic %+v did not finish on %d chunks (eof=%v)", *tox, len(chunks), eof)
	}
	close(in) // ends the post-cut drain, if any
	var r result
	for c := range out { // Close closed it
		r.out = append(r.out, c.Data...)
	}
	r.closed = stub.Closed()
	return r
}

// splits yields the stream as one chunk, cut at every single boundary,
// cut at every pair of boundaries, and as one-byte chunks.
func splits(s []byte, yield func(name string, chunks [][]byte)) {
	yield("whole", [][]byte{s})
	for i := 1; i < len(s); i++ {
		yield("split1", [][]byte{s[:i], s[i:]})
	}
	for i := 1; i < len(s); i++ {
		for j := i + 1; j < len(s); j++ {
			yield("split2", [][]byte{s[:i], s[i:j], s[j:]})
		}
	}
	bytewise := make([][]byte, len(s))
	for i := range s {
		bytewise[i] = s[i : i+1]
	}
	yield("bytewise", bytewise)
}

func TestCutAfterNthUnitEverySplit(t *testing.T) {
	cr, cc, bind := crFrame(t), ccFrame(t), bindFrame(t, 7)
	tr := transferFrame(t, 1, []byte("hello"))
	s := cat(cr, cc, bind, tr, tr)
	cases := []struct {
		unit  string
		index int
		want  int // bytes forwarded
	}{
		{"CR", 1, len(cr)},
		{"cc", 1, len(cr) + len(cc)},
		{"BIND", 1, len(cr) + len(cc) + len(bind)},
		{"TRANSFER", 1, len(cr) + len(cc) + len(bind) + len(tr)},
		{"TRANSFER", 2, len(s)},
	}
	for _, tc := range cases {
		n := 0
		splits(s, func(name string, chunks [][]byte) {
			n++
			r := pipe(t, &Toxic{Unit: tc.unit, Index: tc.index}, chunks, false)
			if !bytes.Equal(r.out, s[:tc.want]) {
				t.Fatalf("%s#%d %s %d chunks: forwarded %d bytes, want exactly the first %d", tc.unit, tc.index, name, len(chunks), len(r.out), tc.want)
			}
			if !r.closed {
				t.Fatalf("%s#%d %s: stub not closed after the cut", tc.unit, tc.index, name)
			}
		})
		t.Logf("%s#%d: %d chunkings checked", tc.unit, tc.index, n)
	}
}

func TestCutAtIndexTwo(t *testing.T) {
	cr, bind1, bind2 := crFrame(t), bindFrame(t, 1), bindFrame(t, 2)
	tr := transferFrame(t, 1, []byte("x"))
	s := cat(cr, bind1, tr, bind2, tr)
	want := len(cr) + len(bind1) + len(tr) + len(bind2)
	splits(s, func(name string, chunks [][]byte) {
		r := pipe(t, &Toxic{Unit: "BIND", Index: 2}, chunks, false)
		if !bytes.Equal(r.out, s[:want]) || !r.closed {
			t.Fatalf("%s: forwarded %d bytes (closed %v), want %d then closed", name, len(r.out), r.closed, want)
		}
	})
}

func TestKindAbsentPassesEverything(t *testing.T) {
	s := cat(crFrame(t), ccFrame(t), bindFrame(t, 1), transferFrame(t, 1, []byte("abc")))
	for _, tox := range []*Toxic{{Unit: "ACK", Index: 1}, {Unit: "BIND", Index: 2}, {}} {
		splits(s, func(name string, chunks [][]byte) {
			r := pipe(t, tox, chunks, true)
			if !bytes.Equal(r.out, s) {
				t.Fatalf("%+v %s: forwarded %d of %d bytes", *tox, name, len(r.out), len(s))
			}
		})
	}
}

func TestNotMiniP1PassesThrough(t *testing.T) {
	bind := bindFrame(t, 1)
	badLen := []byte{0x03, 0x00, 0x00, 0x06, 0x02, 0xF0} // TPKT length 6 < 7
	cases := map[string][]byte{
		"http":             []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"http-then-bind":   cat([]byte("HELO there\r\n"), bind),
		"bad-version-bind": cat([]byte{0x04, 0x00, 0x00, 0x07, 0x02, 0xE0, 0x00}, bind),
		"short-length":     cat(badLen, bind),
		"bind-then-junk":   cat(crFrame(t), []byte("junk, not a frame"), bind),
		"empty":            nil,
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			splits(s, func(split string, chunks [][]byte) {
				r := pipe(t, &Toxic{Unit: "BIND", Index: 1}, chunks, true)
				if !bytes.Equal(r.out, s) {
					t.Fatalf("%s: forwarded %q, want %q", split, r.out, s)
				}
			})
		})
	}
}

func TestUnknownKindSkipped(t *testing.T) {
	// A well-framed unit with an unknown TP0 code, then one with an unknown
	// SI: both skipped by their TPKT length, neither counted.
	unknownTP := []byte{0x03, 0x00, 0x00, 0x09, 0x04, 0x55, 0x00, 0x00, 0x00}
	unknownSI := []byte{0x03, 0x00, 0x00, 0x0A, 0x02, 0xF0, 0x80, 0x77, 0x01, 0x00}
	dtNoSI := []byte{0x03, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x80}
	bind := bindFrame(t, 1)
	s := cat(unknownTP, unknownSI, dtNoSI, bind, bind)
	want := len(unknownTP) + len(unknownSI) + len(dtNoSI) + len(bind)
	splits(s, func(name string, chunks [][]byte) {
		r := pipe(t, &Toxic{Unit: "BIND", Index: 1}, chunks, false)
		if !bytes.Equal(r.out, s[:want]) || !r.closed {
			t.Fatalf("%s: forwarded %d bytes (closed %v), want %d", name, len(r.out), r.closed, want)
		}
	})
}

func TestLargeFrame(t *testing.T) {
	big := transferFrame(t, 9, bytes.Repeat([]byte{0x03}, 60000)) // payload full of 0x03s
	s := cat(crFrame(t), bindFrame(t, 1), big, big)
	want := len(s) - len(big)
	for _, size := range []int{1, 7, 1000, 32 * 1024, len(s)} {
		var chunks [][]byte
		for i := 0; i < len(s); i += size {
			chunks = append(chunks, s[i:min(i+size, len(s))])
		}
		r := pipe(t, &Toxic{Unit: "TRANSFER", Index: 1}, chunks, false)
		if !bytes.Equal(r.out, s[:want]) || !r.closed {
			t.Fatalf("chunks of %d: forwarded %d bytes (closed %v), want %d", size, len(r.out), r.closed, want)
		}
	}
}

// TestStateSurvivesUpdate interrupts the toxic mid-frame, as Toxiproxy does
// to update or remove it, and checks that the count and the position in the
// frame carry over to the next run on the same stub.
func TestStateSurvivesUpdate(t *testing.T) {
	bind := bindFrame(t, 1)
	cr := crFrame(t)
	s := cat(cr, bind, bind[:5])
	rest := cat(bind[5:], bind, bind)
	want := cat(s, bind[5:], bind) // cut after the third BIND, set by the update

	in := make(chan *stream.StreamChunk)
	out := make(chan *stream.StreamChunk, 16)
	stub := toxics.NewToxicStub(in, out)
	tox := &Toxic{Unit: "BIND", Index: 2}
	w := &toxics.ToxicWrapper{Toxic: tox, Type: Type, Toxicity: 1}
	stub.State = tox.NewState()
	go stub.Run(w)
	in <- &stream.StreamChunk{Data: s}
	if !stub.InterruptToxic() {
		t.Fatal("interrupt failed: the stub closed early")
	}
	// The update, as UpdateToxicJson decodes it: only index changes.
	if err := json.Unmarshal([]byte(`{"index": 3}`), tox); err != nil {
		t.Fatal(err)
	}
	if tox.Unit != "BIND" || tox.Index != 3 {
		t.Fatalf("after update: %+v", *tox)
	}
	go stub.Run(w)
	in <- &stream.StreamChunk{Data: rest}
	var got []byte
	timeout := time.After(failAfter)
	for done := false; !done; {
		select {
		case c, ok := <-out:
			if !ok {
				done = true
				break
			}
			got = append(got, c.Data...)
		case <-timeout:
			t.Fatal("no cut after the update")
		}
	}
	close(in)
	if !bytes.Equal(got, want) {
		t.Fatalf("forwarded %d bytes, want %d", len(got), len(want))
	}
}

func TestLoweredIndexCutsAtBoundary(t *testing.T) {
	bind := bindFrame(t, 1)
	st := new(State)
	if cut := st.scan(cat(bind, bind), minip1.KindBind, 5); cut != -1 {
		t.Fatalf("cut at %d before the 5th BIND", cut)
	}
	in := make(chan *stream.StreamChunk)
	out := make(chan *stream.StreamChunk, 1)
	stub := toxics.NewToxicStub(in, out)
	stub.State = st
	(&Toxic{Unit: "BIND", Index: 2}).Pipe(stub) // already reached: cuts at once
	close(in)
	if !stub.Closed() {
		t.Fatal("not cut although 2 BINDs were already seen")
	}
	if _, ok := <-out; ok {
		t.Fatal("forwarded data after the count was reached")
	}
}

func TestUnmarshalAttributes(t *testing.T) {
	good := []struct {
		json string
		want Toxic
	}{
		{`{"unit":"BIND"}`, Toxic{Unit: "BIND", Index: 1}},
		{`{"unit":"transfer","index":3}`, Toxic{Unit: "transfer", Index: 3}},
		{`{"unit":"bind_accept","index":1,"other":true}`, Toxic{Unit: "bind_accept", Index: 1}},
	}
	for _, tc := range good {
		var got Toxic
		if err := json.Unmarshal([]byte(tc.json), &got); err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.json, got, err, tc.want)
		}
	}
	bad := map[string]string{
		`{"unit":"BINDX"}`:            "unknown unit kind",
		`{"unit":""}`:                 "unit is required",
		`{"unit":"INVALID"}`:          "unknown unit kind",
		`{"unit":"BIND","index":0}`:   "index is 0",
		`{"unit":"BIND","index":-2}`:  "index is -2",
		`{"unit":"BIND","index":"x"}`: "cut_at:",
		`{"unit":7}`:                  "cut_at:",
	}
	var fresh Toxic
	if err := json.Unmarshal([]byte(`{"index":2}`), &fresh); err == nil || !strings.Contains(err.Error(), "unit is required") {
		t.Errorf("no unit on a new toxic: err %v", err)
	}
	for in, want := range bad {
		orig := Toxic{Unit: "CR", Index: 2}
		got := orig
		err := json.Unmarshal([]byte(in), &got)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want one containing %q", in, err, want)
		}
		if got != orig {
			t.Errorf("%s: a rejected update changed the toxic to %+v", in, got)
		}
	}
}

func TestRegistered(t *testing.T) {
	w := &toxics.ToxicWrapper{Type: Type}
	if _, ok := toxics.New(w).(*Toxic); !ok {
		t.Fatalf("toxics.New(%q) = %T, want *cutat.Toxic", Type, w.Toxic)
	}
}

// TestAddToxicJsonValidates checks, against Toxiproxy's own collection, that
// an invalid attribute is refused at add time with a 400 and that nothing
// is added, and that a valid one is added with its defaults.
func TestAddToxicJsonValidates(t *testing.T) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "p", "127.0.0.1:0", "127.0.0.1:1") // never started
	for _, body := range []string{
		`{"name":"c","type":"cut_at","stream":"upstream","attributes":{"unit":"NOPE"}}`,
		`{"name":"c","type":"cut_at","stream":"upstream","attributes":{"unit":"BIND","index":0}}`,
		`{"name":"c","type":"cut_at","stream":"upstream","attributes":{}}`,
	} {
		_, err := p.Toxics.AddToxicJson(strings.NewReader(body))
		var ae *toxiproxy.ApiError
		if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Message, "bad request body: cut_at:") {
			t.Errorf("%s: err %#v, want a 400 bad request body from cut_at", body, err)
		}
		if n := len(p.Toxics.GetToxicArray()); n != 0 {
			t.Fatalf("%s: %d toxics added", body, n)
		}
	}
	w, err := p.Toxics.AddToxicJson(strings.NewReader(`{"name":"c","type":"cut_at","stream":"upstream","attributes":{"unit":"BIND"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := *w.Toxic.(*Toxic); got != (Toxic{Unit: "BIND", Index: 1}) {
		t.Fatalf("added %+v", got)
	}
	// An update with a bad unit is refused and leaves the toxic alone.
	if _, err := p.Toxics.UpdateToxicJson("c", strings.NewReader(`{"attributes":{"unit":"NOPE"}}`)); err == nil {
		t.Fatal("update with a bad unit accepted")
	}
	if got := *w.Toxic.(*Toxic); got != (Toxic{Unit: "BIND", Index: 1}) {
		t.Fatalf("after a refused update: %+v", got)
	}
	// Without attributes Toxiproxy never calls UnmarshalJSON: accepted, inert.
	w, err = p.Toxics.AddToxicJson(strings.NewReader(`{"name":"d","type":"cut_at","stream":"upstream"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := *w.Toxic.(*Toxic); got != (Toxic{}) {
		t.Fatalf("added without attributes: %+v", got)
	}
}
