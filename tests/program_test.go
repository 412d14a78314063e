package tests

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stackFileConfig is Pulumi.<stack>.yaml's config with the per-stack secrets
// a user sets once (as runStackFile injects them).
func stackFileConfig(t *testing.T, stack string) (map[string]string, []string) {
	t.Helper()
	cfg, secretKeys := harness.LoadStackConfig(t, repoRoot(t), stack)
	if _, ok := cfg["anka:etcdTlsSeed"]; !ok {
		cfg["anka:etcdTlsSeed"] = TestTLSSeed
		secretKeys = append(secretKeys, "anka:etcdTlsSeed")
	}
	injectEdgePKI(t, cfg, &secretKeys)
	injectRootToken(t, cfg, &secretKeys)
	return cfg, secretKeys
}

// TestProgramPreviewsEveryStackFile runs the program main.go runs
// (stacks.Run) as `pulumi preview` does: the example stack files preview,
// placeholders and all.
func TestProgramPreviewsEveryStackFile(t *testing.T) {
	for _, stack := range environmentStacks {
		cfg, secretKeys := stackFileConfig(t, stack)
		rec := harness.NewRecorder()
		rec.Preview = true // provider-computed outputs are unknown, as in a real preview
		require.NoError(t, harness.Preview(t, stack, cfg, secretKeys, rec, stacks.Run), stack)
		assert.Greater(t, rec.Len(), 50, "%s: the preview registers the whole stack", stack)
	}
}

// TestProgramUpRefusesPlaceholders: the example stack files carry AWS's
// documentation account, RFC 5737 ranges and example.com names; `up` of a
// stack that deploys to AWS refuses each by key, before any resource.
func TestProgramUpRefusesPlaceholders(t *testing.T) {
	want := map[string][]string{
		"dev": {"anka:edge.alb.certificateArn", "anka:edge.controllerHostname", "anka:edge.registryHostname", "anka:registry.externalUrl"},
		"prod": {"anka:cluster.publicAccessCidrs[0]", "anka:edge.controllerHostname", "anka:edge.registryHostname",
			"anka:edge.sourceCidrs[0]", "anka:registry.externalUrl"},
	}
	for stack, keys := range want {
		cfg, secretKeys := stackFileConfig(t, stack)
		rec := harness.NewRecorder()
		err := harness.Run(t, stack, cfg, secretKeys, rec, stacks.Run)
		require.Error(t, err, stack)
		for _, k := range keys {
			assert.Contains(t, validation.Keys(err), k, "%s: %v", stack, err)
		}
		assert.Contains(t, err.Error(), "placeholder")
		assert.Equal(t, 0, rec.Len(), "%s: refused before any resource", stack)
	}
}
