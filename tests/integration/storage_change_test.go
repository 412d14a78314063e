package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/anka-ha/anka-build-cloud-aws/components/storage"
)

// The etcd storage settings the storage-change scenario switches to (gp3:
// throughput at most IOPS/4; 4000 IOPS needs 8 GiB, the claims have 20).
const (
	changedEtcdIOPS       = "4000"
	changedEtcdThroughput = "250"
)

// storageClassObj is the part of a StorageClass the check reads.
type storageClassObj struct {
	Metadata      Meta              `json:"metadata"`
	Parameters    map[string]string `json:"parameters"`
	ReclaimPolicy string            `json:"reclaimPolicy"`
}

// storageChangeKeepsStatefulSet: changing anka:storage.etcd.iops and
// throughputMiBps on a deployed stack replaces the StorageClass (its
// parameters are immutable) without failing `up` and without replacing the
// etcd StatefulSet or touching its claims and volumes; the preview warns
// with the keys and the EBS modify-volume procedure for the existing
// volumes.
func (e *env) storageChangeKeepsStatefulSet(t *testing.T) {
	e.need(t)
	ctx, ns := e.ctx, e.cfg.Namespace
	class := e.cfg.EtcdClass
	before := e.snapshot(t)
	stsBefore, err := e.kube.StatefulSet(ctx, ns, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	var scBefore storageClassObj
	if err := e.kube.Get(ctx, "/apis/storage.k8s.io/v1/storageclasses/"+class, &scBefore); err != nil {
		t.Fatal(err)
	}
	t.Logf("StorageClass %s before: %v", class, scBefore.Parameters)
	if err := e.stack.Set(ctx, "anka:storage.etcd.iops", changedEtcdIOPS); err != nil {
		t.Fatal(err)
	}
	if err := e.stack.Set(ctx, "anka:storage.etcd.throughputMiBps", changedEtcdThroughput); err != nil {
		t.Fatal(err)
	}

	noReplace := func(r *Result) {
		t.Helper()
		for _, s := range r.Find(typeStatefulSet, "etcd-members") {
			t.Logf("%s: %s", r.Kind, s)
			if s.Op != "same" && s.Op != "update" {
				t.Errorf("%s: the etcd StatefulSet must stay (same or update in place), got %s", r.Kind, s)
			}
		}
		for _, s := range r.Steps {
			if s.Type == typePVC && s.Op != "same" {
				t.Errorf("%s: claim %s must not change on a storage change: %s", r.Kind, s.Name, s)
			}
			if slices.Contains([]string{typeDeployment, typeNamespace}, s.Type) && s.Op != "same" && s.Op != "update" {
				t.Errorf("%s: %s must not be replaced on a storage change: %s", r.Kind, s.Name, s)
			}
		}
		var classSteps []string
		for _, s := range r.Find(typeStorageClass, "") {
			if s.Op != "same" {
				classSteps = append(classSteps, s.String())
			}
		}
		t.Logf("%s: StorageClass steps: %v", r.Kind, classSteps)
	}

	pre := e.run(t, "preview after changing anka:storage.etcd.iops/throughputMiBps", e.stack.Preview)
	noReplace(pre)
	warnings := pre.Warnings
	var warned string
	for _, w := range warnings {
		if strings.Contains(w, "anka:storage.etcd.iops") {
			warned = w
		}
	}
	if warned == "" {
		t.Errorf("preview: no warning names anka:storage.etcd.iops (warnings: %q)", warnings)
	} else {
		t.Logf("preview warning: %s", warned)
		for _, want := range []string{"anka:storage.etcd.throughputMiBps", "aws ec2 modify-volume", "--iops " + changedEtcdIOPS, "--throughput " + changedEtcdThroughput, "6 hours"} {
			if !strings.Contains(warned, want) {
				t.Errorf("preview warning does not contain %q: %s", want, warned)
			}
		}
	}

	up := e.run(t, "up after changing anka:storage.etcd.iops/throughputMiBps", e.stack.Up)
	t.Log(up)
	noReplace(up)

	var scAfter storageClassObj
	if err := e.kube.Get(ctx, "/apis/storage.k8s.io/v1/storageclasses/"+class, &scAfter); err != nil {
		t.Fatal(err)
	}
	t.Logf("StorageClass %s after: %v", class, scAfter.Parameters)
	if scAfter.Parameters["iops"] != changedEtcdIOPS || scAfter.Parameters["throughput"] != changedEtcdThroughput {
		t.Errorf("StorageClass %s after up: iops=%s throughput=%s, want %s and %s", class,
			scAfter.Parameters["iops"], scAfter.Parameters["throughput"], changedEtcdIOPS, changedEtcdThroughput)
	}
	var dc storageClassObj
	if err := e.kube.Get(ctx, "/apis/storage.k8s.io/v1/storageclasses/"+class+storage.DiskCheckSuffix, &dc); err != nil {
		t.Error(err)
	} else if dc.Parameters["iops"] != changedEtcdIOPS {
		t.Errorf("StorageClass %s after up: iops=%s, want %s", class+storage.DiskCheckSuffix, dc.Parameters["iops"], changedEtcdIOPS)
	}

	stsAfter, err := e.kube.StatefulSet(ctx, ns, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	if stsAfter.Metadata.UID != stsBefore.Metadata.UID {
		t.Errorf("the etcd StatefulSet was recreated (uid %s, was %s)", stsAfter.Metadata.UID, stsBefore.Metadata.UID)
	}
	if stsAfter.Status.ReadyReplicas != e.cfg.EtcdReplicas {
		t.Errorf("etcd StatefulSet: %d ready replicas after the storage change, want %d", stsAfter.Status.ReadyReplicas, e.cfg.EtcdReplicas)
	}
	e.sameVolumes(t, "after the storage change", before, e.snapshot(t))

	again := e.run(t, "preview after the storage change", e.stack.Preview)
	assertNoChanges(t, again, "preview after the storage change")
}
