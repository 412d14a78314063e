package main

import (
	"errors"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

const (
	ankaStack     = "acme/anka/prod"
	controllerURL = "https://controller.example.com"
	registryURL   = "https://registry.example.com"
)

// ankaOutputs is what the referenced anka stack exports, as in its README table.
func ankaOutputs() map[string]any {
	return map[string]any{
		stacks.OutputClusterName:   "anka-prod",
		stacks.OutputKubeconfig:    harness.FakeKubeconfig,
		stacks.OutputNamespace:     "anka",
		stacks.OutputControllerURL: controllerURL,
		stacks.OutputRegistryURL:   registryURL,
	}
}

// runConsumer runs the program as `pulumi up` would, with consumer:ankaStack
// set, against a recorder whose anka stack exports outputs.
func runConsumer(t *testing.T, outputs map[string]any) (*harness.Recorder, error) {
	t.Helper()
	rec := harness.NewRecorder()
	rec.StackOutputs[ankaStack] = outputs
	err := harness.Run(t, "dev", map[string]string{ConfigAnkaStack: ankaStack}, nil, rec, Program)
	return rec, err
}

// plain unwraps secrets, reporting whether there was one.
func plain(v resource.PropertyValue) (resource.PropertyValue, bool) {
	secret := false
	for v.IsSecret() {
		secret = true
		v = v.SecretValue().Element
	}
	return v, secret
}

func TestConsumerOutputNamesMatchTheContract(t *testing.T) {
	// The example keeps literals so it can be copied elsewhere; they must stay
	// the names the anka stack exports (stacks/outputs.go, README table).
	assert.Equal(t, stacks.OutputControllerURL, OutputControllerURL)
	assert.Equal(t, stacks.OutputRegistryURL, OutputRegistryURL)
	assert.Equal(t, stacks.OutputKubeconfig, OutputKubeconfig)
}

func TestConsumerSecretHoldsTheReferencedURLs(t *testing.T) {
	rec, err := runConsumer(t, ankaOutputs())
	require.NoError(t, err)

	ref := rec.Get(t, "pulumi:pulumi:StackReference", "anka")
	assert.Equal(t, ankaStack, ref.Inputs["name"].StringValue(), "the stack named by %s is the one referenced", ConfigAnkaStack)

	ns := rec.Get(t, "kubernetes:core/v1:Namespace", Namespace)
	assert.Equal(t, Namespace, ns.Inputs["metadata"].ObjectValue()["name"].StringValue())

	s := rec.Get(t, "kubernetes:core/v1:Secret", SecretName)
	meta := s.Inputs["metadata"].ObjectValue()
	assert.Equal(t, SecretName, meta["name"].StringValue())
	assert.Equal(t, Namespace, meta["namespace"].StringValue(), "the Secret lives in the runners' namespace")
	assert.Equal(t, "Opaque", s.Inputs["type"].StringValue())
	data, secret := plain(s.Inputs["stringData"])
	assert.True(t, secret, "stringData reaches the engine as a Pulumi secret")
	require.True(t, data.IsObject(), "stringData is an object, got %v", data)
	got := map[string]string{}
	for k, v := range data.ObjectValue() {
		v, _ = plain(v)
		got[string(k)] = v.StringValue()
	}
	assert.Equal(t, map[string]string{KeyControllerURL: controllerURL, KeyRegistryURL: registryURL}, got,
		"the Secret holds exactly the referenced stack's %s and %s", OutputControllerURL, OutputRegistryURL)
	assert.Nil(t, s.Inputs["data"].V, "only stringData is set")
}

func TestConsumerKubeconfigReachesTheProviderAsSecret(t *testing.T) {
	rec, err := runConsumer(t, ankaOutputs())
	require.NoError(t, err)

	p := rec.Get(t, "pulumi:providers:kubernetes", "anka")
	kc, secret := plain(p.Inputs["kubeconfig"])
	assert.True(t, secret, "the kubeconfig is a secret on the provider (state and previews never show it)")
	assert.Equal(t, harness.FakeKubeconfig, kc.StringValue(), "the provider gets the referenced stack's kubeconfig")

	for _, r := range []harness.Resource{
		rec.Get(t, "kubernetes:core/v1:Namespace", Namespace),
		rec.Get(t, "kubernetes:core/v1:Secret", SecretName),
	} {
		assert.Equal(t, "anka", harness.ProviderName(r.Provider), "%s %s must go to the anka cluster, not the ambient kubeconfig", r.Type, r.Name)
	}
}

func TestConsumerFailsClearlyOnMissingOutputs(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(map[string]any)
		wantIn  []string
		wantOut []string
	}{
		{
			name:    "a stack without controllerUrl names it",
			edit:    func(m map[string]any) { delete(m, OutputControllerURL) },
			wantIn:  []string{`"controllerUrl" is not exported`, `"acme/anka/prod"`},
			wantOut: []string{"registryUrl", `"kubeconfig"`},
		},
		{
			name:   "an empty registryUrl (no edge yet) is refused",
			edit:   func(m map[string]any) { m[OutputRegistryURL] = "" },
			wantIn: []string{`"registryUrl" is empty`},
		},
		{
			name:   "a missing kubeconfig is refused",
			edit:   func(m map[string]any) { delete(m, OutputKubeconfig) },
			wantIn: []string{`"kubeconfig" is not exported`},
		},
		{
			name:   "a non-string output is refused",
			edit:   func(m map[string]any) { m[OutputControllerURL] = []any{"a", "b"} },
			wantIn: []string{`"controllerUrl" is a []interface {}, want a string`},
		},
		{
			name: "every problem is reported at once",
			edit: func(m map[string]any) {
				delete(m, OutputControllerURL)
				delete(m, OutputRegistryURL)
				delete(m, OutputKubeconfig)
			},
			wantIn: []string{`"controllerUrl" is not exported`, `"registryUrl" is not exported`, `"kubeconfig" is not exported`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			outs := ankaOutputs()
			tc.edit(outs)
			rec, err := runConsumer(t, outs)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrMissingOutput), "wraps ErrMissingOutput: %v", err)
			for _, s := range tc.wantIn {
				assert.Contains(t, err.Error(), s)
			}
			for _, s := range tc.wantOut {
				assert.NotContains(t, err.Error(), s)
			}
			assert.Equal(t, 1, rec.Len(), "nothing but the stack reference is registered: %v", rec.Resources())
		})
	}
}

