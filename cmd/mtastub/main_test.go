package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub/admin"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// started is what the start line on stdout tells.
type started struct {
	name, addr, admin string // admin is a base URL, http://HOST:PORT
}

// parseStartLine parses "mtastub NAME listening on ADDR admin on http://ADMIN".
func parseStartLine(line string) (started, error) {
	var s started
	if _, err := fmt.Sscanf(line, "mtastub %s listening on %s admin on %s", &s.name, &s.addr, &s.admin); err != nil {
		return s, fmt.Errorf("start line %q: %w", line, err)
	}
	if !strings.HasPrefix(s.admin, "http://") {
		return s, fmt.Errorf("start line %q: admin is not a URL", line)
	}
	return s, nil
}

// client talks to an admin API.
type client struct {
	base, token string
}

func (c client) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c client) must(t *testing.T, method, path, body string, want int) []byte {
	t.Helper()
	code, b, err := c.do(context.Background(), method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

func (c client) status(t *testing.T) admin.Status {
	t.Helper()
	var st admin.Status
	if err := json.Unmarshal(c.must(t, "GET", "/v1/status", "", 200), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// inProcess runs run() in a goroutine and returns what it started; cancel
// stops it and returns its exit code.
func inProcess(t *testing.T, args ...string) (started, *testkit.Buffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &testkit.Buffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, args, pw, stderr)
		_ = pw.Close()
	}()
	lineCh := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, _ := br.ReadString('\n')
		lineCh <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, br)
	}()
	var line string
	select {
	case line = <-lineCh:
	case c := <-code:
		cancel()
		t.Fatalf("run exited %d before starting: %s", c, stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("no start line within 10s")
	}
	s, err := parseStartLine(line)
	if err != nil {
		cancel()
		<-code
		t.Fatal(err)
	}
	var once sync.Once
	var rc int
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case rc = <-code:
			case <-time.After(15 * time.Second):
				t.Fatal("run did not return within 15s of cancel")
			}
		})
		return rc
	}
	t.Cleanup(func() { stop() })
	return s, stderr, stop
}

func TestRunServesAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	s, stderr, stop := inProcess(t, "--name", "B", "--mode", "sp0", "--kcbs", "5", "--org", "LAB",
		"--timers", "open=200ms,lifetime=150ms", "--store", filepath.Join(dir, "store"), "--extended-events", "--seed", "7")
	if s.name != "B" {
		t.Errorf("start line name = %q", s.name)
	}
	c := client{base: s.admin}
	st := c.status(t)
	if st.Name != "B" || st.Mode != "sp0" || st.Pool.Size != 5 || st.Addr != s.addr || !strings.Contains(st.DN, "/O=LAB/") {
		t.Errorf("status = %+v", st)
	}
	// Extended events: the start banner 9298 is in the log.
	if st.Events["9298"] != 1 {
		t.Errorf("events = %v, want the 9298 banner", st.Events)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code after cancel = %d, want 0; stderr:\n%s", code, stderr)
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"mtastub started"`, `"msg":"mtastub stopped"`, `"msg":"event"`, `"id":9298`} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %s:\n%s", want, logs)
		}
	}
	// Every line of stderr is a JSON object.
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(l)) {
			t.Errorf("log line is not JSON: %s", l)
		}
	}
}

func TestRunConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(file, []byte(`name: FromFile
mode: sp0
kcbs: 6
window: 2
site: LABSITE
timers:
  open: 250ms
  lifetime: 2s
peers:
  A: 127.0.0.1:9
leak_probability: 0.5
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Flags override the file: name and kcbs.
	s, _, stop := inProcess(t, "--config", file, "--name", "B", "--kcbs", "4")
	st := client{base: s.admin}.status(t)
	if st.Name != "B" || st.Mode != "sp0" || st.Pool.Size != 4 || !strings.Contains(st.DN, "/OU=LABSITE/") {
		t.Errorf("status = %+v", st)
	}
	// The file's peer A is known: a submission to it is accepted.
	client{base: s.admin}.must(t, "POST", "/v1/messages", `{"id":"m1","to":"A"}`, 202)
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestRunToken(t *testing.T) {
	t.Setenv("MTASTUB_TOKEN", "from-env")
	// Any address, with a token from the environment: it starts.
	s, _, stop := inProcess(t, "--name", "B", "--admin", "0.0.0.0:0")
	base := strings.Replace(s.admin, "0.0.0.0", "127.0.0.1", 1)
	if code, _, err := (client{base: base}).do(context.Background(), "GET", "/v1/status", ""); err != nil || code != 401 {
		t.Errorf("without token: %d %v, want 401", code, err)
	}
	if code, _, err := (client{base: base, token: "wrong"}).do(context.Background(), "GET", "/v1/status", ""); err != nil || code != 401 {
		t.Errorf("wrong token: %d %v, want 401", code, err)
	}
	client{base: base, token: "from-env"}.must(t, "GET", "/v1/status", "", 200)
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestRunUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badKey, []byte("name: B\nkcbz: 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MTASTUB_TOKEN", "")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--name", "B", "--admin", "0.0.0.0:0"}, 2, "refusing to serve the admin API without a token"},
		{[]string{"--name", "B", "--admin", "192.0.2.1:8080"}, 2, "not a loopback address"},
		{[]string{"--name", "B", "--admin", ":8080"}, 2, "not a loopback address"},
		{[]string{}, 2, "--name is required"},
		{[]string{"--name", "B", "--mode", "sp1"}, 2, `mode: "sp1"`},
		{[]string{"--name", "B", "--kcbs", "1"}, 2, "kcbs: 1"},
		{[]string{"--name", "B", "--window", "0"}, 2, "window: 0"},
		{[]string{"--name", "B", "--timers", "open=fast"}, 2, `timers: open: "fast"`},
		{[]string{"--name", "B", "--timers", "opne=1s"}, 2, `unknown timer "opne"`},
		{[]string{"--name", "B", "--peer", "A"}, 2, `"A": want NAME=HOST:PORT`},
		{[]string{"--name", "B", "--peer", "A=nowhere"}, 2, `peers: A: "nowhere" is not HOST:PORT`},
		{[]string{"--name", "B", "--leak-probability", "2"}, 2, "leak_probability: 2"},
		{[]string{"--name", "B", "--log-level", "loud"}, 2, "log_level"},
		{[]string{"--name", "B", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"--name", "B", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--config", badKey}, 2, "line 2: field kcbz not found"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, 2, "missing.yaml"},
		{[]string{"--name", "B", "--store", badKey}, 3, "store: open"},
		{[]string{"-h"}, 0, "usage: mtastub"},
	} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("mtastub %s: exit %d, stderr %q; want %d containing %q", strings.Join(c.args, " "), code, stderr.String(), c.code, c.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("mtastub %s: wrote to stdout: %q", strings.Join(c.args, " "), stdout.String())
		}
	}
}

func TestRunPortInUse(t *testing.T) {
	s, _, stop := inProcess(t, "--name", "B")
	defer stop()
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"--name", "B2", "--listen", s.addr}, &stdout, &stderr); code != 3 {
		t.Errorf("listen on a used port: exit %d, want 3; stderr %s", code, stderr.String())
	}
	admin := strings.TrimPrefix(s.admin, "http://")
	stderr.Reset()
	if code := run(context.Background(), []string{"--name", "B2", "--admin", admin}, &stdout, &stderr); code != 3 || !strings.Contains(stderr.String(), "admin: listen") {
		t.Errorf("admin on a used port: exit %d, want 3; stderr %s", code, stderr.String())
	}
}

func bytesReader(b []byte) io.Reader { return strings.NewReader(string(b)) }
