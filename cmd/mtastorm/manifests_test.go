package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/mtastorm/mtastorm/harness/repro"
	"github.com/mtastorm/mtastorm/internal/shard"
)

// The Kubernetes manifests of deploy/k8s are checked here, in package main,
// so that their commands parse with mtastorm's own flags (checkArgs); the
// k8s.io packages are imported by this test only, never by the binary.

const (
	manifestsDir = "../../deploy/k8s"
	dockerfile   = "../../Dockerfile"
	// indexAnnotation is what a pod of an Indexed Job learns its index from.
	indexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
	// minNOFILE is the smallest hard RLIMIT_NOFILE a container runtime was
	// seen to give a pod; --parallel must fit in it.
	minNOFILE = 1024
	// baseRSS is what a repro process holds with its runs (measured
	// 31-40 MiB); the rest of the memory limit is left for repro's check.
	baseRSS = 64 << 20
)

// manifests is what deploy/k8s holds, decoded.
type manifests struct {
	jobs map[string]*batchv1.Job // by metadata.name
	pvcs map[string]*corev1.PersistentVolumeClaim
	file map[string]string // object name -> file, for messages
}

// readManifests reads every *.yaml of dir.
func readManifests(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in %s (%v)", dir, err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = data
	}
	return files
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decode decodes every document of every file strictly: an unknown or
// duplicated field, a wrong type or an unknown kind is an error naming the
// file and document.
func decode(files map[string][]byte) (*manifests, []error) {
	m := &manifests{jobs: map[string]*batchv1.Job{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}, file: map[string]string{}}
	var errs []error
	for name, data := range files {
		for i, doc := range docSep.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s document %d", name, i+1)
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			var obj interface{ GetName() string }
			switch tm.APIVersion + " " + tm.Kind {
			case "batch/v1 Job":
				obj = &batchv1.Job{}
			case "v1 PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			default:
				errs = append(errs, fmt.Errorf("%s: kind %q of %q: want a batch/v1 Job or a v1 PersistentVolumeClaim", where, tm.Kind, tm.APIVersion))
				continue
			}
			if err := strictDecode(doc, obj); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			if obj.GetName() == "" {
				errs = append(errs, fmt.Errorf("%s: no metadata.name", where))
				continue
			}
			m.file[obj.GetName()] = name
			switch o := obj.(type) {
			case *batchv1.Job:
				m.jobs[o.Name] = o
			case *corev1.PersistentVolumeClaim:
				m.pvcs[o.Name] = o
			}
		}
	}
	return m, errs
}

