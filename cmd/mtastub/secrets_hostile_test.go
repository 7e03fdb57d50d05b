package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// No secret reaches the logs, the events or the admin API's answers: not
// the admin token (nor a wrong one a client tried), not a BIND password a
// peer sent. The stub runs at debug level, its most talkative.
func TestSecretsNotLogged(t *testing.T) {
	const (
		token    = "s3cret-TOKEN-4f9a1c"
		guess    = "wrong-GUESS-77e2b0"
		password = "bind-PASSWORD-2c8d55"
	)
	t.Setenv("MTASTUB_TOKEN", "")
	s, stderr, stop := inProcess(t, "--name", "B", "--token", token, "--log-level", "debug", "--extended-events")
	c := client{base: s.admin, token: token}
	var answers []string
	for _, path := range []string{"/v1/status", "/v1/kcbs", "/v1/events", "/v1/deliveries", "/metrics"} {
		answers = append(answers, string(c.must(t, "GET", path, "", 200)))
	}
	if code, body, err := (client{base: s.admin, token: guess}).do(context.Background(), "GET", "/v1/status", ""); err != nil || code != 401 {
		t.Errorf("wrong token: %d %v, want 401", code, err)
	} else {
		answers = append(answers, string(body))
	}

	// A peer that binds with a password, transfers a message, then aborts.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := minip1.NewReader(conn, minip1.MaxFrame)
	send := func(u minip1.Unit) {
		t.Helper()
		f, err := minip1.AppendFrame(nil, &u, minip1.MaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(k minip1.Kind) {
		t.Helper()
		if u, err := r.ReadUnit(); err != nil || u.Kind != k {
			t.Fatalf("got %v %v, want %v", u.Kind, err, k)
		}
	}
	send(minip1.Unit{Kind: minip1.KindCR, SrcRef: 1, TPDUSize: 13, CallingTSAP: "A.1", CalledTSAP: "B"})
	expect(minip1.KindCC)
	send(minip1.Unit{Kind: minip1.KindBind, MTAName: eventlog.DN("ORG", "SITE", "A"), Password: password, AssocID: 1, Window: 4})
	expect(minip1.KindBindAccept)
	send(minip1.Unit{Kind: minip1.KindTransfer, Seq: 1, Flags: minip1.FlagLast, MsgID: "m1", Payload: []byte("hi"), Total: 2})
	expect(minip1.KindAck)
	send(minip1.Unit{Kind: minip1.KindAbort, Reason: 3})
	_, _ = r.ReadUnit() // the stub closes
	// Events and deliveries once the abort is logged.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(string(c.must(t, "GET", "/v1/events", "", 200)), "1004") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, path := range []string{"/v1/status", "/v1/kcbs", "/v1/events", "/v1/deliveries", "/metrics"} {
		answers = append(answers, string(c.must(t, "GET", path, "", 200)))
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	logs := stderr.String()
	if !strings.Contains(logs, `"token":true`) || !strings.Contains(logs, "1004") {
		t.Fatalf("the logs do not show the start line and the abort: the check below would prove nothing:\n%s", logs)
	}
	for _, secret := range []string{token, guess, password} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q in the logs:\n%s", secret, logs)
		}
		for _, a := range answers {
			if strings.Contains(a, secret) {
				t.Errorf("secret %q in an admin API answer:\n%s", secret, a)
			}
		}
	}
}
