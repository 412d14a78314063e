package integration

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/anka-ha/anka-build-cloud-aws/internal/poll"
)

// The few fields of Kubernetes objects the checks read.

// Meta is metadata.
type Meta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace,omitempty"`
	UID               string            `json:"uid,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
	DeletionTimestamp *string           `json:"deletionTimestamp,omitempty"`
	OwnerReferences   []struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"ownerReferences,omitempty"`
}

// Node is a (KWOK) node.
type Node struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		Unschedulable bool `json:"unschedulable"`
	} `json:"spec"`
	Status struct {
		Allocatable map[string]string `json:"allocatable"`
		Conditions  []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// Zone is the node's topology.kubernetes.io/zone label.
func (n Node) Zone() string { return n.Metadata.Labels[ZoneLabel] }

// Ready reports the node's Ready condition (KWOK sets it when it has
// initialized the node).
func (n Node) Ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// Pod is a pod: what the KWOK checks read (placement, images, volumes,
// conditions) and the containers' run-time state only a real kubelet
// reports (pod IP, container statuses: see Problems).
type Pod struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		NodeName   string `json:"nodeName"`
		Containers []struct {
			Name  string `json:"name"`
			Image string `json:"image"`
		} `json:"containers"`
		Volumes []struct {
			Name                  string `json:"name"`
			PersistentVolumeClaim *struct {
				ClaimName string `json:"claimName"`
			} `json:"persistentVolumeClaim,omitempty"`
		} `json:"volumes"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
		InitContainerStatuses []ContainerStatus `json:"initContainerStatuses"`
		ContainerStatuses     []ContainerStatus `json:"containerStatuses"`
	} `json:"status"`
}

// Ready reports the pod's Ready condition.
func (p Pod) Ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// Unschedulable reports whether the scheduler has marked the pod
// PodScheduled=False for reason Unschedulable, and its message: the
// scheduler's own word that no node it knows of fits the pod now.
func (p Pod) Unschedulable() (string, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable" {
			return c.Message, true
		}
	}
	return "", false
}

// Image of the named container ("" if none).
func (p Pod) Image(container string) string {
	for _, c := range p.Spec.Containers {
		if c.Name == container {
			return c.Image
		}
	}
	return ""
}

// PV is a PersistentVolume.
type PV struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		StorageClassName string            `json:"storageClassName"`
		Capacity         map[string]string `json:"capacity"`
		ClaimRef         *struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			UID       string `json:"uid"`
		} `json:"claimRef,omitempty"`
		NodeAffinity *struct {
			Required struct {
				NodeSelectorTerms []struct {
					MatchExpressions []struct {
						Key    string   `json:"key"`
						Values []string `json:"values"`
					} `json:"matchExpressions"`
				} `json:"nodeSelectorTerms"`
			} `json:"required"`
		} `json:"nodeAffinity,omitempty"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// Zone is the zone of the PV's node affinity ("" if none).
func (v PV) Zone() string {
	if v.Spec.NodeAffinity == nil {
		return ""
	}
	for _, t := range v.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			if e.Key == ZoneLabel && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// PVC is a PersistentVolumeClaim.
type PVC struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		VolumeName       string `json:"volumeName"`
		StorageClassName string `json:"storageClassName"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// PDB is a PodDisruptionBudget.
type PDB struct {
	Metadata Meta `json:"metadata"`
	Status   struct {
		ObservedGeneration int64 `json:"observedGeneration"`
		DisruptionsAllowed int   `json:"disruptionsAllowed"`
		CurrentHealthy     int   `json:"currentHealthy"`
		DesiredHealthy     int   `json:"desiredHealthy"`
		ExpectedPods       int   `json:"expectedPods"`
	} `json:"status"`
}

// Workload is a Deployment or StatefulSet.
type Workload struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		Replicas *int `json:"replicas"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
	} `json:"spec"`
	Status struct {
		ReadyReplicas     int `json:"readyReplicas"`
		AvailableReplicas int `json:"availableReplicas"`
		UpdatedReplicas   int `json:"updatedReplicas"`
	} `json:"status"`
}

// Selector renders matchLabels as a label selector (sorted, stable).
func (w Workload) Selector() string {
	var keys []string
	for k := range w.Spec.Selector.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k + "=" + w.Spec.Selector.MatchLabels[k]
	}
	return s
}

type list[T any] struct {
	Items []T `json:"items"`
}

// ZoneLabel is the well-known zone label (set by EKS, and by
// scripts/localcluster.sh on the KWOK nodes).
const ZoneLabel = "topology.kubernetes.io/zone"

