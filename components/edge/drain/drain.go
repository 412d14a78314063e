// Package drain is the one place where the drain chain of a registry push
// is derived: how long every hop between a client and the Registry keeps a
// push in flight when a pod on its path stops (rollout, node drain,
// eviction), and how long `pulumi up` waits for a rollout that waits for
// those drains.
//
// # The one setting
//
// anka:registry.drainSeconds (buildcloud RegistryArgs.DrainSeconds) is the
// Registry's ANKA_GRACEFUL_SHUTDOWN_TIMEOUT: after SIGTERM it lets in-flight
// transfers run this long. SIGTERM comes after the preStop sleep
// (anka:buildcloud.preStopSeconds), which keeps the pod serving while the load
// balancer deregisters it. So a push in flight when a pod on its path starts
// stopping may still run for
//
//	W = preStop + drain    (Chain.WindowSeconds, the push window)
//
// and every other number below is derived from W.
//
// # Invariants (checked at preview by the edge's Validate, and over the
// golden files by tests/drain_chain_test.go)
//
//  1. Registry: terminationGracePeriodSeconds ≥ preStop + drain = W, or the
//     kubelet kills the Registry before its own drain ends.
//  2. Load balancer (the ALB's targets are the Controller/Registry pods, the
//     NLB's the NGINX pods): deregistration_delay.timeout_seconds ≥ W, so a
//     draining target keeps its connections as long as a push may still run
//     through it (the ALB closes them when the delay ends; the NLB may). AWS
//     allows 0-3600 s (Elastic Load Balancing API reference,
//     TargetGroupAttribute: "deregistration_delay.timeout_seconds ... The
//     range is 0-3600 seconds", ALB and NLB alike), hence W ≤ 3600: with the
//     default preStop of 30 s the drain is at most 3570 s, its default.
//  3. NGINX (nlb-mtls): its preStop sleep + worker_shutdown_timeout = W
//     (after SIGQUIT, the image's STOPSIGNAL, NGINX stops accepting, lets
//     requests in flight finish, and closes what is left when
//     worker_shutdown_timeout ends), and its terminationGracePeriodSeconds ≥
//     preStop + worker_shutdown_timeout + ProxyExitSeconds, so NGINX exits by
//     itself before the kubelet's SIGKILL. NGINX then never cuts a push the
//     Registry would still accept, and the NLB (≥ W) never cuts one NGINX
//     still carries.
//  4. Idle timeouts bound a pause, not a transfer, so they keep their own
//     setting (anka:edge.idleTimeoutSeconds): load balancer ≥ NGINX's five
//     timeouts ≥ 900 s (the project's floor), load balancer ≤ its AWS maximum
//     (ALB idle_timeout.timeout_seconds 1-4000, API reference
//     LoadBalancerAttribute; NLB TCP listener tcp.idle_timeout.seconds
//     60-6000, API reference ListenerAttribute). The edge component checks
//     them; the chain test asserts them with the rest.
//  5. Rollouts (maxSurge 0, maxUnavailable 1, required anti-affinity): a new
//     pod may have to wait for the old one's whole grace before it can be
//     scheduled, then start and become ready, one pod after the other. The
//     Deployments whose pods drain (Registry, combined Controller+Registry,
//     NGINX) get pulumi-kubernetes custom timeouts of Rollout.AwaitSeconds
//     (pulumi-kubernetes's default is 10 minutes,
//     DefaultDeploymentTimeoutMins in provider/pkg/await/deployment.go), a
//     progressDeadlineSeconds of Rollout.PodSeconds, and a delete timeout of
//     Rollout.DeleteSeconds (the provider deletes with foreground
//     propagation, so it waits for the pods' grace too).
package drain

