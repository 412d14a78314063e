// Package irsa builds IAM roles for Kubernetes service accounts (IRSA): a
// role that only one service account in one namespace of one cluster can
// assume through the cluster's OIDC provider.
package irsa

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Issuer is the OIDC provider's issuer without the scheme, as IAM condition
// keys spell it ("oidc.eks.<region>.amazonaws.com/id/<id>"), derived from the
// provider's ARN ("arn:aws:iam::<acct>:oidc-provider/<issuer>").
func Issuer(providerArn string) string {
	if i := strings.Index(providerArn, ":oidc-provider/"); i >= 0 {
		return providerArn[i+len(":oidc-provider/"):]
	}
	return strings.TrimPrefix(providerArn, "https://")
}

// TrustPolicy is the assume-role policy for namespace/serviceAccount.
func TrustPolicy(providerArn string, namespace, serviceAccount string) (string, error) {
	issuer := Issuer(providerArn)
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": providerArn},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				issuer + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				issuer + ":aud": "sts.amazonaws.com",
			}},
		}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// TrustPolicyOutput is TrustPolicy for a provider ARN known only at deploy time.
func TrustPolicyOutput(providerArn pulumi.StringInput, namespace, serviceAccount string) pulumi.StringOutput {
	return providerArn.ToStringOutput().ApplyT(func(arn string) (string, error) {
		return TrustPolicy(arn, namespace, serviceAccount)
	}).(pulumi.StringOutput)
}
