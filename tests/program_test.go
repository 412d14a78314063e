package tests

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProgramPreviewsEveryStackFile runs the program main.go runs
// (stacks.Run) as `pulumi preview` does: the example stack files preview,
// placeholders and all.
func TestProgramPreviewsEveryStackFile(t *testing.T) {
	for _, stack := range environmentStacks {
		cfg, secretKeys := stackConfig(t, stack, nil)
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
		cfg, secretKeys := stackConfig(t, stack, nil)
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
