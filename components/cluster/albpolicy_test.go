package cluster

import (
	"bufio"
	"bytes"
	"crypto/sha1" //nolint:gosec // git's blob id, not a security check
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The upstream IAM policy of the AWS Load Balancer Controller release that
// DefaultALBChartVersion installs, kept verbatim, and where it comes from.
const (
	upstreamALBPolicyFile   = "testdata/alb-controller-iam-policy.json"
	upstreamALBPolicySource = "testdata/alb-controller-iam-policy.source"
)

// lbcChartVersions returns the values of chartVersion keys nested under a
// loadBalancerController key of a stack file (block YAML, as the stack
// files are written).
func lbcChartVersions(yaml string) []string {
	var out []string
	parent := -1 // indentation of the loadBalancerController key we are under
	for _, line := range strings.Split(yaml, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		if parent >= 0 && indent <= parent {
			parent = -1
		}
		switch {
		case strings.HasPrefix(trimmed, "loadBalancerController:"):
			parent = indent
		case parent >= 0 && strings.HasPrefix(trimmed, "chartVersion:"):
			v, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(trimmed, "chartVersion:")), " #")
			out = append(out, strings.Trim(v, `"'`))
		}
	}
	return out
}

// TestClusterALBPolicyMatchesUpstream keeps albControllerPolicy in step with
// the policy the controller's maintainers publish for the pinned release
// (docs/install/iam_policy.json at the release tag; the controller's install
// guide tells users to create exactly that policy). A chart bump without a
// new upstream copy fails on the version; a new upstream copy without the
// matching change in albpolicy.go fails on the statements. Statements are
// compared as sets, each with its Action/Resource lists and condition
// values as sets, since IAM gives their order no meaning.
func TestClusterALBPolicyMatchesUpstream(t *testing.T) {
	src := readSourceFile(t, upstreamALBPolicySource)
	update := fmt.Sprintf("put docs/install/iam_policy.json of the tag whose helm/aws-load-balancer-controller/Chart.yaml "+
		"has `version: %[1]s` (its appVersion) from %[2]s into components/cluster/%[3]s, record that tag, its "+
		"appVersion and the file's blob id in components/cluster/%[4]s, then make components/cluster/albpolicy.go "+
		"grant what it grants", DefaultALBChartVersion, src["repository"], upstreamALBPolicyFile, upstreamALBPolicySource)

	if src["chart"] != DefaultALBChartVersion {
		t.Fatalf("DefaultALBChartVersion is %s but %s holds the policy of chart %s (controller %s): %s",
			DefaultALBChartVersion, upstreamALBPolicyFile, src["chart"], src["appVersion"], update)
	}

	// A stack that pins another chart would get this policy all the same.
	stackFiles, err := filepath.Glob("../../Pulumi.*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, stackFiles)
	for _, f := range stackFiles {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, v := range lbcChartVersions(string(data)) {
			if v != DefaultALBChartVersion {
				t.Errorf("%s sets anka:cluster.loadBalancerController.chartVersion %s, but albpolicy.go is the policy of chart %s: "+
					"bump DefaultALBChartVersion instead (and %s)", filepath.Base(f), v, DefaultALBChartVersion, upstreamALBPolicyFile)
			}
		}
	}

	raw, err := os.ReadFile(upstreamALBPolicyFile)
	require.NoError(t, err)
	if got := gitBlobID(raw); got != src["blob"] {
		t.Fatalf("%s is not the upstream file %s@%s:%s (blob %s, recorded %s): restore it verbatim; "+
			"the policy the program creates lives in albpolicy.go", upstreamALBPolicyFile, src["repository"],
			src["tag"], src["path"], got, src["blob"])
	}

	want := normalizePolicy(t, "upstream "+src["tag"], raw)
	got := normalizePolicy(t, "albControllerPolicy()", []byte(albControllerPolicy()))
	if want.version != got.version {
		t.Errorf("policy Version: albpolicy.go has %q, upstream %s has %q", got.version, src["tag"], want.version)
	}
	missing, extra := diffStatements(want.statements, got.statements)
	if len(missing)+len(extra) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "components/cluster/albpolicy.go differs from the controller's policy %s@%s:%s "+
			"(chart %s); make it grant what upstream grants:\n", src["repository"], src["tag"], src["path"], src["chart"])
		for _, s := range missing {
			fmt.Fprintf(&b, "  missing from albpolicy.go: %s\n", s)
		}
		for _, s := range extra {
			fmt.Fprintf(&b, "  not upstream:              %s\n", s)
		}
		t.Error(b.String())
	}
}

