package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
)

// devShape is Pulumi.dev.yaml's node, an m6i.large.
func devShape(t *testing.T) capacity.Resources { return nodeShape(t, "m6i.large") }

// nodeShape is what an EKS node of instanceType leaves for pods once the
// DaemonSets EKS runs on every node have their requests (they do not run
// here, so their share is taken off the node instead).
func nodeShape(t *testing.T, instanceType string) capacity.Resources {
	t.Helper()
	it, ok := capacity.Lookup(instanceType)
	if !ok {
		t.Fatalf("%s is not in the capacity table", instanceType)
	}
	free := it.Allocatable()
	for _, s := range capacity.EKSSystemPods(true) {
		if s.PerNode {
			free = free.Sub(s.Requests)
		}
	}
	return free
}

// shapeNodes gives every KWOK node the allocatable (and capacity) r.
func (e *env) shapeNodes(t *testing.T, r capacity.Resources) {
	t.Helper()
	nodes, err := e.kube.Nodes(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := map[string]any{"cpu": fmt.Sprintf("%dm", r.MilliCPU), "memory": fmt.Sprintf("%dMi", r.MemoryMiB), "pods": fmt.Sprint(r.Pods), "ephemeral-storage": "80Gi"}
	for _, n := range nodes {
		if _, err := e.kube.Do(e.ctx, "PATCH", "/api/v1/nodes/"+n.Metadata.Name+"/status", "application/merge-patch+json",
			map[string]any{"status": map[string]any{"allocatable": q, "capacity": q}}); err != nil {
			t.Fatalf("shape node %s: %v", n.Metadata.Name, err)
		}
	}
}

// systemStandIns runs, in kube-system, pods with the requests of the
// Deployments EKS and the stack's add-ons run (CoreDNS, the EBS CSI
// controller, the Load Balancer Controller), so they take their share of the
// nodes as on EKS.
func (e *env) systemStandIns(t *testing.T) {
	t.Helper()
	for _, s := range capacity.EKSSystemPods(true) {
		if s.PerNode {
			continue
		}
		name := "standin-" + s.Name
		labels := map[string]any{"app": name}
		_, err := e.kube.Create(e.ctx, "/apis/apps/v1/namespaces/kube-system/deployments", map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "kube-system"},
			"spec": map[string]any{
				"replicas": s.Replicas,
				"selector": map[string]any{"matchLabels": labels},
				"template": map[string]any{
					"metadata": map[string]any{"labels": labels},
					"spec": map[string]any{"containers": []any{map[string]any{
						"name": "pause", "image": "registry.k8s.io/pause:3.10",
						"resources": map[string]any{"requests": map[string]any{
							"cpu": fmt.Sprintf("%dm", s.Requests.MilliCPU), "memory": fmt.Sprintf("%dMi", s.Requests.MemoryMiB),
						}},
					}}},
				},
			},
		})
		if err != nil {
			t.Fatalf("stand-in %s: %v", name, err)
		}
	}
}