// strictDecode decodes one YAML document into obj as the API server's
// strict field validation would: YAML to JSON (a duplicated key is an
// error), then JSON matched case-sensitively (encoding/json, and so
// sigs.k8s.io/yaml.UnmarshalStrict, would take readOnlyRootFileSystem for
// readOnlyRootFilesystem), unknown and duplicated fields are errors with
// their path, and each is placed on its line.
func strictDecode(doc string, obj any) error {
	js, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	var msgs []string
	for _, e := range strict {
		msg := e.Error()
		if m := regexp.MustCompile(`unknown field "(?:.*\.)?([^."\[\]]+)"`).FindStringSubmatch(msg); m != nil {
			for i, l := range strings.Split(doc, "\n") {
				if regexp.MustCompile(`^\s*(- )?` + regexp.QuoteMeta(m[1]) + `:`).MatchString(l) {
					msg = fmt.Sprintf("line %d: %s", i+1, msg)
					break
				}
			}
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// image is what the Dockerfile builds: its numeric USER and the binaries
// it copies into /usr/local/bin.
type image struct {
	uid  int64
	bins map[string]bool
}

func readImage(t *testing.T) image {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	u := regexp.MustCompile(`(?m)^USER\s+(\d+)(:\d+)?\s*$`).FindStringSubmatch(src)
	if u == nil {
		t.Fatalf("%s: no numeric USER uid[:gid] (runAsNonRoot cannot verify a user name)", dockerfile)
	}
	img := image{bins: map[string]bool{}}
	img.uid, _ = strconv.ParseInt(u[1], 10, 64)
	for _, c := range regexp.MustCompile(`(?m)^COPY\s+--from=build\s+(.+)\s+/usr/local/bin/\s*$`).FindAllStringSubmatch(src, -1) {
		for _, f := range strings.Fields(c[1]) {
			img.bins[path.Base(f)] = true
		}
	}
	return img
}

// The jobs deploy/k8s must hold, and their shape.
var wantJobs = map[string]struct {
	indexed bool
	command string // the container's program
}{
	"mtastorm-diagnosis":       {true, "mtastorm"},
	"mtastorm-diagnosis-merge": {false, "mtastorm"},
	"mtastorm-soak":            {true, "storm.test"},
}

// check returns every problem of the decoded manifests.
func (m *manifests) check(img image) []error {
	var errs []error
	for name := range wantJobs {
		if m.jobs[name] == nil {
			errs = append(errs, fmt.Errorf("no Job %s in %s", name, manifestsDir))
		}
	}
	for name, j := range m.jobs {
		want, ok := wantJobs[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: Job %s is not one this test knows (add it to wantJobs)", m.file[name], name))
			continue
		}
		for _, err := range m.checkJob(j, want.indexed, want.command, img) {
			errs = append(errs, fmt.Errorf("%s: Job %s: %w", m.file[name], name, err))
		}
	}
	// The merge reads what the diagnosis shards wrote.
	if d, mg := m.jobs["mtastorm-diagnosis"], m.jobs["mtastorm-diagnosis-merge"]; d != nil && mg != nil &&
		len(d.Spec.Template.Spec.Containers) > 0 && len(mg.Spec.Template.Spec.Containers) > 0 {
		out := flagValue(d.Spec.Template.Spec.Containers[0].Args, "out")
		margs := mg.Spec.Template.Spec.Containers[0].Args
		if len(margs) < 3 || margs[2] != out {
			errs = append(errs, fmt.Errorf("the merge reads %v, the diagnosis shards write --out %q", margs, out))
		}
	}
	return errs
}

func (m *manifests) checkJob(j *batchv1.Job, indexed bool, command string, img image) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	spec, pod := j.Spec, j.Spec.Template.Spec
	completions, parallelism := int32(1), int32(1)
	if spec.Completions != nil {
		completions = *spec.Completions
	}
	if spec.Parallelism != nil {
		parallelism = *spec.Parallelism
	}
	if indexed {
		if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
			fail("completionMode %v, want Indexed", deref(spec.CompletionMode))
		}
		if spec.Completions == nil || completions < 2 {
			fail("completions %v: an Indexed Job of shards wants at least 2", deref(spec.Completions))
		}
		if parallelism != completions {
			fail("parallelism %d, completions %d: every shard at once is intended", parallelism, completions)
		}
	} else {
		if spec.CompletionMode != nil && *spec.CompletionMode != batchv1.NonIndexedCompletion {
			fail("completionMode %v, want NonIndexed", *spec.CompletionMode)
		}
		if completions != 1 || parallelism != 1 {
			fail("completions %d, parallelism %d: want one pod", completions, parallelism)
		}
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		fail("restartPolicy %q, want Never (the Job retries, with its backoff and podFailurePolicy)", pod.RestartPolicy)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		fail("pod securityContext %+v: want runAsNonRoot true and a nonzero runAsUser", psc)
	} else if *psc.RunAsUser != img.uid {
		fail("runAsUser %d, the Dockerfile's USER is %d", *psc.RunAsUser, img.uid)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
		if pvc := v.PersistentVolumeClaim; pvc != nil && m.pvcs[pvc.ClaimName] == nil {
			fail("volume %s claims %q, which no manifest of %s defines", v.Name, pvc.ClaimName, manifestsDir)
		}
	}
	mounted := map[string]bool{}
	if len(pod.Containers) != 1 {
		fail("%d containers, want 1", len(pod.Containers))
	}
	for _, c := range pod.Containers {
		cfail := func(format string, a ...any) { fail("container %s: "+format, append([]any{c.Name}, a...)...) }
		if !strings.HasPrefix(c.Image, "mtastorm-lab:") {
			cfail("image %q, want the Dockerfile's mtastorm-lab", c.Image)
		}
		sc := c.SecurityContext
		switch sc {
		case nil:
			cfail("no securityContext")
		default:
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				cfail("readOnlyRootFilesystem is not true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				cfail("allowPrivilegeEscalation is not false")
			}
			if sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				cfail("capabilities %+v, want drop [ALL] and nothing added", sc.Capabilities)
			}
			if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot || sc.RunAsUser != nil && *sc.RunAsUser != img.uid || sc.Privileged != nil && *sc.Privileged {
				cfail("securityContext %+v undoes the pod's non-root user", sc)
			}
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okr := c.Resources.Requests[r]
			lim, okl := c.Resources.Limits[r]
			if !okr || !okl || req.IsZero() || lim.IsZero() {
				cfail("resources: want a request and a limit of %s, got %+v", r, c.Resources)
			} else if req.Cmp(lim) > 0 {
				cfail("resources: %s request %s above its limit %s", r, req.String(), lim.String())
			}
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		mounts := map[string]corev1.VolumeMount{}
		for _, vm := range c.VolumeMounts {
			mounts[vm.MountPath] = vm
			mounted[vm.Name] = true
			v, ok := volumes[vm.Name]
			switch {
			case !ok:
				cfail("mount %s names volume %q, which the pod does not define", vm.MountPath, vm.Name)
			case v.ConfigMap != nil && !vm.ReadOnly:
				cfail("ConfigMap %s mounted read-write at %s", v.ConfigMap.Name, vm.MountPath)
			}
		}
		// writable reports whether p lies under a read-write mount of the
		// container (the root filesystem is read-only).
		writable := func(p string) bool {
			for mp, vm := range mounts {
				if !vm.ReadOnly && (p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/")) {
					return true
				}
			}
			return false
		}
		tmp := env["TMPDIR"].Value
		if tmp == "" {
			tmp = "/tmp" // Go's default
		}
		if vm, ok := mounts[tmp]; !ok || volumes[vm.Name].EmptyDir == nil || vm.ReadOnly {
			cfail("temporary files go to %s, which is not a read-write emptyDir mount", tmp)
		}

		// The shard: the Job's index, and JOB_COMPLETIONS equal to completions.
		vars := map[string]string{}
		for _, e := range c.Env {
			vars[e.Name] = e.Value
		}
		if indexed {
			idx := env[shard.EnvIndex]
			if idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil || idx.ValueFrom.FieldRef.FieldPath != indexAnnotation {
				cfail("$%s is not read from %s", shard.EnvIndex, indexAnnotation)
			}
			if got := env[shard.EnvCount].Value; got != strconv.Itoa(int(completions)) {
				cfail("$%s is %q, completions %d", shard.EnvCount, got, completions)
			}
			for i := range completions {
				vars[shard.EnvIndex] = strconv.Itoa(int(i))
				sh, set, err := shard.FromEnv(func(k string) string { return vars[k] })
				if err != nil || !set || sh != (shard.Shard{Index: int(i), Count: int(completions)}) {
					cfail("pod %d reads shard %v (set %v, %v), want %d/%d", i, sh, set, err, i, completions)
				}
			}
			vars[shard.EnvIndex] = "0"
		} else if _, ok := env[shard.EnvIndex]; ok {
			cfail("$%s in a Job that is not Indexed", shard.EnvIndex)
		}
		for k, v := range vars {
			vars[k] = expand(v, vars)
		}
		full := append(append([]string{}, c.Command...), c.Args...)
		var args []string
		for _, a := range full {
			args = append(args, expand(a, vars))
		}
		for _, a := range append(append([]string{}, args...), valuesOf(vars)...) {
			if strings.Contains(a, "$(") {
				cfail("%q refers to a variable the container does not define", a)
			}
		}
		for _, a := range c.Args {
			if m := regexp.MustCompile(`shard-\$\(` + shard.EnvIndex + `\)-of-(\d+)`).FindStringSubmatch(a); m != nil && m[1] != strconv.Itoa(int(completions)) {
				cfail("%q names %s shards, completions %d", a, m[1], completions)
			}
		}
		if len(args) == 0 || args[0] != command {
			cfail("command %v, want %s", args, command)
			continue
		}
		if !img.bins[command] {
			cfail("the Dockerfile copies no %s into /usr/local/bin", command)
		}
		switch command {
		case "mtastorm":
			for _, err := range checkMtastorm(args[1:], c, writable, mounts, volumes) {
				cfail("%v", err)
			}
		case "storm.test":
			for _, err := range checkStormTest(args[1:], vars, writable) {
				cfail("%v", err)
			}
		}
	}
	for name := range volumes {
		if !mounted[name] {
			fail("volume %s is mounted by no container", name)
		}
	}
	return errs
}

// checkMtastorm checks an mtastorm command line: it parses (checkArgs), its
// --out is writable, the event log it reads is a read-only ConfigMap item,
// and its --parallel fits the container's memory limit and any runtime's
// descriptors, by repro's own admission check.
func checkMtastorm(args []string, c corev1.Container, writable func(string) bool,
	mounts map[string]corev1.VolumeMount, volumes map[string]corev1.Volume) []error {
	var errs []error
	if err := checkArgs(args); err != nil {
		return []error{err}
	}
	merge := len(args) > 1 && args[0] == "repro" && args[1] == "merge"
	if len(args) == 0 || args[0] != "repro" {
		return []error{fmt.Errorf("mtastorm %v: the manifests run repro", args)}
	}
	out := flagValue(args, "out")
	if out == "" || !writable(out) {
		errs = append(errs, fmt.Errorf("mtastorm %v: --out %q is not under a read-write mount", args, out))
	}
	if !merge {
		log := args[1]
		vm, ok := mounts[path.Dir(log)]
		v := volumes[vm.Name]
		switch {
		case !ok || v.ConfigMap == nil || !vm.ReadOnly:
			errs = append(errs, fmt.Errorf("the event log %s is not in a read-only ConfigMap mount", log))
		case len(v.ConfigMap.Items) > 0 && !hasItem(v.ConfigMap.Items, path.Base(log)):
			errs = append(errs, fmt.Errorf("the event log %s is no item of ConfigMap %s (%+v)", log, v.ConfigMap.Name, v.ConfigMap.Items))
		}
	}
	p := flagValue(args, "parallel")
	n, err := strconv.Atoi(p)
	if err != nil {
		return append(errs, fmt.Errorf("mtastorm %v: set --parallel (%q) so that the pod's limits are sized for it", args, p))
	}
	lim := c.Resources.Limits[corev1.ResourceMemory]
	cpu := c.Resources.Limits[corev1.ResourceCPU]
	machine := repro.Machine{CPUs: int(max(cpu.Value(), 1)), FDLimit: minNOFILE, FDsOpen: 16,
		MemAvailable: uint64(max(lim.Value()-baseRSS, 0))}
	if err := machine.Check(n); err != nil {
		errs = append(errs, fmt.Errorf("--parallel %d in a pod limited to %s of memory and %d descriptors: %w", n, lim.String(), minNOFILE, err))
	}
	return errs
}

func hasItem(items []corev1.KeyToPath, p string) bool {
	for _, it := range items {
		if it.Path == p {
			return true
		}
	}
	return false
}

var (
	stormFlagsMu sync.Mutex
	stormSuite   types.SuiteConfig
	stormReport  types.ReporterConfig
	stormFlags   *flag.FlagSet
)

// stormTestFlags returns the flag set a compiled Ginkgo suite (go test -c)
// parses: Ginkgo's test-process flags, made by the function the suite's
// binary calls (types.BuildTestSuiteFlagSet), and the testing package's.
// It is built once on a fresh flag set (flag.CommandLine is swapped for the
// call, as BuildTestSuiteFlagSet attaches to it); parsing sets only the
// configurations above.
func stormTestFlags() (*flag.FlagSet, error) {
	if stormFlags != nil {
		return stormFlags, nil
	}
	fs := flag.NewFlagSet("storm.test", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "test.") {
			if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); isBool {
				fs.Bool(f.Name, false, f.Usage)
			} else {
				fs.String(f.Name, "", f.Usage)
			}
		}
	})
	saved := flag.CommandLine
	flag.CommandLine = fs
	_, err := types.BuildTestSuiteFlagSet(&stormSuite, &stormReport)
	flag.CommandLine = saved
	if err != nil {
		return nil, err
	}
	stormFlags = fs
	return fs, nil
}

