package harness

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// A run killed with SIGKILL whose parent has not reaped it is a zombie:
// its proxies are leftovers all the same.
func TestAliveIgnoresZombies(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if !alive(os.Getpid()) {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) { // exits at once, then stays a zombie until Wait
		if time.Now().After(deadline) {
			t.Fatalf("pid %d (exited, not reaped) still counts as alive", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Wait()
	if alive(pid) {
		t.Fatalf("pid %d reaped, still alive", pid)
	}
}
