package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestDrainChainValidation: `pulumi preview` fails, naming the key, when a
// configured value breaks the drain chain, and registers nothing.
func TestDrainChainValidation(t *testing.T) {
	cases := []struct {
		refusal
		msg string
	}{
		{refusal{"an hour of drain behind the ALB cannot be covered by a 3600 s deregistration delay", "dev",
			patchObject(t, "dev", "anka:registry", map[string]any{"drainSeconds": 3600}),
			[]string{"anka:registry.drainSeconds"}}, "must be at most 3570"},
		{refusal{"an hour of drain behind the NLB neither", "prod",
			patchObject(t, "prod", "anka:registry", map[string]any{"drainSeconds": 3600}),
			[]string{"anka:registry.drainSeconds"}}, "preStop + drain = 3630 s"},
		{refusal{"a longer preStop leaves less room for the drain", "s3",
			patchObject(t, "s3", "anka:buildcloud", map[string]any{"preStopSeconds": 60}),
			[]string{"anka:registry.drainSeconds"}}, "must be at most 3540"},
		{refusal{"a deregistration delay shorter than the push window is refused", "prod",
			patchObject(t, "prod", "anka:edge", map[string]any{"deregistrationDelaySeconds": 900}),
			[]string{"anka:edge.deregistrationDelaySeconds"}}, "must be at least 3600"},
		{refusal{"a deregistration delay shorter than the push window is refused behind the ALB", "dev",
			merge(patchObject(t, "dev", "anka:edge", map[string]any{"deregistrationDelaySeconds": 1000}),
				patchObject(t, "dev", "anka:registry", map[string]any{"drainSeconds": 1200})),
			[]string{"anka:edge.deregistrationDelaySeconds"}}, "must be at least 1230"},
		{refusal{"NGINX's worker_shutdown_timeout is derived from the drain, not configured", "prod",
			patchObject(t, "prod", "anka:edge", map[string]any{"nginx": map[string]any{"replicas": 3, "workerShutdownTimeoutSeconds": 600}}),
			[]string{"anka:edge.nginx.workerShutdownTimeoutSeconds"}}, "set by the edge from anka:registry.drainSeconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := assertRefused(t, tc.stack, tc.overrides, tc.keys...)
			assert.Contains(t, msg, tc.msg)
		})
	}
}

// TestDrainChainFollowsTheRegistryDrain: a shorter drain moves every hop with
// it (the deregistration delay, NGINX's worker_shutdown_timeout and grace),
// and without an edge of ours a drain longer than any load balancer allows
// is accepted.
func TestDrainChainFollowsTheRegistryDrain(t *testing.T) {
	run, err := runStackFile(t, "prod", patchObject(t, "prod", "anka:registry", map[string]any{"drainSeconds": 1770}))
	require.NoError(t, err)
	svc := run.rec.Get(t, "kubernetes:core/v1:Service", "edge-nlb")
	ann := svc.Inputs["metadata"].ObjectValue()["annotations"].ObjectValue()
	assert.Equal(t, "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=1800",
		ann["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"].StringValue())
	assert.Contains(t, run.stack.Edge.NginxConf, "\nworker_shutdown_timeout 1770s;\n")
	nginx := run.rec.Get(t, "kubernetes:apps/v1:Deployment", "edge-nginx")
	grace := nginx.Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()["terminationGracePeriodSeconds"].NumberValue()
	assert.Equal(t, 1810.0, grace)

	run, err = runStackFile(t, "dev", merge(
		patchObject(t, "dev", "anka:registry", map[string]any{"drainSeconds": 7200}),
		map[string]string{"anka:edge": `{"mode":"none"}`}))
	require.NoError(t, err, "no load balancer of ours drains: any drain the Registry accepts is fine")
	reg := run.rec.Get(t, "kubernetes:apps/v1:Deployment", "anka-controller-registry")
	grace = reg.Inputs["spec"].ObjectValue()["template"].ObjectValue()["spec"].ObjectValue()["terminationGracePeriodSeconds"].NumberValue()
	assert.Equal(t, 7230.0, grace)
	require.NotNil(t, reg.CustomTimeouts)
	assert.Equal(t, "4h35m20s", reg.CustomTimeouts.Update, "2 × (7230 grace + 120 + 600 startup + 10) + 600")
}