func listPath(base, selector string) string {
	if selector == "" {
		return base
	}
	return base + "?labelSelector=" + url.QueryEscape(selector)
}

// Nodes lists the nodes.
func (k *Kube) Nodes(ctx context.Context) ([]Node, error) {
	var l list[Node]
	err := k.Get(ctx, "/api/v1/nodes", &l)
	return l.Items, err
}

// NodeZones maps node name to zone.
func (k *Kube) NodeZones(ctx context.Context) (map[string]string, error) {
	nodes, err := k.Nodes(ctx)
	out := map[string]string{}
	for _, n := range nodes {
		out[n.Metadata.Name] = n.Zone()
	}
	return out, err
}

// Pods lists the pods of ns matching selector.
func (k *Kube) Pods(ctx context.Context, ns, selector string) ([]Pod, error) {
	var l list[Pod]
	err := k.Get(ctx, listPath("/api/v1/namespaces/"+ns+"/pods", selector), &l)
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Metadata.Name < l.Items[j].Metadata.Name })
	return l.Items, err
}

// PVs lists the PersistentVolumes of a StorageClass ("" = all).
func (k *Kube) PVs(ctx context.Context, class string) ([]PV, error) {
	var l list[PV]
	if err := k.Get(ctx, "/api/v1/persistentvolumes", &l); err != nil {
		return nil, err
	}
	var out []PV
	for _, v := range l.Items {
		if class == "" || v.Spec.StorageClassName == class {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metadata.Name < out[j].Metadata.Name })
	return out, nil
}

// PVCs lists the claims of ns.
func (k *Kube) PVCs(ctx context.Context, ns string) ([]PVC, error) {
	var l list[PVC]
	err := k.Get(ctx, "/api/v1/namespaces/"+ns+"/persistentvolumeclaims", &l)
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Metadata.Name < l.Items[j].Metadata.Name })
	return l.Items, err
}

// PDB reads a PodDisruptionBudget.
func (k *Kube) PDB(ctx context.Context, ns, name string) (PDB, error) {
	var p PDB
	err := k.Get(ctx, "/apis/policy/v1/namespaces/"+ns+"/poddisruptionbudgets/"+name, &p)
	return p, err
}

// Deployments lists the Deployments of ns.
func (k *Kube) Deployments(ctx context.Context, ns string) ([]Workload, error) {
	var l list[Workload]
	err := k.Get(ctx, "/apis/apps/v1/namespaces/"+ns+"/deployments", &l)
	return l.Items, err
}

// StatefulSet reads one StatefulSet.
func (k *Kube) StatefulSet(ctx context.Context, ns, name string) (Workload, error) {
	var w Workload
	err := k.Get(ctx, "/apis/apps/v1/namespaces/"+ns+"/statefulsets/"+name, &w)
	return w, err
}

// Evict asks the Eviction API to evict a pod (what `kubectl drain` does);
// a PodDisruptionBudget refusal is an *APIError with code 429.
func (k *Kube) Evict(ctx context.Context, ns, pod string) error {
	_, err := k.Do(ctx, "POST", "/api/v1/namespaces/"+ns+"/pods/"+pod+"/eviction", "application/json", map[string]any{
		"apiVersion": "policy/v1", "kind": "Eviction",
		"metadata": map[string]any{"name": pod, "namespace": ns},
	})
	return err
}

// AwaitPDB waits until the disruption controller reports the budget
// ns/name with allowed disruptions and healthy pods: it writes that status
// after it sees the pods change, so a read right after an eviction or a
// rollout can still show the old figures.
func (k *Kube) AwaitPDB(ctx context.Context, ns, name string, allowed, healthy int) error {
	return poll.Until(ctx, 2*time.Minute, 250*time.Millisecond, fmt.Sprintf("PDB %s disruptionsAllowed=%d currentHealthy=%d", name, allowed, healthy), func() error {
		p, err := k.PDB(ctx, ns, name)
		if err != nil {
			return poll.Stop(err)
		}
		if s := p.Status; s.DisruptionsAllowed != allowed || s.CurrentHealthy != healthy {
			return fmt.Errorf("disruptionsAllowed=%d currentHealthy=%d desiredHealthy=%d expectedPods=%d", s.DisruptionsAllowed, s.CurrentHealthy, s.DesiredHealthy, s.ExpectedPods)
		}
		return nil
	})
}

