package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapacityStackFilesFit: every stack file's pods find a node on the node
// groups it creates, with room for its Jobs.
func TestCapacityStackFilesFit(t *testing.T) {
	for _, stack := range environmentStacks {
		cfg := loadConfig(t, stack)
		plan, ok, err := cfg.CapacityPlan()
		require.NoError(t, err)
		require.True(t, ok, "%s creates its nodes: the plan must run", stack)
		assert.True(t, plan.Fits(), "%s:\n%s", stack, plan)
		t.Logf("%s:\n%s", stack, plan)
	}
}

// TestCapacityDevAsItWasIsRefused: Pulumi.dev.yaml before the capacity plan
// asked each m6i.large (1930m allocatable) for an etcd member (1 CPU) and a
// Controller+Registry pod (500m + 500m): the pods stayed Pending and `up`
// failed after the provider's wait. Preview now refuses it and names the
// keys that fix it.
func TestCapacityDevAsItWasIsRefused(t *testing.T) {
	msg := assertRefused(t, "dev", merge(patchObject(t, "dev", "anka:etcd", map[string]any{"cpuRequest": "1"}),
		patchObject(t, "dev", "anka:controller", map[string]any{"cpuMillis": 500}),
		patchObject(t, "dev", "anka:registry", map[string]any{"cpuMillis": 500})),
		"anka:cluster.nodes.instanceTypes")
	for _, want := range []string{
		"PENDING anka-controller-registry", "allocatable 1930m CPU",
		"anka:cluster.nodes.desiredPerZone", "anka:controller.cpuMillis", "anka:registry.cpuMillis",
		"the cheapest that fits is",
	} {
		assert.Contains(t, msg, want)
	}
}

// TestCapacityUnknownInstanceTypeIsRefused: the plan cannot vouch for a type
// it has no figures for.
func TestCapacityUnknownInstanceTypeIsRefused(t *testing.T) {
	msg := assertRefused(t, "dev", patchObject(t, "dev", "anka:cluster", map[string]any{"nodes": map[string]any{"instanceTypes": []string{"x9z.huge"}}}),
		"anka:cluster.nodes.instanceTypes")
	assert.Contains(t, msg, "x9z.huge")
}

// TestCapacityPlanTakesTheSmallestType: a node group of several types may
// launch any of them; the plan assumes the smallest.
func TestCapacityPlanTakesTheSmallestType(t *testing.T) {
	cfg := loadConfig(t, "prod")
	cfg.Cluster.Nodes.InstanceTypes = []string{"m6i.4xlarge", "m6i.large"}
	plan, ok, err := cfg.CapacityPlan()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "m6i.large", plan.Cluster.Instance.Name)
	assert.False(t, plan.Fits(), "prod's 2-CPU Controllers cannot run on m6i.large:\n%s", plan)
}
