package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// envTshark names the tshark binary the dissector tests use (default:
// tshark on $PATH; ci/wireshark.sh installs Debian's).
const envTshark = "TSHARK"

const dissector = "../../tools/wireshark/minip1.lua"

func findTshark(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envTshark); p != "" {
		return p
	}
	p, err := exec.LookPath("tshark")
	if err != nil {
		t.Skipf("no tshark: set $%s or install one (Debian: apt-get install tshark; ci/wireshark.sh does)", envTshark)
	}
	return p
}

// registeredPorts returns TCP ports from 1024 to 32767 that a Wireshark
// dissector claims by number, with its name.
func registeredPorts(t *testing.T, tshark string) map[int]string {
	t.Helper()
	out, err := exec.Command(tshark, "-G", "decodes").Output()
	if err != nil {
		t.Fatalf("tshark -G decodes: %v", err)
	}
	ports := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 3 && f[0] == "tcp.port" {
			if p, err := strconv.Atoi(f[1]); err == nil && p >= 1024 && p < 32768 {
				ports[p] = f[2]
			}
		}
	}
	return ports
}

// listenRegistered listens on 127.0.0.1 on one of ports (a port another
// dissector claims) and returns the listener and that dissector's name.
func listenRegistered(t *testing.T, ports map[int]string) (net.Listener, string) {
	t.Helper()
	for p, name := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, name
		}
	}
	t.Skip("every port a Wireshark dissector registers is in use here")
	return nil, ""
}

