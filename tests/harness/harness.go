// Package harness is the one Pulumi mock used by every component and stack
// test. It records each registered resource with the options the engine
// receives (protect, retainOnDelete, dependsOn, provider, customTimeouts),
// fakes only the outputs the program reads, and renders the golden snapshot
// format. It also holds the one assertion on the config keys an error names
// (AssertKeys) and the one way a test reads an output's value (Await,
// MustAwait, in await.go).
package harness

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Project and Stack name the mocked program; Project matches Pulumi.yaml.
const (
	Project   = "anka"
	AccountID = "123456789012"
	Region    = "us-east-1"
)

// Resource is one registration seen by the mock.
type Resource struct {
	URN            string
	Type           string
	Name           string
	Parent         string // the parent's URN ("" for the stack itself)
	Custom         bool
	Inputs         resource.PropertyMap
	Protect        bool
	RetainOnDelete bool
	DependsOn      []string // URNs
	Provider       string   // provider reference "urn::id", "" for the default provider
	// Aliases are the former identities the program declares (an alias
	// spec, or an alias URN as Name with Type empty).
	Aliases []Alias
	// CustomTimeouts are the pulumi.Timeouts option as the engine receives
	// it (Go duration strings), nil when the resource has none.
	CustomTimeouts *CustomTimeouts
	// IgnoreChanges and DeleteBeforeReplace are the options of those names.
	IgnoreChanges       []string
	DeleteBeforeReplace bool
}

// CustomTimeouts is the customTimeouts resource option.
type CustomTimeouts struct {
	Create string `json:"create,omitempty"`
	Update string `json:"update,omitempty"`
	Delete string `json:"delete,omitempty"`
}

// Alias is one pulumi.Alias as the engine receives it: the fields the
// program set ("" for those it left to default to the resource's own).
type Alias struct {
	Name string
	Type string
	URN  string
}

// ParentName is the logical name of the parent, "" for the stack.
func (r Resource) ParentName() string { return nameOf(r.Parent) }

// Recorder implements pulumi.MockResourceMonitor. It is safe for the
// concurrent registrations the Go SDK makes.
type Recorder struct {
	mu        sync.Mutex
	resources []Resource
	calls     []pulumi.MockCallArgs
	// Outputs, when set, is consulted before the built-in fakes and may
	// return extra outputs for a resource.
	Outputs func(args pulumi.MockResourceArgs) resource.PropertyMap
	// StackOutputs are returned for pulumi:pulumi:StackReference resources,
	// keyed by the referenced stack name.
	StackOutputs map[string]map[string]any
	// Preview answers as the engine does during `pulumi preview`: every
	// output a provider computes (anything beyond the inputs) is unknown.
	Preview bool
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{StackOutputs: map[string]map[string]any{}} }

// NewResource records the registration and answers with fake outputs.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs, Provider: args.Provider}
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent = rpc.GetParent()
		rec.Protect = rpc.GetProtect()
		rec.RetainOnDelete = rpc.GetRetainOnDelete()
		rec.IgnoreChanges = append([]string(nil), rpc.GetIgnoreChanges()...)
		rec.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		rec.DependsOn = append([]string(nil), rpc.GetDependencies()...)
		for _, a := range rpc.GetAliases() {
			if spec := a.GetSpec(); spec != nil {
				rec.Aliases = append(rec.Aliases, Alias{Name: spec.GetName(), Type: spec.GetType()})
			} else {
				rec.Aliases = append(rec.Aliases, Alias{URN: a.GetUrn()})
			}
		}
		for _, urn := range rpc.GetAliasURNs() {
			rec.Aliases = append(rec.Aliases, Alias{URN: urn})
		}
		if ct := rpc.GetCustomTimeouts(); ct != nil && (ct.GetCreate() != "" || ct.GetUpdate() != "" || ct.GetDelete() != "") {
			rec.CustomTimeouts = &CustomTimeouts{Create: ct.GetCreate(), Update: ct.GetUpdate(), Delete: ct.GetDelete()}
		}
		if rec.Provider == "" {
			rec.Provider = rpc.GetProvider()
		}
	}
	if rpc := args.ReadRPC; rpc != nil {
		// Read resources (a StackReference) have a parent too.
		rec.Parent = rpc.GetParent()
		rec.DependsOn = append([]string(nil), rpc.GetDependencies()...)
	}
	rec.URN = fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", "test", Project, args.TypeToken, args.Name)

	id := args.Name + "-id"
	outputs := fakeOutputs(args, id)
	if r.Preview && args.TypeToken != "pulumi:pulumi:StackReference" {
		for k, v := range outputs {
			// A secret stays known: the Go SDK's mock path cannot carry
			// an unknown inside a secret ("malformed RPC secret").
			if in, ok := args.Inputs[k]; (!ok || !in.DeepEquals(v)) && !v.IsSecret() {
				outputs[k] = resource.MakeComputed(resource.NewStringProperty(""))
			}
		}
	}
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		ref := args.Inputs["name"].StringValue()
		outs, ok := r.StackOutputs[ref]
		if !ok {
			return "", nil, fmt.Errorf("harness: no outputs registered for stack reference %q", ref)
		}
		outputs["outputs"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(outs))
		outputs["secretOutputNames"] = resource.NewArrayProperty(nil)
		id = ref
	}
	if r.Outputs != nil {
		for k, v := range r.Outputs(args) {
			outputs[k] = v
		}
	}
	r.mu.Lock()
	r.resources = append(r.resources, rec)
	r.mu.Unlock()
	return id, outputs, nil
}

