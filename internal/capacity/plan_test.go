package capacity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func threeZones(t *testing.T, instance string, perZone int) Cluster {
	t.Helper()
	it, ok := Lookup(instance)
	require.True(t, ok, instance)
	return Cluster{Zones: []string{"a", "b", "c"}, NodesPerZone: perZone, Instance: it, System: EKSSystemPods(true)}
}

func etcdWorkload(cpu int64) Workload {
	return Workload{Name: "etcd", Requests: Resources{MilliCPU: cpu, MemoryMiB: 2048, Pods: 1}, Replicas: 3,
		OnePerNode: true, StrictZoneSpread: true, Keys: []string{"anka:etcd.cpuRequest"}}
}

func combined(cpu int64) Workload {
	return Workload{Name: "anka", Requests: Resources{MilliCPU: cpu, MemoryMiB: 2048, Pods: 1}, Replicas: 2,
		OnePerNode: true, Keys: []string{"anka:controller.cpuMillis", "anka:registry.cpuMillis"}}
}

func TestPlanRefusesWhatTheSchedulerWouldLeavePending(t *testing.T) {
	// dev before the fix: m6i.large allocates 1930m; etcd 1000m + the
	// combined pod 500m+500m = 2000m on one node before any DaemonSet.
	p := New(threeZones(t, "m6i.large", 1), []Workload{etcdWorkload(1000), combined(1000)})
	assert.False(t, p.Fits(), p.String())
	assert.Len(t, p.Unplaced, 2, "both combined pods stay Pending: %s", p.String())
	assert.Equal(t, []string{"anka:controller.cpuMillis", "anka:registry.cpuMillis"}, p.Keys)
	assert.Contains(t, p.Unplaced[0], "free")
}

func TestPlanPlacesAWorkloadThatFits(t *testing.T) {
	p := New(threeZones(t, "m6i.large", 1), []Workload{etcdWorkload(500), combined(500)})
	require.True(t, p.Fits(), p.String())
	var etcdZones []string
	for _, n := range p.Nodes {
		for _, o := range n.owners {
			if o == "etcd" {
				etcdZones = append(etcdZones, n.Zone)
			}
		}
		assert.True(t, n.Requested.Fits(n.Allocatable), "%s overcommitted: %s", n.Name, p.String())
	}
	assert.ElementsMatch(t, []string{"a", "b", "c"}, etcdZones, "one etcd member per zone")
}

func TestPlanAntiAffinityNeedsANodePerReplica(t *testing.T) {
	w := Workload{Name: "nginx", Requests: Resources{MilliCPU: 100, MemoryMiB: 128, Pods: 1}, Replicas: 4, OnePerNode: true, Keys: []string{"anka:edge.nginx.replicas"}}
	p := New(threeZones(t, "m6i.xlarge", 1), []Workload{w})
	assert.False(t, p.Fits(), "4 replicas with required hostname anti-affinity on 3 nodes")
	assert.Contains(t, p.Unplaced[0], "already runs one")
	assert.True(t, New(threeZones(t, "m6i.xlarge", 2), []Workload{w}).Fits())
}

func TestPlanSurgeAndJobsNeedRoomButAreNotKept(t *testing.T) {
	big := Workload{Name: "big", Requests: Resources{MilliCPU: 1200, MemoryMiB: 256, Pods: 1}, Replicas: 3, OnePerNode: true}
	c := threeZones(t, "m6i.large", 1)
	assert.True(t, New(c, []Workload{big}).Fits())
	surging := big
	surging.Surge = 1
	assert.False(t, New(c, []Workload{surging}).Fits(), "a surge pod needs a fourth node's room")
	job := Workload{Name: "job", Requests: Resources{MilliCPU: 600, Pods: 1}, Replicas: 1, Transient: true}
	p := New(c, []Workload{big, job})
	assert.False(t, p.Fits(), p.String())
	job.Requests.MilliCPU = 100
	p = New(c, []Workload{big, job, job})
	assert.True(t, p.Fits(), "two Jobs that each fit are checked one at a time: %s", p.String())
}

func TestPlanStrictSpreadKeepsZonesEven(t *testing.T) {
	// Zone a has no room; strict spread leaves the pod Pending rather than
	// putting two in b.
	w := Workload{Name: "w", Requests: Resources{MilliCPU: 100, Pods: 1}, Replicas: 3, StrictZoneSpread: true}
	c := threeZones(t, "m6i.large", 1)
	c.System = nil
	hog := Workload{Name: "hog", Requests: Resources{MilliCPU: 1500, Pods: 1}, Replicas: 1}
	p := New(c, []Workload{hog, w})
	assert.True(t, p.Fits(), p.String())
	hog.Requests.MilliCPU = 1850
	w.Requests.MilliCPU = 200
	p = New(c, []Workload{hog, w})
	assert.False(t, p.Fits(), p.String())
}
