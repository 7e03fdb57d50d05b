package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// ToxiproxyServer is an external toxiproxy-server process this package
// started on 127.0.0.1, and its HTTP API.
type ToxiproxyServer struct {
	cmd    *exec.Cmd
	done   chan struct{}
	URL    string
	Remote *toxi.Remote
	// Argv is the command line it was started with.
	Argv []string
}

// FindToxiproxyServer returns the argv of a toxiproxy-server: root's
// bin/toxiproxy-server, else one on PATH; nil when there is none.
func FindToxiproxyServer(root string) []string {
	if root == "" {
		root = "."
	}
	p := root + "/bin/toxiproxy-server"
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return []string{p}
	}
	if p, err := exec.LookPath("toxiproxy-server"); err == nil {
		return []string{p}
	}
	return nil
}

// StartToxiproxyServer runs argv with "-host 127.0.0.1 -port N" on a free
// port and waits (at most 10s) until its API answers.
func StartToxiproxyServer(ctx context.Context, argv []string) (*ToxiproxyServer, error) {
	if len(argv) == 0 {
		return nil, errors.New("no toxiproxy-server command")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), argv[1:]...), "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	s := &ToxiproxyServer{cmd: cmd, done: make(chan struct{}), URL: "http://127.0.0.1:" + strconv.Itoa(port), Argv: append([]string{argv[0]}, args...)}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for attempt := 0; attempt < 1000; attempt++ {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before its API answered", argv[0])
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		r, err := toxi.NewRemote(pctx, s.URL, toxi.RemoteOptions{})
		cancel()
		if err == nil {
			s.Remote = r
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("%s: API did not answer: %w", argv[0], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("%s: API did not answer", argv[0])
}

// Stop terminates the server (SIGTERM, then SIGKILL after 2s) and waits for it.
func (s *ToxiproxyServer) Stop() {
	if s.Remote != nil {
		_ = s.Remote.Close(context.Background())
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return
	case <-time.After(2 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
