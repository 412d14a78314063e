package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/internal/realtool"
	"github.com/anka-ha/anka-build-cloud-aws/internal/toolcache"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/require"
)

// kubeScoreRule is a check kube-score does not run (Check, an id of
// `kube-score list`) or a flag it gets (Flag), with the reason.
type kubeScoreRule struct {
	Check, Flag, Reason string
}

// kubeScoreException accepts the findings that match every pattern.
type kubeScoreException struct {
	Check, Object, Container, Finding, Reason string
}

// kubeScoreFinding is one thing kube-score found wrong with one object.
type kubeScoreFinding struct {
	Check, Object, Container, Finding string
}

func (f kubeScoreFinding) String() string {
	return fmt.Sprintf("%s %s (container %q): %s", f.Check, f.Object, f.Container, f.Finding)
}

func (e kubeScoreException) matches(f kubeScoreFinding) bool {
	for _, p := range [][2]string{{e.Check, f.Check}, {e.Object, f.Object}, {e.Container, f.Container}, {e.Finding, f.Finding}} {
		if ok, err := path.Match(p[0], p[1]); err != nil || !ok {
			return false
		}
	}
	return true
}

// TestStackManifestsPassKubeScore lints the Kubernetes objects each stack
// file creates with kube-score (github.com/zegl/kube-score, built by
// scripts/toolchain.sh): those of dev, prod, s3 and every other golden file
// as recorded there (testdata/*.json, read as they are now), and those of
// the local stack, which has no golden file, from a run of the program
// under the mocks. Every
// optional check is on; what is off or accepted is in
// kubescore_exceptions_test.go with its reason. A new finding fails, and
// so does an accepted one that no stack has any more.
func TestStackManifestsPassKubeScore(t *testing.T) {
	bin := realtool.KubeScore(t)
	args := kubeScoreArgs(t, bin)

	stacks := map[string]func(t *testing.T) harness.Snapshot{
		"local": func(t *testing.T) harness.Snapshot {
			cfg, secretKeys := stackConfig(t, "local", nil)
			injectLocalSecrets(t, cfg, &secretKeys)
			run, err := runConfig(t, "local", cfg, secretKeys)
			require.NoError(t, err)
			return run.rec.Snapshot("local", run.outputs)
		},
	}
	// Every golden file, as it is on disk now: the environment stacks and
	// any variant a test records (e.g. one with monitoring on).
	golden, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	for _, stack := range environmentStacks {
		require.Contains(t, golden, filepath.Join("testdata", stack+".json"))
	}
	for _, file := range golden {
		stacks[strings.TrimSuffix(filepath.Base(file), ".json")] = func(t *testing.T) harness.Snapshot {
			s, err := harness.ReadSnapshot(file)
			require.NoError(t, err)
			return s
		}
	}
	names := make([]string, 0, len(stacks))
	for name := range stacks {
		names = append(names, name)
	}
	sort.Strings(names)

	used := make([]bool, len(kubeScoreAccepted))
	ran := 0
	for _, stack := range names {
		ok := t.Run(stack, func(t *testing.T) {
			snap := stacks[stack](t)
			dir := t.TempDir()
			files, err := harness.WriteManifests(dir, snap)
			require.NoError(t, err)
			require.NotEmpty(t, files, "the %s stack has no Kubernetes objects", stack)
			findings := runKubeScore(t, bin, args, files)
			t.Logf("%d objects, %d findings", len(files), len(findings))
			var fresh []string
			for _, f := range findings {
				matched := false
				for i, e := range kubeScoreAccepted {
					if e.matches(f) {
						used[i], matched = true, true
					}
				}
				if !matched {
					fresh = append(fresh, fmt.Sprintf("  %s\n    accept it in tests/kubescore_exceptions_test.go only with a reason:\n"+
						"    {Check: %q, Object: %q, Container: %q, Finding: %q, Reason: \"...\"},", f, f.Check, f.Object, f.Container, f.Finding))
				}
			}
			if len(fresh) > 0 {
				t.Errorf("kube-score %s finds in the %s stack's manifests what no entry accepts; fix the component, "+
					"or (only with a reason a reviewer would accept):\n%s", toolcache.KubeScoreVersion, stack, strings.Join(fresh, "\n"))
			}
		})
		if ok {
			ran++
		}
	}
	// A stale entry only shows when every stack ran and passed (-run may
	// select one, and a failed stack may not have reached its findings).
	if ran == len(names) {
		for i, e := range kubeScoreAccepted {
			if !used[i] {
				t.Errorf("tests/kubescore_exceptions_test.go accepts %s %s (container %q): %q, which no stack has any more: delete the entry",
					e.Check, e.Object, e.Container, e.Finding)
			}
		}
	}
}

