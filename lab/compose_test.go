package lab

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

const (
	root          = ".."
	composeFile   = "docker-compose.yml"
	toxiproxyImg  = "ghcr.io/shopify/toxiproxy:2.12.0"
	testToken     = "compose-test-token"
	stubHealthURL = "/v1/status"
)

// load loads docker-compose.yml as docker compose would, with env as the
// whole environment.
func load(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, composeFile)}},
		Environment: env,
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("mtastorm-lab", true)
	})
}

func project(t *testing.T) *types.Project {
	t.Helper()
	p, err := load(t, map[string]string{"MTASTUB_TOKEN": testToken})
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

// flags turns a command's --key=value and --key value arguments into a map.
func flags(args []string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			v = args[i+1]
			i++
		} else if !ok {
			v = "true"
		}
		out[k] = v
	}
	return out
}

func healthy(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	hc := s.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) == 0 {
		t.Errorf("%s: no healthcheck", s.Name)
		return
	}
	if hc.Interval == nil || hc.Retries == nil || *hc.Retries == 0 {
		t.Errorf("%s: healthcheck without interval or retries: %+v", s.Name, hc)
	}
}

// runnerScenario returns the scenario the runner plays and its flags.
func runnerScenario(t *testing.T, p *types.Project) (*scenario.Scenario, map[string]string) {
	t.Helper()
	r := service(t, p, "runner")
	cmd := []string(r.Command)
	if len(cmd) < 3 || cmd[0] != "mtastorm" || cmd[1] != "run" {
		t.Fatalf("runner command %q, want mtastorm run SCENARIO ...", cmd)
	}
	sc, err := scenario.Load(filepath.Join(root, cmd[2]))
	if err != nil {
		t.Fatalf("runner scenario: %v", err)
	}
	return sc, flags(cmd[3:])
}

func TestComposeLoads(t *testing.T) {
	p := project(t)
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"mta-a", "mta-b", "runner", "toxiproxy"}; !slices.Equal(names, want) {
		t.Errorf("services %v, want %v", names, want)
	}
}

func TestComposeNeedsToken(t *testing.T) {
	_, err := load(t, map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "MTASTUB_TOKEN") {
		t.Errorf("loading without MTASTUB_TOKEN: %v; want an error naming it", err)
	}
}

func TestComposeToxiproxy(t *testing.T) {
	p := project(t)
	s := service(t, p, "toxiproxy")
	if s.Image != toxiproxyImg {
		t.Errorf("toxiproxy image %q, want %q", s.Image, toxiproxyImg)
	}
	if s.Build != nil {
		t.Error("toxiproxy is built, want the published image")
	}
	healthy(t, s)
	if got := []string(s.HealthCheck.Test); !slices.Equal(got, []string{"CMD", "/toxiproxy-cli", "list"}) {
		t.Errorf("toxiproxy healthcheck %q, want [CMD /toxiproxy-cli list]", got)
	}
	if len(s.Command) > 0 && !slices.Contains([]string(s.Command), "-host=0.0.0.0") {
		t.Errorf("toxiproxy command %q overrides the image's without -host=0.0.0.0", s.Command)
	}
	_, ropts := runnerScenario(t, p)
	u, err := url.Parse(ropts["toxiproxy"])
	if err != nil || u.Hostname() != "toxiproxy" {
		t.Fatalf("runner --toxiproxy %q, want http://toxiproxy:PORT", ropts["toxiproxy"])
	}
	port := "8474"
	if v, ok := flags(singleDash(s.Command))["port"]; ok {
		port = v
	}
	if u.Port() != port {
		t.Errorf("runner dials toxiproxy port %s, the server listens on %s", u.Port(), port)
	}
}

// singleDash turns toxiproxy's -flag=value arguments into --flag=value.
func singleDash(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "-" + a
	}
	return out
}

