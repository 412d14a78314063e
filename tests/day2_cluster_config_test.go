package tests

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDay2EBSCSIAddonVersionKeyIsReplaced: the old pin is refused at
// preview, naming the old key and the new one.
func TestDay2EBSCSIAddonVersionKeyIsReplaced(t *testing.T) {
	msg := assertRefused(t, "dev", patchObject(t, "dev", "anka:cluster", map[string]any{"ebsCsiAddonVersion": "v1.38.1-eksbuild.1"}),
		"anka:cluster.ebsCsiAddonVersion")
	assert.Contains(t, msg, "anka:cluster.addons.aws-ebs-csi-driver.version")

	run, err := runStackFile(t, "dev", patchObject(t, "dev", "anka:cluster", map[string]any{
		"addons":           map[string]any{"aws-ebs-csi-driver": map[string]any{"version": "v1.38.1-eksbuild.1"}},
		"logRetentionDays": 30,
	}))
	require.NoError(t, err)
	assert.Equal(t, "v1.38.1-eksbuild.1", run.rec.Get(t, "aws:eks/addon:Addon", "cluster-ebs-csi").Inputs["addonVersion"].StringValue())
	assert.Equal(t, float64(30), run.rec.Get(t, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs").Inputs["retentionInDays"].NumberValue())
}

// TestDay2NATElasticIPQuotaWarning: perAz NAT gateways warn at preview with
// the number of Elastic IPs and the default regional quota of 5.
func TestDay2NATElasticIPQuotaWarning(t *testing.T) {
	for stack, want := range map[string]string{"prod": "allocates 3 Elastic IPs in us-east-1", "s3": "allocates 3 Elastic IPs in us-east-1", "dev": ""} {
		cfg, secrets := harness.LoadStackConfig(t, repoRoot(t), stack)
		var warnings []string
		require.NoError(t, harness.Run(t, stack, cfg, secrets, nil, func(ctx *pulumi.Context) error {
			c, err := stacks.Load(ctx)
			warnings = c.Warnings()
			return err
		}))
		var nat []string
		for _, w := range warnings {
			if strings.HasPrefix(w, "anka:network.natGateways") {
				nat = append(nat, w)
			}
		}
		if want == "" {
			assert.Empty(t, nat, stack)
			continue
		}
		require.Len(t, nat, 1, stack)
		assert.Contains(t, nat[0], want)
		assert.Contains(t, nat[0], "default quota is 5 per region")
	}
}
