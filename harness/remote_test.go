package harness

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/admin"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// adminStub starts, in this process, the stub MTA the harness would start
// for spec, serves its admin API on a loopback httptest server and returns
// the server's URL. mutate, when set, changes the stub's config first.
func adminStub(t *testing.T, spec scenario.MTASpec, seed int64, token string, mutate func(*mtastub.Config)) string {
	t.Helper()
	lp := spec.LeakProbability
	cfg := mtastub.Config{
		Name: spec.Name, Org: spec.Org, Site: spec.Site, Build: spec.BuildName(), KCBs: spec.KCBs,
		Window: spec.Window, Timers: kernel.Timers(spec.Timers), LeakProbability: &lp, Seed: seed,
		ExtendedEvents: spec.ExtendedEvents,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := mtastub.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.New(m, admin.Options{Token: token}))
	t.Cleanup(func() {
		srv.Close()
		if err := m.Close(context.Background()); err != nil {
			t.Errorf("close %s: %v", spec.Name, err)
		}
	})
	return srv.URL
}

// remoteCopy returns sc with the named MTAs (all when none are named)
// served by admin stubs.
func remoteCopy(t *testing.T, sc *scenario.Scenario, token string, names ...string) *scenario.Scenario {
	t.Helper()
	cp := *sc
	cp.MTAs = slices.Clone(sc.MTAs)
	for i, m := range cp.MTAs {
		if len(names) == 0 || slices.Contains(names, m.Name) {
			cp.MTAs[i].Admin = adminStub(t, m, sc.Seed, token, nil)
		}
	}
	return &cp
}

