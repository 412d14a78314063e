package irsa

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrustPolicyScopesOneServiceAccount(t *testing.T) {
	arn := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
	text, err := TrustPolicy(arn, "kube-system", "ebs-csi-controller-sa")
	require.NoError(t, err)
	var doc struct {
		Statement []struct {
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(text), &doc))
	require.Len(t, doc.Statement, 1)
	st := doc.Statement[0]
	assert.Equal(t, arn, st.Principal["Federated"])
	assert.Equal(t, "sts:AssumeRoleWithWebIdentity", st.Action)
	assert.Equal(t, map[string]string{
		"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
		"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com",
	}, st.Condition["StringEquals"])
}
