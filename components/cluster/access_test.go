package cluster

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	adminsArn  = "arn:aws:iam::123456789012:role/anka-admins"
	previewArn = "arn:aws:iam::123456789012:role/ci/github-anka-preview"
	deployArn  = "arn:aws:iam::123456789012:role/github-anka-deploy"
	devsArn    = "arn:aws:iam::210987654321:user/dev"
)

func accessArgs() Args {
	a := eksArgs()
	a.AccessEntries = []AccessEntry{
		{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyClusterAdmin}}},
		{PrincipalArn: previewArn, AccessPolicies: []AccessPolicy{{Policy: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}}},
		{PrincipalArn: devsArn, KubernetesGroups: []string{"anka-readers"}, AccessPolicies: []AccessPolicy{{Policy: PolicyEdit, Scope: ScopeNamespace, Namespaces: []string{"anka", "dev-*"}}}},
		{PrincipalArn: deployArn, ClusterCreator: true, AccessPolicies: []AccessPolicy{{Policy: PolicyClusterAdmin}}},
	}
	return a
}

// TestClusterAccessEntriesAreCreatedWithTheCluster: the entries reach
// pulumi-eks's ClusterArgs.AccessEntries (so EKS creates them with the
// cluster), each policy as a full ARN with its scope; the cluster creator's
// entry is left to EKS.
func TestClusterAccessEntriesAreCreatedWithTheCluster(t *testing.T) {
	rec := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "cluster", accessArgs(), eksWiring())
		return err
	}))
	in := rec.Get(t, "eks:index:Cluster", "cluster-eks").Inputs
	require.True(t, in["accessEntries"].IsObject(), "accessEntries must be an input of eks:index:Cluster, got %v", in["accessEntries"])
	entries := in["accessEntries"].ObjectValue()
	keys := []string{}
	for k := range entries {
		keys = append(keys, string(k))
	}
	assert.ElementsMatch(t, []string{"123456789012-role-anka-admins", "123456789012-role-github-anka-preview", "210987654321-user-dev"}, keys,
		"one entry per principal, keyed by account, kind and name; none for the cluster creator (EKS made its entry)")

	admins := entries["123456789012-role-anka-admins"].ObjectValue()
	assert.Equal(t, adminsArn, admins["principalArn"].StringValue())
	assert.Equal(t, "STANDARD", admins["type"].StringValue())
	policy := admins["accessPolicies"].ObjectValue()[PolicyClusterAdmin].ObjectValue()
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", policy["policyArn"].StringValue())
	assert.Equal(t, "cluster", policy["accessScope"].ObjectValue()["type"].StringValue())

	preview := entries["123456789012-role-github-anka-preview"].ObjectValue()
	assert.Equal(t, previewArn, preview["principalArn"].StringValue(), "the role's path is kept")
	assert.Contains(t, preview["accessPolicies"].ObjectValue(), resource.PropertyKey(PolicyView))

	dev := entries["210987654321-user-dev"].ObjectValue()
	edit := dev["accessPolicies"].ObjectValue()[PolicyEdit].ObjectValue()["accessScope"].ObjectValue()
	assert.Equal(t, "namespace", edit["type"].StringValue())
	assert.Equal(t, []resource.PropertyValue{resource.NewProperty("anka"), resource.NewProperty("dev-*")}, edit["namespaces"].ArrayValue())
	assert.Equal(t, []resource.PropertyValue{resource.NewProperty("anka-readers")}, dev["kubernetesGroups"].ArrayValue())
	assert.Equal(t, "API", in["authenticationMode"].StringValue())
}

// TestClusterAccessEntryPolicyArnFollowsThePartition: short names become the
// partition's policy ARN.
func TestClusterAccessEntryPolicyArnFollowsThePartition(t *testing.T) {
	assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", PolicyArn(PolicyView, "us-east-1"))
	assert.Equal(t, "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", PolicyArn(PolicyView, "cn-north-1"))
	assert.Equal(t, "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", PolicyArn(PolicyView, "us-gov-west-1"))
}

