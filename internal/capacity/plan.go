package capacity

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/anka-ha/anka-build-cloud-aws/internal/quantity"
)

// Workload is a set of identical pods the stack runs, described the way the
// scheduler sees them.
type Workload struct {
	// Name, e.g. "etcd" or "anka-registry".
	Name string
	// Requests is one pod's effective request (Pods 1).
	Requests Resources
	// Replicas is the pod count (1 for a Job).
	Replicas int
	// OnePerNode: required pod anti-affinity on the hostname.
	OnePerNode bool
	// StrictZoneSpread: a zone topology spread constraint with maxSkew 1 and
	// whenUnsatisfiable DoNotSchedule; otherwise zones are only preferred.
	StrictZoneSpread bool
	// Surge is the extra pods a rolling update runs beside the old ones
	// (maxSurge); 0 replaces pods in place.
	Surge int
	// Transient marks a Job's pod: it needs room once, not for good, and is
	// checked after the long-running pods are placed.
	Transient bool
	// Keys are the config keys that set this workload's requests and count.
	Keys []string
}

// Cluster is the node shape: NodesPerZone nodes of one instance type in each
// zone (the scheduler may use any of a node group's types; the plan takes
// the smallest).
type Cluster struct {
	Zones        []string
	NodesPerZone int
	Instance     InstanceType
	// System are the pods EKS and the add-ons run (EKSSystemPods).
	System []SystemPod
}

// Node is one planned node.
type Node struct {
	Name        string
	Zone        string
	Allocatable Resources
	Requested   Resources
	Pods        []string
	owners      []string // the workload of each pod in Pods
}

// Free is what is left on the node.
func (n Node) Free() Resources { return n.Allocatable.Sub(n.Requested) }

// Plan is the outcome: where each pod lands, and what cannot be placed.
type Plan struct {
	Cluster Cluster
	Nodes   []*Node
	// Unplaced says, for each pod the scheduler would leave Pending, why.
	Unplaced []string
	// Keys are the config keys of the workloads that did not fit.
	Keys []string
}

// Fits reports whether every pod found a node.
func (p Plan) Fits() bool { return len(p.Unplaced) == 0 }

// New places the system pods and then the workloads, in the order given
// (put the higher-priority ones first: the scheduler does not preempt them
// for the others here), the way the scheduler would under each workload's
// rules, then checks room for each rolling update's surge and each Job.
func New(c Cluster, workloads []Workload) Plan {
	p := Plan{Cluster: c}
	alloc := c.Instance.Allocatable()
	for _, z := range c.Zones {
		for i := 0; i < c.NodesPerZone; i++ {
			p.Nodes = append(p.Nodes, &Node{Name: fmt.Sprintf("%s/%d", z, i+1), Zone: z, Allocatable: alloc})
		}
	}
	for _, s := range c.System {
		if s.PerNode {
			for _, n := range p.Nodes {
				n.add(s.Name, s.Name, s.Requests)
			}
		}
	}
	for _, s := range c.System {
		if !s.PerNode {
			w := Workload{Name: s.Name, Requests: s.Requests, Replicas: s.Replicas}
			for i := 0; i < s.Replicas; i++ {
				p.place(w, fmt.Sprintf("%s-%d", s.Name, i+1), true)
			}
		}
	}
	for _, w := range workloads {
		if w.Transient {
			continue
		}
		for i := 0; i < w.Replicas; i++ {
			p.place(w, fmt.Sprintf("%s-%d", w.Name, i+1), true)
		}
	}
	for _, w := range workloads {
		for i := 0; i < w.Surge; i++ {
			p.place(w, fmt.Sprintf("%s (rolling update, surge pod %d)", w.Name, i+1), false)
		}
		if w.Transient {
			p.place(w, w.Name, false)
		}
	}
	return p
}

