// Package irsa builds IAM roles for Kubernetes service accounts (IRSA): a
// role that only one service account in one namespace of one cluster can
// assume through the cluster's OIDC provider.
package irsa

import (
	"encoding/json"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
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

// Role says whose role NewRole creates.
type Role struct {
	// ProviderArn is the cluster's OIDC provider.
	ProviderArn pulumi.StringInput
	// Namespace and ServiceAccount name the one service account that may
	// assume the role.
	Namespace, ServiceAccount string
	// Description is optional.
	Description pulumi.StringInput
	Tags        pulumi.StringMapInput
}

// NewRole creates the IAM role only r.Namespace/r.ServiceAccount can assume;
// the caller attaches what it may do.
func NewRole(ctx *pulumi.Context, name string, r Role, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	return iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      r.Description,
		AssumeRolePolicy: TrustPolicyOutput(r.ProviderArn, r.Namespace, r.ServiceAccount),
		Tags:             r.Tags,
	}, opts...)
}
