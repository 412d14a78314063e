package etcd

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEtcdJobPodsTakeNoConnections: one NetworkPolicy isolates the backup,
// prune and disk-check pods for ingress with no rule (they serve nothing),
// and it selects those pods and no member.
func TestEtcdJobPodsTakeNoConnections(t *testing.T) {
	args := prodArgs()
	rec, err := run(t, args)
	require.NoError(t, err)
	np := resource.NewObjectProperty(rec.Get(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "etcd-jobs-netpol").Inputs)
	assert.Equal(t, []any{"Ingress"}, obj(np, "spec", "policyTypes").Mappable())
	assert.True(t, obj(np, "spec", "ingress").IsNull(), "no ingress rule: nothing may connect")
	selector := obj(np, "spec", "podSelector", "matchLabels").Mappable().(map[string]any)

	selected := map[string]bool{}
	for _, r := range rec.Resources() {
		in := resource.NewObjectProperty(r.Inputs)
		var labels resource.PropertyValue
		switch r.Type {
		case "kubernetes:apps/v1:StatefulSet", "kubernetes:batch/v1:Job":
			labels = obj(in, "spec", "template", "metadata", "labels")
		case "kubernetes:batch/v1:CronJob":
			labels = obj(in, "spec", "jobTemplate", "spec", "template", "metadata", "labels")
		default:
			continue
		}
		all := true
		for k, v := range selector {
			all = all && labels.Mappable().(map[string]any)[k] == v
		}
		selected[r.Type+" "+r.Name] = all
	}
	assert.Equal(t, map[string]bool{
		"kubernetes:apps/v1:StatefulSet etcd-members": false,
		"kubernetes:batch/v1:CronJob etcd-backup":     true,
		"kubernetes:batch/v1:Job etcd-prune":          true,
		"kubernetes:batch/v1:Job etcd-disk-check":     true,
	}, selected)
}
