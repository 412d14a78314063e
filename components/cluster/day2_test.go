package cluster

import (
	"slices"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runEKS(t *testing.T, a Args) *harness.Recorder {
	t.Helper()
	rec := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", a, eksWiring())
		return err
	}))
	return rec
}

func dependsOn(r harness.Resource, typ, name string) bool {
	return slices.ContainsFunc(r.DependsOn, func(urn string) bool { return strings.HasSuffix(urn, typ+"::"+name) })
}

const nodeGroupType = "aws:eks/nodeGroup:NodeGroup"

// TestClusterNodeGroupsReplaceZoneByZoneCreateBeforeDelete: node groups are
// named by prefix (the provider adds a unique suffix, so a replacement is
// created before the old group is deleted) and each zone's group waits for
// the previous zone's, so replacements and launch-template updates roll one
// zone at a time.
func TestClusterNodeGroupsReplaceZoneByZoneCreateBeforeDelete(t *testing.T) {
	rec := runEKS(t, eksArgs())
	zones := eksArgs().AvailabilityZones
	for i, zone := range zones {
		g := rec.Get(t, nodeGroupType, "cluster-nodes-"+zone)
		assert.Equal(t, "anka-test-"+zone+"-", g.Inputs["nodeGroupNamePrefix"].StringValue())
		_, fixed := g.Inputs["nodeGroupName"]
		assert.False(t, fixed, "a fixed nodeGroupName forces delete-before-replace")
		assert.False(t, g.DeleteBeforeReplace)
		for j, other := range zones {
			want := j == i-1
			assert.Equal(t, want, dependsOn(g, nodeGroupType, "cluster-nodes-"+other), "%s depends on %s: want %v", zone, other, want)
		}
	}
	a := eksArgs()
	a.Name = strings.Repeat("n", 26)
	// the node group name prefix would be longer than NodeGroupNamePrefixMax
	harness.AssertKeys(t, a.Validate(), "anka:cluster.name")
}

// TestClusterNodeGroupSizeFollowsConfig: no autoscaler is installed, so the
// desired size is managed from config, not ignored on change.
func TestClusterNodeGroupSizeFollowsConfig(t *testing.T) {
	a := eksArgs()
	a.Nodes = NodeGroupArgs{MinPerZone: 2, DesiredPerZone: 3, MaxPerZone: 4}
	rec := runEKS(t, a)
	groups := rec.ByType(nodeGroupType)
	require.Len(t, groups, 3)
	for _, g := range groups {
		sc := g.Inputs["scalingConfig"].ObjectValue()
		assert.Equal(t, []float64{2, 3, 4}, []float64{sc["minSize"].NumberValue(), sc["desiredSize"].NumberValue(), sc["maxSize"].NumberValue()})
		assert.Empty(t, g.IgnoreChanges, "%s: a desiredPerZone change must reach EKS", g.Name)
	}
	a.Nodes = NodeGroupArgs{MinPerZone: 3, DesiredPerZone: 2, MaxPerZone: 4}
	err := a.Validate()
	harness.AssertKeys(t, err, "anka:cluster.nodes.desiredPerZone")
	assert.ErrorContains(t, err, "between anka:cluster.nodes.minPerZone (3) and anka:cluster.nodes.maxPerZone (4), got 2")
}

