package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// What AWS provides and the local control plane does not, made here in
// the shape AWS would make it. The program is never weakened: it still
// creates its StorageClass on ebs.csi.aws.com with WaitForFirstConsumer, its
// claims ask for that class, and the edge Service is a real type
// LoadBalancer Service.

// StandIns says what to create; LocalConfig.StandIns derives it from the
// stack config.
type StandIns struct {
	// EtcdClass is the etcd StorageClass (anka:storage.etcd.className).
	EtcdClass string
	// EtcdSizeGi is the size of each etcd claim (anka:etcd.volumeSizeGi).
	EtcdSizeGi int
	// EtcdPerZone volumes are made in every zone: the EBS CSI driver would
	// provision one in the zone where the scheduler put the member. One is
	// bound per member; the spare ones prove that a reattached claim keeps
	// its own volume rather than binding any free one.
	EtcdPerZone int
	// RegistryClass, RegistrySize, RegistryAccessMode describe the Registry
	// claim (anka:registry.pvc.*): an RWX volume, as EFS or an NFS server
	// would give, in a class of its own.
	RegistryClass, RegistrySize, RegistryAccessMode string
	// HostDir, when set, backs the volumes with directories under it on
	// this machine, for real nodes (ANKA_LOCAL_NODES=real) that mount what
	// they are given: a local volume per etcd PV, a hostPath shared by the
	// Registry pods (the same directory on every node of this one machine,
	// as an RWX file system would be). Empty: paths nothing mounts (KWOK).
	HostDir string
}

// Names of the stand-in objects.
const (
	// EtcdPVPrefix + <zone>-<i> names the etcd volumes.
	EtcdPVPrefix = "anka-local-etcd-"
	// RegistryPV is the Registry's RWX volume.
	RegistryPV = "anka-local-registry"
	// FakeLBHostname is what the AWS Load Balancer Controller would write
	// into the NLB Service's status.
	FakeLBHostname = "anka-edge-0123456789abcdef.elb.local-1.amazonaws.com"
)

// EnsureStandIns creates the stand-ins that do not exist yet (idempotent)
// and returns the names it created.
func (k *Kube) EnsureStandIns(ctx context.Context, s StandIns) ([]string, error) {
	nodes, err := k.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	zones := map[string]bool{}
	for _, n := range nodes {
		if z := n.Zone(); z != "" {
			zones[z] = true
		}
	}
	if len(zones) < 3 {
		return nil, fmt.Errorf("the local cluster has nodes in %d zones, want 3 (scripts/localcluster.sh labels them %s)", len(zones), ZoneLabel)
	}
	var sorted []string
	for z := range zones {
		sorted = append(sorted, z)
	}
	sort.Strings(sorted)

	var created []string
	create := func(path, name string, obj map[string]any) error {
		ok, err := k.Create(ctx, path, obj)
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		if ok {
			created = append(created, name)
		}
		return nil
	}
	labels := map[string]any{"app.kubernetes.io/managed-by": "anka-integration", "anka.io/stand-in": "true"}
	for _, z := range sorted {
		for i := range s.EtcdPerZone {
			name := fmt.Sprintf("%s%s-%d", EtcdPVPrefix, z, i)
			// What the EBS CSI driver provisions for a WaitForFirstConsumer
			// claim: a zonal RWO volume pinned to its zone, Retain (the
			// class's reclaimPolicy). A local path stands for the disk: KWOK
			// mounts nothing, a real node mounts the directory.
			path := "/mnt/anka-etcd/" + name
			if s.HostDir != "" {
				path = filepath.Join(s.HostDir, name)
				if err := os.MkdirAll(path, 0o700); err != nil {
					return created, err
				}
			}
			err := create("/api/v1/persistentvolumes", "PersistentVolume/"+name, map[string]any{
				"apiVersion": "v1", "kind": "PersistentVolume",
				"metadata": map[string]any{"name": name, "labels": labels},
				"spec": map[string]any{
					"storageClassName":              s.EtcdClass,
					"capacity":                      map[string]any{"storage": fmt.Sprintf("%dGi", s.EtcdSizeGi)},
					"accessModes":                   []any{"ReadWriteOnce"},
					"volumeMode":                    "Filesystem",
					"persistentVolumeReclaimPolicy": "Retain",
					"local":                         map[string]any{"path": path},
					"nodeAffinity": map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{
						map[string]any{"matchExpressions": []any{map[string]any{"key": ZoneLabel, "operator": "In", "values": []any{z}}}},
					}}},
				},
			})
			if err != nil {
				return created, err
			}
		}
	}
	if s.RegistryClass != "" {
		// The RWX class a cluster admin would provide (EFS CSI, an NFS
		// provisioner): here statically provisioned, bound at once.
		if err := create("/apis/storage.k8s.io/v1/storageclasses", "StorageClass/"+s.RegistryClass, map[string]any{
			"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
			"metadata":          map[string]any{"name": s.RegistryClass, "labels": labels},
			"provisioner":       "kubernetes.io/no-provisioner",
			"reclaimPolicy":     "Retain",
			"volumeBindingMode": "Immediate",
		}); err != nil {
			return created, err
		}
		spec := map[string]any{
			"storageClassName":              s.RegistryClass,
			"capacity":                      map[string]any{"storage": s.RegistrySize},
			"accessModes":                   []any{s.RegistryAccessMode},
			"persistentVolumeReclaimPolicy": "Retain",
			"nfs":                           map[string]any{"server": "registry-nfs.local.test", "path": "/anka-registry"},
		}
		if s.HostDir != "" {
			dir := filepath.Join(s.HostDir, RegistryPV)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return created, err
			}
			delete(spec, "nfs")
			spec["hostPath"] = map[string]any{"path": dir, "type": "Directory"}
		}
		if err := create("/api/v1/persistentvolumes", "PersistentVolume/"+RegistryPV, map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": RegistryPV, "labels": labels},
			"spec":     spec,
		}); err != nil {
			return created, err
		}
	}
	return created, nil
}

// PatchLoadBalancer writes a load balancer hostname into a Service's
// status, as the AWS Load Balancer Controller does once the NLB exists.
func (k *Kube) PatchLoadBalancer(ctx context.Context, ns, service, hostname string) error {
	return k.MergePatch(ctx, "/api/v1/namespaces/"+ns+"/services/"+service+"/status", map[string]any{
		"status": map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": hostname}}}},
	})
}
