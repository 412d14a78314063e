package cluster

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func eksArgs() Args {
	return Args{
		Name: "anka-test", Region: "us-east-1",
		AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
	}
}

// eksWiring stands for the network component's outputs.
func eksWiring() Wiring {
	return Wiring{
		VpcID:            pulumi.String("vpc-1"),
		PrivateSubnetIDs: pulumi.ToStringArray([]string{"s-a", "s-b", "s-c"}),
		PublicSubnetIDs:  pulumi.ToStringArray([]string{"p-a", "p-b", "p-c"}),
	}
}

func TestClusterEKSNoDefaultNodeGroupAndPerZoneGroups(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", eksArgs(), eksWiring())
		return err
	})
	require.NoError(t, err)
	eks := rec.Get(t, "eks:index:Cluster", "cluster-eks")
	assert.True(t, eks.Inputs["skipDefaultNodeGroup"].BoolValue())
	assert.Equal(t, "API", eks.Inputs["authenticationMode"].StringValue())
	groups := rec.ByType("aws:eks/nodeGroup:NodeGroup")
	require.Len(t, groups, 3)
	for i, g := range groups {
		assert.Equal(t, []any{[]string{"s-a", "s-b", "s-c"}[i]}, []any{g.Inputs["subnetIds"].ArrayValue()[0].StringValue()})
	}
	for _, r := range rec.Resources() {
		if r.Type != TypeToken {
			assert.Equal(t, "cluster", r.ParentName(), "%s %s must be parented to the component", r.Type, r.Name)
		}
	}
	cni := rec.Get(t, "aws:eks/addon:Addon", "cluster-vpc-cni")
	assert.JSONEq(t, `{"enableNetworkPolicy":"true"}`, cni.Inputs["configurationValues"].StringValue(), "NetworkPolicies must be enforced")
	release := rec.Get(t, "kubernetes:helm.sh/v3:Release", "cluster-alb-controller")
	assert.Equal(t, "cluster-k8s", harness.ProviderName(release.Provider))
	policy := rec.Get(t, "aws:iam/policy:Policy", "cluster-alb-controller")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(policy.Inputs["policy"].StringValue()), &doc), "the controller policy is valid JSON")
}

func TestClusterExistingModeCreatesNoAWSResources(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", Args{Mode: ModeExisting, Name: "local", Kubeconfig: "/tmp/kubeconfig"}, Wiring{})
		return err
	})
	require.NoError(t, err)
	var types []string
	for _, r := range rec.Resources() {
		types = append(types, r.Type)
	}
	assert.ElementsMatch(t, []string{TypeToken, "pulumi:providers:kubernetes"}, types)
	p := rec.Get(t, "pulumi:providers:kubernetes", "cluster-k8s")
	assert.True(t, p.Inputs["kubeconfig"].IsSecret(), "the kubeconfig reaches the provider as a secret")
	assert.Equal(t, "true", fmt.Sprint(p.Inputs["upsertExistingObjects"].V), "a second up after destroy adopts the kept namespace and claims")
}

func TestClusterValidation(t *testing.T) {
	a := eksArgs()
	a.Nodes = NodeGroupArgs{MinPerZone: 2, MaxPerZone: 1, DesiredPerZone: 5, DiskGiB: 5, CapacityType: "RESERVED"}
	a.LogTypes = []string{"api", "kubelet"}
	a.PublicAccessCIDRs = []string{"bad"}
	harness.AssertKeys(t, a.Validate(), "anka:cluster.nodes.maxPerZone", "anka:cluster.nodes.desiredPerZone", "anka:cluster.nodes.diskGiB", "anka:cluster.nodes.capacityType", "anka:cluster.publicAccessCidrs", "anka:cluster.logTypes")
	harness.AssertKeys(t, Args{Mode: ModeExisting, Name: "x"}.Validate(), "anka:cluster.kubeconfig")
}

// TestClusterExistingFromStackReference: with anka:cluster.stackRef the
// kubeconfig is the named stack's output "kubeconfig", read through a
// StackReference parented to the component, and reaches the Kubernetes
// provider as a secret.
func TestClusterExistingFromStackReference(t *testing.T) {
	rec := harness.NewRecorder()
	rec.StackOutputs["acme/eks/prod"] = map[string]any{StackRefKubeconfigOutput: "apiVersion: v1\nkind: Config\n"}
	var c *Cluster
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) (err error) {
		c, err = New(ctx, "cluster", Args{Mode: ModeExisting, Name: "shared", StackRef: "acme/eks/prod"}, Wiring{})
		return err
	})
	require.NoError(t, err)
	kubeconfig, _ := harness.MustAwait(t, c.Kubeconfig)
	ref := rec.Get(t, "pulumi:pulumi:StackReference", "cluster-stack-ref")
	assert.Equal(t, "cluster", ref.ParentName(), "the StackReference is the component's child")
	assert.Equal(t, "apiVersion: v1\nkind: Config\n", kubeconfig)
	p := rec.Get(t, "pulumi:providers:kubernetes", "cluster-k8s")
	assert.True(t, p.Inputs["kubeconfig"].IsSecret() || p.Inputs["kubeconfig"].ContainsSecrets(), "the referenced kubeconfig reaches the provider as a secret")

	err = Args{Mode: ModeExisting, Name: "shared", StackRef: "acme/eks/prod", Kubeconfig: "/tmp/k"}.Validate()
	assert.ErrorContains(t, err, "anka:cluster.stackRef must not be set with anka:cluster.kubeconfig")
	err = Args{Mode: ModeExisting, Name: "shared"}.Validate()
	assert.ErrorContains(t, err, "anka:cluster.kubeconfig must be set in existing mode")
}
