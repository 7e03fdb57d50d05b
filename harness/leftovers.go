package harness

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

var runSeq atomic.Int64

// proxyPrefix names this run's proxies: "mtastorm-<pid>-<n>-", so that a
// later run can tell proxies of a crashed process from those of a live one.
func proxyPrefix() string {
	return fmt.Sprintf("%s%d-%d-", toxi.ProxyPrefix, os.Getpid(), runSeq.Add(1))
}

// removeLeftovers removes mtastorm proxies whose owning process is gone (an
// earlier run that crashed or was killed); proxies of live processes — a
// parallel run on the same Toxiproxy — are left alone.
func removeLeftovers(ctx context.Context, b toxi.Backend, log *slog.Logger) error {
	infos, err := b.Proxies(ctx)
	if err != nil {
		return fmt.Errorf("list proxies: %w", err)
	}
	for _, p := range infos {
		rest, ok := strings.CutPrefix(p.Name, toxi.ProxyPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err == nil && pid > 0 && alive(pid) {
			continue
		}
		if err := b.Remove(ctx, p.Name); err != nil {
			return fmt.Errorf("remove leftover proxy %s: %w", p.Name, err)
		}
		log.Warn("removed a proxy an earlier run left", "proxy", p.Name)
	}
	return nil
}

// alive reports whether process pid exists on this host and is not a
// zombie (a killed run whose parent has not reaped it yet is gone all the
// same: in a container nobody may ever reap it).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