// checkStormTest checks a storm.test command line: it parses with the
// suite binary's flags, takes no positional argument, its label filter
// parses and selects the soak specs only, and its reports and
// $MTASTORM_ARTIFACTS are writable.
func checkStormTest(args []string, vars map[string]string, writable func(string) bool) []error {
	stormFlagsMu.Lock()
	defer stormFlagsMu.Unlock()
	fs, err := stormTestFlags()
	if err != nil {
		return []error{err}
	}
	stormSuite, stormReport = types.SuiteConfig{}, types.ReporterConfig{}
	if err := fs.Parse(args); err != nil {
		return []error{fmt.Errorf("storm.test %v: %w", args, err)}
	}
	if fs.NArg() > 0 {
		return []error{fmt.Errorf("storm.test %v: unexpected argument %q", args, fs.Arg(0))}
	}
	var errs []error
	filter, err := types.ParseLabelFilter(stormSuite.LabelFilter)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("storm.test -ginkgo.label-filter %q: %w", stormSuite.LabelFilter, err))
	case !filter([]string{"fault:storm", "mode:sp2", "speed:soak"}) || filter([]string{"shard"}):
		errs = append(errs, fmt.Errorf("storm.test -ginkgo.label-filter %q: want the soak specs (speed:soak) only", stormSuite.LabelFilter))
	}
	if stormReport.JSONReport == "" {
		errs = append(errs, fmt.Errorf("storm.test %v: no -ginkgo.json-report (ci/everfailed reads it)", args))
	}
	for _, p := range []string{stormReport.JSONReport, stormReport.JUnitReport, vars["MTASTORM_ARTIFACTS"]} {
		if p != "" && !writable(p) {
			errs = append(errs, fmt.Errorf("storm.test writes %s, which is not under a read-write mount", p))
		}
	}
	if d := path.Dir(stormReport.JSONReport); stormReport.JSONReport != "" {
		if _, err := shard.ParseDir(path.Base(d)); err != nil {
			errs = append(errs, fmt.Errorf("storm.test -ginkgo.json-report %s: its folder must be shard-I-of-N for ci/everfailed: %w", stormReport.JSONReport, err))
		}
	}
	return errs
}

