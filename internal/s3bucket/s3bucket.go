// Package s3bucket creates the project's data buckets (etcd's snapshots, the
// Registry's templates) with every protection S3 offers set in one place:
// default encryption, the public-access block, bucket-owner-enforced
// ownership (no ACLs), a policy refusing any request not over TLS, and,
// where the caller asks, versioning and lifecycle rules. The bucket is
// protected and retained on delete: it holds data `pulumi destroy` must
// never take.
//
//	b, err := s3bucket.New(ctx, name+"-backups", s3bucket.Args{
//		BucketPrefix: "anka-etcd-backups-",
//		KMS:          true,
//		Versioning:   true,
//	}, pulumi.Parent(comp))
package s3bucket

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ExistingARN is the ARN of a bucket the program does not create (so has no
// Arn output to read), in the partition of the AWS provider the invoke runs
// with: aws-cn in China and aws-us-gov in GovCloud, where a hard-coded
// "arn:aws:" names nothing.
func ExistingARN(ctx *pulumi.Context, bucket string, opts ...pulumi.InvokeOption) pulumi.StringOutput {
	return aws.GetPartitionOutput(ctx, aws.GetPartitionOutputArgs{}, opts...).Partition().ApplyT(func(partition string) string {
		return fmt.Sprintf("arn:%s:s3:::%s", partition, bucket)
	}).(pulumi.StringOutput)
}

// TLSOnlyPolicy is a bucket policy that denies every request to the bucket
// and its objects that is not over TLS. bucketArn carries the partition.
func TLSOnlyPolicy(bucketArn string) (string, error) {
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
			"Resource":  []string{bucketArn, bucketArn + "/*"},
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		}},
	})
	return string(b), err
}

// Args configures a bucket.
type Args struct {
	// BucketPrefix, when set, names the bucket <prefix><suffix S3 picks>;
	// otherwise Pulumi auto-names it after its logical name.
	BucketPrefix string
	// Tags on the bucket.
	Tags pulumi.StringMap
	// KMS encrypts with SSE-KMS (the AWS-managed key) and an S3 bucket key
	// that keeps the KMS request count down; otherwise SSE-S3 (AES256).
	KMS bool
	// Versioning keeps overwritten and deleted objects as noncurrent
	// versions (for a bucket the program's own writer only adds to; not for
	// one whose objects an application deletes on purpose).
	Versioning bool
	// LifecycleRules, when set, become the bucket's lifecycle document.
	// Leave it empty when an application writes the document itself (the
	// Registry does): a bucket has one, and both would rewrite it.
	LifecycleRules s3.BucketLifecycleConfigurationV2RuleArray
	// Aliases are the names the settings (everything but the bucket) were
	// registered under before they were named by role, so that existing
	// stacks see a rename and not a replacement.
	Aliases []string
}

// Bucket is the bucket and its settings.
type Bucket struct {
	Bucket *s3.BucketV2
	// Name and Arn are the bucket's name and ARN.
	Name pulumi.StringOutput
	Arn  pulumi.StringOutput
	// Ready is the last setting applied (the TLS-only policy): depend on it
	// before the first request.
	Ready pulumi.Resource
}

// Child roles, the suffixes of the settings' names: <name>-<role>.
const (
	RoleVersioning   = "versioning"
	RoleEncryption   = "encryption"
	RolePublicAccess = "public-access"
	RoleOwnership    = "ownership"
	RolePolicy       = "tls-only"
	RoleLifecycle    = "lifecycle"
)

// New registers the bucket as name and each setting as name-<role>. opts
// apply to every resource (pass pulumi.Parent, and pulumi.Protect to
// protect the settings too); the bucket is always protected and every
// resource retained on delete: the settings stay with the retained bucket.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Bucket, error) {
	keep := append(append([]pulumi.ResourceOption{}, opts...), pulumi.RetainOnDelete(true))
	setting := func() []pulumi.ResourceOption {
		var aliases []pulumi.Alias
		for _, old := range args.Aliases {
			aliases = append(aliases, pulumi.Alias{Name: pulumi.String(old)})
		}
		return append(append([]pulumi.ResourceOption{}, keep...), pulumi.Aliases(aliases))
	}
	bucketArgs := &s3.BucketV2Args{
		// Never emptied by a delete: the data outlives the stack.
		ForceDestroy: pulumi.Bool(false),
		Tags:         args.Tags,
	}
	if args.BucketPrefix != "" {
		bucketArgs.BucketPrefix = pulumi.String(args.BucketPrefix)
	}
	bucket, err := s3.NewBucketV2(ctx, name, bucketArgs, append(keep, pulumi.Protect(true))...)
	if err != nil {
		return nil, err
	}
	b := &Bucket{Bucket: bucket, Name: bucket.Bucket, Arn: bucket.Arn}
	if args.Versioning {
		if _, err := s3.NewBucketVersioningV2(ctx, name+"-"+RoleVersioning, &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
		}, setting()...); err != nil {
			return nil, err
		}
	}
	sse := s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("AES256"),
		},
	}
	if args.KMS {
		sse.ApplyServerSideEncryptionByDefault = s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("aws:kms"),
		}
		sse.BucketKeyEnabled = pulumi.Bool(true)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-"+RoleEncryption, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{sse},
	}, setting()...); err != nil {
		return nil, err
	}
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name+"-"+RolePublicAccess, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, setting()...)
	if err != nil {
		return nil, err
	}
	own, err := s3.NewBucketOwnershipControls(ctx, name+"-"+RoleOwnership, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, setting()...)
	if err != nil {
		return nil, err
	}
	// After the public-access block and the ownership controls: S3 applies
	// one bucket-level configuration at a time and answers a concurrent one
	// with OperationAborted.
	policy, err := s3.NewBucketPolicy(ctx, name+"-"+RolePolicy, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(TLSOnlyPolicy).(pulumi.StringOutput),
	}, append(setting(), pulumi.DependsOn([]pulumi.Resource{pab, own}))...)
	if err != nil {
		return nil, err
	}
	b.Ready = policy
	if len(args.LifecycleRules) > 0 {
		if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-"+RoleLifecycle, &s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucket.ID(),
			Rules:  args.LifecycleRules,
		}, setting()...); err != nil {
			return nil, err
		}
	}
	return b, nil
}
