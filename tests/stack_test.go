package tests

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var environmentStacks = []string{"dev", "prod", "s3"}

// TestStackGolden snapshots every resource the program registers for each
// stack file. Reviewers read infrastructure changes from these diffs.
func TestStackGolden(t *testing.T) {
	for _, stack := range environmentStacks {
		t.Run(stack, func(t *testing.T) {
			run, err := runStackFile(t, stack, nil)
			require.NoError(t, err)
			harness.CompareGolden(t, filepath.Join("testdata", stack+".json"), run.rec.Snapshot(stack, run.outputs))
		})
	}
}

// TestMakeGoldenRewritesEveryGoldenFile: every test that compares with a
// golden file (harness.CompareGolden or CompareGoldenText) is in a package
// `make golden` runs and matches its -run pattern, so one command rewrites
// them all.
func TestMakeGoldenRewritesEveryGoldenFile(t *testing.T) {
	root := repoRoot(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	pkgs := regexp.MustCompile(`(?m)^GOLDEN_PACKAGES := (.+)$`).FindSubmatch(mk)
	require.NotNil(t, pkgs, "Makefile: GOLDEN_PACKAGES")
	run := regexp.MustCompile(`(?m)^\tgo test \$\(GOLDEN_PACKAGES\) .*-run '([^']+)' -update$`).FindSubmatch(mk)
	require.NotNil(t, run, "Makefile: the golden target's go test line")
	listed := strings.Fields(string(pkgs[1]))
	runRE := regexp.MustCompile(string(run[1]))
	needle := []byte("harness." + "CompareGolden") // split, so this test does not find itself
	found := 0
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(src, needle) {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		require.NoError(t, err)
		assert.Contains(t, listed, "./"+filepath.ToSlash(rel), "%s compares golden files; add its package to GOLDEN_PACKAGES", path)
		for _, fn := range regexp.MustCompile(`(?ms)^func (Test\w+)\(t \*testing\.T\) \{\n(.*?)^\}`).FindAllSubmatch(src, -1) {
			if bytes.Contains(fn[2], needle) {
				found++
				assert.True(t, runRE.Match(fn[1]), "%s: %s compares a golden file but `make golden` -run %q skips it", path, fn[1], run[1])
			}
		}
		return nil
	}))
	assert.Equal(t, 4, found, "the golden tests: the stacks', prod with monitoring, etcd's member env, nginx.conf")
}

func TestStackOutputsContract(t *testing.T) {
	for _, stack := range environmentStacks {
		t.Run(stack, func(t *testing.T) {
			run, err := runStackFile(t, stack, nil)
			require.NoError(t, err)
			for _, name := range []string{
				stacks.OutputClusterName, stacks.OutputKubeconfig, stacks.OutputOIDCProviderArn,
				stacks.OutputVpcID, stacks.OutputPrivateSubnetIDs, stacks.OutputPublicSubnetIDs,
				stacks.OutputEtcdStorageClass, stacks.OutputControllerURL, stacks.OutputRegistryURL,
			} {
				assert.Contains(t, run.outputs, name)
			}
			assert.True(t, run.secret[stacks.OutputKubeconfig], "kubeconfig must be exported as a secret")
			assert.Equal(t, harness.SecretPlaceholder, run.outputs[stacks.OutputKubeconfig])
			assert.Equal(t, "anka-"+stack, run.outputs[stacks.OutputClusterName])
			assert.Equal(t, "anka-etcd", run.outputs[stacks.OutputEtcdStorageClass])
			assert.Len(t, run.outputs[stacks.OutputPrivateSubnetIDs], 3)
			assert.Len(t, run.outputs[stacks.OutputPublicSubnetIDs], 3)
		})
	}
}

// TestStackEveryResourceHasAParent: nothing floats at the stack root but the
// top-level components (and the providers/stack references they own).
func TestStackEveryResourceHasAParent(t *testing.T) {
	for _, stack := range environmentStacks {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		for _, r := range run.rec.Resources() {
			if strings.HasPrefix(r.Type, "anka:") {
				continue
			}
			assert.NotEqual(t, "anka-"+stack, r.ParentName(), "%s: %s %q sits at the stack root instead of under its component", stack, r.Type, r.Name)
			assert.NotEmpty(t, r.Parent, "%s: %s %q has no parent", stack, r.Type, r.Name)
		}
	}
}

func TestStackNodeGroupsOnePerZone(t *testing.T) {
	for _, stack := range environmentStacks {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		groups := run.rec.ByType("aws:eks/nodeGroup:NodeGroup")
		require.Len(t, groups, 3, stack)
		for _, g := range groups {
			subnets := g.Inputs["subnetIds"].ArrayValue()
			assert.Len(t, subnets, 1, "%s: node group %s must live in exactly one zone's subnet so zonal EBS volumes can follow their pods", stack, g.Name)
			assert.Equal(t, "AL2023_x86_64_STANDARD", g.Inputs["amiType"].StringValue())
		}
		lt := run.rec.ByType("aws:ec2/launchTemplate:LaunchTemplate")
		require.Len(t, lt, 1)
		md := lt[0].Inputs["metadataOptions"].ObjectValue()
		assert.Equal(t, "required", md["httpTokens"].StringValue(), "IMDSv2 must be required")
		ebs := lt[0].Inputs["blockDeviceMappings"].ArrayValue()[0].ObjectValue()["ebs"].ObjectValue()
		assert.Equal(t, "true", ebs["encrypted"].StringValue(), "node root volumes must be encrypted")
	}
}

