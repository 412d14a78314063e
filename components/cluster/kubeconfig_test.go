package cluster

import (
	"encoding/json"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execArgs returns the args of the kubeconfig's first exec user.
func execArgs(t *testing.T, kubeconfig string) []string {
	t.Helper()
	var doc struct {
		Users []struct {
			User struct {
				Exec struct {
					Command string   `json:"command"`
					Args    []string `json:"args"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	require.NoError(t, json.Unmarshal([]byte(kubeconfig), &doc))
	require.NotEmpty(t, doc.Users)
	return doc.Users[0].User.Exec.Args
}

// TestClusterKubeconfigNamesItsRegion: the kubeconfig the Kubernetes provider
// uses and the component exports runs `aws eks get-token --cluster-name
// <name> --region <aws:region>` (pulumi-eks v2.8.1 writes no --region,
// pulumi/pulumi-eks#1038), and stays a secret.
func TestClusterKubeconfigNamesItsRegion(t *testing.T) {
	rec := harness.NewRecorder()
	var c *Cluster
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) (err error) {
		c, err = New(ctx, "cluster", eksArgs(), eksWiring())
		return err
	}))
	v, secret := harness.MustAwait(t, c.Kubeconfig)
	assert.True(t, secret, "the kubeconfig output is a secret")
	out := v.(string)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "anka-test", "--region", "us-east-1"}, execArgs(t, out))

	p := rec.Get(t, "pulumi:providers:kubernetes", "cluster-k8s")
	require.True(t, p.Inputs["kubeconfig"].IsSecret(), "the provider's kubeconfig input stays secret")
	in := p.Inputs["kubeconfig"].SecretValue().Element.StringValue()
	assert.Equal(t, out, in, "the provider uses the kubeconfig the stack exports")
	var server struct {
		Clusters []struct {
			Cluster map[string]string `json:"cluster"`
		} `json:"clusters"`
	}
	require.NoError(t, json.Unmarshal([]byte(in), &server))
	assert.Equal(t, "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com", server.Clusters[0].Cluster["server"], "the rest of pulumi-eks's kubeconfig is kept")
}

func TestClusterKubeconfigWithRegionRewrite(t *testing.T) {
	in := `{"users":[{"name":"aws","user":{"exec":{"command":"aws","args":["eks","get-token","--cluster-name","old","--region=eu-west-1","--output","json","--role","arn:aws:iam::123456789012:role/r"],"env":[{"name":"KUBERNETES_EXEC_INFO","value":"{}"}]}}}]}`
	out, err := kubeconfigWithRegion(in, "anka-prod", "us-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "anka-prod", "--region", "us-east-1", "--output", "json", "--role", "arn:aws:iam::123456789012:role/r"}, execArgs(t, out),
		"--cluster-name and --region are set once, every other flag is kept")
	assert.Contains(t, out, `"KUBERNETES_EXEC_INFO"`)

	_, err = kubeconfigWithRegion(`{"users":[{"name":"u","user":{"token":"x"}}]}`, "c", "us-east-1")
	assert.ErrorContains(t, err, "no `aws eks get-token` exec user", "a kubeconfig format the program does not know fails loudly")
	_, err = kubeconfigWithRegion(harness.FakeKubeconfig, "c", "")
	assert.Error(t, err)
	_, err = kubeconfigWithRegion("not json", "c", "us-east-1")
	assert.Error(t, err)
}