// Call answers the invokes the program makes.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	r.mu.Lock()
	r.calls = append(r.calls, args)
	r.mu.Unlock()
	return fakeCall(args)
}

// Resources returns every registration, sorted by type then name.
func (r *Recorder) Resources() []Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Resource(nil), r.resources...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// ByType returns the registrations of one type token, sorted by name.
func (r *Recorder) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// Get returns the registration of type typ named name, failing the test if
// there is none.
func (r *Recorder) Get(t testing.TB, typ, name string) Resource {
	t.Helper()
	for _, res := range r.Resources() {
		if res.Type == typ && res.Name == name {
			return res
		}
	}
	var names []string
	for _, res := range r.ByType(typ) {
		names = append(names, res.Name)
	}
	t.Fatalf("no %s named %q was registered; registered: %v", typ, name, names)
	return Resource{}
}

// Children returns the registrations whose parent has the given name.
func (r *Recorder) Children(parentName string) []Resource {
	var out []Resource
	for _, res := range r.Resources() {
		if res.ParentName() == parentName {
			out = append(out, res)
		}
	}
	return out
}

// Len is the number of registrations, components included.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.resources)
}

// Run executes fn under the mock as `pulumi up` would, with the given flat
// config ("anka:etcd" -> JSON text) and secret keys, recording into rec.
func Run(t testing.TB, stack string, config map[string]string, secretKeys []string, rec *Recorder, fn pulumi.RunFunc) error {
	t.Helper()
	return run(stack, config, secretKeys, rec, false, fn)
}

// Preview is Run as `pulumi preview` runs the program (ctx.DryRun() true).
func Preview(t testing.TB, stack string, config map[string]string, secretKeys []string, rec *Recorder, fn pulumi.RunFunc) error {
	t.Helper()
	return run(stack, config, secretKeys, rec, true, fn)
}

func run(stack string, config map[string]string, secretKeys []string, rec *Recorder, dryRun bool, fn pulumi.RunFunc) error {
	if rec == nil {
		rec = NewRecorder()
	}
	return pulumi.RunErr(fn,
		pulumi.WithMocks(Project, stack, rec),
		func(info *pulumi.RunInfo) {
			info.Config = config
			info.ConfigSecretKeys = secretKeys
			info.DryRun = dryRun
		},
	)
}

// URNPath is a URN without its stack and project: the qualified type (the
// ancestors' types and its own, joined by "$") and the name,
// "anka:etcd:Etcd$kubernetes:apps/v1:StatefulSet::etcd-members". Unlike the
// bare name, it tells apart two resources that share a name, and it does not
// change with the stack ("" for "").
func URNPath(urn string) string {
	parts := strings.SplitN(urn, "::", 3)
	if len(parts) < 3 {
		return urn
	}
	return parts[2]
}

func nameOf(urn string) string {
	if urn == "" {
		return ""
	}
	i := strings.LastIndex(urn, "::")
	if i < 0 {
		return urn
	}
	return urn[i+2:]
}

// ProviderName turns a provider reference ("urn::id") into the provider's
// logical name.
func ProviderName(ref string) string {
	if ref == "" {
		return ""
	}
	urn := ref
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		urn = ref[:i]
	}
	return nameOf(urn)
}

// AssertKeys checks that err names exactly these config keys, in this order,
// and prints the whole error when it does not: a list of keys alone does not
// say which rule fired.
func AssertKeys(t testing.TB, err error, want ...string) bool {
	t.Helper()
	return assert.Equal(t, want, validation.Keys(err), "error: %v", err)
}
