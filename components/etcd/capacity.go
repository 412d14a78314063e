package etcd

import (
	"fmt"

	"github.com/anka-ha/anka-build-cloud-aws/internal/capacity"
)

// Requests of the component's small pods, shared by their specs and
// Workloads.
const (
	toolsCPU, toolsMemory   = "10m", "16Mi"
	pruneCPU, pruneMemory   = "50m", "64Mi"
	backupCPU, backupMemory = "100m", "256Mi"
	fioCPU, fioMemory       = "100m", "64Mi"
)

// Memory limits of the small pods' containers: ceilings well above what
// each needs (a static busybox cp, etcdctl, the AWS CLI streaming a
// snapshot in 8 MiB multipart chunks with its default 10 threads, fio
// writing 22 MiB), so only a runaway is killed. The members have none by
// default (anka:etcd.memoryLimit).
const (
	toolsMemoryLimit  = "64Mi"
	pruneMemoryLimit  = "256Mi"
	backupMemoryLimit = "1Gi"
	fioMemoryLimit    = "256Mi"
)

// Workload names: the Kubernetes object names (the disk check's carries a
// hash after this prefix, the prune Job's the member count).
const (
	WorkloadMembers   = "etcd"
	WorkloadBackup    = "etcd-backup"
	WorkloadPrune     = "etcd-prune-to-"
	WorkloadDiskCheck = "etcd-disk-check-"
)

// Workloads are the pods the component runs, as the scheduler sees them, for
// the stack's capacity plan (tests/capacity_test.go checks them against the
// registered pod specs). The members come first: their PriorityClass is the
// stack's highest.
func (a Args) Workloads() ([]capacity.Workload, error) {
	a = a.WithDefaults()
	member, err := capacity.Quantities(a.CPURequest, a.MemoryRequest)
	if err != nil {
		return nil, fmt.Errorf("anka:etcd.cpuRequest/memoryRequest: %w", err)
	}
	tools, _ := capacity.Quantities(toolsCPU, toolsMemory)
	prune, _ := capacity.Quantities(pruneCPU, pruneMemory)
	backup, _ := capacity.Quantities(backupCPU, backupMemory)
	out := []capacity.Workload{{
		Name:             WorkloadMembers,
		Requests:         capacity.PodRequests([]capacity.Resources{member}, []capacity.Resources{tools}),
		Replicas:         a.Replicas,
		OnePerNode:       true,
		StrictZoneSpread: a.Prod,
		Keys:             []string{"anka:etcd.cpuRequest", "anka:etcd.memoryRequest", "anka:etcd.replicas"},
	}, {
		Name:      fmt.Sprintf("%s%d", WorkloadPrune, a.Replicas),
		Requests:  capacity.PodRequests([]capacity.Resources{prune}, []capacity.Resources{tools}),
		Replicas:  1,
		Transient: true,
	}}
	if *a.Backup.Enabled {
		out = append(out, capacity.Workload{
			Name:      WorkloadBackup,
			Requests:  capacity.PodRequests([]capacity.Resources{backup}, []capacity.Resources{tools, tools}),
			Replicas:  1,
			Transient: true,
		})
	}
	if *a.DiskCheck.Enabled {
		fio, _ := capacity.Quantities(fioCPU, fioMemory)
		out = append(out, capacity.Workload{Name: WorkloadDiskCheck, Requests: capacity.PodRequests([]capacity.Resources{fio}, nil), Replicas: 1, Transient: true})
	}
	return out, nil
}
