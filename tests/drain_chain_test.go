package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// AWS's ranges (Elastic Load Balancing API reference: TargetGroupAttribute
// deregistration_delay.timeout_seconds 0-3600; LoadBalancerAttribute
// idle_timeout.timeout_seconds 1-4000; ListenerAttribute
// tcp.idle_timeout.seconds 60-6000), the project's idle floor, and
// pulumi-kubernetes's default Deployment await (10 minutes). Written out
// here rather than imported: the test checks the rendered stacks against
// the facts, not the code against itself.
const (
	awsMaxDeregistrationDelay = 3600
	awsMaxALBIdle             = 4000
	awsMinNLBIdle             = 60
	awsMaxNLBIdle             = 6000
	projectIdleFloor          = 900
	pulumiDefaultAwait        = 10 * time.Minute
)

// TestDrainChainInGoldenFiles reads each golden snapshot (what `pulumi
// preview` would create for Pulumi.<stack>.yaml) and checks the whole drain
// chain of a registry push, client → load balancer → (NGINX →) Registry, as
// components/edge/drain states it:
//
//   - Registry: terminationGracePeriodSeconds ≥ preStop +
//     ANKA_GRACEFUL_SHUTDOWN_TIMEOUT; the push window W is preStop + drain.
//   - Load balancer: idle timeout within AWS's range and ≥ 900 s;
//     deregistration delay ≤ 3600 and ≥ the time a push may still run
//     through its target (W for Registry pods behind an ALB; NGINX's
//     preStop + worker_shutdown_timeout behind the NLB).
//   - NGINX: preStop + worker_shutdown_timeout ≥ W (it never cuts what the
//     Registry still accepts), grace > preStop + worker_shutdown_timeout
//     (it exits before SIGKILL), its five timeouts between 900 s and the
//     NLB's idle timeout.
//   - Rollouts: every Deployment that drains pushes (Registry, combined,
//     NGINX) has create/update custom timeouts ≥ replicas × (grace +
//     startup + minReadySeconds) and above pulumi-kubernetes's 10-minute
//     default, a delete timeout ≥ grace, and a progressDeadlineSeconds ≥
//     grace + startup.
func TestDrainChainInGoldenFiles(t *testing.T) {
	for _, stack := range environmentStacks {
		t.Run(stack, func(t *testing.T) {
			g := readGolden(t, stack)

			// Registry hop.
			regs := g.deploymentsWithContainer("registry")
			require.NotEmpty(t, regs, "a Deployment runs the Registry")
			window := 0
			for _, d := range regs {
				pod := d.pod()
				c := pod.container(t, "registry")
				preStop := c.int(t, "lifecycle", "preStop", "sleep", "seconds")
				drain := seconds(t, c.env(t, "ANKA_GRACEFUL_SHUTDOWN_TIMEOUT"))
				grace := pod.int(t, "terminationGracePeriodSeconds")
				assert.GreaterOrEqual(t, grace, preStop+drain, "%s: Registry grace ≥ preStop %d + drain %d", d.Name, preStop, drain)
				window = max(window, preStop+drain)
				t.Logf("Registry %s: preStop %d s + drain %d s = push window %d s; grace %d s", d.Name, preStop, drain, preStop+drain, grace)
			}

			// Load balancer (and NGINX).
			var drained []goldenResource // Deployments whose pods a rollout waits to drain
			drained = append(drained, regs...)
			switch ingresses, svc := g.ofType("kubernetes:networking.k8s.io/v1:Ingress"), g.find("kubernetes:core/v1:Service", "edge-nlb"); {
			case svc != nil:
				ann := svc.obj("metadata", "annotations")
				idle := attr(t, ann.str(t, "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443"), "tcp.idle_timeout.seconds")
				dereg := attr(t, ann.str(t, "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes"), "deregistration_delay.timeout_seconds")
				assert.GreaterOrEqual(t, idle, max(awsMinNLBIdle, projectIdleFloor), "NLB TCP idle timeout ≥ the 900 s floor")
				assert.LessOrEqual(t, idle, awsMaxNLBIdle, "NLB TCP idle timeout within AWS's 60-6000")
				assert.LessOrEqual(t, dereg, awsMaxDeregistrationDelay, "deregistration delay within AWS's 0-3600")

				nginx := g.find("kubernetes:apps/v1:Deployment", "edge-nginx")
				require.NotNil(t, nginx, "nlb-mtls runs NGINX")
				drained = append(drained, *nginx)
				pod := nginx.pod()
				c := pod.container(t, "nginx")
				preStop := c.int(t, "lifecycle", "preStop", "sleep", "seconds")
				grace := pod.int(t, "terminationGracePeriodSeconds")
				cm := g.find("kubernetes:core/v1:ConfigMap", "edge-nginx-conf")
				require.NotNil(t, cm)
				conf := cm.obj("data").str(t, "nginx.conf")
				shutdown := seconds(t, directive(t, conf, "worker_shutdown_timeout"))
				assert.GreaterOrEqual(t, preStop+shutdown, window, "NGINX keeps a push for preStop %d + worker_shutdown_timeout %d ≥ the Registry's window %d", preStop, shutdown, window)
				assert.Greater(t, grace, preStop+shutdown, "NGINX grace %d: it exits by itself after worker_shutdown_timeout, before SIGKILL", grace)
				assert.GreaterOrEqual(t, dereg, preStop+shutdown, "the NLB keeps a draining NGINX's flows (%d s) as long as NGINX keeps the push (%d s)", dereg, preStop+shutdown)
				for _, d := range []string{"client_body_timeout", "send_timeout", "proxy_read_timeout", "proxy_send_timeout"} {
					v := seconds(t, directive(t, conf, d))
					assert.GreaterOrEqual(t, v, projectIdleFloor, d)
					assert.LessOrEqual(t, v, idle, "%s ≤ the NLB's idle timeout: NGINX closes cleanly before the NLB drops silently", d)
				}
				// keepalive_timeout runs only between requests, so it cannot
				// cut a transfer: no floor, only short of the NLB's.
				assert.LessOrEqual(t, seconds(t, directive(t, conf, "keepalive_timeout")), idle, "keepalive_timeout ≤ the NLB's idle timeout")
				t.Logf("NLB: idle %d s, deregistration delay %d s; NGINX: preStop %d + worker_shutdown_timeout %d, grace %d", idle, dereg, preStop, shutdown, grace)
			case len(ingresses) > 0:
				for _, ing := range ingresses {
					ann := ing.obj("metadata", "annotations")
					idle := attr(t, ann.str(t, "alb.ingress.kubernetes.io/load-balancer-attributes"), "idle_timeout.timeout_seconds")
					dereg := attr(t, ann.str(t, "alb.ingress.kubernetes.io/target-group-attributes"), "deregistration_delay.timeout_seconds")
					assert.GreaterOrEqual(t, idle, projectIdleFloor, "%s: ALB idle timeout ≥ the 900 s floor", ing.Name)
					assert.LessOrEqual(t, idle, awsMaxALBIdle, "%s: ALB idle timeout within AWS's 1-4000", ing.Name)
					assert.LessOrEqual(t, dereg, awsMaxDeregistrationDelay, "%s: deregistration delay within AWS's 0-3600", ing.Name)
					assert.GreaterOrEqual(t, dereg, window, "%s: the ALB keeps a draining Registry pod's connections (%d s) for the whole push window (%d s)", ing.Name, dereg, window)
					t.Logf("ALB %s: idle %d s, deregistration delay %d s", ing.Name, idle, dereg)
				}
			default:
				t.Fatalf("%s: no load balancer found in the golden file", stack)
			}

			// Rollouts.
			for _, d := range drained {
				ct := d.Options.CustomTimeouts
				require.NotNil(t, ct, "%s: a rollout waits for drains, so it needs custom timeouts", d.Name)
				pod := d.pod()
				replicas := d.obj("spec").int(t, "replicas")
				grace := pod.int(t, "terminationGracePeriodSeconds")
				start := 0
				for _, c := range pod.containers() {
					if p := c.obj("startupProbe"); p != nil {
						start = max(start, p.int(t, "periodSeconds")*p.int(t, "failureThreshold"))
					}
				}
				minReady := 0
				if _, ok := d.obj("spec")["minReadySeconds"]; ok {
					minReady = d.obj("spec").int(t, "minReadySeconds")
				}
				need := time.Duration(replicas*(grace+start+minReady)) * time.Second
				for op, v := range map[string]string{"create": ct.Create, "update": ct.Update} {
					got, err := time.ParseDuration(v)
					require.NoError(t, err, "%s %s timeout %q", d.Name, op, v)
					assert.GreaterOrEqual(t, got, need, "%s %s: %d replicas × (grace %d + startup %d + minReady %d)", d.Name, op, replicas, grace, start, minReady)
					assert.Greater(t, got, pulumiDefaultAwait, "%s %s", d.Name, op)
				}
				del, err := time.ParseDuration(ct.Delete)
				require.NoError(t, err, "%s delete timeout %q", d.Name, ct.Delete)
				assert.GreaterOrEqual(t, del, time.Duration(grace)*time.Second, "%s: foreground deletion waits for the pods' grace", d.Name)
				assert.GreaterOrEqual(t, d.obj("spec").int(t, "progressDeadlineSeconds"), grace+start, "%s: waiting for a drain is not a stalled rollout", d.Name)
				t.Logf("%s: %d replicas, custom timeouts create/update %s, delete %s", d.Name, replicas, ct.Update, ct.Delete)
			}
		})
	}
}

// attr reads key=value out of an AWS Load Balancer Controller attributes
// annotation ("a=1,b=2").
func attr(t *testing.T, list, key string) int {
	t.Helper()
	for _, kv := range strings.Split(list, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
			n, err := strconv.Atoi(v)
			require.NoError(t, err, "%s=%s", k, v)
			return n
		}
	}
	t.Fatalf("no %s in %q", key, list)
	return 0
}

// directive returns the single argument of an nginx.conf directive.
func directive(t *testing.T, conf, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*`+regexp.QuoteMeta(name)+`\s+([^;\s]+);`).FindAllStringSubmatch(conf, -1)
	require.Len(t, m, 1, "want exactly one %s in nginx.conf", name)
	return m[0][1]
}

// seconds parses "3570s" or "3570".
func seconds(t *testing.T, v string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSuffix(v, "s"))
	require.NoError(t, err, fmt.Sprintf("%q is not a number of seconds", v))
	return n
}
