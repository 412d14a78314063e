package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nodeUpdateHeader = "## Node updates and in-flight pushes"

// TestNodeUpdatesNeverForcePods: every zone's node group is updated with
// forceUpdateVersion false, so EKS never deletes a pod (a Registry still
// finishing a push) that did not drain within its 15 minutes; one node at
// a time. The documented procedure (docs/operations.md, "Node updates and
// in-flight pushes") moves the pushes out of a zone first.
func TestNodeUpdatesNeverForcePods(t *testing.T) {
	for _, stack := range environmentStacks {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		groups := run.rec.ByType(typeNodeGroup)
		require.Len(t, groups, 3, stack)
		for _, g := range groups {
			force, ok := g.Inputs["forceUpdateVersion"]
			require.True(t, ok, "%s: %s must set forceUpdateVersion explicitly", stack, g.Name)
			assert.False(t, force.BoolValue(), "%s: %s: a forced update deletes the pods that did not drain, cutting their pushes", stack, g.Name)
			assert.Equal(t, float64(1), g.Inputs["updateConfig"].ObjectValue()["maxUnavailable"].NumberValue(), "%s: %s", stack, g.Name)
		}
	}
}

// TestNodeUpdateProcedureDocumented: the procedure drains the zone's
// push-carrying pods (by the labels the program sets) with a timeout
// covering the push window, before an `up` limited to that zone, and the
// URN it excludes is a node group the program registers.
func TestNodeUpdateProcedureDocumented(t *testing.T) {
	doc := section(t, nodeUpdateHeader)
	steps := []string{
		"kubectl drain -l anka.io/zone=$ZONE --pod-selector=anka.io/registry=true",
		"--timeout=65m",
		"--pod-selector=app.kubernetes.io/name=anka-edge-nginx",
		"pulumi up --exclude",
		"--exclude-dependents",
	}
	assertInOrder(t, doc, "node update", steps)
	assert.Contains(t, doc, "managed-node-update-behavior", "cite EKS's node update phases")
	assert.Contains(t, doc, "forceUpdateVersion: false")
	assertDocumentedURNs(t, doc)

	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	// the labels the drains select by
	reg := run.rec.Get(t, "kubernetes:apps/v1:Deployment", "anka-registry")
	labels := reg.Inputs["spec"].ObjectValue()["template"].ObjectValue()["metadata"].ObjectValue()["labels"].ObjectValue()
	assert.Equal(t, "true", labels["anka.io/registry"].StringValue())
	ng := run.rec.Get(t, typeNodeGroup, "cluster-nodes-us-east-1a")
	assert.Equal(t, "us-east-1a", ng.Inputs["labels"].ObjectValue()["anka.io/zone"].StringValue())
}