func loadFile(t *testing.T, path string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func bundleFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestRemoteMatchesInProcess runs the shipped Q152877 sp0 scenario with
// both MTAs in-process and with both behind their admin APIs: the same
// verdict (passed), the same checks, every message delivered, B's leak and
// its 1277s in both, and bundles with the same files.
func TestRemoteMatchesInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 5s+ Q152877 scenario twice")
	}
	noTOXIPROXY(t)
	t.Setenv(EnvAdminToken, "s3cret")
	sc := loadFile(t, filepath.Join("..", "scenarios", "q152877-sp0.yaml"))
	localDir, remoteDir := filepath.Join(t.TempDir(), "local"), filepath.Join(t.TempDir(), "remote")
	local, err := Run(testkit.Context(t), sc, Options{Out: localDir})
	if err != nil {
		t.Fatal(err)
	}
	remote, err := Run(testkit.Context(t), remoteCopy(t, sc, "s3cret"), Options{Out: remoteDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*Result{local, remote} {
		s := res.Summary
		b := s.MTAs["B"]
		t.Logf("verdict %s, %.1fs: B delivered %d, leaked %d, events %v; A events %v",
			s.Verdict, s.DurationS, b.Delivered, b.KCBsLeaked, b.Events, s.MTAs["A"].Events)
		if s.Verdict != "passed" {
			t.Errorf("verdict %s: %+v", s.Verdict, s.Checks)
		}
		if b.Delivered != 200 || s.MTAs["A"].Submitted != 200 {
			t.Errorf("submitted %d, delivered %d; want 200 and 200", s.MTAs["A"].Submitted, b.Delivered)
		}
		if b.KCBsLeaked < 1 || b.Events["1277"] < 1 {
			t.Errorf("B leaked %d KCBs and wrote %d 1277s; want both ≥ 1", b.KCBsLeaked, b.Events["1277"])
		}
		if !slices.ContainsFunc(res.Ledger, func(e LedgerEntry) bool { return e.Phase == "action" && e.MTA == "B" && e.Error == "" }) {
			t.Error("the ledger has no restart of B")
		}
	}
	if len(local.Summary.Checks) != len(remote.Summary.Checks) {
		t.Fatalf("checks differ:\n in-process %+v\n remote     %+v", local.Summary.Checks, remote.Summary.Checks)
	}
	for i, c := range local.Summary.Checks {
		if rc := remote.Summary.Checks[i]; rc.Name != c.Name || rc.Verdict != c.Verdict {
			t.Errorf("check %d: in-process %s %s, remote %s %s", i, c.Name, c.Verdict, rc.Name, rc.Verdict)
		}
	}
	if l, r := bundleFiles(t, localDir), bundleFiles(t, remoteDir); !slices.Equal(l, r) {
		t.Errorf("bundle files differ: in-process %v, remote %v", l, r)
	}
	for _, e := range remote.Events {
		if e.MTA != "A" && e.MTA != "B" {
			t.Errorf("event of MTA %q", e.MTA)
		}
	}
}

// TestRemoteMixedRestart runs A in-process and B remote on a healthy link
// with a restart of B mid-traffic.
func TestRemoteMixedRestart(t *testing.T) {
	noTOXIPROXY(t)
	src := strings.Replace(healthyYAML, "%s\nexpect:", "actions:\n  - {at: 50ms, restart: B}\nexpect:", 1)
	sc, err := scenario.LoadBytes("mixed.yaml", []byte(strings.Replace(src, "%s", healthyExpect, 1)))
	if err != nil {
		t.Fatal(err)
	}
	rsc := remoteCopy(t, sc, "", "B")
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := Run(testkit.Context(t), rsc, Options{Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Verdict != "passed" || s.MTAs["B"].Delivered != 20 || s.MTAs["B"].Mode != "sp2" {
		t.Errorf("summary %+v, B %+v", s, s.MTAs["B"])
	}
	data, err := os.ReadFile(filepath.Join(dir, "deliveries.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 20 {
		t.Errorf("deliveries.jsonl has %d lines, want 20", n)
	}
	samplesB := 0
	for _, smp := range res.Samples {
		if smp.MTA == "B" && len(smp.States) == 4 {
			samplesB++
		}
	}
	if samplesB == 0 {
		t.Error("no sample of B's pool")
	}
}

func TestRemoteUnreachableIsInfraError(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	cp := *sc
	cp.MTAs = slices.Clone(sc.MTAs)
	cp.MTAs[1].Admin = "http://127.0.0.1:1"
	res, err := Run(testkit.Context(t), &cp, Options{})
	var infra *InfraError
	if !errors.As(err, &infra) {
		t.Fatalf("Run = %v, %v; want an *InfraError", res, err)
	}
	for _, want := range []string{"MTA B", "http://127.0.0.1:1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestRemoteWrongToken(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	rsc := remoteCopy(t, sc, "right", "B")
	_, err := Run(testkit.Context(t), rsc, Options{AdminToken: "wrong"})
	var infra *InfraError
	if !errors.As(err, &infra) || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), EnvAdminToken) {
		t.Fatalf("Run error %v; want an *InfraError with the 401 and a hint at %s", err, EnvAdminToken)
	}
}

func TestRemoteMismatchIsInputError(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	cp := *sc
	cp.MTAs = slices.Clone(sc.MTAs)
	cp.MTAs[1].Admin = adminStub(t, cp.MTAs[1], sc.Seed, "", func(c *mtastub.Config) { c.Build, c.KCBs = "sp0", 6 })
	_, err := Run(testkit.Context(t), &cp, Options{})
	var in *InputError
	if !errors.As(err, &in) {
		t.Fatalf("Run error %v; want an *InputError", err)
	}
	for _, want := range []string{"build 4.0, the scenario says 4.0-sp2", "defects [Q152877], the scenario says []", "6 KCBs, the scenario says 4", "healthy.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestRemoteStopIsInputError(t *testing.T) {
	src := strings.Replace(healthyYAML, "%s\nexpect:", "actions:\n  - {at: 1s, stop: B}\n  - {at: 2s, start: B}\nexpect:", 1)
	sc, err := scenario.LoadBytes("stop.yaml", []byte(strings.Replace(src, "%s", healthyExpect, 1)))
	if err != nil {
		t.Fatal(err)
	}
	cp := *sc
	cp.MTAs = slices.Clone(sc.MTAs)
	cp.MTAs[1].Admin = "http://127.0.0.1:1" // never dialled: the actions are checked first
	_, err = Run(testkit.Context(t), &cp, Options{})
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "only restart") || !strings.Contains(err.Error(), "stop.yaml:") {
		t.Fatalf("Run error %v; want an *InputError naming the file and saying only restart works", err)
	}
}

// TestRemoteNotFresh runs twice against the same stubs: the second run is
// refused, since B's received-id set would suppress the repeated ids.
func TestRemoteNotFresh(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	rsc := remoteCopy(t, sc, "")
	if res, err := Run(testkit.Context(t), rsc, Options{}); err != nil || res.Summary.Verdict != "passed" {
		t.Fatalf("first run: %v, %v", res, err)
	}
	_, err := Run(testkit.Context(t), rsc, Options{})
	var infra *InfraError
	if !errors.As(err, &infra) || !strings.Contains(err.Error(), "not fresh") {
		t.Fatalf("second run error %v; want an *InfraError saying the stub is not fresh", err)
	}
}

func TestUpstreamAddr(t *testing.T) {
	for _, c := range []struct{ listen, admin, want string }{
		{"127.0.0.1:7001", "http://127.0.0.1:7071", "127.0.0.1:7001"},
		{"0.0.0.0:7001", "http://mta-b:7071", "mta-b:7001"},
		{"[::]:7001", "http://mta-b:7071", "mta-b:7001"},
		{"10.0.0.5:7001", "http://mta-b:7071", "10.0.0.5:7001"},
	} {
		got, err := upstreamAddr(c.listen, c.admin)
		if err != nil || got != c.want {
			t.Errorf("upstreamAddr(%q, %q) = %q, %v; want %q", c.listen, c.admin, got, err, c.want)
		}
	}
	if _, err := upstreamAddr("nonsense", "http://x:1"); err == nil {
		t.Error("upstreamAddr accepted an address without a port")
	}
}

func TestExposure(t *testing.T) {
	for _, c := range []struct{ url, host, port string }{
		{"http://toxiproxy:8474", "toxiproxy", "8474"},
		{"127.0.0.1:9000", "127.0.0.1", "9000"},
		{"http://[::1]:8474/", "::1", "8474"},
		{"http://lab-proxy", "lab-proxy", "8474"},
	} {
		if h, p := toxiHost(c.url); h != c.host || p != c.port {
			t.Errorf("toxiHost(%q) = %q, %q; want %q, %q", c.url, h, p, c.host, c.port)
		}
	}
	if !loopbackHost("localhost") || !loopbackHost("127.0.0.2") || loopbackHost("toxiproxy") {
		t.Error("loopbackHost")
	}
	var none *exposure
	if got := none.proxyAddr("127.0.0.1:4000"); got != "127.0.0.1:4000" {
		t.Errorf("nil exposure rewrote the address: %q", got)
	}
	ex := &exposure{host: "toxiproxy", local: "127.0.0.1"}
	if got := ex.proxyAddr("[::]:4000"); got != "toxiproxy:4000" {
		t.Errorf("proxyAddr = %q, want toxiproxy:4000", got)
	}
	e, err := ex.newEcho()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Addr(), "127.0.0.1:") {
		t.Errorf("echo on %s, want on the local address", e.Addr())
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
}

func TestStubArgs(t *testing.T) {
	sc := loadFile(t, filepath.Join("..", "scenarios", "q152877-sp0.yaml"))
	got := strings.Join(StubArgs(sc.MTAs[1], sc.Seed), " ")
	want := "--name B --mode sp0 --kcbs 4 --window 4 --org ORG --site SITE " +
		"--timers open=300ms,open_interval=100ms,transfer=500ms,reassembly=300ms,lifetime=300ms,disconnect=200ms " +
		"--seed 152877 --leak-probability 1"
	if got != want {
		t.Errorf("StubArgs =\n %s\nwant\n %s", got, want)
	}
}

func TestStubArgsBuildAndDefects(t *testing.T) {
	sc, err := scenario.LoadBytes("b.yaml", []byte("version: 1\nname: b\nmtas:\n  - {name: A, build: 5.5-sp3, defects: [Q229643]}\n  - {name: B, build: 5.5-sp2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := strings.Join(StubArgs(sc.MTAs[0], 1), " ")
	if !strings.Contains(a, "--build 5.5-sp3") || !strings.Contains(a, "--defects Q229643") {
		t.Errorf("StubArgs(A) = %s; want --build 5.5-sp3 --defects Q229643", a)
	}
	b := strings.Join(StubArgs(sc.MTAs[1], 1), " ")
	if !strings.Contains(b, "--build 5.5-sp2") || strings.Contains(b, "--defects") {
		t.Errorf("StubArgs(B) = %s; want --build 5.5-sp2 and no --defects", b)
	}
}