// TestClusterALBPolicyComparison proves the comparison itself: order does
// not matter, a changed action, resource or condition does.
func TestClusterALBPolicyComparison(t *testing.T) {
	base := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["a:X","a:Y"],"Resource":"*"},
		{"Effect":"Allow","Action":"b:Z","Resource":["r2","r1"],"Condition":{"Null":{"k":"false"},"StringEquals":{"c":["v2","v1"]}}}]}`
	cases := []struct {
		name  string
		other string
		same  bool
	}{
		{"statements, actions, resources and condition values in another order are the same policy", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"b:Z","Resource":["r1","r2"],"Condition":{"StringEquals":{"c":["v1","v2"]},"Null":{"k":"false"}}},
			{"Effect":"Allow","Action":["a:Y","a:X"],"Resource":["*"]}]}`, true},
		{"a missing action is a difference", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["a:X"],"Resource":"*"},
			{"Effect":"Allow","Action":"b:Z","Resource":["r2","r1"],"Condition":{"Null":{"k":"false"},"StringEquals":{"c":["v2","v1"]}}}]}`, false},
		{"a changed condition is a difference", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["a:X","a:Y"],"Resource":"*"},
			{"Effect":"Allow","Action":"b:Z","Resource":["r2","r1"],"Condition":{"Null":{"k":"true"},"StringEquals":{"c":["v2","v1"]}}}]}`, false},
		{"a changed resource is a difference", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["a:X","a:Y"],"Resource":"*"},
			{"Effect":"Allow","Action":"b:Z","Resource":["r2"],"Condition":{"Null":{"k":"false"},"StringEquals":{"c":["v2","v1"]}}}]}`, false},
		{"an extra statement is a difference", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["a:X","a:Y"],"Resource":"*"},
			{"Effect":"Allow","Action":"b:Z","Resource":["r2","r1"],"Condition":{"Null":{"k":"false"},"StringEquals":{"c":["v2","v1"]}}},
			{"Effect":"Allow","Action":"c:W","Resource":"*"}]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := normalizePolicy(t, "base", []byte(base))
			b := normalizePolicy(t, "other", []byte(tc.other))
			missing, extra := diffStatements(a.statements, b.statements)
			require.Equal(t, tc.same, len(missing)+len(extra) == 0, "missing %v, extra %v", missing, extra)
		})
	}
}

// readSourceFile reads the "key: value" lines of a .source file.
func readSourceFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		require.True(t, ok, "%s: %q is not `key: value`", path, line)
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	for _, k := range []string{"chart", "appVersion", "repository", "tag", "path", "blob"} {
		require.NotEmpty(t, out[k], "%s has no %s", filepath.Base(path), k)
	}
	return out
}

// gitBlobID is `git hash-object` of data.
func gitBlobID(data []byte) string {
	h := sha1.New() //nolint:gosec // git's object id
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

type normalPolicy struct {
	version    string
	statements []string // each statement as canonical JSON, sorted
}

// normalizePolicy parses an IAM policy document and writes each statement
// as canonical JSON: the single-string forms of Action, NotAction,
// Resource, NotResource and condition values become sorted lists without
// repeats (IAM treats them as sets), and keys are sorted by encoding/json.
func normalizePolicy(t *testing.T, what string, data []byte) normalPolicy {
	t.Helper()
	var doc struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&doc), "%s is not a policy document", what)
	out := normalPolicy{version: doc.Version}
	for i, st := range doc.Statement {
		n := map[string]any{}
		for k, v := range st {
			switch k {
			case "Action", "NotAction", "Resource", "NotResource":
				n[k] = stringSet(t, fmt.Sprintf("%s statement %d %s", what, i, k), v)
			case "Condition":
				ops, ok := v.(map[string]any)
				require.True(t, ok, "%s statement %d: Condition is not an object", what, i)
				cond := map[string]map[string][]string{}
				for op, keys := range ops {
					km, ok := keys.(map[string]any)
					require.True(t, ok, "%s statement %d: Condition %s is not an object", what, i, op)
					cond[op] = map[string][]string{}
					for key, val := range km {
						cond[op][key] = stringSet(t, fmt.Sprintf("%s statement %d Condition %s %s", what, i, op, key), val)
					}
				}
				n[k] = cond
			default:
				n[k] = v
			}
		}
		b, err := json.Marshal(n)
		require.NoError(t, err)
		out.statements = append(out.statements, string(b))
	}
	sort.Strings(out.statements)
	return out
}

func stringSet(t *testing.T, what string, v any) []string {
	t.Helper()
	var out []string
	switch x := v.(type) {
	case string:
		out = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			require.True(t, ok, "%s: %v is not a string", what, e)
			out = append(out, s)
		}
	default:
		t.Fatalf("%s: %v is neither a string nor a list", what, v)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// diffStatements returns the statements of want that got lacks and those of
// got that want lacks (both sorted, repeats counted).
func diffStatements(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, s := range got {
		count[s]++
	}
	for _, s := range want {
		if count[s] > 0 {
			count[s]--
			continue
		}
		missing = append(missing, s)
	}
	for _, s := range got {
		if count[s] > 0 {
			count[s]--
			extra = append(extra, s)
		}
	}
	return missing, extra
}

func TestClusterALBPolicyStackChartVersions(t *testing.T) {
	yaml := "config:\n  anka:cluster:\n    loadBalancerController:\n      enabled: true\n      chartVersion: \"3.4.0\" # old\n" +
		"    name: x\n  anka:monitoring:\n    chartVersion: 9.9.9\n"
	require.Equal(t, []string{"3.4.0"}, lbcChartVersions(yaml), "only the load balancer controller's chartVersion counts")
}
