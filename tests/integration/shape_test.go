package integration

import (
	"errors"
	"fmt"
	"strconv"
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

// quantities is r as a node's status.allocatable (and capacity).
func quantities(r capacity.Resources) map[string]any {
	return map[string]any{"cpu": fmt.Sprintf("%dm", r.MilliCPU), "memory": fmt.Sprintf("%dMi", r.MemoryMiB), "pods": fmt.Sprint(r.Pods), "ephemeral-storage": "80Gi"}
}

// milliCPU reads a CPU quantity as the API server writes it back ("7910m",
// or "8" for a whole number of CPUs).
func milliCPU(q string) (int64, error) {
	if v, ok := strings.CutSuffix(q, "m"); ok {
		return strconv.ParseInt(v, 10, 64)
	}
	n, err := strconv.ParseInt(q, 10, 64)
	return n * 1000, err
}

// shapeNodes gives every KWOK node the allocatable (and capacity) r.
func (e *env) shapeNodes(t *testing.T, r capacity.Resources) {
	t.Helper()
	nodes, err := e.kube.Nodes(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := quantities(r)
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
	// They must hold their share before the workload's pods are scheduled,
	// or the workload would be shown to fit on nodes the system pods do not
	// yet use: a Deployment reaches the scheduler through its ReplicaSet.
	if err := poll.Until(e.ctx, time.Minute, 250*time.Millisecond, "the system stand-ins available", func() error {
		deps, err := e.kube.Deployments(e.ctx, "kube-system")
		if err != nil {
			return poll.Stop(err)
		}
		for _, d := range deps {
			if strings.HasPrefix(d.Metadata.Name, "standin-") && (d.Spec.Replicas == nil || d.Status.AvailableReplicas != *d.Spec.Replicas) {
				return fmt.Errorf("%s: %d available", d.Metadata.Name, d.Status.AvailableReplicas)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
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
		msg, refused := p.Unschedulable()
		switch {
		case !refused:
			return errors.New(p.String())
		case !strings.Contains(msg, "Insufficient cpu"):
			return poll.Stop(fmt.Errorf("unschedulable for another reason: %s", msg))
		}
		return nil
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
	free := nodeShape(t, "m6i.2xlarge")
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
		// The shape goes in the create: KWOK initializes a new node from the
		// object it was told of and keeps an allocatable that is there, but
		// fills a missing one with 1000 CPUs, which could land after a
		// later patch and leave prod's shape untested.
		if _, err := e.kube.Create(ctx, "/api/v1/nodes", map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": name, "labels": labels, "annotations": md["annotations"]},
			"status":   map[string]any{"allocatable": quantities(free), "capacity": quantities(free)},
		}); err != nil {
			t.Fatalf("second node in %s: %v", n.Zone(), err)
		}
	}
	e.shapeNodes(t, free)
	if err := poll.Until(ctx, time.Minute, 250*time.Millisecond, fmt.Sprintf("six Ready nodes of %dm", free.MilliCPU), func() error {
		nodes, err := e.kube.Nodes(ctx)
		if err != nil {
			return poll.Stop(err)
		}
		if len(nodes) != 6 {
			return fmt.Errorf("%d nodes", len(nodes))
		}
		for _, n := range nodes {
			cpu, err := milliCPU(n.Status.Allocatable["cpu"])
			if err != nil || !n.Ready() || cpu != free.MilliCPU {
				return fmt.Errorf("%s: ready=%t allocatable cpu %q", n.Metadata.Name, n.Ready(), n.Status.Allocatable["cpu"])
			}
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
