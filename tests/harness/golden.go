package harness

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Update rewrites golden files instead of comparing with them; `make
// golden` passes it to every package that has golden files.
var Update = flag.Bool("update", false, "rewrite golden files under testdata/ (make golden)")

// SecretPlaceholder stands for every secret value in snapshots and in
// config loaded from stack files (which the tests cannot decrypt).
const SecretPlaceholder = "[secret]"

// LoadStackConfig reads Pulumi.<stack>.yaml next to Pulumi.yaml in dir the
// way the engine hands config to a program: one flat key per top-level
// config entry, objects as JSON text. Secure values become "[secret]" and
// their keys are reported as secret.
func LoadStackConfig(t testing.TB, dir, stack string) (map[string]string, []string) {
	t.Helper()
	proj, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("load Pulumi.yaml: %v", err)
	}
	ps, err := workspace.LoadProjectStack(nil, proj, filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		t.Fatalf("load Pulumi.%s.yaml: %v", stack, err)
	}
	flat, err := ps.Config.Decrypt(config.NewBlindingDecrypter())
	if err != nil {
		t.Fatalf("read config of Pulumi.%s.yaml: %v", stack, err)
	}
	out := map[string]string{}
	for k, v := range flat {
		out[k.String()] = v
	}
	var secret []string
	for _, k := range ps.Config.SecureKeys() {
		secret = append(secret, k.String())
	}
	sort.Strings(secret)
	return out, secret
}

// SnapshotResource is one resource in a golden file.
type SnapshotResource struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Parent is the parent's URN path (URNPath): its types and its name.
	Parent  string          `json:"parent"`
	Custom  bool            `json:"custom"`
	Inputs  any             `json:"inputs"`
	Options SnapshotOptions `json:"options"`
}

// SnapshotOptions are the resource options reviewers care about.
// CustomTimeouts appear only on the resources that set them.
type SnapshotOptions struct {
	Protect        bool            `json:"protect"`
	RetainOnDelete bool            `json:"retainOnDelete"`
	DependsOn      []string        `json:"dependsOn"`
	Provider       string          `json:"provider"`
	CustomTimeouts *CustomTimeouts `json:"customTimeouts,omitempty"`
}

// Snapshot is the golden file format.
type Snapshot struct {
	Stack     string             `json:"stack"`
	Resources []SnapshotResource `json:"resources"`
	Outputs   map[string]any     `json:"outputs"`
}

// Snapshot renders what the recorder saw; outputs are already plain values
// (secrets replaced by "[secret]").
func (r *Recorder) Snapshot(stack string, outputs map[string]any) Snapshot {
	s := Snapshot{Stack: stack, Outputs: outputs, Resources: []SnapshotResource{}}
	for _, res := range r.Resources() {
		deps := []string{}
		for _, d := range res.DependsOn {
			deps = append(deps, nameOf(d))
		}
		sort.Strings(deps)
		s.Resources = append(s.Resources, SnapshotResource{
			Type:   res.Type,
			Name:   res.Name,
			Parent: URNPath(res.Parent),
			Custom: res.Custom,
			Inputs: Plain(resource.NewObjectProperty(res.Inputs)),
			Options: SnapshotOptions{
				Protect:        res.Protect,
				RetainOnDelete: res.RetainOnDelete,
				DependsOn:      deps,
				Provider:       ProviderName(res.Provider),
				CustomTimeouts: res.CustomTimeouts,
			},
		})
	}
	return s
}

// Plain turns a property value into JSON-friendly data with secrets hidden.
func Plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return SecretPlaceholder
	case v.IsComputed() || v.IsOutput() && !v.OutputValue().Known:
		return "[unknown]"
	case v.IsOutput():
		if v.OutputValue().Secret {
			return SecretPlaceholder
		}
		return Plain(v.OutputValue().Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := []any{}
		for _, e := range v.ArrayValue() {
			out = append(out, Plain(e))
		}
		return out
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			out[string(k)] = Plain(e)
		}
		return out
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsAsset() || v.IsArchive():
		return "[asset]"
	}
	return fmt.Sprintf("[%v]", v.TypeString())
}

// CompareGolden compares got, as indented JSON, with the golden file at
// path, or rewrites it under -update. A stale file fails with a line diff.
func CompareGolden(t testing.TB, path string, got any) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal snapshot: %v", err)
	}
	CompareGoldenText(t, path, string(append(data, '\n')))
}

// CompareGoldenText is CompareGolden for text: got is the file's content.
func CompareGoldenText(t testing.TB, path, got string) {
	t.Helper()
	data := []byte(got)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s is missing; create it with: make golden (%v)", path, err)
	}
	if bytes.Equal(want, data) {
		return
	}
	t.Errorf("golden file %s is stale; review the diff and run `make golden`:\n%s", path, lineDiff(string(want), string(data)))
}

// lineDiff is a small LCS line diff, enough to read a golden change.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	shown := 0
	for i, j := 0, 0; (i < n || j < m) && shown < 200; {
		switch {
		case i < n && j < m && x[i] == y[j]:
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&sb, "+ %s (line %d)\n", y[j], j+1)
			j++
			shown++
		default:
			fmt.Fprintf(&sb, "- %s (line %d)\n", x[i], i+1)
			i++
			shown++
		}
	}
	return sb.String()
}
