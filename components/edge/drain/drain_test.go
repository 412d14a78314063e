package drain

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChainDefaultsFillTheDeregistrationDelayMaximum(t *testing.T) {
	c := New(0, 0)
	assert.Equal(t, Chain{
		RegistryDrainSeconds: 3570, RegistryPreStopSeconds: 30, WindowSeconds: 3600,
		RegistryGraceSeconds: 3600, DeregistrationDelaySeconds: 3600,
		ProxyPreStopSeconds: 30, ProxyShutdownTimeoutSeconds: 3570, ProxyGraceSeconds: 3610,
	}, c)
	assert.Equal(t, 3540, DefaultDrainSeconds(60), "a longer preStop leaves a shorter drain")
	assert.Equal(t, 3570, DefaultDrainSecondsWithDefaultPreStop)
}

func TestChainInvariantsHoldForEveryValidWindow(t *testing.T) {
	for _, preStop := range []int{1, 30, 60, 300} {
		for drainS := 30; preStop+drainS <= MaxDeregistrationDelaySeconds; drainS += 97 {
			c := New(drainS, preStop)
			w := preStop + drainS
			assert.Equal(t, w, c.WindowSeconds)
			assert.GreaterOrEqual(t, c.RegistryGraceSeconds, preStop+drainS, "Registry grace ≥ preStop + drain")
			assert.GreaterOrEqual(t, c.DeregistrationDelaySeconds, w, "deregistration delay ≥ window")
			assert.LessOrEqual(t, c.DeregistrationDelaySeconds, MaxDeregistrationDelaySeconds)
			assert.GreaterOrEqual(t, c.ProxyPreStopSeconds+c.ProxyShutdownTimeoutSeconds, w, "NGINX keeps a push the whole window")
			assert.LessOrEqual(t, c.ProxyPreStopSeconds+c.ProxyShutdownTimeoutSeconds, c.DeregistrationDelaySeconds, "and the NLB keeps it as long as NGINX")
			assert.Greater(t, c.ProxyGraceSeconds, c.ProxyPreStopSeconds+c.ProxyShutdownTimeoutSeconds, "NGINX exits before SIGKILL")
		}
	}
}

func TestRolloutTimeouts(t *testing.T) {
	r := Rollout{Replicas: 3, GraceSeconds: 3600, StartSeconds: 600, ReadySeconds: 10}
	assert.Equal(t, 3600+120+600+10, r.PodSeconds())
	assert.Equal(t, 3*4330+600, r.AwaitSeconds())
	assert.Equal(t, 3600+600, r.DeleteSeconds())
	to := r.Timeouts()
	assert.Equal(t, Timeouts{Create: "3h46m30s", Update: "3h46m30s", Delete: "1h10m0s"}, to)
	for _, s := range []string{to.Create, to.Update, to.Delete} {
		d, err := time.ParseDuration(s) // what the Pulumi engine does with them
		require.NoError(t, err)
		assert.Greater(t, d, 10*time.Minute, "beyond pulumi-kubernetes's default await")
	}
	assert.Equal(t, Rollout{Replicas: 0, GraceSeconds: 60}.PodSeconds()+AwaitMarginSeconds, Rollout{Replicas: 0, GraceSeconds: 60}.AwaitSeconds(), "0 replicas still waits for one")
}