// TestClusterAddonsFollowClusterVersion: vpc-cni, kube-proxy, CoreDNS and
// the EBS CSI driver are EKS add-ons whose version is EKS's default for
// anka:cluster.version unless pinned in anka:cluster.addons.<name>.version.
func TestClusterAddonsFollowClusterVersion(t *testing.T) {
	for _, version := range []string{"1.34", "1.35"} {
		a := eksArgs()
		a.Version = version
		a.Addons = map[string]AddonConfig{AddonCoreDNS: {Version: "v1.11.4-eksbuild.2"}}
		rec := runEKS(t, a)
		got := map[string]string{}
		for _, r := range rec.ByType("aws:eks/addon:Addon") {
			got[r.Inputs["addonName"].StringValue()] = r.Inputs["addonVersion"].StringValue()
		}
		assert.Equal(t, map[string]string{
			AddonVPCCNI:    harness.FakeAddonVersion(AddonVPCCNI, version),
			AddonKubeProxy: harness.FakeAddonVersion(AddonKubeProxy, version),
			AddonCoreDNS:   "v1.11.4-eksbuild.2",
			AddonEBSCSI:    harness.FakeAddonVersion(AddonEBSCSI, version),
		}, got, version)
		coredns := rec.Get(t, "aws:eks/addon:Addon", "cluster-coredns")
		for _, zone := range a.AvailabilityZones {
			assert.True(t, dependsOn(coredns, nodeGroupType, "cluster-nodes-"+zone), "CoreDNS needs nodes to become ACTIVE")
		}
		g := rec.Get(t, nodeGroupType, "cluster-nodes-us-east-1a")
		assert.True(t, dependsOn(g, "aws:eks/addon:Addon", "cluster-kube-proxy"))
	}
	a := eksArgs()
	a.Addons = map[string]AddonConfig{"metrics-server": {}, AddonEBSCSI: {Version: "1.2"}}
	harness.AssertKeys(t, a.Validate(), "anka:cluster.addons.aws-ebs-csi-driver.version", "anka:cluster.addons.metrics-server")
}

// TestClusterControlPlaneLogGroupBeforeCluster: the stack owns
// /aws/eks/<name>/cluster with a retention, created before the cluster.
func TestClusterControlPlaneLogGroupBeforeCluster(t *testing.T) {
	rec := runEKS(t, eksArgs())
	lg := rec.Get(t, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs")
	assert.Equal(t, "/aws/eks/anka-test/cluster", lg.Inputs["name"].StringValue())
	assert.Equal(t, float64(DefaultLogRetentionDays), lg.Inputs["retentionInDays"].NumberValue())
	assert.True(t, dependsOn(rec.Get(t, "eks:index:Cluster", "cluster-eks"), "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs"))

	a := eksArgs()
	a.LogRetentionDays = 365
	rec = runEKS(t, a)
	assert.Equal(t, float64(365), rec.Get(t, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs").Inputs["retentionInDays"].NumberValue())
	a.LogRetentionDays = 100
	harness.AssertKeys(t, a.Validate(), "anka:cluster.logRetentionDays")
}

// TestClusterPassesNodeRoleToPulumiEKS: pulumi-eks gets the managed node
// groups' role, so it creates no instance role of its own.
func TestClusterPassesNodeRoleToPulumiEKS(t *testing.T) {
	rec := runEKS(t, eksArgs())
	eks := rec.Get(t, "eks:index:Cluster", "cluster-eks")
	role, ok := eks.Inputs["instanceRole"]
	require.True(t, ok, "instanceRole is passed: %v", eks.Inputs)
	require.True(t, role.IsResourceReference(), "%v", role)
	assert.True(t, strings.HasSuffix(string(role.ResourceReferenceValue().URN), "aws:iam/role:Role::cluster-node"), "%v", role)
	_, many := eks.Inputs["instanceRoles"]
	assert.False(t, many)
}

// TestClusterALBControllerSurvivesDrainsAndZones: the controller's webhook
// must keep a replica: a PDB and a hard zone spread.
func TestClusterALBControllerSurvivesDrainsAndZones(t *testing.T) {
	rec := runEKS(t, eksArgs())
	values := rec.Get(t, "kubernetes:helm.sh/v3:Release", "cluster-alb-controller").Inputs["values"].ObjectValue()
	assert.Equal(t, float64(1), values["podDisruptionBudget"].ObjectValue()["maxUnavailable"].NumberValue())
	tsc := values["topologySpreadConstraints"].ArrayValue()
	require.Len(t, tsc, 1)
	c := tsc[0].ObjectValue()
	assert.Equal(t, "topology.kubernetes.io/zone", c["topologyKey"].StringValue())
	assert.Equal(t, "DoNotSchedule", c["whenUnsatisfiable"].StringValue())
	assert.Equal(t, float64(1), c["maxSkew"].NumberValue())
	sel := c["labelSelector"].ObjectValue()["matchLabels"].ObjectValue()
	assert.Equal(t, "aws-load-balancer-controller", sel["app.kubernetes.io/name"].StringValue())
	assert.Equal(t, "aws-load-balancer-controller", sel["app.kubernetes.io/instance"].StringValue())
}
