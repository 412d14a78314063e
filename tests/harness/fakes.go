package harness

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FakeKubeconfig is what the mocked eks:index:Cluster returns.
const FakeKubeconfig = `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"anka","cluster":{"server":"https://ABCDEF.gr7.us-east-1.eks.amazonaws.com","certificate-authority-data":"LS0t"}}],"contexts":[{"name":"anka","context":{"cluster":"anka","user":"aws"}}],"current-context":"anka","users":[{"name":"aws","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"aws","args":["eks","get-token","--cluster-name","anka"]}}}]}`

// OIDCIssuer is the issuer the mocked aws:eks/getCluster returns.
const OIDCIssuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

func arn(service, resourcePart string) resource.PropertyValue {
	return resource.NewProperty(fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, Region, AccountID, resourcePart))
}

// suffix stands for the random suffix a provider adds to a generated name
// (Kubernetes auto-naming, S3 bucketPrefix, IAM name prefixes): derived from
// the logical name so golden files stay stable, and never empty.
func suffix(name string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return fmt.Sprintf("%08x", h.Sum32())
}

// fakeOutputs returns the inputs plus the outputs the program reads, for the
// types it reads them from, with names generated the way the providers
// generate them where the program sets none. Everything else echoes its
// inputs.
func fakeOutputs(args pulumi.MockResourceArgs, id string) resource.PropertyMap {
	out := args.Inputs.Copy()
	name := args.Name
	if strings.HasPrefix(args.TypeToken, "kubernetes:") && args.Custom {
		// pulumi-kubernetes auto-names an object without metadata.name:
		// <logical name>-<8 random characters>.
		md := resource.PropertyMap{}
		if v, ok := out["metadata"]; ok && v.IsObject() {
			md = v.ObjectValue().Copy()
		}
		if v, ok := md["name"]; !ok || !v.IsString() || v.StringValue() == "" {
			md["name"] = resource.NewProperty(name + "-" + suffix(name))
		}
		out["metadata"] = resource.NewObjectProperty(md)
	}
	str := func(key string) string {
		if v, ok := args.Inputs[resource.PropertyKey(key)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	switch args.TypeToken {
	case "eks:index:Cluster":
		out["kubeconfigJson"] = resource.MakeSecret(resource.NewProperty(FakeKubeconfig))
		out["kubeconfig"] = resource.MakeSecret(resource.NewProperty(FakeKubeconfig))
	case "aws:iam/role:Role":
		// The provider names a role without name/namePrefix
		// <logical name>-<7 random characters> (Pulumi auto-naming).
		role := str("name")
		if role == "" {
			role = name + "-" + suffix(name)[:7]
		}
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:role/%s", AccountID, role))
		out["name"] = resource.NewProperty(role)
	case "aws:iam/policy:Policy":
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:policy/%s", AccountID, name))
	case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
		out["arn"] = resource.NewProperty(fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, OIDCIssuer[len("https://"):]))
	case "aws:kms/key:Key":
		out["arn"] = arn("kms", "key/"+name)
		out["keyId"] = resource.NewProperty(name)
	case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
		bucket := str("bucket")
		if bucket == "" {
			// S3 appends a unique suffix to bucketPrefix; without either,
			// Pulumi auto-names it <logical name>-<7 random characters>.
			bucket = str("bucketPrefix") + suffix(name)
			if str("bucketPrefix") == "" {
				bucket = name + "-" + suffix(name)[:7]
			}
		}
		out["bucket"] = resource.NewProperty(bucket)
		out["arn"] = resource.NewProperty("arn:aws:s3:::" + bucket)
	case "aws:fsx/openZfsFileSystem:OpenZfsFileSystem":
		out["dnsName"] = resource.NewProperty(name + ".fsx.us-east-1.amazonaws.com")
		out["rootVolumeId"] = resource.NewProperty("fsvol-" + name)
		out["arn"] = arn("fsx", "file-system/"+name)
	case "aws:efs/fileSystem:FileSystem":
		out["dnsName"] = resource.NewProperty(name + ".efs.us-east-1.amazonaws.com")
		out["arn"] = arn("elasticfilesystem", "file-system/"+name)
	case "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable":
		out["arn"] = arn("ec2", id)
	}
	return out
}

// FakeAddonVersion is the version the mocked aws:eks/getAddonVersion
// returns for an add-on on a Kubernetes version: v1.35.0-eksbuild.1 for any
// add-on on 1.35 (the add-on's name does not change it).
func FakeAddonVersion(_, kubernetesVersion string) string {
	return "v" + kubernetesVersion + ".0-eksbuild.1"
}

// fakeCall answers the invokes the program makes.
func fakeCall(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:eks/getCluster:getCluster":
		name := args.Args["name"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"name":       name,
			"arn":        fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", Region, AccountID, name),
			"endpoint":   "https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
			"identities": []any{map[string]any{"oidcs": []any{map[string]any{"issuer": OIDCIssuer}}}},
			"vpcConfig":  map[string]any{"clusterSecurityGroupId": "sg-cluster0123456789"},
		}), nil
	case "aws:eks/getAddonVersion:getAddonVersion":
		// A version per add-on and Kubernetes version, shaped like EKS's
		// (vX.Y.Z-eksbuild.N), so a version change shows in golden files.
		return resource.NewPropertyMapFromMap(map[string]any{
			"addonName":         args.Args["addonName"].StringValue(),
			"kubernetesVersion": args.Args["kubernetesVersion"].StringValue(),
			"version":           FakeAddonVersion(args.Args["addonName"].StringValue(), args.Args["kubernetesVersion"].StringValue()),
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": AccountID, "arn": "arn:aws:iam::" + AccountID + ":user/test"}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": Region, "id": Region}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com"}), nil
	}
	return resource.PropertyMap{}, nil
}
