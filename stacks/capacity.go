package stacks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/components/cluster"
	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
	"github.com/anka-ha/anka-build-cloud-aws/internal/validation"
)

// Workloads are the stack's pods in priority order (etcd, then the Build
// Cloud, then the edge; Jobs last), as the capacity plan places them.
func (c Config) Workloads() ([]capacity.Workload, error) {
	etcdPods, err := c.Etcd.Workloads()
	if err != nil {
		return nil, err
	}
	var long, jobs []capacity.Workload
	split := func(ws []capacity.Workload) {
		for _, w := range ws {
			if w.Transient {
				jobs = append(jobs, w)
			} else {
				long = append(long, w)
			}
		}
	}
	split(etcdPods)
	split(c.BuildCloud.Workloads(BuildCloudName))
	if c.EdgeEnabled() {
		edgePods, err := c.Edge.Workloads()
		if err != nil {
			return nil, err
		}
		split(edgePods)
	}
	return append(long, jobs...), nil
}

// nodeShape is the instance type the plan assumes for anka:cluster.nodes:
// the smallest allocatable among instanceTypes (a node group may launch any
// of them), or the allocatable the config gives for types not in the table.
func (c Config) nodeShape() (capacity.InstanceType, []string) {
	n := c.clusterArgs().Nodes
	var unknown []string
	var shape capacity.InstanceType
	for i, name := range n.InstanceTypes {
		t, ok := capacity.Lookup(name)
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if i == 0 || shape.Name == "" || t.Allocatable().MilliCPU < shape.Allocatable().MilliCPU ||
			t.Allocatable().MemoryMiB < shape.Allocatable().MemoryMiB {
			shape = t
		}
	}
	return shape, unknown
}

// CapacityPlan places the stack's pods on the node groups of
// anka:cluster.nodes the way the scheduler would. ok is false when the stack
// does not create its nodes (existing cluster) or a type is unknown.
func (c Config) CapacityPlan() (plan capacity.Plan, ok bool, err error) {
	ca := c.clusterArgs()
	if ca.Mode != cluster.ModeEKS {
		return plan, false, nil
	}
	shape, unknown := c.nodeShape()
	if len(unknown) > 0 || shape.Name == "" {
		return plan, false, nil
	}
	ws, err := c.Workloads()
	if err != nil {
		return plan, false, err
	}
	cl := capacity.Cluster{
		Zones:        c.Network.AvailabilityZones,
		NodesPerZone: ca.Nodes.DesiredPerZone,
		Instance:     shape,
		System:       capacity.EKSSystemPods(*ca.LoadBalancerController.Enabled),
	}
	return capacity.New(cl, ws), true, nil
}

// checkCapacity refuses, before any resource, a config whose pods the
// scheduler would leave Pending on the nodes it creates (`up` would wait
// for them and fail), naming the keys that would fix it.
func (c Config) checkCapacity(p *validation.Problems) {
	ca := c.clusterArgs()
	if ca.Mode != cluster.ModeEKS || len(c.Network.AvailabilityZones) == 0 {
		return // no nodes to plan on: reported by the network and cluster checks
	}
	if _, unknown := c.nodeShape(); len(unknown) > 0 {
		p.Addf("anka:cluster.nodes.instanceTypes", "lists %s, not in the capacity table (internal/capacity): the plan cannot tell whether the pods fit; use one of its types (%s…)",
			strings.Join(unknown, ", "), strings.Join(capacity.Known()[:6], ", "))
		return
	}
	plan, ok, err := c.CapacityPlan()
	if err != nil {
		p.Addf("anka:cluster.nodes", "capacity plan: %v", err)
		return
	}
	if !ok || plan.Fits() {
		return
	}
	fix := "a larger type"
	if t := c.smallestThatFits(); t != "" {
		fix = fmt.Sprintf("a larger type (the cheapest that fits is %s)", t)
	}
	p.Addf("anka:cluster.nodes.instanceTypes", "leave pods Pending (the stack's `up` would wait for them and fail):\n%s\nfix with %s, more nodes (anka:cluster.nodes.desiredPerZone), or lower requests (%s)",
		plan.String(), fix, strings.Join(plan.Keys, ", "))
}

// smallestThatFits is the cheapest known instance type of the same
// architecture on which the plan fits, "" if none does.
func (c Config) smallestThatFits() string {
	shape, _ := c.nodeShape()
	var candidates []capacity.InstanceType
	for _, name := range capacity.Known() {
		t, _ := capacity.Lookup(name)
		// Burstable types (t*) run out of CPU credits under etcd's steady
		// load: never suggested.
		if t.Arch == shape.Arch && t.HourlyUSD > 0 && !strings.HasPrefix(t.Name, "t") {
			candidates = append(candidates, t)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].HourlyUSD < candidates[j].HourlyUSD })
	for _, t := range candidates {
		trial := c
		trial.Cluster.Nodes.InstanceTypes = []string{t.Name}
		if plan, ok, err := trial.CapacityPlan(); ok && err == nil && plan.Fits() {
			return t.Name
		}
	}
	return ""
}