import (
	"time"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MaxDeregistrationDelaySeconds is the largest target group
// deregistration_delay.timeout_seconds AWS accepts, for ALBs and NLBs (range
// 0-3600 s, default 300; Elastic Load Balancing API reference,
// TargetGroupAttribute).
const MaxDeregistrationDelaySeconds = 3600

// Defaults of the Registry hop and constants of the NGINX hop.
const (
	// DefaultPreStopSeconds is the Build Cloud pods' preStop sleep
	// (anka:buildcloud.preStopSeconds): long enough for the AWS Load
	// Balancer Controller to deregister the pod before it stops accepting.
	DefaultPreStopSeconds = 30
	// DefaultDrainSecondsWithDefaultPreStop is anka:registry.drainSeconds's
	// default with the default preStop: the window is then exactly the
	// longest deregistration delay AWS allows.
	DefaultDrainSecondsWithDefaultPreStop = MaxDeregistrationDelaySeconds - DefaultPreStopSeconds
	// ProxyPreStopSeconds is NGINX's preStop sleep: it keeps accepting while
	// the NLB deregisters it (an NLB keeps sending new flows for a while).
	ProxyPreStopSeconds = 30
	// ProxyExitSeconds is what NGINX's grace adds after
	// worker_shutdown_timeout: time to close the connections left and exit
	// before the kubelet's SIGKILL.
	ProxyExitSeconds = 10
)

// DefaultDrainSeconds is anka:registry.drainSeconds when unset: the longest
// drain whose window (preStop + drain) a load balancer's deregistration
// delay can still cover, 3570 with the default 30 s preStop.
func DefaultDrainSeconds(preStopSeconds int) int {
	if preStopSeconds <= 0 {
		preStopSeconds = DefaultPreStopSeconds
	}
	return MaxDeregistrationDelaySeconds - preStopSeconds
}

// MaxDrainSeconds is the longest drain a load balancer in front of the pods
// can cover with the given preStop (invariant 2).
func MaxDrainSeconds(preStopSeconds int) int {
	return MaxDeregistrationDelaySeconds - preStopSeconds
}

// Chain is every hop's drain, derived from the Registry's drain and preStop.
type Chain struct {
	// RegistryDrainSeconds is anka:registry.drainSeconds, the Registry's
	// ANKA_GRACEFUL_SHUTDOWN_TIMEOUT.
	RegistryDrainSeconds int
	// RegistryPreStopSeconds is anka:buildcloud.preStopSeconds.
	RegistryPreStopSeconds int
	// WindowSeconds (W) is how long a push in flight when a pod on its path
	// starts stopping may still run: preStop + drain.
	WindowSeconds int
	// RegistryGraceSeconds is the Registry pods' minimal
	// terminationGracePeriodSeconds: W.
	RegistryGraceSeconds int
	// DeregistrationDelaySeconds is the load balancer target groups'
	// deregistration_delay.timeout_seconds: W (capped at AWS's 3600; a
	// window above that is refused by validation).
	DeregistrationDelaySeconds int
	// ProxyPreStopSeconds, ProxyShutdownTimeoutSeconds and
	// ProxyGraceSeconds are NGINX's preStop sleep, worker_shutdown_timeout
	// (W - preStop) and terminationGracePeriodSeconds (W + ProxyExitSeconds).
	ProxyPreStopSeconds         int
	ProxyShutdownTimeoutSeconds int
	ProxyGraceSeconds           int
}

// New derives the chain from the Registry's drain and preStop; zero means
// the default.
func New(drainSeconds, preStopSeconds int) Chain {
	if preStopSeconds <= 0 {
		preStopSeconds = DefaultPreStopSeconds
	}
	if drainSeconds <= 0 {
		drainSeconds = DefaultDrainSeconds(preStopSeconds)
	}
	w := preStopSeconds + drainSeconds
	shutdown := max(w-ProxyPreStopSeconds, 1)
	return Chain{
		RegistryDrainSeconds:        drainSeconds,
		RegistryPreStopSeconds:      preStopSeconds,
		WindowSeconds:               w,
		RegistryGraceSeconds:        w,
		DeregistrationDelaySeconds:  min(w, MaxDeregistrationDelaySeconds),
		ProxyPreStopSeconds:         ProxyPreStopSeconds,
		ProxyShutdownTimeoutSeconds: shutdown,
		ProxyGraceSeconds:           ProxyPreStopSeconds + shutdown + ProxyExitSeconds,
	}
}

// Rollout margins.
const (
	// PodScheduleSeconds is what a replacement pod may take beyond its
	// probes: scheduling, image pull, container start.
	PodScheduleSeconds = 120
	// AwaitMarginSeconds is added once to a rollout: pulumi-kubernetes's own
	// default await (10 minutes), for what is not per pod (the Deployment
	// controller's reaction, the provider's watch).
	AwaitMarginSeconds = 600
)

// Rollout is what a rolling update of one Deployment may have to wait for
// with maxSurge 0 and maxUnavailable 1: pod after pod, the old pod stops
// (its whole grace if it holds the only node the new one may use: the
// anti-affinity is required), then the new one is scheduled, starts and
// becomes available.
type Rollout struct {
	// Replicas of the Deployment.
	Replicas int
	// GraceSeconds is the pods' terminationGracePeriodSeconds.
	GraceSeconds int
	// StartSeconds is the longest a new pod may take to start: its startup
	// probe's periodSeconds × failureThreshold (0 without one).
	StartSeconds int
	// ReadySeconds is the time from started to available: the readiness
	// probe's period plus minReadySeconds.
	ReadySeconds int
}

// PodSeconds is the longest one pod's replacement may take: grace +
// schedule + start + ready. It is also the Deployment's
// progressDeadlineSeconds: no progress for longer is a real stall.
func (r Rollout) PodSeconds() int {
	return r.GraceSeconds + PodScheduleSeconds + r.StartSeconds + r.ReadySeconds
}

// AwaitSeconds is the create/update custom timeout: every replica replaced
// in turn, plus AwaitMarginSeconds.
func (r Rollout) AwaitSeconds() int {
	return max(r.Replicas, 1)*r.PodSeconds() + AwaitMarginSeconds
}

// DeleteSeconds is the delete custom timeout: pulumi-kubernetes deletes a
// Deployment with foreground propagation and waits until it is gone, which
// is after its pods' grace (they stop in parallel), plus AwaitMarginSeconds.
func (r Rollout) DeleteSeconds() int {
	return r.GraceSeconds + AwaitMarginSeconds
}

// Timeouts are the custom timeouts as Go duration strings, the form the
// Pulumi engine parses (time.ParseDuration).
type Timeouts struct {
	Create, Update, Delete string
}

// Timeouts returns the rollout's custom timeouts.
func (r Rollout) Timeouts() Timeouts {
	await := Duration(r.AwaitSeconds())
	return Timeouts{Create: await, Update: await, Delete: Duration(r.DeleteSeconds())}
}

// Strategy is the Deployment strategy the rollout assumes: a rolling update
// of one pod at a time and no surge, since with required anti-affinity a
// surge pod may find no free node.
func (r Rollout) Strategy() appsv1.DeploymentStrategyArgs {
	return appsv1.DeploymentStrategyArgs{
		Type: pulumi.String("RollingUpdate"),
		RollingUpdate: appsv1.RollingUpdateDeploymentArgs{
			MaxSurge:       pulumi.Int(0),
			MaxUnavailable: pulumi.Int(1),
		},
	}
}

// Duration formats seconds as a Go duration string, e.g. "3h46m30s".
func Duration(seconds int) string {
	return (time.Duration(seconds) * time.Second).String()
}
