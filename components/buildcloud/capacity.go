package buildcloud

import (
	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
)

// Workloads are the Deployments the component runs (name is the component's
// name, as given to New), as the scheduler sees them, for the stack's
// capacity plan; tests/capacity_test.go checks them against the registered
// pod specs. Rollouts replace pods in place (maxSurge 0).
func (a Args) Workloads(name string) []capacity.Workload {
	a = a.WithDefaults()
	controller := capacity.Resources{MilliCPU: int64(a.Controller.CPUMillis), MemoryMiB: int64(a.Controller.MemoryMiB)}
	registry := capacity.Resources{MilliCPU: int64(a.Registry.CPUMillis), MemoryMiB: int64(a.RegistryMemoryRequestMiB())}
	var out []capacity.Workload
	for _, d := range a.deployments() {
		var containers []capacity.Resources
		var keys []string
		if d.controller {
			containers = append(containers, controller)
			keys = append(keys, "anka:controller.cpuMillis", "anka:controller.memoryMiB")
		}
		if d.registry {
			containers = append(containers, registry)
			keys = append(keys, "anka:registry.cpuMillis", "anka:registry.memoryMiB")
		}
		if a.Topology == TopologySplit {
			keys = append(keys, "anka:"+d.role+".replicas")
		} else {
			keys = append(keys, "anka:buildcloud.replicas")
		}
		out = append(out, capacity.Workload{
			Name:             name + "-" + d.role,
			Requests:         capacity.PodRequests(containers, nil),
			Replicas:         d.replicas,
			OnePerNode:       true,
			StrictZoneSpread: a.Prod(),
			Keys:             keys,
		})
	}
	return out
}
