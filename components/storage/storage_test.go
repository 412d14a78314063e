package storage

import (
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStorageDefaultsArePinned(t *testing.T) {
	assert.Equal(t, Args{ClassName: "anka-etcd", Type: "gp3", IOPS: 3000, ThroughputMiBps: 125}, Args{}.WithDefaults())
	assert.Equal(t, Args{ClassName: "anka-etcd", Type: "io2", IOPS: 6000}, Args{Type: "io2"}.WithDefaults())
}

func TestStorageClassIsReplacedEncryptedAndZonal(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "storage", Args{Type: "gp3", IOPS: 8000, ThroughputMiBps: 500, KMSKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abc", Zones: []string{"a", "b", "c"}})
		return err
	})
	require.NoError(t, err)
	for _, name := range []string{"storage-etcd", "storage-disk-check"} {
		sc := rec.Get(t, "kubernetes:storage.k8s.io/v1:StorageClass", name)
		// The API server refuses updates to parameters and the name is
		// fixed: delete before replace, and no retained old class for the
		// replacement's create to upsert onto.
		assert.False(t, sc.RetainOnDelete, name)
		assert.True(t, sc.DeleteBeforeReplace, "%s is replaced delete-before-replace", name)
	}
	sc := rec.Get(t, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-etcd")
	assert.Equal(t, "storage", sc.ParentName())
	assert.Equal(t, "Retain", sc.Inputs["reclaimPolicy"].StringValue())
	assert.Equal(t, "WaitForFirstConsumer", sc.Inputs["volumeBindingMode"].StringValue())
	assert.Equal(t, "Delete", rec.Get(t, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-disk-check").Inputs["reclaimPolicy"].StringValue())
	params := sc.Inputs["parameters"].ObjectValue()
	assert.Equal(t, "8000", params["iops"].StringValue())
	assert.Equal(t, "500", params["throughput"].StringValue())
	assert.Equal(t, "true", params["encrypted"].StringValue())
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/abc", params["kmsKeyId"].StringValue())
	zones := sc.Inputs["allowedTopologies"].ArrayValue()[0].ObjectValue()["matchLabelExpressions"].ArrayValue()[0].ObjectValue()
	assert.Equal(t, "topology.kubernetes.io/zone", zones["key"].StringValue())
	assert.Len(t, zones["values"].ArrayValue(), 3)
}

func TestStorageValidation(t *testing.T) {
	cases := []struct {
		name string
		args Args
		keys []string
	}{
		{"gp2 is refused", Args{Type: "gp2"}, []string{"anka:storage.etcd.type"}},
		{"an unknown type is refused", Args{Type: "nvme"}, []string{"anka:storage.etcd.type"}},
		{"io2 above 256000 IOPS is refused", Args{Type: "io2", IOPS: 256001}, []string{"anka:storage.etcd.iops"}},
		{"gp3 throughput beyond 2000 MiB/s is refused", Args{Type: "gp3", IOPS: 16000, ThroughputMiBps: 2001}, []string{"anka:storage.etcd.throughputMiBps"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := harness.NewRecorder()
			err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
				_, err := New(ctx, "storage", tc.args)
				return err
			})
			require.Error(t, err)
			harness.AssertKeys(t, err, tc.keys...)
			assert.Zero(t, rec.Len(), "nothing is registered for invalid args")
		})
	}
}

func TestChangeWarningNamesKeysAndProcedure(t *testing.T) {
	old := Fingerprint(Args{})
	claims := []string{"data-etcd-0", "data-etcd-1", "data-etcd-2"}
	assert.Empty(t, ChangeWarning("", old, "anka-etcd", "anka", claims), "first deployment")
	assert.Empty(t, ChangeWarning(old, old, "anka-etcd", "anka", claims), "no change")

	w := ChangeWarning(old, Fingerprint(Args{IOPS: 4000, ThroughputMiBps: 250}), "anka-etcd", "anka", claims)
	for _, want := range []string{"anka:storage.etcd.iops 3000 -> 4000", "anka:storage.etcd.throughputMiBps 125 -> 250",
		"replaces StorageClass anka-etcd", "aws ec2 modify-volume --volume-id \"$VOL\" --iops 4000 --throughput 250",
		"kubectl -n anka get pvc data-etcd-2", "one at a time", "6 hours"} {
		assert.Contains(t, w, want)
	}
	assert.NotContains(t, w, "anka:storage.etcd.type")
	assert.Equal(t, 3, strings.Count(w, "aws ec2 modify-volume"))

	w = ChangeWarning(old, Fingerprint(Args{Type: "io2", IOPS: 8000}), "anka-etcd", "anka", claims)
	assert.Contains(t, w, "--volume-type io2 --iops 8000;")
	assert.Contains(t, w, "anka:storage.etcd.throughputMiBps 125 -> (none)")

	w = ChangeWarning(old, Fingerprint(Args{KMSKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abc"}), "anka-etcd", "anka", claims)
	assert.Contains(t, w, "anka:storage.etcd.kmsKeyArn (none) -> arn:aws:kms")
	assert.Contains(t, w, "cannot re-encrypt")
	assert.NotContains(t, w, "modify-volume")
}
