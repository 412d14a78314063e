package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterNodesIMDSHopLimitOne: every launch template requires IMDSv2
// with a PUT response hop limit of 1, so no pod can take the node role's
// credentials.
func TestClusterNodesIMDSHopLimitOne(t *testing.T) {
	rec := runEKS(t, eksArgs())
	lts := rec.ByType("aws:ec2/launchTemplate:LaunchTemplate")
	require.NotEmpty(t, lts)
	for _, lt := range lts {
		md := lt.Inputs["metadataOptions"].ObjectValue()
		assert.Equal(t, "required", md["httpTokens"].StringValue(), "%s: IMDSv2 only", lt.URN)
		assert.Equal(t, "enabled", md["httpEndpoint"].StringValue(), "%s", lt.URN)
		assert.Equal(t, float64(1), md["httpPutResponseHopLimit"].NumberValue(), "%s: pods are one hop too far for IMDS", lt.URN)
	}
	for _, ng := range rec.ByType("aws:eks/nodeGroup:NodeGroup") {
		assert.True(t, ng.Inputs["launchTemplate"].IsObject(), "%s uses the launch template", ng.URN)
	}
}

// TestClusterVPCCNIOnItsOwnIRSARole: the VPC CNI add-on runs on an IRSA
// role only kube-system/aws-node can assume, holding AmazonEKS_CNI_Policy;
// the node role no longer has that policy; and the add-on waits for its
// role's policy, the node groups for the add-on.
func TestClusterVPCCNIOnItsOwnIRSARole(t *testing.T) {
	for _, tc := range []struct{ region, partition string }{
		{"us-east-1", "aws"},
		{"cn-north-1", "aws-cn"},
	} {
		t.Run("in "+tc.region, func(t *testing.T) {
			a := eksArgs()
			a.Region = tc.region
			rec := runEKS(t, a)

			role := rec.Get(t, "aws:iam/role:Role", "cluster-vpc-cni")
			var trust struct {
				Statement []struct {
					Effect    string
					Action    string
					Principal map[string]string
					Condition map[string]map[string]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].StringValue()), &trust))
			require.Len(t, trust.Statement, 1)
			st := trust.Statement[0]
			assert.Equal(t, "Allow", st.Effect)
			assert.Equal(t, "sts:AssumeRoleWithWebIdentity", st.Action)
			assert.Contains(t, st.Principal["Federated"], ":oidc-provider/", "trusts the cluster's OIDC provider")
			var sub, aud string
			for k, v := range st.Condition["StringEquals"] {
				switch {
				case strings.HasSuffix(k, ":sub"):
					sub = v
				case strings.HasSuffix(k, ":aud"):
					aud = v
				}
			}
			assert.Equal(t, "system:serviceaccount:kube-system:aws-node", sub)
			assert.Equal(t, "sts.amazonaws.com", aud)

			att := rec.Get(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "cluster-vpc-cni")
			assert.Equal(t, "arn:"+tc.partition+":iam::aws:policy/AmazonEKS_CNI_Policy", att.Inputs["policyArn"].StringValue())
			assert.True(t, strings.HasPrefix(att.Inputs["role"].StringValue(), "cluster-vpc-cni"), "on the CNI's role, got %v", att.Inputs["role"])

			addon := rec.Get(t, "aws:eks/addon:Addon", "cluster-vpc-cni")
			assert.True(t, addon.Inputs["serviceAccountRoleArn"].IsString(), "the add-on names its role")
			assert.Contains(t, addon.Inputs["serviceAccountRoleArn"].StringValue(), "cluster-vpc-cni")
			assert.True(t, slices.ContainsFunc(addon.DependsOn, func(urn string) bool {
				return strings.HasSuffix(urn, "aws:iam/rolePolicyAttachment:RolePolicyAttachment::cluster-vpc-cni")
			}), "the CNI starts with its policy in place: %v", addon.DependsOn)
			for _, ng := range rec.ByType("aws:eks/nodeGroup:NodeGroup") {
				assert.True(t, slices.ContainsFunc(ng.DependsOn, func(urn string) bool {
					return strings.HasSuffix(urn, "aws:eks/addon:Addon::cluster-vpc-cni")
				}), "%s: nodes join after the CNI has its role", ng.URN)
			}

			var nodePolicies []string
			for _, r := range rec.ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
				if strings.HasPrefix(r.Name, "cluster-node-") {
					nodePolicies = append(nodePolicies, r.Inputs["policyArn"].StringValue())
					assert.True(t, strings.HasPrefix(r.Inputs["role"].StringValue(), "cluster-node"), "%s", r.URN)
				}
			}
			assert.ElementsMatch(t, []string{
				"arn:" + tc.partition + ":iam::aws:policy/AmazonEKSWorkerNodePolicy",
				"arn:" + tc.partition + ":iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
			}, nodePolicies, "the node role carries no CNI policy")
		})
	}
}

// TestClusterPolicyArnsFollowTheRegionsPartition: every policy the cluster
// attaches is named in the region's partition. An ARN of another partition
// does not exist there, and the attachment fails the first `up` in China or
// GovCloud (IAM user guide, "IAM ARNs": arn:partition:service:...).
func TestClusterPolicyArnsFollowTheRegionsPartition(t *testing.T) {
	for _, tc := range []struct{ region, partition string }{
		{"us-east-1", "aws"},
		{"cn-north-1", "aws-cn"},
		{"us-gov-west-1", "aws-us-gov"},
	} {
		t.Run("in "+tc.region, func(t *testing.T) {
			a := eksArgs()
			a.Region = tc.region
			managed := 0
			for _, att := range runEKS(t, a).ByType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
				arn := att.Inputs["policyArn"]
				if !arn.IsString() || !strings.Contains(arn.StringValue(), ":iam::aws:policy/") {
					continue // the stack's own policies take their ARN from AWS
				}
				managed++
				assert.True(t, strings.HasPrefix(arn.StringValue(), "arn:"+tc.partition+":"), "%s attaches %s", att.Name, arn.StringValue())
			}
			assert.GreaterOrEqual(t, managed, 4, "node (2), CNI and EBS CSI roles attach AWS managed policies")
		})
	}
}