func TestClusterAccessEntryValidation(t *testing.T) {
	admin := []AccessPolicy{{Policy: PolicyClusterAdmin}}
	cases := []struct {
		name    string
		entries []AccessEntry
		keys    []string
	}{
		{"valid entries pass", accessArgs().AccessEntries, nil},
		{"an STS session ARN is refused", []AccessEntry{{PrincipalArn: "arn:aws:sts::123456789012:assumed-role/anka-admins/alice", AccessPolicies: admin}},
			[]string{"anka:cluster.accessEntries[0].principalArn"}},
		{"an ARN that is not IAM is refused", []AccessEntry{{PrincipalArn: "anka-admins", AccessPolicies: admin}, {PrincipalArn: "arn:aws:iam::12345:role/x"}},
			[]string{"anka:cluster.accessEntries[0].principalArn", "anka:cluster.accessEntries[1].principalArn"}},
		{"a service-linked role is refused", []AccessEntry{{PrincipalArn: "arn:aws:iam::123456789012:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"}},
			[]string{"anka:cluster.accessEntries[0].principalArn"}},
		{"a principal listed twice is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: admin}, {PrincipalArn: adminsArn}},
			[]string{"anka:cluster.accessEntries[1].principalArn"}},
		{"the same role under two paths is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: admin}, {PrincipalArn: "arn:aws:iam::123456789012:role/x/anka-admins"}},
			[]string{"anka:cluster.accessEntries[1].principalArn"}},
		{"an unknown type is refused", []AccessEntry{{PrincipalArn: adminsArn, Type: "ADMIN"}},
			[]string{"anka:cluster.accessEntries[0].type"}},
		{"a node entry with policies is refused", []AccessEntry{{PrincipalArn: adminsArn, Type: AccessEntryEC2Linux, AccessPolicies: admin}},
			[]string{"anka:cluster.accessEntries[0].type"}},
		{"an unknown policy name is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: "ClusterAdmin"}, {Policy: "arn:aws:iam::aws:policy/AdministratorAccess"}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[0].policy", "anka:cluster.accessEntries[0].accessPolicies[1].policy"}},
		{"a policy listed twice is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyView}, {Policy: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", Scope: ScopeNamespace, Namespaces: []string{"a"}}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[1].policy"}},
		{"namespace scope without namespaces is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyEdit, Scope: ScopeNamespace}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[0].namespaces"}},
		{"namespaces with cluster scope are refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyEdit, Namespaces: []string{"anka"}}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[0].namespaces"}},
		{"an unknown scope is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyEdit, Scope: "account"}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[0].scope"}},
		{"a namespace that is no DNS label is refused", []AccessEntry{{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyEdit, Scope: ScopeNamespace, Namespaces: []string{"Anka_NS"}}}}},
			[]string{"anka:cluster.accessEntries[0].accessPolicies[0].namespaces"}},
		{"two cluster creators are refused", []AccessEntry{{PrincipalArn: adminsArn, ClusterCreator: true, AccessPolicies: admin}, {PrincipalArn: deployArn, ClusterCreator: true, AccessPolicies: admin}},
			[]string{"anka:cluster.accessEntries[1].clusterCreator"}},
		{"a cluster creator listed with other rights than EKS gives it is refused", []AccessEntry{{PrincipalArn: deployArn, ClusterCreator: true, AccessPolicies: []AccessPolicy{{Policy: PolicyView}}}},
			[]string{"anka:cluster.accessEntries[0].clusterCreator"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := eksArgs()
			a.AccessEntries = tc.entries
			err := a.Validate()
			harness.AssertKeys(t, err, tc.keys...)
		})
	}
	existing := Args{Mode: ModeExisting, Name: "x", Kubeconfig: "k", AccessEntries: accessArgs().AccessEntries}
	// existing mode cannot honour access entries
	harness.AssertKeys(t, existing.Validate(), "anka:cluster.accessEntries")
}

// TestClusterHasClusterAdmin: only AmazonEKSClusterAdminPolicy at cluster
// scope on an entry that is not the creator's counts.
func TestClusterHasClusterAdmin(t *testing.T) {
	a := eksArgs()
	assert.False(t, a.HasClusterAdmin(), "no entries")
	a.AccessEntries = []AccessEntry{
		{PrincipalArn: deployArn, ClusterCreator: true, AccessPolicies: []AccessPolicy{{Policy: PolicyClusterAdmin}}},
		{PrincipalArn: previewArn, AccessPolicies: []AccessPolicy{{Policy: PolicyView}}},
		{PrincipalArn: adminsArn, AccessPolicies: []AccessPolicy{{Policy: PolicyClusterAdmin, Scope: ScopeNamespace, Namespaces: []string{"anka"}}}},
	}
	assert.False(t, a.HasClusterAdmin(), "the creator alone, a viewer and a namespace-scoped admin are no cluster admin")
	a.AccessEntries[2].AccessPolicies = []AccessPolicy{{Policy: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}}
	assert.True(t, a.HasClusterAdmin())
}
