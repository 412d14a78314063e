package s3bucket_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/internal/s3bucket"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
)

const (
	tBucket     = "aws:s3/bucketV2:BucketV2"
	tVersioning = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tSSE        = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tPAB        = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tOwnership  = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tPolicy     = "aws:s3/bucketPolicy:BucketPolicy"
	tLifecycle  = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
)

func record(t *testing.T, fn func(ctx *pulumi.Context) error) *harness.Recorder {
	t.Helper()
	rec := harness.NewRecorder()
	require.NoError(t, harness.Run(t, "unit", nil, nil, rec, fn))
	return rec
}

func TestS3BucketHardenedWithRoleNamedSettings(t *testing.T) {
	var ready pulumi.Resource
	rec := record(t, func(ctx *pulumi.Context) error {
		b, err := s3bucket.New(ctx, "data", s3bucket.Args{
			BucketPrefix: "anka-data-", KMS: true, Versioning: true,
			LifecycleRules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("expire"), Status: pulumi.String("Enabled"),
			}},
			Aliases: []string{"data"},
		}, pulumi.Protect(true))
		ready = b.Ready
		return err
	})
	bucket := rec.Get(t, tBucket, "data")
	assert.True(t, bucket.Protect && bucket.RetainOnDelete, "the bucket is protected and retained")
	assert.False(t, bucket.Inputs["forceDestroy"].BoolValue(), "never emptied by a delete")
	assert.Equal(t, "anka-data-", bucket.Inputs["bucketPrefix"].StringValue())
	for _, a := range bucket.Aliases {
		assert.Empty(t, a.Name, "the bucket kept its name (its only alias is the SDK's own, to the old bucket type)")
	}

	for typ, name := range map[string]string{
		tVersioning: "data-versioning", tSSE: "data-encryption", tPAB: "data-public-access",
		tOwnership: "data-ownership", tPolicy: "data-tls-only", tLifecycle: "data-lifecycle",
	} {
		r := rec.Get(t, typ, name)
		assert.True(t, r.Protect && r.RetainOnDelete, "%s %s: the caller's Protect reaches the settings, and they stay with the bucket", typ, name)
		assert.Equal(t, []harness.Alias{{Name: "data"}}, r.Aliases, "%s %s keeps its former name", typ, name)
		assert.Equal(t, "data-id", r.Inputs["bucket"].StringValue())
	}
	rule := rec.Get(t, tSSE, "data-encryption").Inputs["rules"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, "aws:kms", rule["applyServerSideEncryptionByDefault"].ObjectValue()["sseAlgorithm"].StringValue())
	assert.True(t, rule["bucketKeyEnabled"].BoolValue())
	for _, k := range []resource.PropertyKey{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		assert.True(t, rec.Get(t, tPAB, "data-public-access").Inputs[k].BoolValue(), string(k))
	}
	policy := rec.Get(t, tPolicy, "data-tls-only")
	for _, name := range []string{"data-public-access", "data-ownership"} {
		assert.True(t, slices.ContainsFunc(policy.DependsOn, func(urn string) bool { return strings.HasSuffix(urn, "::"+name) }),
			"the policy waits for %s: %v", name, policy.DependsOn)
	}
	var doc struct{ Statement []struct{ Resource []string } }
	require.NoError(t, json.Unmarshal([]byte(policy.Inputs["policy"].StringValue()), &doc))
	// The mock names a prefixed bucket <prefix><8 hex digits>, as S3 does.
	require.Len(t, doc.Statement[0].Resource, 2)
	assert.Regexp(t, `^arn:aws:s3:::anka-data-[0-9a-f]{8}$`, doc.Statement[0].Resource[0],
		"the policy names the bucket by its ARN output, so it carries the partition")
	assert.Equal(t, doc.Statement[0].Resource[0]+"/*", doc.Statement[0].Resource[1])
	assert.NotNil(t, ready)
}

func TestS3BucketDefaultsToSSES3WithoutVersioningOrLifecycle(t *testing.T) {
	rec := record(t, func(ctx *pulumi.Context) error {
		_, err := s3bucket.New(ctx, "reg", s3bucket.Args{})
		return err
	})
	assert.Empty(t, rec.ByType(tVersioning))
	assert.Empty(t, rec.ByType(tLifecycle), "a bucket whose application writes its own lifecycle document gets none from Pulumi")
	rule := rec.Get(t, tSSE, "reg-encryption").Inputs["rules"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, "AES256", rule["applyServerSideEncryptionByDefault"].ObjectValue()["sseAlgorithm"].StringValue())
	assert.False(t, rec.Get(t, tSSE, "reg-encryption").Protect, "settings are protected only when the caller asks")
	assert.True(t, rec.Get(t, tBucket, "reg").Protect, "the bucket always is")
	assert.Empty(t, rec.Get(t, tSSE, "reg-encryption").Aliases)
}

func TestS3BucketTLSOnlyPolicyDeniesPlainHTTPInAnyPartition(t *testing.T) {
	for _, arn := range []string{"arn:aws:s3:::b", "arn:aws-cn:s3:::b", "arn:aws-us-gov:s3:::b"} {
		p, err := s3bucket.TLSOnlyPolicy(arn)
		require.NoError(t, err)
		var doc struct{ Statement []map[string]any }
		require.NoError(t, json.Unmarshal([]byte(p), &doc))
		s := doc.Statement[0]
		assert.Equal(t, "Deny", s["Effect"])
		assert.Equal(t, []any{arn, arn + "/*"}, s["Resource"])
		assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, s["Condition"])
	}
}

func TestS3BucketExistingARNTakesThePartitionFromTheProvider(t *testing.T) {
	var got any
	record(t, func(ctx *pulumi.Context) error {
		// Awaited inside the program: the invoke behind the ARN is not
		// answered once the program has returned.
		got, _ = harness.MustAwait(t, s3bucket.ExistingARN(ctx, "acme-templates"))
		return nil
	})
	// The mock answers aws:index/getPartition with "aws".
	assert.Equal(t, "arn:aws:s3:::acme-templates", got)
}
