package tests

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/stacks"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinClock sets the clock the cluster's version checks read.
func pinClock(t *testing.T, date string) {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	require.NoError(t, err)
	old := cluster.Now
	cluster.Now = func() time.Time { return d.Add(12 * time.Hour) }
	t.Cleanup(func() { cluster.Now = old })
}

// TestClusterStackFilesGrantAccess: every stack file lets the administrators'
// role in as cluster admin and the preview workflow's role in read-only,
// created with the cluster as inputs of eks:index:Cluster; the deploy
// workflow's role creates the cluster, so EKS makes its entry and the program
// does not ask for a second one (409 on the first up).
func TestClusterStackFilesGrantAccess(t *testing.T) {
	for stack, env := range map[string]string{"dev": "dev", "prod": "prod", "s3": "prod"} {
		t.Run(stack, func(t *testing.T) {
			run, err := runStackFile(t, stack, nil)
			require.NoError(t, err)
			in := run.rec.Get(t, "eks:index:Cluster", "cluster-eks").Inputs
			require.True(t, in["accessEntries"].IsObject(), "no access entries on the cluster")
			entries := in["accessEntries"].ObjectValue()
			assert.Len(t, entries, 2)

			admins := entries["123456789012-role-anka-admins"].ObjectValue()
			assert.Equal(t, "arn:aws:iam::123456789012:role/anka-admins", admins["principalArn"].StringValue())
			admin := admins["accessPolicies"].ObjectValue()[cluster.PolicyClusterAdmin].ObjectValue()
			assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", admin["policyArn"].StringValue())
			assert.Equal(t, "cluster", admin["accessScope"].ObjectValue()["type"].StringValue())

			preview := entries[resource.PropertyKey("123456789012-role-github-anka-"+env+"-preview")].ObjectValue()
			policies := preview["accessPolicies"].ObjectValue()
			assert.Len(t, policies, 1)
			view := policies[cluster.PolicyView].ObjectValue()
			assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", view["policyArn"].StringValue())
			assert.Equal(t, "cluster", view["accessScope"].ObjectValue()["type"].StringValue())

			for key := range entries {
				assert.NotContains(t, string(key), "deploy", "the cluster creator's entry is EKS's own")
			}
			assert.True(t, run.stack.Config.Cluster.AccessEntries[2].ClusterCreator)
			assert.Equal(t, "arn:aws:iam::123456789012:role/github-anka-"+env+"-deploy", run.stack.Config.Cluster.AccessEntries[2].PrincipalArn)
		})
	}
}

// TestClusterProdRefusesTheCreatorAsOnlyAdmin: prod needs a cluster admin
// besides the principal that ran the first up; dev only warns.
func TestClusterProdRefusesTheCreatorAsOnlyAdmin(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"no access entries": func(c map[string]any) { delete(c, "accessEntries") },
		"only the creator and a viewer": func(c map[string]any) {
			c["accessEntries"] = c["accessEntries"].([]any)[1:]
		},
		"an admin limited to a namespace": func(c map[string]any) {
			admins := c["accessEntries"].([]any)[0].(map[string]any)
			admins["accessPolicies"] = []any{map[string]any{"policy": "AmazonEKSClusterAdminPolicy", "scope": "namespace", "namespaces": []any{"anka"}}}
		},
		"an admin with the edit policy": func(c map[string]any) {
			admins := c["accessEntries"].([]any)[0].(map[string]any)
			admins["accessPolicies"] = []any{map[string]any{"policy": "AmazonEKSEditPolicy"}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			msg := assertRefused(t, "prod", editStackObject(t, "prod", "anka:cluster", edit), "anka:cluster.accessEntries")
			assert.Contains(t, msg, "AmazonEKSClusterAdminPolicy at scope cluster to at least one principal besides the cluster creator")
		})
	}
	_, err := runStackFile(t, "dev", editStackObject(t, "dev", "anka:cluster", func(c map[string]any) { delete(c, "accessEntries") }))
	assert.NoError(t, err, "dev may rely on the creator alone (preview warns)")
}

// TestClusterAccessEntryErrorsNameTheStackFileKey: a bad entry in the stack
// file is reported by its path in anka:cluster, before any resource exists.
func TestClusterAccessEntryErrorsNameTheStackFileKey(t *testing.T) {
	assertRefused(t, "dev", editStackObject(t, "dev", "anka:cluster", func(c map[string]any) {
		entries := c["accessEntries"].([]any)
		entries[0].(map[string]any)["principalArn"] = "arn:aws:sts::123456789012:assumed-role/anka-admins/alice"
		entries[1].(map[string]any)["accessPolicies"] = []any{map[string]any{"policy": "AmazonEKSEditPolicy", "scope": "namespace"}}
	}), "anka:cluster.accessEntries[0].principalArn", "anka:cluster.accessEntries[1].accessPolicies[0].namespaces")

	// a misspelled key inside an entry is refused, not ignored
	assertRefused(t, "dev", editStackObject(t, "dev", "anka:cluster", func(c map[string]any) {
		c["accessEntries"].([]any)[0].(map[string]any)["principal"] = "arn:aws:iam::123456789012:role/x"
	}), "anka:cluster")
}