// place puts one pod of w on a node; keep records it (a surge or Job pod is
// only checked for room).
func (p *Plan) place(w Workload, pod string, keep bool) {
	count := map[string]int{}
	hosts := map[*Node]bool{}
	for _, n := range p.Nodes {
		for _, o := range n.owners {
			if o == w.Name {
				count[n.Zone]++
				hosts[n] = true
			}
		}
	}
	zones := append([]string(nil), p.Cluster.Zones...)
	sort.SliceStable(zones, func(i, j int) bool { return count[zones[i]] < count[zones[j]] })
	if w.StrictZoneSpread && len(zones) > 0 {
		least := count[zones[0]]
		var allowed []string
		for _, z := range zones {
			if count[z] <= least {
				allowed = append(allowed, z)
			}
		}
		zones = allowed
	}
	var best *Node
	for _, z := range zones {
		for _, n := range p.Nodes {
			if n.Zone != z || (w.OnePerNode && hosts[n]) || !w.Requests.Fits(n.Free()) {
				continue
			}
			if best == nil || n.Free().MilliCPU > best.Free().MilliCPU {
				best = n
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		p.Unplaced = append(p.Unplaced, fmt.Sprintf("%s (%s) fits no node: %s", pod, w.Requests, p.why(w, zones, hosts)))
		for _, k := range w.Keys {
			if !contains(p.Keys, k) {
				p.Keys = append(p.Keys, k)
			}
		}
		return
	}
	if keep {
		best.add(pod, w.Name, w.Requests)
	}
}

// why explains the refusal from the node with the most room.
func (p *Plan) why(w Workload, zones []string, hosts map[*Node]bool) string {
	var parts []string
	for _, z := range zones {
		for _, n := range p.Nodes {
			if n.Zone != z {
				continue
			}
			if w.OnePerNode && hosts[n] {
				parts = append(parts, fmt.Sprintf("%s already runs one (required anti-affinity)", n.Name))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s has %s free", n.Name, n.Free()))
		}
	}
	if w.StrictZoneSpread {
		parts = append(parts, "zone spread allows only "+strings.Join(zones, ", "))
	}
	return strings.Join(parts, "; ")
}

func (n *Node) add(pod, owner string, r Resources) {
	n.Requested = n.Requested.Add(r)
	n.Pods = append(n.Pods, pod)
	n.owners = append(n.owners, owner)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String renders the plan per zone, as preview prints it.
func (p Plan) String() string {
	var b strings.Builder
	t := p.Cluster.Instance
	fmt.Fprintf(&b, "capacity plan: %d × %s per zone (%d vCPU, %d MiB; allocatable %s after kube-reserved and eviction)\n",
		p.Cluster.NodesPerZone, t.Name, t.VCPU, t.MemoryMiB, t.Allocatable())
	for _, n := range p.Nodes {
		fmt.Fprintf(&b, "  %-16s requested %-28s free %s\n", n.Name, n.Requested.String(), n.Free())
	}
	for _, u := range p.Unplaced {
		fmt.Fprintf(&b, "  PENDING %s\n", u)
	}
	return strings.TrimRight(b.String(), "\n")
}

// PodRequests is a pod's effective request as the scheduler counts it: the
// sum of its containers' requests, or its largest init container's where
// that is larger, per resource; one pod slot.
func PodRequests(containers, inits []Resources) Resources {
	var sum Resources
	for _, c := range containers {
		sum = sum.Add(c)
	}
	for _, i := range inits {
		sum.MilliCPU = max(sum.MilliCPU, i.MilliCPU)
		sum.MemoryMiB = max(sum.MemoryMiB, i.MemoryMiB)
	}
	sum.Pods = 1
	return sum
}

// Quantities turns a container's cpu and memory requests as Kubernetes
// writes them ("500m", "1", "2Gi"; "" for none) into Resources.
func Quantities(cpu, memory string) (Resources, error) {
	var r Resources
	if cpu != "" {
		v, err := quantity.Parse(cpu)
		if err != nil {
			return r, err
		}
		r.MilliCPU = int64(math.Ceil(v * 1000))
	}
	if memory != "" {
		v, err := quantity.Parse(memory)
		if err != nil {
			return r, err
		}
		r.MemoryMiB = int64(math.Ceil(v / (1 << 20)))
	}
	return r, nil
}