// AwaitHeldPending waits until the pod ns/name has been replaced (its UID
// is no longer oldUID) and the scheduler holds the replacement Pending as
// Unschedulable, and returns the scheduler's message. That condition is
// the scheduler's word that it has seen the node's cordon: a replacement it
// placed before seeing it would run on the cordoned node, which fails here.
func (k *Kube) AwaitHeldPending(ctx context.Context, ns, name, oldUID string) (string, error) {
	var msg string
	err := poll.Until(ctx, 2*time.Minute, 250*time.Millisecond, "the scheduler to hold the replacement "+name+" Pending", func() error {
		var p Pod
		if err := k.Get(ctx, "/api/v1/namespaces/"+ns+"/pods/"+name, &p); err != nil {
			return err
		}
		if p.Metadata.UID == oldUID {
			return errors.New("not replaced yet")
		}
		if p.Spec.NodeName != "" {
			return poll.Stop(fmt.Errorf("the replacement was placed on %s", p.Spec.NodeName))
		}
		var refused bool
		if msg, refused = p.Unschedulable(); !refused {
			return errors.New(p.String())
		}
		return nil
	})
	return msg, err
}

// DrainRefusesSecond is the drain drill the KWOK and the real-pods tests
// both run against a StatefulSet's PodDisruptionBudget pdb: with the budget
// whole (replicas healthy, one disruption allowed) it cordons down's node
// and evicts down, as kubectl drain does; the budget is then used up while
// the scheduler holds down's replacement Pending (the node is its volume's
// zone's only one); evicting second must then be refused with HTTP 429 and
// leave second running. It returns the scheduler's message for the held
// replacement and uncordon, which the caller runs (once is enough; later
// calls do nothing) whether or not the drill failed, before checking what
// comes back.
func (k *Kube) DrainRefusesSecond(ctx context.Context, ns, pdb string, replicas int, down Pod, second string) (held string, uncordon func() error, err error) {
	node, name := down.Spec.NodeName, down.Metadata.Name
	cordoned := false
	uncordon = func() error {
		if !cordoned {
			return nil
		}
		cordoned = false
		return k.Cordon(ctx, node, false)
	}
	if err := k.AwaitPDB(ctx, ns, pdb, 1, replicas); err != nil {
		return "", uncordon, err
	}
	if err := k.Cordon(ctx, node, true); err != nil {
		return "", uncordon, err
	}
	cordoned = true
	if err := k.Evict(ctx, ns, name); err != nil {
		return "", uncordon, fmt.Errorf("evicting %s from cordoned %s (budget 1) must succeed: %w", name, node, err)
	}
	if err := k.AwaitPDB(ctx, ns, pdb, 0, replicas-1); err != nil {
		return "", uncordon, err
	}
	if held, err = k.AwaitHeldPending(ctx, ns, name, down.Metadata.UID); err != nil {
		return "", uncordon, fmt.Errorf("%w (cordoned %s)", err, node)
	}
	switch err := k.Evict(ctx, ns, second); {
	case err == nil:
		return held, uncordon, fmt.Errorf("evicting %s while %s is down was accepted; the PodDisruptionBudget must refuse it", second, name)
	case !IsStatus(err, 429):
		return held, uncordon, fmt.Errorf("evicting %s while %s is down: want HTTP 429 from the PodDisruptionBudget, got %w", second, name, err)
	}
	switch ok, err := k.Exists(ctx, "/api/v1/namespaces/"+ns+"/pods/"+second); {
	case err != nil:
		return held, uncordon, fmt.Errorf("%s after the refused eviction: %w", second, err)
	case !ok:
		return held, uncordon, fmt.Errorf("%s must still run after the refused eviction, and is gone", second)
	}
	return held, uncordon, nil
}

// Cordon marks a node unschedulable (or schedulable again).
func (k *Kube) Cordon(ctx context.Context, node string, unschedulable bool) error {
	return k.MergePatch(ctx, "/api/v1/nodes/"+node, map[string]any{"spec": map[string]any{"unschedulable": unschedulable}})
}

// Exists reports whether the object at path exists (and is not being
// deleted).
func (k *Kube) Exists(ctx context.Context, path string) (bool, error) {
	var o struct {
		Metadata Meta `json:"metadata"`
	}
	err := k.Get(ctx, path, &o)
	if IsStatus(err, 404) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return o.Metadata.DeletionTimestamp == nil, nil
}

// String of a pod for logs: name node zone phase ready.
func (p Pod) String() string {
	return fmt.Sprintf("%s node=%s phase=%s ready=%t", p.Metadata.Name, p.Spec.NodeName, p.Status.Phase, p.Ready())
}
