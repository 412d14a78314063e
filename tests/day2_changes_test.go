package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/require"
)

// TestDay2AddingAZoneChangesNoExistingResource: appending a zone to
// anka:network.availabilityZones (docs/operations.md, "What each change
// does") adds that zone's resources and changes none of the existing
// zones': subnets keep their CIDRs (carved by index), route tables, NAT
// gateways and node groups keep their inputs, nothing is renamed. The
// resources whose inputs list every zone's subnets are updated in place
// (the EKS cluster's vpcConfig.subnetIds is updatable since EKS's October
// 2023 change and the Terraform AWS provider 5.25.0, which pulumi-aws v6
// bridges).
func TestDay2AddingAZoneChangesNoExistingResource(t *testing.T) {
	cfg, _ := stackConfig(t, "prod", nil)
	three, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	four, err := runStackFile(t, "prod", map[string]string{
		"anka:network": withKeys(t, cfg["anka:network"], map[string]any{
			"availabilityZones": []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"},
		}),
	})
	require.NoError(t, err)

	type key struct{ typ, name string }
	after := map[key]string{}
	for _, r := range four.rec.Resources() {
		after[key{r.Type, r.Name}] = inputsJSON(t, r)
	}
	zoneNamed, added := 0, 0
	var changed []string
	for _, r := range three.rec.Resources() {
		k := key{r.Type, r.Name}
		in, ok := after[k]
		if !ok {
			t.Errorf("%s %s is gone (renamed or removed) when a zone is appended", r.Type, r.Name)
			continue
		}
		if in == inputsJSON(t, r) {
			continue
		}
		if strings.Contains(r.Name, "us-east-1") {
			t.Errorf("%s %s of an existing zone changed when a zone is appended", r.Type, r.Name)
		}
		changed = append(changed, r.Type+" "+r.Name)
		if testing.Verbose() {
			t.Logf("%s %s\n before %s\n after  %s", r.Type, r.Name, inputsJSON(t, r), in)
		}
	}
	for k := range after {
		if strings.HasSuffix(k.name, "us-east-1d") || strings.Contains(k.name, "us-east-1d-") {
			added++
		}
		if strings.Contains(k.name, "us-east-1") {
			zoneNamed++
		}
	}
	t.Logf("updated in place (their inputs list every zone): %v", changed)
	require.Positive(t, added, "no resource for the new zone us-east-1d")
	require.Positive(t, zoneNamed)
	// Each is updated in place, not replaced, for the reason given.
	require.ElementsMatch(t, []string{
		// route_table_ids: ModifyVpcEndpoint AddRouteTableIds.
		"aws:ec2/vpcEndpoint:VpcEndpoint network-s3",
		// routeTableIds: UpdateFileSystem's OpenZFSConfiguration
		// AddRouteTableIds (the subnets, which would replace it, stay).
		"aws:fsx/openZfsFileSystem:OpenZfsFileSystem anka-registry",
		// vpcConfig.subnetIds: UpdateClusterConfig (EKS, October 2023).
		"eks:index:Cluster cluster-eks",
		// allowedTopologies: mutable for the API server
		// (ValidateStorageClassUpdate forbids parameters, provisioner,
		// reclaimPolicy, volumeBindingMode) and not among the fields
		// pulumi-kubernetes replaces a StorageClass for (parameters,
		// provisioner: provider/pkg/provider/diff.go).
		"kubernetes:storage.k8s.io/v1:StorageClass storage-etcd",
		"kubernetes:storage.k8s.io/v1:StorageClass storage-disk-check",
	}, changed, "the resources a zone appended changes besides its own")
}

// inputsJSON is a resource's inputs as comparable JSON.
func inputsJSON(t *testing.T, r harness.Resource) string {
	t.Helper()
	b, err := json.Marshal(harness.Plain(resource.NewObjectProperty(r.Inputs)))
	require.NoError(t, err)
	return string(b)
}

// TestDay2TLSSeedChangeTouchesOnlySecrets: a new anka:etcdTlsSeed changes
// the certificate Secrets and nothing else: no StatefulSet rollout that
// would restart members one by one into a cluster that no longer trusts
// them (docs/operations.md, "Rotating etcd's certificates").
func TestDay2TLSSeedChangeTouchesOnlySecrets(t *testing.T) {
	before, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	after, err := runStackFile(t, "prod", map[string]string{"anka:etcdTlsSeed": TestTLSSeed + "-rotated"})
	require.NoError(t, err)
	// Raw inputs: the JSON form shows secrets as a placeholder.
	was := map[string]resource.PropertyMap{}
	for _, r := range before.rec.Resources() {
		was[r.Type+" "+r.Name] = r.Inputs
	}
	var changed []string
	for _, r := range after.rec.Resources() {
		k := r.Type + " " + r.Name
		if old, ok := was[k]; !ok || !old.DeepEquals(r.Inputs) {
			changed = append(changed, k)
		}
	}
	require.NotEmpty(t, changed, "the seed changed nothing")
	for _, c := range changed {
		require.True(t, strings.HasPrefix(c, "kubernetes:core/v1:Secret "), "a seed change must touch only Secrets, changed: %s", c)
	}
	t.Logf("changed: %v", changed)
}
