package edge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/anka-ha/anka-build-cloud-aws/components/edge/drain"
	"github.com/anka-ha/anka-build-cloud-aws/components/edge/nginxconf"
)

// TestEdgeDrainChainFollowsTheRegistryDrain: the deregistration delay,
// NGINX's preStop + worker_shutdown_timeout and its grace all follow the
// Registry's drain and preStop (the one setting), in both modes.
func TestEdgeDrainChainFollowsTheRegistryDrain(t *testing.T) {
	const drainS, preStop = 1800, 60 // window 1860
	alb := albArgs()
	alb.RegistryDrainSeconds, alb.RegistryPreStopSeconds = drainS, preStop
	ann := ALBAnnotations(alb)
	assert.Equal(t, "deregistration_delay.timeout_seconds=1860", ann["alb.ingress.kubernetes.io/target-group-attributes"],
		"the ALB keeps a draining Registry pod's connections for preStop + drain")

	nlb := nlbArgs(t)
	nlb.RegistryDrainSeconds, nlb.RegistryPreStopSeconds = drainS, preStop
	require.NoError(t, nlb.Validate())
	assert.Contains(t, NLBAnnotations(nlb)["service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"],
		"deregistration_delay.timeout_seconds=1860")
	rec, e := run(t, nlb)
	assert.Contains(t, e.NginxConf, "\nworker_shutdown_timeout 1830s;\n", "NGINX's preStop 30 + 1830 = the window 1860")
	dep := rec.Get(t, typeDeployment, "edge-nginx")
	pod := at(t, obj(dep), "spec", "template", "spec")
	assert.Equal(t, 1870.0, at(t, pod, "terminationGracePeriodSeconds").NumberValue(), "window + 10 s to exit")
	assert.Equal(t, float64(PreStopSleepSeconds), at(t, pod, "containers", 0, "lifecycle", "preStop", "sleep", "seconds").NumberValue())
}

// TestEdgeNginxRolloutHasCustomTimeoutsCoveringTheDrains: with maxSurge 0
// each NGINX pod may wait for its predecessor's whole grace; the default
// pulumi-kubernetes await (10 minutes) would fail `pulumi up` long before.
func TestEdgeNginxRolloutHasCustomTimeoutsCoveringTheDrains(t *testing.T) {
	rec, _ := run(t, nlbArgs(t)) // 3 replicas, default drain chain
	dep := rec.Get(t, typeDeployment, "edge-nginx")
	require.NotNil(t, dep.CustomTimeouts, "the NGINX Deployment has custom timeouts")
	grace := at(t, obj(dep), "spec", "template", "spec", "terminationGracePeriodSeconds").NumberValue()
	minReady := at(t, obj(dep), "spec", "minReadySeconds").NumberValue()
	for name, v := range map[string]string{"create": dep.CustomTimeouts.Create, "update": dep.CustomTimeouts.Update} {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, name)
		assert.GreaterOrEqual(t, d.Seconds(), 3*(grace+minReady), "%s covers 3 replicas × (grace + minReadySeconds)", name)
		assert.Greater(t, d, 10*time.Minute, name)
	}
	del, err := time.ParseDuration(dep.CustomTimeouts.Delete)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, del.Seconds(), grace, "foreground delete waits for the pods' grace")
	progress := at(t, obj(dep), "spec", "progressDeadlineSeconds").NumberValue()
	assert.GreaterOrEqual(t, progress, grace+minReady, "a pod waiting for a drain is not a stalled rollout")
	assert.Equal(t, NginxRollout(nlbArgs(t)).Timeouts().Update, dep.CustomTimeouts.Update)
	assert.Equal(t, "3h18m15s", dep.CustomTimeouts.Update, "3 × (3610 grace + 120 schedule + 5 + 30 ready) + 600")
}

func TestEdgeDrainChainValidation(t *testing.T) {
	with := func(base Args, f func(*Args)) Args { f(&base); return base }
	cases := []struct {
		name string
		args Args
		keys []string
		msg  string
	}{
		{"an hour of drain behind an ALB is refused: preStop + drain exceeds the 3600 s deregistration delay maximum",
			with(albArgs(), func(a *Args) { a.RegistryDrainSeconds, a.RegistryPreStopSeconds = 3600, 30 }),
			[]string{"anka:registry.drainSeconds"}, "must be at most 3570"},
		{"an hour of drain behind the NLB is refused too",
			with(nlbArgs(t), func(a *Args) { a.RegistryDrainSeconds, a.RegistryPreStopSeconds = 3600, 30 }),
			[]string{"anka:registry.drainSeconds"}, "NLB"},
		{"a longer preStop lowers the longest drain",
			with(albArgs(), func(a *Args) { a.RegistryDrainSeconds, a.RegistryPreStopSeconds = 3570, 60 }),
			[]string{"anka:registry.drainSeconds"}, "must be at most 3540"},
		{"a deregistration delay shorter than the push window is refused (the old 900 s default)",
			with(nlbArgs(t), func(a *Args) { a.DeregistrationDelaySeconds = new(900) }),
			[]string{"anka:edge.deregistrationDelaySeconds"}, "must be at least 3600"},
		{"a deregistration delay shorter than the push window is refused in alb",
			with(albArgs(), func(a *Args) {
				a.RegistryDrainSeconds, a.RegistryPreStopSeconds = 1200, 30
				a.DeregistrationDelaySeconds = new(1200)
			}),
			[]string{"anka:edge.deregistrationDelaySeconds"}, "must be at least 1230"},
		{"worker_shutdown_timeout is derived, not configured",
			with(nlbArgs(t), func(a *Args) { a.Nginx.WorkerShutdownTimeoutSeconds = 60 }),
			[]string{nginxconf.KeyWorkerShutdownTimeoutSeconds}, "set by the edge from anka:registry.drainSeconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := requireRefused(t, tc.args, tc.keys)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}

	t.Run("a long drain is fine where no load balancer of ours drains", func(t *testing.T) {
		a := ingressNginxArgs(t)
		a.RegistryDrainSeconds = 7200
		assert.NoError(t, a.Validate())
	})
	t.Run("an explicit deregistration delay above the window is fine", func(t *testing.T) {
		a := albArgs()
		a.RegistryDrainSeconds, a.RegistryPreStopSeconds = 1200, 30
		a.DeregistrationDelaySeconds = new(3600)
		assert.NoError(t, a.Validate())
	})
	t.Run("the defaults fill the window to AWS's maximum exactly", func(t *testing.T) {
		c := albArgs().DrainChain()
		assert.Equal(t, drain.MaxDeregistrationDelaySeconds, c.WindowSeconds)
		assert.NoError(t, albArgs().Validate())
	})
}