func TestStackNetworkSpreadsOverThreeZones(t *testing.T) {
	for _, stack := range environmentStacks {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		zones := map[string]int{}
		var elb, internal int
		for _, s := range run.rec.ByType("aws:ec2/subnet:Subnet") {
			zones[s.Inputs["availabilityZone"].StringValue()]++
			tags := s.Inputs["tags"].ObjectValue()
			if _, ok := tags["kubernetes.io/role/elb"]; ok {
				elb++
			}
			if _, ok := tags["kubernetes.io/role/internal-elb"]; ok {
				internal++
			}
			assert.Equal(t, "shared", tags[resource.PropertyKey("kubernetes.io/cluster/anka-"+stack)].StringValue())
		}
		assert.Len(t, zones, 3)
		assert.Equal(t, 3, elb, "one public (load balancer) subnet per zone")
		assert.Equal(t, 3, internal, "one private (node) subnet per zone")
		nats := len(run.rec.ByType("aws:ec2/natGateway:NatGateway"))
		if stack != "dev" {
			assert.Equal(t, 3, nats, "prod environments run a NAT gateway per zone")
		} else {
			assert.Equal(t, 1, nats, "dev runs one NAT gateway")
		}
		endpoint := run.rec.Get(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
		assert.Equal(t, "Gateway", endpoint.Inputs["vpcEndpointType"].StringValue())
		assert.Len(t, endpoint.Inputs["routeTableIds"].ArrayValue(), 3, "the S3 gateway endpoint serves every private route table")
	}
}

func TestStackEtcdStorageClass(t *testing.T) {
	cases := map[string]map[string]string{
		"dev":  {"type": "gp3", "iops": "3000", "throughput": "125", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
		"prod": {"type": "gp3", "iops": "6000", "throughput": "250", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"},
	}
	for stack, want := range cases {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		sc := run.rec.Get(t, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-etcd")
		assert.Equal(t, "ebs.csi.aws.com", sc.Inputs["provisioner"].StringValue())
		assert.Equal(t, "Retain", sc.Inputs["reclaimPolicy"].StringValue())
		assert.Equal(t, "WaitForFirstConsumer", sc.Inputs["volumeBindingMode"].StringValue())
		assert.True(t, sc.Inputs["allowVolumeExpansion"].BoolValue())
		// A parameter change replaces the class (delete before replace); a
		// retained old class would make the replacement's create fail.
		assert.False(t, sc.RetainOnDelete, "the StorageClass must not be retained: its replacement would upsert onto it")
		for _, sts := range run.rec.ByType("kubernetes:apps/v1:StatefulSet") {
			for _, dep := range sts.DependsOn {
				assert.NotContains(t, dep, "StorageClass", "the StatefulSet %s must not depend on a StorageClass: its replacement would replace the StatefulSet", sts.Name)
			}
		}
		got := map[string]string{}
		for k, v := range sc.Inputs["parameters"].ObjectValue() {
			got[string(k)] = v.StringValue()
		}
		assert.Equal(t, want, got, stack)
		assert.Equal(t, "cluster-k8s", harness.ProviderName(sc.Provider), "the StorageClass goes to the cluster's provider")
	}
}

func TestStackIRSAWiring(t *testing.T) {
	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	issuer := strings.TrimPrefix(harness.OIDCIssuer, "https://")
	for role, sa := range map[string]string{
		"cluster-ebs-csi":        "system:serviceaccount:kube-system:ebs-csi-controller-sa",
		"cluster-alb-controller": "system:serviceaccount:kube-system:aws-load-balancer-controller",
	} {
		r := run.rec.Get(t, "aws:iam/role:Role", role)
		var doc struct {
			Statement []struct {
				Condition map[string]map[string]string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(r.Inputs["assumeRolePolicy"].StringValue()), &doc))
		assert.Equal(t, sa, doc.Statement[0].Condition["StringEquals"][issuer+":sub"], role)
	}
	addon := run.rec.Get(t, "aws:eks/addon:Addon", "cluster-ebs-csi")
	assert.Equal(t, "aws-ebs-csi-driver", addon.Inputs["addonName"].StringValue())
	assert.Contains(t, addon.Inputs["serviceAccountRoleArn"].StringValue(), "role/cluster-ebs-csi")
	oidc := run.rec.Get(t, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster-oidc")
	assert.Equal(t, harness.OIDCIssuer, oidc.Inputs["url"].StringValue())
}

func TestStackProdEncryptsSecretsWithKMS(t *testing.T) {
	run, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	key := run.rec.Get(t, "aws:kms/key:Key", "cluster-secrets")
	assert.True(t, key.Inputs["enableKeyRotation"].BoolValue())
	eks := run.rec.Get(t, "eks:index:Cluster", "cluster-eks")
	assert.Contains(t, eks.Inputs["encryptionConfigKeyArn"].StringValue(), "key/cluster-secrets")
	assert.Len(t, eks.Inputs["enabledClusterLogTypes"].ArrayValue(), 5)
	assert.False(t, eks.Inputs["endpointPublicAccess"].BoolValue() && containsString(eks.Inputs["publicAccessCidrs"].ArrayValue(), "0.0.0.0/0"))

	dev, err := runStackFile(t, "dev", nil)
	require.NoError(t, err)
	assert.Empty(t, dev.rec.ByType("aws:kms/key:Key"), "dev does not pay for a KMS key")
}

func containsString(values []resource.PropertyValue, want string) bool {
	for _, v := range values {
		if v.IsString() && v.StringValue() == want {
			return true
		}
	}
	return false
}

// TestStackRegistryStorageModes: dev and prod keep templates on FSx for
// OpenZFS (protected), the s3 example in a protected bucket with no file
// system or volume at all.
func TestStackRegistryStorageModes(t *testing.T) {
	for stack, fsx := range map[string]bool{"dev": true, "prod": true, "s3": false} {
		run, err := runStackFile(t, stack, nil)
		require.NoError(t, err)
		fs := run.rec.ByType("aws:fsx/openZfsFileSystem:OpenZfsFileSystem")
		pvs := run.rec.ByType("kubernetes:core/v1:PersistentVolume")
		if fsx {
			require.Len(t, fs, 1, stack)
			assert.True(t, fs[0].Protect && fs[0].RetainOnDelete, "%s: the registry file system is protected and retained", stack)
			assert.Len(t, pvs, 1, stack)
			assert.Equal(t, "fsx-openzfs", run.outputs[stacks.OutputRegistryStorage])
			continue
		}
		assert.Empty(t, fs, stack)
		assert.Empty(t, pvs, stack)
		assert.Empty(t, run.rec.ByType("aws:efs/fileSystem:FileSystem"), stack)
		assert.Equal(t, "s3", run.outputs[stacks.OutputRegistryStorage])
		assert.NotEmpty(t, run.outputs[stacks.OutputRegistryBucket])
		for _, b := range run.rec.ByType("aws:s3/bucketV2:BucketV2") {
			assert.True(t, b.Protect && b.RetainOnDelete, "%s: bucket %s is protected and retained", stack, b.Name)
		}
	}
}

// golden is a snapshot file TestStackGolden keeps, read back as plain JSON
// by the tests that check rules across a whole rendered stack.
type golden struct {
	Resources []goldenResource `json:"resources"`
}

type goldenResource struct {
	Type    string        `json:"type"`
	Name    string        `json:"name"`
	Inputs  jsonObj       `json:"inputs"`
	Options goldenOptions `json:"options"`
}

type goldenOptions struct {
	CustomTimeouts *harness.CustomTimeouts `json:"customTimeouts"`
}

func readGolden(t *testing.T, stack string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", stack+".json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(b, &g))
	return g
}

func (g golden) ofType(typ string) []goldenResource {
	var out []goldenResource
	for _, r := range g.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

func (g golden) find(typ, name string) *goldenResource {
	for _, r := range g.Resources {
		if r.Type == typ && r.Name == name {
			return &r
		}
	}
	return nil
}

func (g golden) deploymentsWithContainer(name string) []goldenResource {
	var out []goldenResource
	for _, r := range g.ofType("kubernetes:apps/v1:Deployment") {
		for _, c := range r.pod().containers() {
			if c["name"] == name {
				out = append(out, r)
			}
		}
	}
	return out
}

func (r goldenResource) obj(path ...string) jsonObj { return r.Inputs.obj(path...) }
func (r goldenResource) pod() jsonObj               { return r.Inputs.obj("spec", "template", "spec") }

// jsonObj is one JSON object of a snapshot.
type jsonObj map[string]any

func (o jsonObj) obj(path ...string) jsonObj {
	cur := o
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

func (o jsonObj) str(t *testing.T, key string) string {
	t.Helper()
	s, ok := o[key].(string)
	require.True(t, ok, "%q is not a string in %v", key, o)
	return s
}

func (o jsonObj) int(t *testing.T, path ...string) int {
	t.Helper()
	v, ok := o.obj(path[:len(path)-1]...)[path[len(path)-1]].(float64)
	require.True(t, ok, "%v is not a number", path)
	return int(v)
}

func (o jsonObj) containers() []jsonObj {
	var out []jsonObj
	list, _ := o["containers"].([]any)
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (o jsonObj) container(t *testing.T, name string) jsonObj {
	t.Helper()
	for _, c := range o.containers() {
		if c["name"] == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

func (o jsonObj) env(t *testing.T, name string) string {
	t.Helper()
	list, _ := o["env"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["name"] == name {
			s, ok := m["value"].(string)
			require.True(t, ok, "env %s has no plain value", name)
			return s
		}
	}
	t.Fatalf("no env %s", name)
	return ""
}