// TestKubeScoreCatchesANewFinding: a Deployment that breaks what the
// stacks' objects keep (an image without a tag, no memory request, a
// privileged container) comes out as findings that no entry accepts.
func TestKubeScoreCatchesANewFinding(t *testing.T) {
	bin := realtool.KubeScore(t)
	snap := harness.Snapshot{Resources: []harness.SnapshotResource{{
		Type: "kubernetes:apps/v1:Deployment", Name: "bad", Custom: true,
		Inputs: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "bad", "namespace": "anka"},
			"spec": map[string]any{
				"replicas": 2,
				"selector": map[string]any{"matchLabels": map[string]any{"app": "bad"}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": "bad"}},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "bad", "image": "busybox",
						"securityContext": map[string]any{"privileged": true},
					}}},
				},
			},
		},
	}}}
	files, err := harness.WriteManifests(t.TempDir(), snap)
	require.NoError(t, err)
	require.Len(t, files, 1)
	got := map[string]bool{}
	for _, f := range runKubeScore(t, bin, kubeScoreArgs(t, bin), files) {
		for _, e := range kubeScoreAccepted {
			require.False(t, e.matches(f), "%s is accepted by %+v", f, e)
		}
		got[f.Check] = true
	}
	for _, check := range []string{"container-image-tag", "container-resources", "container-security-context-privileged"} {
		require.True(t, got[check], "kube-score did not report %s; got %v", check, got)
	}
}

// TestKubeScoreExceptionsGiveReasons: every entry says why.
func TestKubeScoreExceptionsGiveReasons(t *testing.T) {
	for _, r := range append(append([]kubeScoreRule{}, kubeScoreFlags...), kubeScoreOff...) {
		require.NotEmpty(t, r.Reason, "%s%s has no reason", r.Check, r.Flag)
		require.True(t, (r.Check == "") != (r.Flag == ""), "an entry is a check or a flag: %+v", r)
	}
	for _, e := range kubeScoreAccepted {
		require.NotEmpty(t, e.Reason, "%+v has no reason", e)
		for _, p := range []string{e.Check, e.Object, e.Container, e.Finding} {
			_, err := path.Match(p, "")
			require.NoError(t, err, "%+v: bad pattern %q", e, p)
		}
		require.NotContains(t, e.Check, "*", "%+v: name the check", e)
	}
}