// tsharkFields runs tshark with the dissector on file and returns one line
// per frame of the given fields, separated by '|'.
func tsharkFields(t *testing.T, tshark, file string, fields ...string) []string {
	t.Helper()
	args := []string{"-X", "lua_script:" + dissector, "-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tshark, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if l != "" && !strings.Contains(l, `Running as user "root"`) {
			t.Errorf("tshark said: %s", l)
		}
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

func occurrences(s, want string) int {
	n := 0
	for _, v := range strings.Split(s, ",") {
		if v != "" && (want == "" || v == want) {
			n++
		}
	}
	return n
}

// owned returns the ports of registeredPorts that the dissector called
// owner claims.
func owned(t *testing.T, tshark, owner string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for p, name := range registeredPorts(t, tshark) {
		if name == owner {
			out[p] = name
		}
	}
	return out
}

// TestDissectorOnARegisteredPort records a link whose responder listens on
// a port the TLS dissector claims (mtastorm's proxies listen from 10000
// up, where many ports are claimed; TLS takes any bytes there for
// "Continuation Data"): the MiniP1 dissector must still name every unit.
func TestDissectorOnARegisteredPort(t *testing.T) {
	tshark := findTshark(t)
	ln, owner := listenRegistered(t, owned(t, tshark, "tls"))
	dir := t.TempDir()
	l := Link{From: "A", To: "B"}
	rec, err := NewRecorder(Options{Dir: dir}, []Link{l})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // B listens there now
	b, err := mtastub.Start(testkit.Context(t), mtastub.Config{Name: "B", Listen: addr, Tap: rec.Tap("B"), Timers: kernel.Timers{Lifetime: 0}})
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	t.Cleanup(func() { _ = b.Close(testkit.Context(t)) })
	rec.Route(l, addr)
	a := startMTA(t, rec, "A", map[string]string{"B": addr})
	transfer(t, a, b, 100, 20000)
	closeAll(t, rec, a, b)

	for _, side := range []Side{Sent, Received} {
		file := filepath.Join(dir, FileName("A", "B", side))
		var dt, si, cotp, units, malformed int
		for _, line := range tsharkFields(t, tshark, file, "_ws.malformed", "cotp.type", "minip1.unit", "minip1.si") {
			f := strings.Split(line, "|")
			if len(f) != 4 {
				t.Fatalf("%s: line %q", file, line)
			}
			if f[0] != "" {
				malformed++
			}
			cotp += occurrences(f[1], "")
			dt += occurrences(f[1], "0x0f")
			units += occurrences(f[2], "")
			si += occurrences(f[3], "")
		}
		// CR, CC, BIND, BIND-ACCEPT, 4 TRANSFER segments, 2 ACKs at least.
		if malformed != 0 || dt != si || cotp != units || units < 10 {
			t.Errorf("%s (B on %s, %s's port): %d malformed, %d DT / %d MiniP1 association units, %d COTP / %d MiniP1 units",
				side, addr, owner, malformed, dt, si, cotp, units)
		}
	}
}

// TestDissectorHandsOtherTrafficBack records a TLS alert sent to a port
// the TLS dissector claims (and that has no heuristic to find it
// elsewhere): with the MiniP1 dissector loaded it is still TLS.
func TestDissectorHandsOtherTrafficBack(t *testing.T) {
	tshark := findTshark(t)
	ln, _ := listenRegistered(t, owned(t, tshark, "tls"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Read(make([]byte, 64))
		_, _ = c.Write([]byte{0})
	}()
	t.Cleanup(func() { ln.Close(); <-done })

	dir := t.TempDir()
	l := Link{From: "C", To: "W"}
	rec, err := NewRecorder(Options{Dir: dir}, []Link{l})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	rec.Route(l, addr)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Tap("C")(raw, addr)
	// A TLS 1.2 alert record: fatal, handshake failure.
	if _, err := c.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	var alerts, units int
	for _, line := range tsharkFields(t, tshark, filepath.Join(dir, FileName("C", "W", Sent)), "tls.record.content_type", "minip1.unit") {
		f := strings.Split(line, "|")
		if f[0] == "21" {
			alerts++
		}
		units += occurrences(f[1], "")
	}
	if alerts != 1 || units != 0 {
		t.Errorf("a TLS alert to %s: %d TLS alert records, %d MiniP1 units; want 1 and 0", addr, alerts, units)
	}
}

// TestDissectorFlagsWhatTheStubRejects records frames the stub's decoder
// rejects and one it accepts with an unusual value: the dissector names
// each unit and marks the rejected ones, and only those, with the expert
// info minip1.malformed (group Malformed, so _ws.malformed matches them
// too); the unusual value gets a warning.
func TestDissectorFlagsWhatTheStubRejects(t *testing.T) {
	tshark := findTshark(t)
	cr, err := minip1.AppendFrame(nil, &minip1.Unit{Kind: minip1.KindCR, SrcRef: 1, CallingTSAP: "A.1", CalledTSAP: "B"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	frames := []struct {
		name   string
		frame  []byte
		reject bool
	}{
		{"CR", cr, false},
		// BIND without its MTA name (PI 0x01): only a window.
		{"BIND", []byte{0x03, 0x00, 0x00, 0x0C, 0x02, 0xF0, 0x80, 0x0D, 0x03, 0x05, 0x01, 0x04}, true},
		// ACK whose seq is 2 bytes, not 4.
		{"ACK", []byte{0x03, 0x00, 0x00, 0x13, 0x02, 0xF0, 0x80, 0x15, 0x0A, 0x0A, 0x02, 0x00, 0x01, 0x0C, 0x01, 0x00, 0x10, 0x01, 0x6D}, true},
		// ACK with result 7: decoded by the stub, a warning here.
		{"ACK", []byte{0x03, 0x00, 0x00, 0x15, 0x02, 0xF0, 0x80, 0x15, 0x0C, 0x0A, 0x04, 0x00, 0x00, 0x00, 0x01, 0x0C, 0x01, 0x07, 0x10, 0x01, 0x6D}, false},
	}
	// The stub's own decoder agrees on which are rejected.
	for i, f := range frames {
		if _, err := minip1.Decode(f.frame); (err != nil) != f.reject {
			t.Fatalf("frame %d (%s): minip1.Decode: %v, want rejected %v", i, f.name, err, f.reject)
		}
	}
	addr := testkit.Serve(t, testkit.Hold)
	dir := t.TempDir()
	l := Link{From: "A", To: "B"}
	rec, err := NewRecorder(Options{Dir: dir}, []Link{l})
	if err != nil {
		t.Fatal(err)
	}
	rec.Route(l, addr)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Tap("A")(raw, addr)
	for _, f := range frames {
		if _, err := c.Write(f.frame); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if _, err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range tsharkFields(t, tshark, filepath.Join(dir, FileName("A", "B", Sent)), "minip1.unit", "minip1.malformed", "_ws.malformed", "minip1.value_unknown") {
		f := strings.Split(line, "|")
		if f[0] == "" {
			continue // SYN, FIN
		}
		got = append(got, fmt.Sprintf("%s rejected=%v malformed=%v warned=%v", f[0], f[1] != "", f[2] != "", f[3] != ""))
	}
	want := []string{
		"CR rejected=false malformed=false warned=false",
		"BIND rejected=true malformed=true warned=false",
		"ACK rejected=true malformed=true warned=false",
		"ACK rejected=false malformed=false warned=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tshark:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