// upOnShape sets config, runs `pulumi up` and requires every pod that has
// not completed to be Ready on shape's (dev's, prod's) node shape.
func (e *env) upOnShape(t *testing.T, shape string, config map[string]string) {
	t.Helper()
	for key, value := range config {
		if err := e.stack.Set(e.ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t, "up with "+shape+"'s requests on "+shape+"'s node shape", e.stack.Up)
	pods, err := e.kube.Pods(e.ctx, e.cfg.Namespace, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if p.Status.Phase != "Succeeded" && !p.Ready() {
			t.Errorf("%s not ready on %s's node shape: %s", p.Metadata.Name, shape, p)
		}
	}
}

// eksNodeShapes: the local nodes take dev's shape (m6i.large as the EKS AMI
// leaves it, minus the DaemonSets), the system Deployments take their share,
// and `up` of the workload with dev's requests succeeds: every pod is
// scheduled and Ready and no node is overcommitted. Then a pod with the
// Build Cloud requests dev had before the capacity plan (500m + 500m beside
// a 1-CPU etcd member) is refused by the real scheduler for lack of CPU:
// what kept dev's first `up` on EKS from finishing.
func (e *env) eksNodeShapes(t *testing.T) {
	e.need(t)
	ctx, ns := e.ctx, e.cfg.Namespace
	e.shapeNodes(t, devShape(t))
	e.systemStandIns(t)
	e.upOnShape(t, "dev", map[string]string{
		"anka:etcd.cpuRequest": "500m", "anka:etcd.memoryRequest": "2Gi",
		"anka:controller.cpuMillis": "250", "anka:controller.memoryMiB": "1024",
		"anka:registry.cpuMillis": "250", "anka:registry.memoryMiB": "1024",
	})
	t.Logf("node usage on dev's shape:\n%s", e.kube.KubectlOutput(ctx, "describe", "nodes"))

	// The pod template of the Build Cloud Deployment with the old requests.
	deps, err := e.kube.Deployments(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, d := range deps {
		if strings.Contains(d.Metadata.Name, "controller") {
			name = d.Metadata.Name
		}
	}
	if name == "" {
		t.Fatal("no Build Cloud Deployment")
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec map[string]any `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := e.kube.Get(ctx, "/apis/apps/v1/namespaces/"+ns+"/deployments/"+name, &dep); err != nil {
		t.Fatal(err)
	}
	spec := dep.Spec.Template.Spec
	containers := spec["containers"].([]any)
	for _, c := range containers {
		c.(map[string]any)["resources"] = map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "1Gi"}}
	}
	// Beside a 1-CPU member: the member's extra 500m rides on the probe as
	// one more container (a copy of the first, so it passes the namespace's
	// Pod Security level) rather than coming off the nodes. A node patch
	// just before the probe races the scheduler's node informer: a CI run
	// once saw the probe placed against the old allocatable.
	share := map[string]any{}
	for k, v := range containers[0].(map[string]any) {
		share[k] = v
	}
	for _, k := range []string{"ports", "readinessProbe", "livenessProbe", "startupProbe"} {
		delete(share, k)
	}
	share["name"] = "etcd-member-share"
	share["resources"] = map[string]any{"requests": map[string]any{"cpu": "500m"}}
	spec["containers"] = append(containers, share)
	delete(spec, "affinity")
	delete(spec, "topologySpreadConstraints")
	probe := "capacity-probe"
	if _, err := e.kube.Create(ctx, "/api/v1/namespaces/"+ns+"/pods", map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": probe, "namespace": ns},
		"spec":     spec,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = e.kube.Do(ctx, "DELETE", "/api/v1/namespaces/"+ns+"/pods/"+probe, "", nil) })
	if err := poll.Until(ctx, time.Minute, 250*time.Millisecond, "the scheduler to refuse the probe pod", func() error {
		var p Pod
		if err := e.kube.Get(ctx, "/api/v1/namespaces/"+ns+"/pods/"+probe, &p); err != nil {
			return poll.Stop(err)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable" {
				if !strings.Contains(c.Message, "Insufficient cpu") {
					return poll.Stop(fmt.Errorf("unschedulable for another reason: %s", c.Message))
				}
				return nil
			}
		}
		return errors.New(p.String())
	}); err != nil {
		t.Error(err)
	}
}

// eksNodeShapesProd: Pulumi.prod.yaml's shape, two m6i.2xlarge per zone,
// with prod's Build Cloud (split: three 2-CPU Controllers and three 2-CPU
// Registries), three NGINX and 1-CPU etcd members: `up` succeeds and every
// pod is Ready.
func (e *env) eksNodeShapesProd(t *testing.T) {
	e.need(t)
	ctx := e.ctx
	nodes, err := e.kube.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if strings.HasSuffix(n.Metadata.Name, "-2") {
			continue
		}
		var full map[string]any
		if err := e.kube.Get(ctx, "/api/v1/nodes/"+n.Metadata.Name, &full); err != nil {
			t.Fatal(err)
		}
		md := full["metadata"].(map[string]any)
		name := n.Metadata.Name + "-2"
		labels := md["labels"].(map[string]any)
		labels["kubernetes.io/hostname"] = name
		if _, err := e.kube.Create(ctx, "/api/v1/nodes", map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": name, "labels": labels, "annotations": md["annotations"]},
		}); err != nil {
			t.Fatalf("second node in %s: %v", n.Zone(), err)
		}
	}
	free := nodeShape(t, "m6i.2xlarge")
	if err := poll.Until(ctx, time.Minute, 250*time.Millisecond, "six Ready nodes", func() error {
		e.shapeNodes(t, free)
		nodes, err := e.kube.Nodes(ctx)
		if err != nil {
			return poll.Stop(err)
		}
		if len(nodes) != 6 {
			return fmt.Errorf("%d nodes", len(nodes))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.upOnShape(t, "prod", map[string]string{
		"anka:etcd.cpuRequest": "1000m", "anka:etcd.memoryRequest": "2Gi",
		"anka:buildcloud.topology": "split",
		"anka:controller.replicas": "3", "anka:controller.cpuMillis": "2000", "anka:controller.memoryMiB": "4096",
		"anka:registry.replicas": "3", "anka:registry.cpuMillis": "2000", "anka:registry.memoryMiB": "1024",
		"anka:edge.nginx.replicas": "3", "anka:edge.nginx.cpuRequest": "250m", "anka:edge.nginx.memoryRequest": "128Mi",
	})
}
