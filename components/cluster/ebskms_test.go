package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const etcdKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

type policyDoc struct {
	Statement []struct {
		Effect    string
		Action    []string
		Resource  []string
		Condition map[string]map[string]string
	}
}

// TestClusterEBSCSIRoleMayUseTheVolumeKeyOnly: with a customer key for the
// volumes, the EBS CSI driver's IRSA role gets the KMS permissions of the EKS
// user guide's kms-key-for-encryption-on-ebs.json on that key alone, before
// the add-on starts.
func TestClusterEBSCSIRoleMayUseTheVolumeKeyOnly(t *testing.T) {
	rec := harness.NewRecorder()
	a := eksArgs()
	a.EBSKMSKeyArns = []string{etcdKey}
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", a, eksWiring())
		return err
	}))
	p := rec.Get(t, "aws:iam/rolePolicy:RolePolicy", "cluster-ebs-csi-kms")
	assert.True(t, strings.HasPrefix(p.Inputs["role"].StringValue(), "cluster-ebs-csi"), "attached to the driver's IRSA role, got %v", p.Inputs["role"])
	var doc policyDoc
	require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].StringValue()), &doc))
	require.Len(t, doc.Statement, 2)
	grants, use := doc.Statement[0], doc.Statement[1]
	assert.ElementsMatch(t, []string{"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"}, grants.Action)
	assert.Equal(t, map[string]map[string]string{"Bool": {"kms:GrantIsForAWSResource": "true"}}, grants.Condition)
	assert.ElementsMatch(t, []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}, use.Action)
	for _, s := range doc.Statement {
		assert.Equal(t, "Allow", s.Effect)
		assert.Equal(t, []string{etcdKey}, s.Resource, "scoped to the volumes' key, nothing else")
	}
	addon := rec.Get(t, "aws:eks/addon:Addon", "cluster-ebs-csi")
	assert.True(t, slices.ContainsFunc(addon.DependsOn, func(urn string) bool {
		return strings.HasSuffix(urn, "aws:iam/rolePolicy:RolePolicy::cluster-ebs-csi-kms")
	}), "the driver starts with its KMS permissions in place: %v", addon.DependsOn)

	plain := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, plain, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", eksArgs(), eksWiring())
		return err
	}))
	assert.Empty(t, plain.ByType("aws:iam/rolePolicy:RolePolicy"), "no customer key, no KMS permissions")
}

func TestClusterEBSKMSKeyMustBeAKeyArn(t *testing.T) {
	a := eksArgs()
	a.EBSKMSKeyArns = []string{"arn:aws:kms:us-east-1:123456789012:alias/etcd"}
	err := a.Validate()
	harness.AssertKeys(t, err, "anka:storage.etcd.kmsKeyArn")
	assert.ErrorContains(t, err, "not an alias")
	// What is no KMS ARN at all is the storage component's to report, once.
	for _, notAnARN := range []string{"my-key", "arn:aws:kms:us-east-1:12345:key/abc"} {
		a.EBSKMSKeyArns = []string{notAnARN}
		assert.NoError(t, a.Validate(), notAnARN)
	}
	a.EBSKMSKeyArns = []string{etcdKey}
	assert.NoError(t, a.Validate())
}