func TestConsumerRequiresTheAnkaStackConfig(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "dev", nil, nil, rec, Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "consumer:ankaStack must name the anka stack")
	assert.Equal(t, 0, rec.Len(), "nothing is registered")
}

// Run can also be driven directly, e.g. from a larger program.
func TestConsumerRunTakesTheStackName(t *testing.T) {
	rec := harness.NewRecorder()
	rec.StackOutputs["org/anka/dev"] = ankaOutputs()
	err := harness.Run(t, "dev", nil, nil, rec, func(ctx *pulumi.Context) error { return Run(ctx, "org/anka/dev") })
	require.NoError(t, err)
	assert.Equal(t, "org/anka/dev", rec.Get(t, "pulumi:pulumi:StackReference", "anka").Inputs["name"].StringValue())
}

// The project and example stack files load the way the CLI loads them, and
// the example's config drives the program.
func TestConsumerExampleStackFileDrivesTheProgram(t *testing.T) {
	proj, err := workspace.LoadProject("Pulumi.yaml")
	require.NoError(t, err)
	assert.Equal(t, "anka-consumer", string(proj.Name))
	assert.Equal(t, "go", proj.Runtime.Name())

	cfg, secretKeys := harness.LoadStackConfig(t, ".", "example")
	assert.Equal(t, ankaStack, cfg[ConfigAnkaStack])
	rec := harness.NewRecorder()
	rec.StackOutputs[cfg[ConfigAnkaStack]] = ankaOutputs()
	require.NoError(t, harness.Run(t, "example", cfg, secretKeys, rec, Program))
	rec.Get(t, "kubernetes:core/v1:Secret", SecretName)
}