// TestClusterKubeconfigOutputCarriesRegion: the exported kubeconfig other
// stacks consume, and the one the stack's Kubernetes provider uses, run
// `aws eks get-token --cluster-name anka-dev --region us-east-1`.
func TestClusterKubeconfigOutputCarriesRegion(t *testing.T) {
	cfg, secretKeys := stackConfig(t, "dev", nil)
	rec := harness.NewRecorder()
	var st *stacks.Stack
	require.NoError(t, harness.Run(t, "dev", cfg, secretKeys, rec, func(ctx *pulumi.Context) (err error) {
		st, err = newStack(ctx)
		return err
	}))
	kc, ok := st.Outputs.Map()[stacks.OutputKubeconfig].(pulumi.StringOutput)
	require.True(t, ok, "output %s is not a string output", stacks.OutputKubeconfig)
	v, _ := harness.MustAwait(t, kc)
	out := v.(string)
	want := `"get-token","--cluster-name","anka-dev","--region","us-east-1"`
	assert.Contains(t, out, want, "exported kubeconfig")
	p := rec.Get(t, "pulumi:providers:kubernetes", "cluster-k8s")
	require.True(t, p.Inputs["kubeconfig"].IsSecret())
	assert.Contains(t, p.Inputs["kubeconfig"].SecretValue().Element.StringValue(), want, "the provider's kubeconfig")
}

// TestClusterEBSCSIMayUseTheEtcdVolumeKey: anka:storage.etcd.kmsKeyArn
// reaches the EBS CSI driver's role as a policy on exactly that key.
func TestClusterEBSCSIMayUseTheEtcdVolumeKey(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	run, err := runStackFile(t, "dev", map[string]string{"anka:storage": `{"etcd":{"type":"gp3","iops":3000,"throughputMiBps":125,"kmsKeyArn":"` + key + `"}}`})
	require.NoError(t, err)
	p := run.rec.Get(t, "aws:iam/rolePolicy:RolePolicy", "cluster-ebs-csi-kms")
	assert.True(t, strings.HasPrefix(p.Inputs["role"].StringValue(), "cluster-ebs-csi"), "on the driver's IRSA role: %v", p.Inputs["role"])
	var doc struct {
		Statement []struct {
			Action   []string
			Resource []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].StringValue()), &doc))
	require.Len(t, doc.Statement, 2)
	for _, s := range doc.Statement {
		assert.Equal(t, []string{key}, s.Resource)
	}
	assert.Contains(t, doc.Statement[0].Action, "kms:CreateGrant")

	// an alias cannot scope an IAM policy
	assertRefused(t, "dev", map[string]string{"anka:storage": `{"etcd":{"kmsKeyArn":"arn:aws:kms:us-east-1:123456789012:alias/etcd"}}`}, "anka:storage.etcd.kmsKeyArn")

	dev, err := runStackFile(t, "dev", nil)
	require.NoError(t, err)
	for _, p := range dev.rec.ByType("aws:iam/rolePolicy:RolePolicy") {
		assert.NotEqual(t, "cluster-ebs-csi-kms", p.Name, "the account's default EBS key needs no grant")
	}
}

// warnLog records what the program warns about.
type warnLog struct {
	pulumi.Log
	mu    sync.Mutex
	warns []string
}

func (l *warnLog) Warn(msg string, args *pulumi.LogArgs) error {
	l.mu.Lock()
	l.warns = append(l.warns, msg)
	l.mu.Unlock()
	return l.Log.Warn(msg, args)
}

// TestClusterExtendedSupportVersion: on 2026-11-30, 1.33 is in EKS extended
// support: preview warns with the cost, prod refuses it unless
// anka:cluster.allowExtendedSupport is true.
func TestClusterExtendedSupportVersion(t *testing.T) {
	pinClock(t, "2026-11-30")
	v133 := func(allow bool) func(map[string]any) {
		return func(c map[string]any) {
			c["version"] = "1.33"
			c["allowExtendedSupport"] = allow
		}
	}

	msg := assertRefused(t, "prod", editStackObject(t, "prod", "anka:cluster", v133(false)), "anka:cluster.version")
	assert.Contains(t, msg, "unless anka:cluster.allowExtendedSupport is true")
	assert.Contains(t, msg, "$0.60 per cluster-hour")

	_, err := runStackFile(t, "prod", editStackObject(t, "prod", "anka:cluster", v133(true)))
	assert.NoError(t, err, "allowed explicitly")

	for _, stack := range []string{"dev", "prod"} {
		cfg, secretKeys := stackConfig(t, stack, editStackObject(t, stack, "anka:cluster", v133(true)))
		log := &warnLog{}
		// As `pulumi preview` runs it: the warnings are for the person
		// previewing (and the stack files' placeholders only warn there).
		require.NoError(t, harness.Preview(t, stack, cfg, secretKeys, nil, func(ctx *pulumi.Context) error {
			log.Log = ctx.Log
			ctx.Log = log
			return stacks.Run(ctx)
		}))
		var found []string
		for _, w := range log.warns {
			if strings.HasPrefix(w, "anka:cluster.version") {
				found = append(found, w)
			}
		}
		if assert.Len(t, found, 1, "%s: warnings %v", stack, log.warns) {
			assert.Contains(t, found[0], "1.33 has been in EKS extended support since 2026-07-29")
			assert.Contains(t, found[0], "$0.60 per cluster-hour in extended support instead of $0.10")
		}
	}

	pinClock(t, "2027-07-29")
	// EKS no longer offers 1.33
	assertRefused(t, "dev", editStackObject(t, "dev", "anka:cluster", v133(true)), "anka:cluster.version")
}
