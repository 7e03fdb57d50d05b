package harness

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/scenario"
)

// withLimit injects RLIMIT_NOFILE for the test: soft cur, hard max; raises
// are recorded and change the soft limit when allowed.
func withLimit(t *testing.T, cur, max uint64, allowRaise bool) *[]uint64 {
	t.Helper()
	saved := nofile
	t.Cleanup(func() { nofile = saved })
	var raised []uint64
	nofile.get = func() (uint64, uint64, error) { return cur, max, nil }
	nofile.set = func(c, m uint64) error {
		if !allowRaise {
			return errors.New("operation not permitted")
		}
		raised = append(raised, c)
		cur = c
		return nil
	}
	return &raised
}

func topoScenario(t *testing.T, count int) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.LoadBytes("fd.yaml", []byte("version: 1\nname: fd\ntopology: {shape: hub-and-spokes, count: "+
		strconv.Itoa(count)+", name: \"s%03d\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestFDsNeededGrowsWithLinks(t *testing.T) {
	small, big := FDsNeeded(topoScenario(t, 1)), FDsNeeded(topoScenario(t, 199))
	// 200 MTAs, 398 links.
	if want := fdsReserved + 200*fdsPerMTA + 398*fdsPerLink; big != want {
		t.Errorf("org of 200: %d descriptors, want %d", big, want)
	}
	if small >= big {
		t.Errorf("2 MTAs need %d, 200 need %d", small, big)
	}
}

func TestCheckFDs(t *testing.T) {
	sc := topoScenario(t, 199)
	need := uint64(FDsNeeded(sc))

	t.Run("enough", func(t *testing.T) {
		raised := withLimit(t, 1<<20, 1<<20, true)
		if err := checkFDs(sc); err != nil || len(*raised) > 0 {
			t.Fatalf("err %v, raised %v", err, *raised)
		}
	})
	t.Run("soft raised to hard", func(t *testing.T) {
		raised := withLimit(t, 1024, 1<<20, true)
		if err := checkFDs(sc); err != nil {
			t.Fatal(err)
		}
		if len(*raised) != 1 || (*raised)[0] != 1<<20 {
			t.Errorf("raised %v, want the soft limit raised once to the hard limit", *raised)
		}
	})
	t.Run("hard too low", func(t *testing.T) {
		raised := withLimit(t, 1024, 4096, true)
		err := checkFDs(sc)
		if !errors.Is(err, ErrFDLimit) {
			t.Fatalf("err %v, want ErrFDLimit", err)
		}
		for _, w := range []string{"RLIMIT_NOFILE is 1024 (hard limit 4096)", "200 MTAs", "398 links", "ulimit -n", "fd needs about"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error lacks %q: %v", w, err)
			}
		}
		if len(*raised) != 0 {
			t.Errorf("raised %v past what helps", *raised)
		}
	})
	t.Run("raise refused", func(t *testing.T) {
		withLimit(t, need/2, need*2, false)
		if err := checkFDs(sc); !errors.Is(err, ErrFDLimit) {
			t.Fatalf("err %v, want ErrFDLimit", err)
		}
	})
}

// TestRunChecksFDsFirst: a run the limit cannot hold fails before any MTA
// or proxy starts, as an infrastructure error naming the limit.
func TestRunChecksFDsFirst(t *testing.T) {
	withLimit(t, 256, 256, true)
	sc := topoScenario(t, 199)
	res, err := Run(context.Background(), sc, Options{Out: t.TempDir()})
	var ie *InfraError
	if !errors.As(err, &ie) || !errors.Is(err, ErrFDLimit) || res != nil {
		t.Fatalf("res %v err %v, want an InfraError wrapping ErrFDLimit", res, err)
	}
	if !strings.Contains(err.Error(), "RLIMIT_NOFILE is 256") {
		t.Errorf("error %v does not name the limit", err)
	}
}