// kubeScoreArgs are the arguments of every run: the cluster's Kubernetes
// version (for the deprecated-API check), annotations that could hide a
// finding turned off, every optional check on but those of kubeScoreOff,
// and kubeScoreFlags. The check ids come from the binary itself, so a
// check renamed in a new version fails here rather than silently running.
func kubeScoreArgs(t *testing.T, bin string) []string {
	t.Helper()
	ver, err := exec.Command(bin, "version").Output()
	require.NoError(t, err, "%s version", bin)
	require.Contains(t, string(ver), "version: "+strings.TrimPrefix(toolcache.KubeScoreVersion, "v")+",",
		"%s is not kube-score %s, for which the exception list is written", bin, toolcache.KubeScoreVersion)
	out, err := exec.Command(bin, "list").Output()
	require.NoError(t, err, "%s list", bin)
	optional := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, ",")
		require.GreaterOrEqual(t, len(fields), 4, "unexpected `kube-score list` line %q", line)
		optional[fields[0]] = fields[len(fields)-1] == "optional"
	}
	args := []string{"score", "--output-format", "json", "--kubernetes-version", "v" + cluster.DefaultVersion,
		"--disable-ignore-checks-annotations", "--disable-optional-checks-annotations"}
	off := map[string]bool{}
	for _, r := range kubeScoreOff {
		_, known := optional[r.Check]
		require.True(t, known, "kubescore_exceptions_test.go turns off %q, which kube-score %s does not have", r.Check, toolcache.KubeScoreVersion)
		off[r.Check] = true
		args = append(args, "--ignore-test", r.Check)
	}
	ids := make([]string, 0, len(optional))
	for id := range optional {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if optional[id] && !off[id] {
			args = append(args, "--enable-optional-test", id)
		}
	}
	for _, r := range kubeScoreFlags {
		args = append(args, r.Flag)
	}
	for _, e := range kubeScoreAccepted {
		_, known := optional[e.Check]
		require.True(t, known, "kubescore_exceptions_test.go accepts findings of %q, which kube-score %s does not have", e.Check, toolcache.KubeScoreVersion)
	}
	return args
}

// runKubeScore scores files together (checks such as "a NetworkPolicy
// selects this pod" look across objects) and returns every finding: each
// comment of each check graded below OK and not skipped.
func runKubeScore(t *testing.T, bin string, args, files []string) []kubeScoreFinding {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{}, args...), files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// kube-score exits 1 when it finds something critical: the findings
	// are judged below. Anything else is a failure to run.
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
		}
	}
	var objects []struct {
		TypeMeta   struct{ Kind string } `json:"type_meta"`
		ObjectMeta struct{ Name string } `json:"object_meta"`
		Checks     []struct {
			Check struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"check"`
			Grade    int  `json:"grade"`
			Skipped  bool `json:"skipped"`
			Comments []struct {
				Path    string `json:"path"`
				Summary string `json:"summary"`
			} `json:"comments"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &objects), "kube-score's JSON output; stderr:\n%s", stderr.String())
	require.NotEmpty(t, objects, "kube-score scored nothing; stderr:\n%s", stderr.String())
	const gradeAllOK = 10 // scorecard.GradeAllOK
	var out []kubeScoreFinding
	for _, o := range objects {
		obj := o.TypeMeta.Kind + "/" + o.ObjectMeta.Name
		for _, c := range o.Checks {
			if c.Skipped || c.Grade >= gradeAllOK {
				continue
			}
			if len(c.Comments) == 0 {
				out = append(out, kubeScoreFinding{Check: c.Check.ID, Object: obj, Finding: c.Check.Name})
			}
			for _, cm := range c.Comments {
				out = append(out, kubeScoreFinding{Check: c.Check.ID, Object: obj, Container: cm.Path, Finding: cm.Summary})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// injectLocalSecrets stands in for the secrets the local tools set with
// `pulumi config set --secret --path` (Pulumi.local.yaml's header):
// anka:cluster.kubeconfig, to which nothing connects under the mocks, and
// anka:buildcloud.rootToken. The seed and the edge's PEMs come from
// stackConfig.
func injectLocalSecrets(t *testing.T, cfg map[string]string, secretKeys *[]string) {
	t.Helper()
	set := func(key, field, value string) {
		added := false
		require.True(t, editConfigObject(t, cfg, key, func(obj map[string]any) {
			if _, done := obj[field]; !done {
				obj[field], added = value, true
			}
		}), "%s of Pulumi.local.yaml is not an object", key)
		if added {
			*secretKeys = append(*secretKeys, key)
		}
	}
	set("anka:cluster", "kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: https://127.0.0.1:6443\n"+
		"contexts:\n- name: local\n  context:\n    cluster: local\n    user: local\ncurrent-context: local\nusers:\n- name: local\n  user: {}\n")
	set("anka:buildcloud", "rootToken", TestRootToken)
}