// TestComposeStubs checks mta-a and mta-b against the MTAs of the runner's
// scenario: built from the Dockerfile, a token, an admin API on every
// interface at the port of the scenario's admin: URL (whose host is the
// service), a healthcheck, and the flags harness.StubArgs gives the MTA.
func TestComposeStubs(t *testing.T) {
	p := project(t)
	sc, _ := runnerScenario(t, p)
	if len(sc.MTAs) != 2 {
		t.Fatalf("the runner's scenario has %d MTAs, want 2", len(sc.MTAs))
	}
	for _, spec := range sc.MTAs {
		u, err := url.Parse(spec.Admin)
		if err != nil || spec.Admin == "" {
			t.Errorf("scenario MTA %s: admin %q, want http://SERVICE:PORT", spec.Name, spec.Admin)
			continue
		}
		s := service(t, p, u.Hostname())
		if s.Build == nil || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: not built from the Dockerfile: %+v", s.Name, s.Build)
		} else if _, err := os.Stat(filepath.Join(root, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if tok := s.Environment["MTASTUB_TOKEN"]; tok == nil || *tok != testToken {
			t.Errorf("%s: MTASTUB_TOKEN is %v, want the token from the environment", s.Name, tok)
		}
		healthy(t, s)
		if hc := strings.Join(s.HealthCheck.Test, " "); !strings.Contains(hc, "Bearer $MTASTUB_TOKEN") ||
			!strings.Contains(hc, ":"+u.Port()+stubHealthURL) {
			t.Errorf("%s: healthcheck %q does not GET %s on the admin port with the token", s.Name, hc, stubHealthURL)
		}
		cmd := []string(s.Command)
		if len(cmd) == 0 || cmd[0] != "mtastub" {
			t.Errorf("%s: command %q, want mtastub ...", s.Name, cmd)
			continue
		}
		got := flags(cmd[1:])
		if got["admin"] != "0.0.0.0:"+u.Port() {
			t.Errorf("%s: --admin %q, want 0.0.0.0:%s (the scenario's %s)", s.Name, got["admin"], u.Port(), spec.Admin)
		}
		_, lport, err := splitPort(got["listen"])
		if err != nil {
			t.Errorf("%s: --listen %q: %v", s.Name, got["listen"], err)
		} else if !slices.Contains([]string(s.Expose), lport) || !slices.Contains([]string(s.Expose), u.Port()) {
			t.Errorf("%s: expose %v, want the MiniP1 port %s and the admin port %s", s.Name, s.Expose, lport, u.Port())
		}
		if got["store"] == "" {
			t.Errorf("%s: no --store", s.Name)
		}
		for k, v := range flags(harness.StubArgs(spec, sc.Seed)) {
			if got[k] != v {
				t.Errorf("%s: --%s=%q, the scenario's MTA %s needs %q", s.Name, k, got[k], spec.Name, v)
			}
		}
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %d published on %q, want on 127.0.0.1 only", s.Name, port.Target, port.HostIP)
			}
		}
	}
}

func splitPort(addr string) (string, string, error) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return "", "", os.ErrInvalid
	}
	return addr[:i], addr[i+1:], nil
}

func TestComposeRunner(t *testing.T) {
	p := project(t)
	r := service(t, p, "runner")
	sc, opts := runnerScenario(t, p)
	if sc.Name != "q152877-sp0" {
		t.Errorf("runner scenario %s, want q152877-sp0", sc.Name)
	}
	if opts["out"] == "" {
		t.Error("runner has no --out")
	} else if !slices.ContainsFunc(r.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == opts["out"] }) {
		t.Errorf("runner writes its bundle to %s, which is no volume: %+v", opts["out"], r.Volumes)
	}
	for _, dep := range []string{"toxiproxy", "mta-a", "mta-b"} {
		d, ok := r.DependsOn[dep]
		if !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("runner depends_on %s: %+v, want condition service_healthy", dep, d)
		}
	}
	a := service(t, p, "mta-a")
	if r.Image != a.Image || r.Image == "" {
		t.Errorf("runner image %q, stubs' %q: want the one lab image", r.Image, a.Image)
	}
	if tok := r.Environment["MTASTUB_TOKEN"]; tok == nil || *tok != testToken {
		t.Errorf("runner: MTASTUB_TOKEN is %v, want the stubs' token", tok)
	}
	// The image the runner runs in holds the scenario at the same path.
	if _, err := os.Stat(filepath.Join(root, []string(r.Command)[2])); err != nil {
		t.Error(err)
	}
}

// TestDockerfile checks the image's stages: a golang:1.26 builder that
// builds cmd/mtastub and cmd/mtastorm, a slim runtime with the scenarios.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(src, -1)
	if len(froms) < 2 || !strings.HasPrefix(froms[0][1], "golang:1.26") {
		t.Fatalf("stages %v: want a golang:1.26 builder and a runtime stage", froms)
	}
	if rt := froms[len(froms)-1][1]; !strings.Contains(rt, "distroless") && !strings.Contains(rt, "slim") {
		t.Errorf("runtime stage %s: want distroless or a slim Debian", rt)
	}
	for _, want := range []string{"./cmd/mtastub", "./cmd/mtastorm", "COPY scenarios", "curl"} {
		if !strings.Contains(src, want) {
			t.Errorf("Dockerfile has no %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^USER\s+\S+`).MatchString(src) {
		t.Error("Dockerfile runs as root: want a USER")
	}
}
