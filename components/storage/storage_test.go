package storage

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
	"github.com/anka-ha/anka-build-cloud-aws/tests/harness"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStorageDefaultsArePinned(t *testing.T) {
	assert.Equal(t, Args{ClassName: "anka-etcd", Type: "gp3", IOPS: 3000, ThroughputMiBps: 125}, Args{}.WithDefaults())
	assert.Equal(t, Args{ClassName: "anka-etcd", Type: "io2", IOPS: 6000}, Args{Type: "io2"}.WithDefaults())
}

func TestStorageClassIsRetainedEncryptedAndZonal(t *testing.T) {
	rec := harness.NewRecorder()
	err := harness.Run(t, "unit", nil, nil, rec, func(ctx *pulumi.Context) error {
		_, err := New(ctx, "storage", Args{Type: "gp3", IOPS: 8000, ThroughputMiBps: 500, KMSKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abc", Zones: []string{"a", "b", "c"}})
		return err
	})
	require.NoError(t, err)
	sc := rec.Get(t, "kubernetes:storage.k8s.io/v1:StorageClass", "storage-etcd")
	assert.Equal(t, "storage", sc.ParentName())
	assert.True(t, sc.RetainOnDelete)
	assert.Equal(t, "Retain", sc.Inputs["reclaimPolicy"].StringValue())
	assert.Equal(t, "WaitForFirstConsumer", sc.Inputs["volumeBindingMode"].StringValue())
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
			assert.Equal(t, tc.keys, validation.Keys(err))
			assert.Zero(t, rec.Len(), "nothing is registered for invalid args")
		})
	}
}