// expand does what Kubernetes does to $(VAR) in command, args and env
// values: the value of a variable the container defines; anything else
// stays as written.
func expand(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

func valuesOf(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

// flagValue returns the value of --name (or -name, =value or next
// argument) in args, "" when absent.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// TestManifests decodes every manifest of deploy/k8s strictly with the
// k8s.io/api types and checks the Jobs: Indexed shards whose count agrees
// everywhere, non-root with a read-only root filesystem, resources set,
// every writable path on a volume, and commands that parse with
// mtastorm's (or the compiled suite's) own flags.
func TestManifests(t *testing.T) {
	files := readManifests(t, manifestsDir)
	m, errs := decode(files)
	for _, err := range errs {
		t.Error(err)
	}
	if len(m.pvcs) == 0 {
		t.Errorf("no PersistentVolumeClaim in %s for the results", manifestsDir)
	}
	for _, err := range m.check(readImage(t)) {
		t.Error(err)
	}
}

// TestManifestsMutated shows that the checks can fail: each mutation of
// the manifests' text must be caught, with a message naming it.
func TestManifestsMutated(t *testing.T) {
	img := readImage(t)
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"misspelt field", "diagnosis-job.yaml", "completionMode: Indexed", "completionMod: Indexed", `re:line \d+: unknown field "spec\.completionMod"`},
		{"misspelt nested field", "soak-job.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", `re:line \d+: unknown field "spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFileSystem"`},
		{"bad mtastorm flag", "diagnosis-job.yaml", `"--parallel", "6"`, `"--jobs", "6"`, "flag provided but not defined: -jobs"},
		{"bad flag value", "diagnosis-job.yaml", `"--parallel", "6"`, `"--parallel", "six"`, `invalid value "six" for flag -parallel`},
		{"bad merge flag", "diagnosis-merge-job.yaml", `"--parallel", "6"`, `"--jobs", "6"`, "repro merge /results/diagnosis --out /results/diagnosis-merged --jobs 6: exit 2: flag provided but not defined: -jobs"},
		{"bad shard flag value", "diagnosis-job.yaml", `"--parallel", "6"`, `"--shard", "4/4", "--parallel", "6"`, "index 4"},
		{"merge of no shards", "diagnosis-merge-job.yaml", `"merge", "/results/diagnosis",`, `"merge",`, "want shard directories"},
		{"bad Ginkgo flag", "soak-job.yaml", "-ginkgo.no-color", "-ginkgo.no-colour", "flag provided but not defined: -ginkgo.no-colour"},
		{"label filter that does not parse", "soak-job.yaml", "-ginkgo.label-filter=speed:soak", "-ginkgo.label-filter=(speed:soak", `-ginkgo.label-filter "(speed:soak"`},
		{"label filter of the wrong specs", "soak-job.yaml", "-ginkgo.label-filter=speed:soak", "-ginkgo.label-filter=!speed:soak", "want the soak specs (speed:soak) only"},
		{"shard counts disagree", "diagnosis-job.yaml", "parallelism: 4", "parallelism: 3", "parallelism 3, completions 4"},
		{"JOB_COMPLETIONS forgotten", "soak-job.yaml", "value: \"4\"", "value: \"5\"", "$JOB_COMPLETIONS is \"5\", completions 4"},
		{"paths name another count", "soak-job.yaml", "soak/shard-$(JOB_COMPLETION_INDEX)-of-4/soak.json", "soak/shard-$(JOB_COMPLETION_INDEX)-of-3/soak.json", "names 3 shards, completions 4"},
		{"root filesystem writable", "diagnosis-job.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem is not true"},
		{"runs as root", "diagnosis-merge-job.yaml", "runAsNonRoot: true\n        runAsUser: 10001", "runAsNonRoot: false\n        runAsUser: 0", "want runAsNonRoot true"},
		{"no memory limit", "soak-job.yaml", "              memory: 256Mi\n", "", "want a request and a limit of memory"},
		{"parallel beyond the memory limit", "diagnosis-job.yaml", "memory: 512Mi", "memory: 256Mi", "needs about 384 MiB"},
		{"results on the root filesystem", "diagnosis-job.yaml", `"--out", "/results/diagnosis"`, `"--out", "/lab/diagnosis"`, `--out "/lab/diagnosis" is not under a read-write mount`},
		{"typo in a variable", "soak-job.yaml", "value: /results/soak/shard-$(JOB_COMPLETION_INDEX)-of-4", "value: /results/soak/shard-$(JOB_COMPLETION_IDX)-of-4", "refers to a variable"},
		{"merge reads elsewhere", "diagnosis-merge-job.yaml", `"merge", "/results/diagnosis",`, `"merge", "/results/diag",`, "the merge reads"},
		{"unknown claim", "soak-job.yaml", "claimName: mtastorm-results", "claimName: results", `claims "results"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := readManifests(t, manifestsDir)
			mutated, ok := mutate(string(files[tc.file]), tc.old, tc.new)
			if !ok {
				t.Fatalf("%s holds no %q outside comments to mutate", tc.file, tc.old)
			}
			files[tc.file] = []byte(mutated)
			m, errs := decode(files)
			errs = append(errs, m.check(img)...)
			if len(errs) == 0 {
				t.Fatalf("mutation %q -> %q of %s passed the checks", tc.old, tc.new, tc.file)
			}
			got := errors.Join(errs...).Error()
			if re, isRE := strings.CutPrefix(tc.want, "re:"); isRE && !regexp.MustCompile(re).MatchString(got) ||
				!isRE && !strings.Contains(got, tc.want) {
				t.Fatalf("mutation caught, but no message holds %q:\n%s", tc.want, got)
			}
		})
	}
}

// mutate replaces the first occurrence of old that starts outside a
// comment line.
func mutate(src, old, new string) (string, bool) {
	lines := strings.SplitAfter(src, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if j := strings.Index(strings.Join(lines[i:], ""), old); j >= 0 && j < len(l) {
			rest := strings.Join(lines[i:], "")
			return strings.Join(lines[:i], "") + rest[:j] + new + rest[j+len(old):], true
		}
	}
	return src, false
}

// The quantities the comments of the manifests quote must stay above what
// was measured (max RSS 40 MiB for a diagnosis shard, 52 MiB for a soak
// shard): a request below a measurement is a sizing error.
func TestManifestsRequestsCoverMeasurement(t *testing.T) {
	m, errs := decode(readManifests(t, manifestsDir))
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	measured := map[string]string{"mtastorm-diagnosis": "40Mi", "mtastorm-diagnosis-merge": "31Mi", "mtastorm-soak": "52Mi"}
	for name, rss := range measured {
		j := m.jobs[name]
		if j == nil {
			t.Errorf("no Job %s", name)
			continue
		}
		req := j.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory]
		if req.Cmp(resource.MustParse(rss)) <= 0 {
			t.Errorf("Job %s requests %s of memory, at most the %s measured", name, req.String(), rss)
		}
	}
}
