package tests

import (
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge"
	"github.com/anka-ha/anka-build-cloud-aws/components/namespace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStackNamespacePodReadinessGate: the workload namespace carries
// elbv2.k8s.aws/pod-readiness-gate-inject=enabled exactly when a load
// balancer of the AWS Load Balancer Controller targets pod IPs in it: the
// alb edge (dev, target-type ip) and the nlb-mtls edge (prod and s3,
// nlb-target-type ip). Without it a rollout can leave a target group with no
// healthy target (the controller's "Pod readiness gate" page). Edge mode none
// creates no load balancer, and with ingress-nginx the load balancer's
// targets are that controller's pods in its own namespace: no label.
func TestStackNamespacePodReadinessGate(t *testing.T) {
	assert.Equal(t, "elbv2.k8s.aws/pod-readiness-gate-inject", namespace.PodReadinessGateLabel)
	assert.Equal(t, "enabled", namespace.PodReadinessGateValue)
	for _, tc := range []struct {
		name      string
		stack     string
		overrides map[string]string
		edge      bool // the edge component exists
		want      bool // the namespace has the label
	}{
		{"dev (alb)", "dev", nil, true, true},
		{"prod (nlb-mtls)", "prod", nil, true, true},
		{"s3 (nlb-mtls)", "s3", nil, true, true},
		{"dev with edge mode none", "dev", map[string]string{"anka:edge": `{"mode":"none"}`}, false, false},
		{"prod with edge mode ingress-nginx", "prod", map[string]string{"anka:edge": `{"mode":"ingress-nginx","controllerHostname":"a.example.com","registryHostname":"r.example.com",` +
			`"tls":{"secretName":"anka-tls"},"mtls":{"caSecretName":"anka-client-ca"}}`}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := runStackFile(t, tc.stack, tc.overrides)
			require.NoError(t, err)
			assert.Len(t, run.rec.ByType(edge.TypeToken), map[bool]int{true: 1, false: 0}[tc.edge], "the edge component")
			ns := run.rec.Get(t, "kubernetes:core/v1:Namespace", "namespace-namespace")
			labels := map[string]string{}
			for k, v := range ns.Inputs["metadata"].ObjectValue()["labels"].ObjectValue() {
				labels[string(k)] = v.StringValue()
			}
			if tc.want {
				assert.Equal(t, namespace.PodReadinessGateValue, labels[namespace.PodReadinessGateLabel])
			} else {
				assert.NotContains(t, labels, namespace.PodReadinessGateLabel)
			}
		})
	}
}
