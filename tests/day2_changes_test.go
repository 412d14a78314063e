package tests

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/etcd"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
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
	three, err := runStackFile(t, "prod", nil)
	require.NoError(t, err)
	four, err := runStackFile(t, "prod", patchObject(t, "prod", "anka:network", map[string]any{
		"availabilityZones": []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"},
	}))
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
	after, err := runStackFile(t, "prod", map[string]string{"anka:etcdTlsSeed": strings.Repeat("5eed", 16)})
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

// TestDay2EtcdTLSRotationRollsOnlyOnTrustChanges: the three steps of
// docs/operations.md "Rotating etcd's certificates" on the prod stack.
// Every step changes the two Secrets, the StatefulSet's generations
// annotation (metadata: no rollout; the update hook reads it) and the
// Controller's pod template (it reads its etcd client files at start, so
// it rolls onto each step's files). Steps 1 and 3 also change the members'
// pod template, and only its trust annotation (a rolling restart: etcd
// reads CA files at start); step 2 restarts no member (etcd reloads key
// pairs per handshake).
func TestDay2EtcdTLSRotationRollsOnlyOnTrustChanges(t *testing.T) {
	cfg, _ := stackConfig(t, "prod", nil)
	withTLS := func(set map[string]any) map[string]string {
		var etcdObj map[string]any
		require.NoError(t, json.Unmarshal([]byte(cfg["anka:etcd"]), &etcdObj))
		tls, _ := etcdObj["tls"].(map[string]any)
		require.NotNil(t, tls, "Pulumi.prod.yaml sets anka:etcd.tls")
		for k, v := range set {
			tls[k] = v
		}
		b, err := json.Marshal(etcdObj)
		require.NoError(t, err)
		return map[string]string{"anka:etcd": string(b)}
	}
	states := []map[string]string{
		nil,
		withTLS(map[string]any{"rotateFrom": 1}),
		withTLS(map[string]any{"rotateFrom": 1, "generation": 2}),
		withTLS(map[string]any{"generation": 2}),
	}
	runs := make([]*stackRun, len(states))
	for i, o := range states {
		var err error
		runs[i], err = runStackFile(t, "prod", o)
		require.NoError(t, err, "state %d", i)
	}
	const (
		sts        = "kubernetes:apps/v1:StatefulSet etcd-members"
		controller = "kubernetes:apps/v1:Deployment anka-controller"
	)
	// template is the members' pod template; withoutTLS the StatefulSet's
	// inputs without the two TLS annotations.
	template := func(r harness.Resource) map[string]any {
		m := harness.Plain(resource.NewObjectProperty(r.Inputs)).(map[string]any)
		return m["spec"].(map[string]any)["template"].(map[string]any)
	}
	withoutTLS := func(r harness.Resource) string {
		m := harness.Plain(resource.NewObjectProperty(r.Inputs)).(map[string]any)
		delete(m["metadata"].(map[string]any)["annotations"].(map[string]any), etcd.TLSGenerationsAnnotation)
		delete(m["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any), etcd.TLSTrustAnnotation)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	for step, wantRoll := range map[int]bool{1: true, 2: false, 3: true} {
		was := map[string]harness.Resource{}
		for _, r := range runs[step-1].rec.Resources() {
			was[r.Type+" "+r.Name] = r
		}
		var changed []string
		rolled := false
		for _, r := range runs[step].rec.Resources() {
			k := r.Type + " " + r.Name
			old, ok := was[k]
			if ok && old.Inputs.DeepEquals(r.Inputs) {
				continue
			}
			changed = append(changed, k)
			if k == sts {
				require.Equal(t, withoutTLS(old), withoutTLS(r), "step %d changes the StatefulSet beyond its TLS annotations", step)
				rolled = !reflect.DeepEqual(template(old), template(r))
			}
		}
		require.ElementsMatch(t, []string{"kubernetes:core/v1:Secret etcd-tls", "kubernetes:core/v1:Secret etcd-client-tls", sts, controller}, changed, "step %d", step)
		require.Equal(t, wantRoll, rolled, "step %d rolls the members: %v", step, wantRoll)
	}
}

// TestDay2EtcdCertificatesNearExpiryWarn: with fewer than 30 days left on
// the prod stack's etcd certificates the stack's preview warnings name
// anka:etcd.tls.notBefore and the runbook; a month earlier they do not.
func TestDay2EtcdCertificatesNearExpiryWarn(t *testing.T) {
	cfg, secretKeys := stackConfig(t, "prod", nil)
	warnings := func(now time.Time) []string {
		old := etcd.Now
		etcd.Now = func() time.Time { return now }
		defer func() { etcd.Now = old }()
		var out []string
		require.NoError(t, harness.Run(t, "prod", cfg, secretKeys, nil, func(ctx *pulumi.Context) error {
			c, err := stacks.Load(ctx)
			for _, w := range c.Warnings() {
				if strings.Contains(w, "etcd's certificates") {
					out = append(out, w)
				}
			}
			return err
		}))
		return out
	}
	assert.Empty(t, warnings(etcdTestNow))
	w := warnings(time.Date(2027, 12, 20, 0, 0, 0, 0, time.UTC))
	require.Len(t, w, 1)
	assert.Contains(t, w[0], "anka:etcd.tls.notBefore")
	assert.Contains(t, w[0], `docs/operations.md "Renewing etcd's certificates"`)
}
